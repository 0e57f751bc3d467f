"""pymap --summary against ps_mem and smem over about a thousand processes.

    python benchmarks/summary.py [--processes N] [--rounds N] [--no-venv]

Installs this checkout in a scratch venv as the README installs it, and
ps_mem in the same venv (pip install ps_mem, from PyPI); smem is Debian's
(/usr/bin/smem when installed, else ``apt-get download smem`` unpacked in
the scratch folder).  Neither is a dependency of pymap: they are installed
here, for this comparison only.  Starts N ``sleep`` processes, so that the
machine has about N more, then runs in turn, one warm-up round and --rounds
timed ones:

* ``pymap --summary`` (every process, sorted by PSS, with totals);
* ``pymap --summary --by=cgroup`` (the same processes by memory cgroup:
  /proc/PID/cgroup of each, and each cgroup's files);
* ``ps_mem`` (every process, grouped by program);
* ``smem -t`` (every process, with totals);
* ``cat /proc/[0-9]*/smaps_rollup`` (the kernel's part of the work) and the
  venv's ``python -c pass`` (Python's start): pymap's floor together.

Reported: the median of each, and the medians of the per-round ratios
pymap/ps_mem (target <= 0.5), pymap/smem (<= 0.15), pymap/(cat + python
start) (<= 2) and --by=cgroup/--summary (<= 1.2).  Run as root, so that
every process can be read by all three.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, TIMEOUT, install, run  # noqa: E402


def find_smem(scratch):
    """A command that runs smem: Debian's, installed or unpacked here."""
    if os.path.exists("/usr/bin/smem"):
        return ["/usr/bin/python3", "/usr/bin/smem"]
    folder = os.path.join(scratch, "smem")
    os.mkdir(folder)
    result = subprocess.run(["apt-get", "download", "smem"], cwd=folder, capture_output=True, timeout=TIMEOUT)
    packages = [name for name in os.listdir(folder) if name.endswith(".deb")]
    if result.returncode or not packages:
        return None
    subprocess.run(["dpkg", "-x", os.path.join(folder, packages[0]), os.path.join(folder, "root")], check=True,
                   timeout=TIMEOUT)
    return ["/usr/bin/python3", os.path.join(folder, "root", "usr", "bin", "smem")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-venv", action="store_true",
                        help="run python -m pymap from this checkout (ps_mem then goes to a scratch venv alone)")
    options = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="pymap-summary-bench-")
    environ = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": scratch}
    children = []
    try:
        if options.no_venv:
            venv = os.path.join(scratch, "venv")
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=TIMEOUT)
            python = os.path.join(venv, "bin", "python")
            pymap = [sys.executable, "-m", "pymap"]
            environ["PYTHONPATH"] = ROOT
        else:
            python = install(scratch)
            pymap = [os.path.join(os.path.dirname(python), "pymap")]
        result = subprocess.run([python, "-m", "pip", "install", "-q", "ps_mem"], capture_output=True,
                                timeout=TIMEOUT, env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"))
        if result.returncode:
            raise SystemExit("pip install ps_mem failed:\n" + result.stderr.decode(errors="replace"))
        ps_mem = [os.path.join(os.path.dirname(python), "ps_mem")]
        smem = find_smem(scratch)
        for _ in range(options.processes):
            children.append(subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        count = sum(name.isdigit() for name in os.listdir("/proc"))
        print("%d processes on the machine; pymap %s, %s" % (count, pymap[-1], python))
        commands = {
            "pymap --summary": pymap + ["--summary"],
            "pymap --by=cgroup": pymap + ["--summary", "--by=cgroup"],
            "ps_mem": ps_mem,
            "cat smaps_rollup": ["/bin/sh", "-c", "exec cat /proc/[0-9]*/smaps_rollup 2>/dev/null"],
            "python -c pass": [python, "-c", "pass"],
        }
        if smem is not None:
            commands["smem -t"] = smem + ["-t"]
        times = {name: [] for name in commands}
        for index in range(options.rounds + 1):
            for name, argv in commands.items():
                seconds, _, status = run(argv, environ)
                if status and name != "cat smaps_rollup":
                    raise SystemExit("%s exited %d" % (" ".join(argv), status))
                if index:
                    times[name].append(seconds)
        for name, values in times.items():
            print("%-18s %.3f s (median of %d)" % (name, statistics.median(values), len(values)))
        mine = times["pymap --summary"]

        def ratio(other):
            return statistics.median(a / b for a, b in zip(mine, other))

        print("pymap / ps_mem:                 %.2fx (target <= 0.5)" % ratio(times["ps_mem"]))
        if smem is not None:
            print("pymap / smem:                   %.2fx (target <= 0.15)" % ratio(times["smem -t"]))
        else:
            print("smem: not found (apt-get download smem failed)")
        floor = [a + b for a, b in zip(times["cat smaps_rollup"], times["python -c pass"])]
        print("pymap / (cat + python start):   %.2fx (target <= 2)" % ratio(floor))
        by_cgroup = statistics.median(a / b for a, b in zip(times["pymap --by=cgroup"], mine))
        print("--by=cgroup / --summary:        %.2fx (target <= 1.2)" % by_cgroup)
    finally:
        for child in children:
            child.send_signal(signal.SIGKILL)
        for child in children:
            child.wait(timeout=TIMEOUT)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
