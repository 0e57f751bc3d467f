"""Record a golden case: what each procps-ng release prints for a snapshot.

    python tools/record_golden.py SOURCE CASE --builds DIR [--args ARGS ...] [--locales C C.UTF-8]

SOURCE holds one folder per process (any names, taken in sorted order),
each with the /proc files the case supplies (cmdline, stat, status, maps,
smaps, comm, smaps_rollup; a file it lacks is the live process's; in
status, @1, @2 ... become the processes' live PIDs).  For
each, a ``sleep`` is started and stopped (SIGSTOP); in a private mount
namespace the files are bind-mounted over its /proc/PID, and every release
runs on them: /usr/bin/pmap as the installed release, and DIR/pmap-VERSION
for each build (tools of ../shared/tools/build-procps-pmap).  The case is
written as tests/goldens/CASE in the layout of the other cases: proc/PID
(the files as pmap read them, under the live PIDs that appear in the
output), expected.tsv and outputs/.  In ARGS, @1, @2 ... stand for the
processes (@ alone: all of them).  Needs root and unshare.  Standard
library only; nothing of it runs in the test suite.
"""

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ("cmdline", "comm", "stat", "status", "maps", "smaps", "smaps_rollup")
DEFAULT_ARGS = ["@", "-x @", "-d @", "-q @", "-x -q @", "-X @", "-XX @", "-p @"]
TIMEOUT = 60


def stopped_sleeps(count):
    children = []
    for _ in range(count):
        child = subprocess.Popen(["sleep", "100000"], stdin=subprocess.DEVNULL)
        children.append(child)
        deadline = time.monotonic() + TIMEOUT
        while True:  # asleep (its libraries mapped), then stopped
            with open("/proc/%d/syscall" % child.pid, "rb") as handle:
                call = handle.read().split(b" ", 1)[0]
            with open("/proc/%d/wchan" % child.pid, "rb") as handle:
                if call in (b"35", b"230") or b"nanosleep" in handle.read():
                    break
            if time.monotonic() > deadline:
                raise SystemExit("sleep %d did not fall asleep" % child.pid)
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGSTOP)
        while open("/proc/%d/stat" % child.pid, "rb").read().rsplit(b")", 1)[1].split()[0] != b"T":
            time.sleep(0.01)
    return children


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("case")
    parser.add_argument("--builds", required=True, help="a folder of pmap-VERSION builds")
    parser.add_argument("--args", nargs="+", default=DEFAULT_ARGS)
    parser.add_argument("--locales", nargs="+", default=["C", "C.UTF-8"])
    options = parser.parse_args()
    installed = subprocess.run(["/usr/bin/pmap", "-V"], capture_output=True, timeout=TIMEOUT).stdout.split()[-1]
    oracles = [(installed.decode(), "/usr/bin/pmap")]
    for name in sorted(os.listdir(options.builds)):
        if name.startswith("pmap-") and os.access(os.path.join(options.builds, name), os.X_OK):
            oracles.append((name[5:], os.path.join(options.builds, name)))
    oracles.sort(key=lambda item: (99,) if item[0] == "main" else tuple(int(part) for part in item[0].split(".")))
    sources = sorted(os.listdir(options.source))
    destination = os.path.join(ROOT, "tests", "goldens", options.case)
    if os.path.exists(destination):
        raise SystemExit("%s exists: remove it first" % destination)
    children = stopped_sleeps(len(sources))
    try:
        pids = [child.pid for child in children]
        os.makedirs(os.path.join(destination, "outputs"))
        for source, pid in zip(sources, pids):
            folder = os.path.join(destination, "proc", str(pid))
            os.makedirs(folder)
            for name in FILES:
                given = os.path.join(options.source, source, name)
                if os.path.exists(given):
                    with open(given, "rb") as handle:
                        data = handle.read()
                    if name == "status":  # "Tgid:\t@2": the live PID of the second process
                        for number, other in sorted(enumerate(pids, 1), reverse=True):
                            data = data.replace(b"@%d" % number, b"%d" % other)
                    with open(os.path.join(folder, name), "wb") as handle:
                        handle.write(data)
                else:
                    try:
                        with open("/proc/%d/%s" % (pid, name), "rb") as handle:
                            data = handle.read()
                    except OSError:
                        continue
                    with open(os.path.join(folder, name), "wb") as handle:
                        handle.write(data)
        mounts = " && ".join('mount --bind "%s" "/proc/%d/%s"' % (os.path.join(destination, "proc", str(pid), name),
                                                                 pid, name)
                             for pid in pids for name in FILES
                             if os.path.exists(os.path.join(destination, "proc", str(pid), name)))
        rows = ["version\tlocale\targs\texit\tstdout"]
        for version, program in oracles:
            for locale in options.locales:
                for template in options.args:
                    words = []
                    for word in template.split():
                        if word == "@":
                            words += [str(pid) for pid in pids]
                        elif word.startswith("@"):
                            words.append(str(pids[int(word[1:]) - 1]))
                        else:
                            words.append(word)
                    command = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                               mounts + ' && exec "$@"', "sh", "bash", "-c", 'exec -a pmap "$0" "$@"', program] + words
                    result = subprocess.run(command, capture_output=True, timeout=TIMEOUT,
                                            env={"PATH": "/usr/bin:/bin", "LANG": locale, "HOME": "/nonexistent"})
                    digest = hashlib.sha256(result.stdout).hexdigest()[:12]
                    with open(os.path.join(destination, "outputs", digest + ".out"), "wb") as handle:
                        handle.write(result.stdout)
                    rows.append("\t".join((version, locale, " ".join(words), str(result.returncode),
                                           digest + ".out")))
        with open(os.path.join(destination, "expected.tsv"), "w") as handle:
            handle.write("\n".join(rows) + "\n")
        print("%s: %d rows, %d releases" % (destination, len(rows) - 1, len(oracles)))
    finally:
        for child in children:
            child.kill()
            child.wait(timeout=TIMEOUT)


if __name__ == "__main__":
    sys.exit(main())
