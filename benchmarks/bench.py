"""pymap against /usr/bin/pmap on a process with 30,000 mappings.

    python benchmarks/bench.py [--mappings N] [--pairs N] [--modes default,-x,-X,-XX] [--no-venv]
                               [--memory-mappings N] [--sorted-diff-mappings N]

Installs this checkout in a scratch venv as the README installs it
(``python3 -m venv`` and ``pip install .``; --no-venv runs ``python -m
pymap`` from the checkout instead), starts a Python child that maps N
one-page regions with alternating protections (so the kernel cannot merge
them) and stops itself (SIGSTOP), then runs pymap, pmap, ``cat`` of the
file the mode reads (the kernel's own cost of writing it: a floor for both)
and pymap under ``python -S`` in turn: one warm-up round, then --pairs timed
rounds per mode (default, -x, -X, -XX).

Reported per mode: the median of the per-round ratios pymap/pmap, both
medians in seconds, pymap and pmap against the cat floor, pymap's peak RSS
(ru_maxrss from os.wait4), whether the outputs are identical (for -X and
-XX but for the Pss and clean columns, which move with who reads), and the
ratio for ``python -S`` (pymap apart from what the site module costs every
Python start).  Then the start-up figure: the installed pymap -x on a
stopped ``sleep`` against ``python -c pass`` of the same venv.

Then memory: a second target with --memory-mappings (100,000) mappings,
each of pymap's modes run once on it (pmap's where it has them), with peak
RSS and time; every mode should stay within MEMORY_TARGET_MIB.  The kernel
allows a process vm.max_map_count mappings (65,530 by default): with fewer,
the target maps as many as it may and the report says so (raise it with
``sysctl vm.max_map_count=262144`` to measure at 100,000).  Last, --diff
--sort on two generated snapshots of --sorted-diff-mappings (300,000)
mappings that all changed: the rows it orders stay within the target too.

The machine may be shared and noisy: only ratios of interleaved runs mean
much.  Standard library only.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TIMEOUT = 600  # seconds any one run may take
MEMORY_TARGET_MIB = 64

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PMAP = os.environ.get("PYMAP_ORACLE", "/usr/bin/pmap")

CHILD = r"""
import mmap, os, signal, sys
keep = []
for index in range(int(sys.argv[1])):
    protection = mmap.PROT_READ if index % 2 else mmap.PROT_READ | mmap.PROT_WRITE
    region = mmap.mmap(-1, 4096, prot=protection)
    if index % 6 == 0:
        region[0] = 1  # some resident, dirty pages
    keep.append(region)
os.kill(os.getpid(), signal.SIGSTOP)
"""


def environment():
    environ = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": os.environ.get("HOME", "/")}
    # the installed pmap's release, so the two may be compared byte for byte
    version = subprocess.run([PMAP, "-V"], capture_output=True, timeout=TIMEOUT).stdout.decode("ascii", "replace").split()
    if version:
        environ["PYMAP_COMPAT"] = version[-1]
    return environ


def run(argv, environ, keep=None):
    """(seconds, peak RSS in KiB, exit status) of one run; its stdout is read
    and dropped, or written to the file ``keep``.

    Nothing the child prints stays in this process: a forked child's
    ru_maxrss may count the pages it shares with this process (own_rss_kib()).
    fork+exec rather than posix_spawn: a vfork()ed child would inherit this
    process's own high-water mark instead."""
    read_end, write_end = os.pipe()
    sink = os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if keep else None
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(write_end, 1)
            null = os.open("/dev/null", os.O_WRONLY)
            os.dup2(null, 2)
            os.execve(argv[0], argv, environ)
        finally:
            os._exit(127)
    os.close(write_end)
    while True:
        chunk = os.read(read_end, 1 << 20)
        if not chunk:
            break
        if sink is not None:
            os.write(sink, chunk)
    os.close(read_end)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    if sink is not None:
        os.close(sink)
    return elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def own_rss_kib():
    """This process's RSS (a forked child's ru_maxrss may count the pages it
    still shares with this process)."""
    with open("/proc/self/status", "rb") as handle:
        for line in handle:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1])
    return 0


