"""A small mutation run: does the test suite notice when pymap is wrong?

    python tools/mutate.py [--per-module N] [--seed S] [--module NAME ...] [--list]

Copies the checkout (its HEAD, through git clone) to a scratch folder, then
for each module below makes single mutations of its source -- a comparison
flipped (< and <=, > and >=, == and !=, in and not in), + and - swapped, and
and or swapped, an integer constant moved by one, a ``not`` dropped, True and
False swapped, a return value replaced by None -- and runs the tests that
exercise that module (TESTS) against each mutant, stopping at the first
failure.  A mutant the tests do not fail "survives".  Up to --per-module
mutants are drawn per module (seeded, so a run can be repeated), the report
lists each survivor with its line, and the last line gives the rate.

Standard library only; the checkout itself is never written to.
"""

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# module -> the test files that exercise it (fast ones: each mutant runs them)
TESTS = {
    "pymap/escape.py": ["tests/test_escape.py", "tests/test_escape_live.py", "tests/test_goldens.py"],
    "pymap/compat.py": ["tests/test_compat.py", "tests/test_goldens.py", "tests/test_arguments.py",
                        "tests/test_escape_live.py"],
    "pymap/emulate/listing.py": ["tests/test_goldens.py", "tests/test_classic.py", "tests/test_edges.py",
                                 "tests/test_odd_lines.py"],
    "pymap/emulate/listing_fast.py": ["tests/test_listing_blocks.py", "tests/test_edges.py"],
    "pymap/emulate/rcfile.py": ["tests/test_rcfile.py"],
    "pymap/report/json_lines.py": ["tests/test_json_reconcile.py", "tests/test_json_schema.py", "tests/test_roles.py"],
    "pymap/report/summary.py": ["tests/test_summary.py", "tests/test_json_schema.py", "tests/test_summary_metrics.py"],
    "pymap/modes/summary.py": ["tests/test_summary.py", "tests/test_cgroups_snapshots.py", "tests/test_summary_metrics.py"],
    "pymap/report/openmetrics.py": ["tests/test_openmetrics.py", "tests/test_summary_metrics.py"],
    "pymap/report/textfile.py": ["tests/test_textfile.py", "tests/test_summary_metrics.py"],
    "pymap/report/diff.py": ["tests/test_diff.py", "tests/test_json_schema.py", "tests/test_cgroups_snapshots.py"],
    "pymap/report/reconcile.py": ["tests/test_json_reconcile.py", "tests/test_json_schema.py",
                                  "tests/test_cgroups_live.py"],
    "pymap/report/capture.py": ["tests/test_capture.py", "tests/test_hostile.py", "tests/test_cgroups_snapshots.py"],
    "pymap/parse/cgroups.py": ["tests/test_cgroups_parse.py", "tests/test_cgroups_snapshots.py"],
    "pymap/report/cgroups.py": ["tests/test_cgroups_snapshots.py", "tests/test_cgroups_live.py"],
    "pymap/report/oom.py": ["tests/test_cgroups_parse.py", "tests/test_cgroups_snapshots.py",
                            "tests/test_cgroups_live.py"],
    "pymap/report/balance.py": ["tests/test_cgroups_snapshots.py", "tests/test_cgroups_live.py"],
    "pymap/parse/roles.py": ["tests/test_roles_model.py", "tests/test_roles.py"],
    "pymap/report/roles.py": ["tests/test_roles.py", "tests/test_roles_model.py", "tests/test_json_schema.py"],
    "pymap/parse/oomlog.py": ["tests/test_oomlog.py", "tests/test_oom_report.py"],
    "pymap/report/oom_report.py": ["tests/test_oomlog.py", "tests/test_oom_report.py",
                                   "tests/test_oom_report_live.py"],
    "pymap/modes/oom_report.py": ["tests/test_oom_report.py", "tests/test_oom_report_live.py"],
}
TIMEOUT = 900

_COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                  ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add}
_BOOL_SWAPS = {ast.And: ast.Or, ast.Or: ast.And}


class _Sites(ast.NodeVisitor):
    """Every place a mutation can be made: (kind, node, detail)."""

    def __init__(self):
        self.sites = []
        self._in_docstring = set()

    def visit_Compare(self, node):
        for index, operator in enumerate(node.ops):
            if type(operator) in _COMPARE_SWAPS:
                self.sites.append(("compare", node, index))
        self.generic_visit(node)

    def visit_BinOp(self, node):
        if type(node.op) in _BINOP_SWAPS:
            self.sites.append(("binop", node, None))
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        self.sites.append(("boolop", node, None))
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            self.sites.append(("not", node, None))
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, bool):
            self.sites.append(("bool", node, None))
        elif isinstance(node.value, int) and not isinstance(node.value, bool):
            self.sites.append(("int", node, None))

    def visit_Return(self, node):
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            self.sites.append(("return", node, None))
        self.generic_visit(node)


