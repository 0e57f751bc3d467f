"""Access to tests/goldens: /proc snapshots and what each procps-ng release
printed for them (see tests/goldens/README.md)."""

import csv
import os

from . import ROOT

GOLDENS = os.path.join(ROOT, "tests", "goldens")


class GoldenCase:
    def __init__(self, case, version, locale, args, exit_status, stdout_file):
        self.case = case
        self.version = version
        self.locale = locale
        self.args = args
        self.exit_status = exit_status
        self.stdout_file = stdout_file

    @property
    def folder(self):
        return os.path.join(GOLDENS, self.case)

    @property
    def proc_root(self):
        return os.path.join(self.folder, "proc")

    def expected_stdout(self):
        with open(os.path.join(self.folder, "outputs", self.stdout_file), "rb") as handle:
            return handle.read()

    def environ(self):
        return {b"LANG": self.locale.encode(), b"PATH": b"/usr/bin:/bin", b"HOME": b"/nonexistent",
                b"PYMAP_COMPAT": self.version.encode()}

    def argv(self):
        return [b"pmap", b"--proc-root", self.proc_root.encode()] + [arg.encode() for arg in self.args.split()]

    def __repr__(self):
        return "%s[%s %s: pmap %s]" % (self.case, self.version, self.locale, self.args)


def cases():
    found = []
    for case in sorted(os.listdir(GOLDENS)):
        table = os.path.join(GOLDENS, case, "expected.tsv")
        if not os.path.isfile(table):
            continue
        with open(table, newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                found.append(GoldenCase(case, row["version"], row["locale"], row["args"], int(row["exit"]),
                                        row["stdout"]))
    assert found, "no golden cases under %s" % GOLDENS
    return found


def snapshot_files(name):
    """Every snapshot's /proc/PID/NAME under tests/goldens (never none)."""
    import glob

    found = sorted(glob.glob(os.path.join(GOLDENS, "*", "proc", "*", name)))
    assert found, "no %s in %s" % (name, GOLDENS)
    return found
