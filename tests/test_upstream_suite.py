"""Upstream's DejaGnu test of pmap (procps-ng v3.3.17's testsuite, in
tests/upstream), run by DejaGnu's runtest against pymap linked as pmap with
PYMAP_COMPAT=3.3.17, as upstream runs it against its own build."""

import os
import re
import shutil
import subprocess

import pytest

from tests.support import livetools
from tests.support import ROOT, TIMEOUT

pytestmark = pytest.mark.e2e

SUITE = os.path.join(ROOT, "tests", "upstream", "procps-v3.3.17", "testsuite")
needs_runtest = pytest.mark.skipif(shutil.which("runtest", path="/usr/bin:/bin") is None,
                                   reason="needs DejaGnu's runtest (Debian's package dejagnu)")


def _run_suite(tmp_path, program, environ):
    """pmap.exp's results ([(status, test name)]) with ``program`` as
    TOPDIR/pmap, where TOPDIR holds the testsuite folder (as unix.exp finds it)."""
    top = tmp_path / "procps"
    shutil.copytree(SUITE, top / "testsuite")
    os.symlink(program, top / "pmap")
    result = subprocess.run(["runtest", "--tool", "pmap", "--srcdir", str(top / "testsuite")], cwd=top / "testsuite",
                            env=environ, capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    summary = (top / "testsuite" / "pmap.sum").read_text(errors="replace")
    results = re.findall(r"(?m)^(PASS|FAIL|XPASS|XFAIL|UNRESOLVED|UNTESTED|UNSUPPORTED|ERROR|WARNING): (.*)$",
                         summary)
    return result, results


@needs_runtest
def test_upstream_pmap_suite_passes(tmp_path):
    with open(os.path.join(SUITE, "pmap.test", "pmap.exp")) as handle:
        tests = re.findall(r'(?m)^set test "([^"]+)"', handle.read())
    environ = livetools.base_environ(PYMAP_COMPAT="3.3.17")
    result, results = _run_suite(tmp_path, os.path.join(livetools.launcher_dir(), "pmap"), environ)
    assert result.returncode == 0, result.stdout[-2000:]
    assert results == [("PASS", test) for test in tests], results
    assert b"pmap version 3.3.17" in result.stdout  # what unix.exp reads of pmap -V
    build = livetools.release_build("3.3.17")
    if build is not None:  # the suite says the same of upstream's own build
        real = _run_suite(tmp_path / "real", build, livetools.base_environ())[1]
        assert real == results