def start_target(count):
    """A stopped process with ``count`` extra mappings, or a stopped sleep
    (a few dozen mappings) for None."""
    if count is None:
        child = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # stopped once it runs sleep (until its exec, it is a copy of this)
            with open("/proc/%d/comm" % child.pid, "rb") as handle:
                if handle.read() == b"sleep\n":
                    break
            time.sleep(0.005)
        time.sleep(0.05)  # and has mapped its libraries
        os.kill(child.pid, signal.SIGSTOP)
    else:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(count)], stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % child.pid, "rb") as handle:
            if handle.read().rsplit(b")", 1)[1].split()[0] in (b"T", b"t"):
                return child
        time.sleep(0.05)
    child.kill()
    raise SystemExit("the target did not stop")


def rounds(commands, environ, count, keep=()):
    """Run ``commands`` one after the other, one warm-up round and then
    ``count`` rounds; the last round's outputs go to the files ``keep``."""
    results = []
    for index in range(count + 1):
        last = index == count
        outcome = tuple(run(command, environ, keep[position] if last and position < len(keep) else None)
                        for position, command in enumerate(commands))
        if index:
            results.append(outcome)
    return results


def summary(results, mine=0, theirs=1):
    """(median ratio, median seconds of each, peak RSS of ``mine``)."""
    ratios = [result[mine][0] / result[theirs][0] for result in results]
    return (statistics.median(ratios), statistics.median(result[mine][0] for result in results),
            statistics.median(result[theirs][0] for result in results), max(result[mine][1] for result in results))


# columns whose figures move with who else maps the same pages at that
# moment (pymap is itself a Python process mapping the target's libpython)
READER_DEPENDENT = (b"Pss", b"Pss_Anon", b"Pss_File", b"Pss_Shmem", b"Pss_Dirty", b"SwapPss",
                    b"Shared_Clean", b"Private_Clean")


def reader_independent(output):
    """-X/-XX output with the reader-dependent columns blanked: the kernel's
    Pss of a shared page, and whether a clean page counts as shared, move
    with every reader, pymap and pmap included."""
    lines = output.split(b"\n")
    heading = next((line for line in lines if b"Address" in line and b"Perm" in line), None)
    if heading is None:
        return output
    words = heading.split()
    drop = {index for index, word in enumerate(words) if word in READER_DEPENDENT}
    # the totals line has only the field columns, which start after Inode
    shift = words.index(b"Inode") + 1 if b"Inode" in words else 0
    kept = []
    for line in lines:
        parts = line.split()
        skip = drop if parts[-1:] != [b"KB"] else {index - shift for index in drop}
        kept.append(b" ".join(word for index, word in enumerate(parts) if index not in skip))
    return b"\n".join(kept)


