"""What --openmetrics (and --textfile) add to --summary's time, side by side.

    python benchmarks/openmetrics.py [--processes N] [--programs N] [--rounds N] [--no-venv]

Installs this checkout in a scratch venv as the README installs it (or,
with --no-venv, runs python -m pymap from the checkout), starts N ``sleep``
processes under --programs different names (``exec -a``: each name is a
program of --by=program), and times in each round, one after the other (in
alternating order, so that neither side always runs on a warmer cache),
the pairs:

* ``--summary`` and ``--summary --openmetrics``: each one's default (the
  table of every process; the metrics of every program): the issue's
  target, --openmetrics adding at most 5%;
* the same grouping both sides: ``--by=program`` and ``--by=process``, with
  and without --openmetrics;
* ``--summary`` and ``--summary --textfile DIR`` (the file, fsync'ed and
  renamed into place).

Reported: the median seconds of each command, and per pair the median of
the per-round ratios (metrics / text), of the wall-clock time and of the
CPU time (user + system, pymap's forked readers included), which moves
less with the machine's load.  Run as root, so that every process is read.
"""

import argparse
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, TIMEOUT, install, run  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=1000)
    parser.add_argument("--programs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-venv", action="store_true", help="run python -m pymap from this checkout")
    options = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="pymap-openmetrics-bench-")
    environ = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": scratch}
    textfile = os.path.join(scratch, "textfile")
    os.mkdir(textfile, 0o755)
    children = []
    try:
        if options.no_venv:
            pymap = [sys.executable, "-m", "pymap"]
            environ["PYTHONPATH"] = ROOT
        else:
            pymap = [os.path.join(os.path.dirname(install(scratch)), "pymap")]
        for index in range(options.processes):
            children.append(subprocess.Popen(["bash", "-c", 'exec -a "$0" sleep 3600',
                                              "program-%03d" % (index % options.programs)],
                                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL))
        count = sum(name.isdigit() for name in os.listdir("/proc"))
        print("%d processes on the machine, %d programs among them; pymap %s"
              % (count, options.programs, pymap[-1]))
        pairs = [
            ("--summary / --summary --openmetrics (each one's default)", ["--summary"],
             ["--summary", "--openmetrics"]),
            ("--by=program", ["--summary", "--by=program"], ["--summary", "--by=program", "--openmetrics"]),
            ("--by=process", ["--summary", "--by=process"], ["--summary", "--by=process", "--openmetrics"]),
            ("--summary / --summary --textfile", ["--summary"], ["--summary", "--textfile", textfile]),
        ]
        commands = {}
        for _, text, metrics in pairs:
            for arguments in (text, metrics):
                commands.setdefault(" ".join(arguments), pymap + arguments)
        times = {name: [] for name in commands}
        cpu = {name: [] for name in commands}
        names = list(commands)
        for index in range(options.rounds + 1):
            for name in (names if index % 2 else names[::-1]):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                seconds, _, status = run(commands[name], environ)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if status:
                    raise SystemExit("%s exited %d" % (" ".join(commands[name]), status))
                if index:  # the first round warms up
                    times[name].append(seconds)
                    cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        for name, values in times.items():
            print("%-48s %.3f s, CPU %.3f s (medians of %d)" % ("pymap " + name.replace(textfile, "DIR"),
                                                                 statistics.median(values),
                                                                 statistics.median(cpu[name]), len(values)))

        def ratio(measure, text, metrics):
            return statistics.median(a / b for a, b in zip(measure[" ".join(metrics)], measure[" ".join(text)]))

        for title, text, metrics in pairs:
            wall, used = ratio(times, text, metrics), ratio(cpu, text, metrics)
            print("%-58s %.3fx (%+.1f%%; target <= +5%%), CPU %.3fx" % (title + ":", wall, (wall - 1) * 100, used))
    finally:
        for child in children:
            child.send_signal(signal.SIGKILL)
        for child in children:
            child.wait(timeout=TIMEOUT)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