def _mutate(tree, site_index):
    """A copy of ``tree`` with site ``site_index`` mutated, and a description."""
    import copy

    tree = copy.deepcopy(tree)
    sites = _Sites()
    sites.visit(tree)
    kind, node, detail = sites.sites[site_index]
    line = getattr(node, "lineno", 0)
    if kind == "compare":
        old = node.ops[detail]
        node.ops[detail] = _COMPARE_SWAPS[type(old)]()
        what = "%s -> %s" % (type(old).__name__, type(node.ops[detail]).__name__)
    elif kind == "binop":
        old = node.op
        node.op = _BINOP_SWAPS[type(old)]()
        what = "%s -> %s" % (type(old).__name__, type(node.op).__name__)
    elif kind == "boolop":
        old = node.op
        node.op = _BOOL_SWAPS[type(old)]()
        what = "%s -> %s" % (type(old).__name__, type(node.op).__name__)
    elif kind == "not":
        # replace `not X` by `X` in its parent
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, node.operand)
                elif isinstance(value, list) and node in value:
                    value[value.index(node)] = node.operand
        what = "not dropped"
    elif kind == "bool":
        node.value = not node.value
        what = "%s -> %s" % (not node.value, node.value)
    elif kind == "int":
        node.value = node.value + 1
        what = "%d -> %d" % (node.value - 1, node.value)
    else:
        node.value = ast.Constant(None)
        what = "return None"
    ast.fix_missing_locations(tree)
    return tree, "line %d: %s %s" % (line, kind, what)


def _run_tests(work, tests):
    environ = {"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": work, "PYTHONDONTWRITEBYTECODE": "1",
               "HYPOTHESIS_PROFILE": "default"}
    if os.environ.get("PYMAP_RELEASE_BUILDS"):  # the release builds are oracles too (README, "Testing")
        environ["PYMAP_RELEASE_BUILDS"] = os.environ["PYMAP_RELEASE_BUILDS"]
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header"] + tests
    try:
        result = subprocess.run(command, cwd=work, env=environ, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "killed (timeout)"
    return "survived" if result.returncode == 0 else "killed"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-module", type=int, default=12)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--module", action="append", help="only this module (e.g. pymap/rcfile.py)")
    parser.add_argument("--list", action="store_true", help="list the mutation sites and stop")
    options = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="pymap-mutate-")
    work = os.path.join(scratch, "pymap")
    subprocess.run(["git", "clone", "--quiet", ROOT, work], check=True, timeout=TIMEOUT)
    total = survivors = 0
    try:
        for module, tests in TESTS.items():
            if options.module and module not in options.module:
                continue
            tests = [test for test in tests if os.path.exists(os.path.join(work, test))]
            path = os.path.join(work, module)
            with open(path, "r", encoding="utf-8") as handle:
                original = handle.read()
            tree = ast.parse(original)
            sites = _Sites()
            sites.visit(tree)
            chosen = sorted(random.Random("%s:%s" % (options.seed, module)).sample(
                range(len(sites.sites)), min(options.per_module, len(sites.sites))))
            print("%s: %d sites, %d mutants, tests %s" % (module, len(sites.sites), len(chosen), " ".join(tests)),
                  flush=True)
            if options.list:
                continue
            try:
                # the module as ast.unparse() writes it must pass first
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(ast.unparse(tree) + "\n")
                if _run_tests(work, tests) != "survived":
                    print("  the tests fail on the unmutated module: skipped", flush=True)
                    continue
                for index in chosen:
                    mutant, description = _mutate(tree, index)
                    with open(path, "w", encoding="utf-8") as handle:
                        handle.write(ast.unparse(mutant) + "\n")
                    started = time.monotonic()
                    outcome = _run_tests(work, tests)
                    total += 1
                    survivors += outcome == "survived"
                    print("  %-9s %s (%.0f s)" % (outcome.split()[0], description, time.monotonic() - started),
                          flush=True)
            finally:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(original)
        if total:
            print("%d of %d mutants survived (%.0f%%)" % (survivors, total, 100.0 * survivors / total))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