def install(scratch):
    """The python of a scratch venv holding this checkout, installed as the
    README says (python3 -m venv, pip install .)."""
    venv = os.path.join(scratch, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=TIMEOUT)
    python = os.path.join(venv, "bin", "python")
    result = subprocess.run([python, "-m", "pip", "install", "-q", ROOT], capture_output=True, timeout=TIMEOUT,
                            env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"))
    if result.returncode:
        raise SystemExit("pip install . failed:\n" + result.stderr.decode(errors="replace"))
    return python


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mappings", type=int, default=30000)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--modes", default="default,-x,-X,-XX",
                        help="which modes to time, comma-separated (default: %(default)s)")
    parser.add_argument("--memory-mappings", type=int, default=100000,
                        help="mappings of the memory test's target (0: no memory test)")
    parser.add_argument("--sorted-diff-mappings", type=int, default=300000,
                        help="mappings of the generated snapshots whose --diff --sort is measured (0: none)")
    parser.add_argument("--no-venv", action="store_true",
                        help="run python -m pymap from this checkout instead of an installed pymap")
    options = parser.parse_args()
    environ = environment()
    scratch = tempfile.mkdtemp(prefix="pymap-bench-")
    if options.no_venv:
        python = sys.executable
        environ["PYTHONPATH"] = ROOT
        pymap = [python, "-m", "pymap"]
    else:
        python = install(scratch)
        pymap = [os.path.join(os.path.dirname(python), "pymap")]
        # (python -S leaves the venv's site-packages off sys.path)
        environ["PYTHONPATH"] = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True,
            text=True, timeout=TIMEOUT, check=True).stdout.strip()
    print("pymap %s vs %s, %s, %d rounds after a warm-up, medians" % (pymap[0], PMAP, python, options.pairs))
    print("(this script's own RSS: %.1f MiB; a forked child's ru_maxrss may count pages it shared with it)"
          % (own_rss_kib() / 1024))

    big = start_target(options.mappings)
    small = start_target(None)
    try:
        with open("/proc/%d/maps" % big.pid, "rb") as handle:
            lines = handle.read().count(b"\n")
        print("target: pid %d with %d mappings" % (big.pid, lines))
        targets = {"default": [], "-x": ["-x"], "-X": ["-X"], "-XX": ["-XX"]}
        for label in filter(None, options.modes.split(",")):
            arguments = targets[label]
            first = pymap + arguments + [str(big.pid)]
            second = [PMAP] + arguments + [str(big.pid)]
            probe = run(first, environ)
            if probe[2] != 0 and label.startswith("-X"):
                print("%-8s unavailable (pymap -X exits %d)" % (label, probe[2]))
                continue
            # the kernel's cost of the file the mode reads: a floor for both
            floor = ["/bin/cat", "/proc/%d/%s" % (big.pid, "maps" if label == "default" else "smaps")]
            # pymap without the site module (it needs nothing from
            # site-packages): what pymap costs apart from the interpreter's set-up
            third = [python, "-S", "-c", "import sys; from pymap.command.cli import launch; sys.exit(launch(sys.argv[1:]))",
                     "pymap"] + arguments + [str(big.pid)]
            keep = (os.path.join(scratch, "pymap.out"), os.path.join(scratch, "pmap.out"))
            results = rounds([first, second, third, floor], environ, options.pairs, keep)
            ratio, mine, theirs, peak = summary(results)
            no_site = summary(results, mine=2)
            over_floor = summary(results, mine=0, theirs=3)[0]
            pmap_over_floor = summary(results, mine=1, theirs=3)[0]
            outputs = []
            for path in keep:
                with open(path, "rb") as handle:
                    outputs.append(handle.read())
                os.unlink(path)
            if label.startswith("-X"):
                same = reader_independent(outputs[0]) == reader_independent(outputs[1])
                what = "identical but for Pss and clean columns" if same else "DIFFERENT"
            else:
                what = "identical" if outputs[0] == outputs[1] else "DIFFERENT"
            print("%-8s pymap/pmap %.2fx   pymap %.3f s   pmap %.3f s   pymap peak RSS %.1f MiB   output %s"
                  "   (python -S: %.2fx, %.3f s)   over cat: pymap %.2fx, pmap %.2fx"
                  % (label, ratio, mine, theirs, peak / 1024, what, no_site[0], no_site[1], over_floor,
                     pmap_over_floor))
            del outputs

        first = pymap + ["-x", str(small.pid)]
        second = [python, "-c", "pass"]
        # short runs, so more of them: a burst of load on the machine moves one pair a lot
        results = rounds([first, second], environ, max(options.pairs, 31))
        ratio, mine, bare, _ = summary(results)
        with open("/proc/%d/maps" % small.pid, "rb") as handle:
            lines = handle.read().count(b"\n")
        print("start-up pymap -x (%d mappings) / python -c pass: %.2fx   (%.3f s / %.3f s)"
              % (lines, ratio, mine, bare))
        # how much of any start is the site module and the .pth files it runs
        no_site = statistics.median(run([python, "-S", "-c", "pass"], environ)[0]
                                    for _ in range(max(options.pairs, 31)))
        print("python -S -c pass: %.3f s (site and its .pth hooks take the other %.3f s of a bare start)"
              % (no_site, bare - no_site))
    finally:
        for child in (big, small):
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=TIMEOUT)
    try:
        if options.memory_mappings:
            memory(pymap, environ, scratch, options.memory_mappings, options.sorted_diff_mappings)
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)


GNU_TIME = "/usr/bin/time"


def measured(argv, environ, scratch):
    """run() of ``argv`` through GNU time when there is one: time is a small
    process, so the peak it reports for its child is the child's own (a
    child forked from this script starts with this script's pages)."""
    if not os.access(GNU_TIME, os.X_OK):
        return run(argv, environ)
    report = os.path.join(scratch, "time.out")
    seconds, _, status = run([GNU_TIME, "-f", "%M", "-o", report] + argv, environ)
    with open(report, "rb") as handle:
        lines = handle.read().split()
    return seconds, int(lines[-1]), status


