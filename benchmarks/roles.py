"""What the roles of mappings cost --json, on processes of 30,000 mappings.

    python benchmarks/roles.py [--mappings N] [--pairs N] [--threads N] [--no-venv]

Installs this checkout in a scratch venv as bench.py does (--no-venv: runs
it from the checkout), then times ``pymap --json PID`` with the roles and
without them (pymap.modes.json_lines.ROLES turned off, in the same
interpreter start-up: ``python -S -c``), interleaved (each first in every
other round), one warm-up round and --pairs timed rounds, on two stopped
targets:

* private: N one-page private anonymous mappings, read-write and read-only
  in turn (so the kernel cannot merge them), every read-write one written:
  half of them are mappings whose first words the roles read (one pagemap
  and one mem read each), the worst case; and --threads threads, whose
  stack pointers are read;
* shared: bench.py's target, N one-page shared mappings: no reads, the
  classification alone.

Reported per target: the median of the per-round ratios (with / without),
both medians in seconds, and whether the outputs agree once the roles are
taken out (and the Pss and clean columns, which move with who reads).  The target is 1.10x at most.  Standard library only.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (this folder's bench.py: install, run, environment)

TARGET_RATIO = 1.10

PRIVATE = r"""
import mmap, os, signal, sys, threading
keep = []
for index in range(int(sys.argv[1])):
    protection = mmap.PROT_READ if index % 2 else mmap.PROT_READ | mmap.PROT_WRITE
    region = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE, prot=protection)
    if index % 2 == 0:
        region[0] = 1  # resident: its first words are read
    keep.append(region)
never = threading.Event()
threads = [threading.Thread(target=never.wait, daemon=True) for _ in range(int(sys.argv[2]))]
for thread in threads:
    thread.start()
os.kill(os.getpid(), signal.SIGSTOP)
"""

RUN = "import sys; from pymap.command.cli import launch; sys.exit(launch(sys.argv[1:]))"
WITHOUT_ROLES = "import pymap.modes.json_lines as mode; mode.ROLES = False; " + RUN


def run(argv, environ, keep=None):
    """(seconds, CPU seconds, exit status) of one run, its output written
    to the file ``keep`` (or dropped)."""
    sink = os.open(keep or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(sink, 1)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.execve(argv[0], argv, environ)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    os.close(sink)
    return elapsed, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def stopped(argv):
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % child.pid, "rb") as handle:
            if handle.read().rsplit(b")", 1)[1].split()[0] in (b"T", b"t"):
                return child
        time.sleep(0.05)
    child.kill()
    raise SystemExit("the target did not stop")


def without_roles(output):
    """--json output with the roles taken out, and the figures that move
    with who else reads the target (Pss and the clean columns: bench.py)."""
    moving = [name.decode() for name in bench.READER_DEPENDENT]
    objects = [json.loads(line) for line in output.splitlines()]
    for item in objects:
        for mapping in item.get("mappings", ()):
            mapping.pop("role", None)
            mapping.pop("certain", None)
            for name in moving:
                mapping["kb"].pop(name, None)
        for name in moving:
            item.get("totals", {}).pop(name, None)
    return objects


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mappings", type=int, default=30000)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--no-venv", action="store_true")
    options = parser.parse_args()
    environ = bench.environment()
    scratch = tempfile.mkdtemp(prefix="pymap-bench-roles-")
    if options.no_venv:
        python = sys.executable
        environ["PYTHONPATH"] = bench.ROOT
    else:
        python = bench.install(scratch)
        environ["PYTHONPATH"] = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True,
            text=True, timeout=bench.TIMEOUT, check=True).stdout.strip()
    print("pymap --json with and without roles, %s -S, %d rounds after a warm-up, medians" % (python, options.pairs))
    targets = {
        "private": stopped([sys.executable, "-c", PRIVATE, str(options.mappings), str(options.threads)]),
        "shared": bench.start_target(options.mappings),
    }
    worst = 0.0
    try:
        for label, child in targets.items():
            with open("/proc/%d/maps" % child.pid, "rb") as handle:
                lines = handle.read().count(b"\n")
            pid = str(child.pid)
            commands = [[python, "-S", "-c", RUN, "pymap", "--json", pid],
                        [python, "-S", "-c", WITHOUT_ROLES, "pymap", "--json", pid]]
            keep = (os.path.join(scratch, "with.out"), os.path.join(scratch, "without.out"))
            results = []
            for index in range(options.pairs + 1):  # a warm-up round, then the timed ones
                last = index == options.pairs
                # each first in every other round: whatever the first run of
                # a pair pays for (the kernel's caches of the target) is shared
                order = (0, 1) if index % 2 else (1, 0)
                done = {position: run(commands[position], environ, keep[position] if last else None)
                        for position in order}
                outcome = (done[0], done[1])
                assert all(result[2] == 0 for result in outcome), outcome
                if index:
                    results.append(outcome)
            ratio = statistics.median(result[0][0] / result[1][0] for result in results)
            cpu_ratio = statistics.median(result[0][1] / result[1][1] for result in results)
            mine = statistics.median(result[0][0] for result in results)
            theirs = statistics.median(result[1][0] for result in results)
            mine_cpu = statistics.median(result[0][1] for result in results)
            theirs_cpu = statistics.median(result[1][1] for result in results)
            least = min(result[0][1] for result in results) / min(result[1][1] for result in results)
            outputs = []
            for path in keep:
                with open(path, "rb") as handle:
                    outputs.append(handle.read())
                os.unlink(path)
            same = without_roles(outputs[0]) == without_roles(outputs[1])
            roles = {}
            for item in json.loads(outputs[0].splitlines()[0])["mappings"]:
                roles[item["role"]] = roles.get(item["role"], 0) + 1
            worst = max(worst, least)
            print("%-8s %d mappings: with roles / without %.3fx (%.3f s / %.3f s), CPU %.3fx (%.3f s / %.3f s),"
                  " least CPU %.3fx   output %s\n         roles %s"
                  % (label, lines, ratio, mine, theirs, cpu_ratio, mine_cpu, theirs_cpu, least,
                     "the same but for the roles" if same else "DIFFERENT", roles))
        print("the roles add at most %.1f%% (the least CPU times; target: %.0f%%): %s" % (
            (worst - 1) * 100, (TARGET_RATIO - 1) * 100, "met" if worst <= TARGET_RATIO else "NOT MET"))
    finally:
        for child in targets.values():
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=bench.TIMEOUT)
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