def memory(pymap, environ, scratch, count, sorted_count):
    """Peak RSS of every mode on a target with ``count`` mappings, then of
    --diff --sort on generated snapshots of ``sorted_count`` mappings."""
    with open("/proc/sys/vm/max_map_count", "rb") as handle:
        allowed = int(handle.read())
    if count + 1000 > allowed:
        print("memory: vm.max_map_count is %d, so the target maps %d instead of %d"
              % (allowed, allowed - 1000, count))
        count = allowed - 1000
    target = start_target(count)
    try:
        with open("/proc/%d/maps" % target.pid, "rb") as handle:
            lines = handle.read().count(b"\n")
        print("memory: pid %d with %d mappings, each mode once (target: peak RSS <= %d MiB)"
              % (target.pid, lines, MEMORY_TARGET_MIB))
        pid = str(target.pid)
        capture = os.path.join(scratch, "capture")
        os.mkdir(capture, 0o700)
        modes = [[], ["-x"], ["-X"], ["-XX"], ["-d"], ["--json"], ["--reconcile"], ["--reconcile", "--json"],
                 ["--capture", capture], ["--proc-root", capture, "--json"], ["--diff", capture],
                 ["--diff", capture, "--sort=rss", "--json"]]
        worst = 0
        if not os.access(GNU_TIME, os.X_OK):
            print("memory: no %s: each peak is at least this script's own RSS (see run())" % GNU_TIME)
        for arguments in modes:
            seconds, peak, status = measured(pymap + arguments + [pid], environ, scratch)
            worst = max(worst, peak)
            line = "  pymap %-28s %6.2f s  peak RSS %6.1f MiB" % (" ".join(arguments).replace(scratch, "DIR"),
                                                                   seconds, peak / 1024)
            if status:
                line += "  (exit %d)" % status
            if arguments and arguments[0] in ("-x", "-X", "-XX", "-d") or not arguments:
                theirs = measured([PMAP] + arguments + [pid], environ, scratch)
                line += "   pmap %6.2f s  %5.1f MiB" % (theirs[0], theirs[1] / 1024)
            print(line)
        if sorted_count:
            worst = max(worst, sorted_diff_memory(pymap, environ, scratch, sorted_count))
        print("memory: the largest peak is %.1f MiB: %s" % (
            worst / 1024, "within the target" if worst <= MEMORY_TARGET_MIB * 1024 else "OVER THE TARGET"))
    finally:
        os.kill(target.pid, signal.SIGKILL)
        target.wait(timeout=TIMEOUT)


def changed_pair(scratch, count):
    """Two snapshots of one process (PID 7), before and after, of ``count``
    mappings whose Rss and Private_Dirty all changed: every row of --diff is
    a changed one, all held for --sort unless they are bounded."""
    stat = b"7 (gen) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 1 1 1 1 1 1 1 0\n"
    for side, step in (("before", 0), ("after", 1)):
        folder = os.path.join(scratch, "diff-" + side, "7")
        os.makedirs(folder)
        for name, data in (("stat", stat), ("status", b"Name:\tgen\nTgid:\t7\n"), ("cmdline", b"gen\0")):
            with open(os.path.join(folder, name), "wb") as handle:
                handle.write(data)
        with open(os.path.join(folder, "smaps"), "wb") as handle:
            for first in range(0, count, 10000):
                handle.write(b"".join(
                    b"%x-%x rw-p 00000000 00:00 0 \nSize:                  4 kB\nRss: %d kB\nPrivate_Dirty: %d kB\n"
                    b"Anonymous: %d kB\nSwap: 0 kB\n" % (0x10000000 + index * 0x2000, 0x10001000 + index * 0x2000,
                                                        (index * 7 + step * 3) % 64, (index * 5 + step) % 64,
                                                        (index * 3 + step) % 64)
                    for index in range(first, min(count, first + 10000))))
    return os.path.join(scratch, "diff-before"), os.path.join(scratch, "diff-after")


def sorted_diff_memory(pymap, environ, scratch, count):
    """Peak RSS of --diff --sort=rss where every one of ``count`` mappings
    changed (the rows it must order), against --diff unsorted."""
    before, after = changed_pair(scratch, count)
    print("memory: --diff of two generated snapshots, %d mappings, every one changed" % count)
    worst = 0
    for sort in ([], ["--sort=rss"], ["--sort=rss", "--json"]):
        seconds, peak, status = measured(pymap + ["--diff", before, "--proc-root", after] + sort + ["7"], environ,
                                         scratch)
        worst = max(worst, peak)
        print("  pymap --diff %-22s %6.2f s  peak RSS %6.1f MiB%s"
              % (" ".join(sort) or "(address order)", seconds, peak / 1024, "  (exit %d)" % status if status else ""))
    return worst


if __name__ == "__main__":
    main()
