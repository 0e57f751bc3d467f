"""pymap against the installed /usr/bin/pmap on live, stopped processes:
the classic modes (default, -x, -d) with -q, -p, -A, every kind of mapping
tests/support/zoo.py makes, odd command lines, odd processes and PID lists.  Each
comparison is of stdout bytes, stderr bytes and exit status."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from tests.support import livetools
from tests.support import zoo
from tests.support import ROOT, TIMEOUT

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not livetools.have_pmap(), reason="no %s to compare with" % livetools.PMAP)]

LOCALES = ("C", "C.UTF-8")


def assert_same(args, environ=None, **kwargs):
    """Run both tools with ``args``; they must agree on everything."""
    expected = livetools.run_pmap(args, environ, **kwargs)
    actual = livetools.run_pymap(args, environ, **kwargs)
    assert actual.stdout == expected.stdout, args
    assert actual.stderr == expected.stderr, args
    assert actual.returncode == expected.returncode, args
    return expected


@pytest.fixture(scope="module")
def zoo_pid():
    folder = tempfile.mkdtemp(prefix="pymap-zoo-")
    child = zoo.start(folder)
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait(timeout=TIMEOUT)
        shutil.rmtree(folder, ignore_errors=True)


def _map_starts(pid):
    with open("/proc/%d/maps" % pid, "rb") as handle:
        return [int(line.split(b"-", 1)[0], 16) for line in handle]


CLASSIC_OPTIONS = (
    [], ["-x"], ["-d"], ["-q"], ["-p"], ["-xq"], ["-dq"], ["-qx"], ["-xp"], ["-dp"], ["-qp"], ["-x", "-q", "-p"],
    ["--ext"], ["--extended"], ["--dev"], ["--device", "--quiet"], ["--qu"], ["--sh"], ["--show-path", "-x"],
    ["-r"], ["-r", "-x"],
)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("options", CLASSIC_OPTIONS, ids=" ".join)
def test_zoo_classic_modes(zoo_pid, options, locale):
    result = assert_same(options + [str(zoo_pid)], livetools.base_environ(locale))
    assert result.returncode == 0


def test_zoo_shows_every_kind_of_mapping(zoo_pid):
    """The zoo really holds what the comparisons are meant to cover."""
    output = assert_same(["-p", str(zoo_pid)]).stdout
    for needle in (b"[ shmid=0x", b"/memfd:zoo memfd (deleted)", b"/dev/zero (deleted)", b"deleted soon.bin (deleted)",
                   b"with space.bin", b"tab?here.bin", b"new\\012line.bin", b"bad??-utf8.bin", b"[ stack ]"):
        assert needle in output, needle


def _range_arguments(pid):
    starts = _map_starts(pid)
    low, middle, high = starts[len(starts) // 4], starts[len(starts) // 2], starts[3 * len(starts) // 4]
    return [
        "%x,%x" % (low, high), "%x" % middle, "%x," % middle, ",%x" % middle, ",", "",
        "%x,%x" % (middle + 1, middle + 1), "%x,%x" % (high, low), "0x%x,0X%x" % (low, high),
        "ffffffffffffffffffffff", "0,ffffffffffffffffffffff", "%X,%X" % (low, high), " %x" % low,
        "zz", "1,zz", "1,2,3", "1 ", "-1", "%x,-1" % low,
    ]


@pytest.mark.parametrize("mode", [[], ["-x"], ["-d"], ["-q"], ["-xq"]], ids=" ".join)
def test_zoo_ranges(zoo_pid, mode):
    for argument in _range_arguments(zoo_pid):
        assert_same(mode + ["-A", argument, str(zoo_pid)])
    middle = _map_starts(zoo_pid)[10]
    assert_same(mode + ["--ra=%x" % middle, str(zoo_pid)])
    assert_same(mode + ["-A%x," % middle, str(zoo_pid)])


def test_extended_range_totals_count_skipped_rss(zoo_pid):
    """pmap's -x totals add Rss of mappings below the range: prove the quirk
    is real (a range that shows nothing still has a nonzero Rss total)."""
    with open("/proc/%d/maps" % zoo_pid, "rb") as handle:
        ranges = [[int(bound, 16) for bound in line.split(None, 1)[0].split(b"-")] for line in handle]
    gap = next(index for index in range(len(ranges) - 1, 0, -1) if ranges[index - 1][1] < ranges[index][0])
    empty = "%x,%x" % (ranges[gap - 1][1], ranges[gap][0] - 1)  # between two mappings
    result = assert_same(["-x", "-A", empty, str(zoo_pid)])
    total = result.stdout.splitlines()[-1].split()
    assert total[:3] == [b"total", b"kB", b"0"] and int(total[3]) > 0, result.stdout


@pytest.mark.parametrize("locale", LOCALES)
def test_odd_command_line(locale):
    odd = [b"tab\there", b"new\nline", b"ctl\x01\x1b\x7f", b"", b"bad\xff\xfe", "ünï".encode(), b"c1\xc2\x85",
           b"--", b" ", b"x" * 5000]
    with tempfile.TemporaryDirectory() as folder:
        child = zoo.start(folder, "bare", odd)
        try:
            for options in ([], ["-x"], ["-d", "-q"]):
                assert_same(options + [str(child.pid)], livetools.base_environ(locale))
        finally:
            child.kill()
            child.wait(timeout=TIMEOUT)


def test_very_long_command_line():
    with tempfile.TemporaryDirectory() as folder:
        child = zoo.start(folder, "bare", ["a" * 100] * 1500)  # 150 KB: longer than procps's 128 KiB buffer
        try:
            assert_same(["-q", str(child.pid)])
        finally:
            child.kill()
            child.wait(timeout=TIMEOUT)


def test_zombie():
    child = subprocess.Popen([sys.executable, "-c", "pass"], env=livetools.base_environ())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % child.pid, "rb") as handle:
            if handle.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                break
        time.sleep(0.01)
    try:
        for options in ([], ["-x"], ["-d"]):
            result = assert_same(options + [str(child.pid)])
        assert b"<defunct>" in result.stdout
    finally:
        child.wait(timeout=TIMEOUT)


def test_kernel_threads_beside_a_stopped_process():
    """Kernel threads (a header and no mappings) in a PID list around a
    process of ours, stopped so that -x's figures cannot move between the
    two tools' reads (as PID 1's, a running process, would)."""
    threads = [str(pid) for pid in livetools.kernel_threads()[:2]]
    if not threads:
        pytest.skip("no kernel thread is visible in this PID namespace")
    with livetools.stopped_process("pass") as pid:
        pids = [str(pid)] + threads + [str(pid)]
        for options in ([], ["-x"], ["-d"], ["-q"]):
            result = assert_same(options + pids)
            assert result.returncode == 0 and result.stdout.count(b"\n%s:   [" % threads[0].encode()) == 1
        assert_same(pids, livetools.base_environ(LIBPROC_HIDE_KERNEL="1"))


def test_thread_id_prints_under_its_tgid(zoo_pid):
    threads = sorted(int(name) for name in os.listdir("/proc/%d/task" % zoo_pid))
    assert len(threads) > 1
    result = assert_same(["-q", str(threads[-1])])
    assert result.stdout.startswith(b"%d:" % zoo_pid)


def _free_pid():
    pid = 32767
    while os.path.exists("/proc/%d" % pid):
        pid -= 1
    return pid


def test_pid_lists(zoo_pid):
    pid = str(zoo_pid)
    missing = str(_free_pid())
    assert_same(["-q", pid, pid])
    with livetools.stopped_process("pass") as other:  # stopped: its listing cannot move
        assert_same([pid, str(other), pid])
        result = assert_same(["-q", missing])
        assert result.returncode == 42
        assert assert_same(["-q", pid, missing, str(other)]).returncode == 42
    assert_same(["-x", "/proc/%s" % pid, missing])
    assert_same([pid, "-x"])  # options after PIDs
    assert_same([pid, "--", "-x"])
    assert_same(["-q", pid, "-x"], livetools.base_environ(POSIXLY_CORRECT="1"))


def _nobody_launcher(folder):
    """A world-readable "pmap" in ``folder`` that runs a copy of pymap made
    there under the system Python (the test's own interpreter, and the
    checkout itself, may sit in folders nobody cannot enter: CI's clone is
    in a mktemp -d folder of mode 0700)."""
    shutil.copytree(os.path.join(ROOT, "pymap"), os.path.join(folder, "pymap"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for where, folders, files in os.walk(folder):
        for name in folders + files:
            os.chmod(os.path.join(where, name), 0o755 if name in folders else 0o644)
    os.chmod(folder, 0o755)
    script = os.path.join(folder, "pmap")
    with open(script, "w") as handle:
        handle.write("#!/usr/bin/python3\nimport sys\nsys.path.insert(0, %r)\nfrom pymap.command.cli import main\n"
                     "sys.exit(main())\n" % folder)
    os.chmod(script, 0o755)
    return script


def _become_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


@pytest.mark.skipif(not livetools.is_root() or not os.access("/usr/bin/python3", os.X_OK),
                    reason="needs root (to become nobody) and /usr/bin/python3")
def test_other_users_process_as_nobody(zoo_pid):
    folder = tempfile.mkdtemp(prefix="pymap-nobody-", dir="/tmp")  # not TMPDIR: nobody must reach it
    try:
        launcher = _nobody_launcher(folder)
        environ = livetools.base_environ(PYMAP_COMPAT=livetools.pmap_version())
        for options in ([], ["-x"], ["-d"], ["-q"]):
            argv = options + [str(zoo_pid), "1"]
            expected = livetools.run_pmap(argv, livetools.base_environ(), preexec_fn=_become_nobody)
            actual = subprocess.run(["pmap"] + argv, executable=launcher, env=environ, capture_output=True,
                                    preexec_fn=_become_nobody, timeout=TIMEOUT)
            assert (actual.stdout, actual.stderr, actual.returncode) == (
                expected.stdout, expected.stderr, expected.returncode), argv
    finally:
        shutil.rmtree(folder)
    assert expected.returncode == 1 and expected.stdout.startswith(b"%d:" % zoo_pid)


def _run_shell(command, tool, environ):
    return subprocess.run(["bash", "-c", command], env=dict(environ, TOOL=tool), capture_output=True, timeout=TIMEOUT)


def test_sigpipe_ends_quietly(zoo_pid):
    """`pmap -x PID | head -1`: killed by SIGPIPE, nothing on stderr."""
    environ = livetools.base_environ(PYMAP_COMPAT=livetools.pmap_version())
    # more output than a pipe holds (64 KiB), so that the writer is still
    # writing when head has gone (a shorter one may all fit, and end with 0)
    once = len(livetools.run_pmap(["-x", str(zoo_pid)]).stdout)
    pids = " ".join([str(zoo_pid)] * (4 * 65536 // once + 2))
    command = '"$TOOL" -x %s | head -c 10 >/dev/null; echo "status=${PIPESTATUS[0]}"' % pids
    launcher = os.path.join(livetools.launcher_dir(), "pmap")
    expected = _run_shell(command, livetools.PMAP, environ)
    actual = _run_shell(command, launcher, environ)
    assert expected.stdout.strip() == b"status=%d" % (128 + signal.SIGPIPE)
    assert (actual.stdout, actual.stderr) == (expected.stdout, expected.stderr)


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
@pytest.mark.parametrize("options", [["-x"], ["-h"], ["-Z"]], ids=" ".join)
def test_started_with_a_stream_closed(zoo_pid, closed, options):
    """`pmap -x PID >&-` (and 2>&-): what reaches the open stream and the
    status are pmap's; Python starts with sys.stdout or sys.stderr None
    then, which the launcher's exit passes over."""
    # run as "pmap" found on PATH (as a user types it), so messages start "pmap: "
    environ = livetools.base_environ(PYMAP_COMPAT=livetools.pmap_version(),
                                     PATH=livetools.launcher_dir() + ":/usr/bin:/bin")
    redirection = ">&-" if closed == "stdout" else "2>&-"
    command = '(exec -a pmap "$TOOL" %s %d) %s; echo "status=$?"' % (" ".join(options), zoo_pid, redirection)
    launcher = os.path.join(livetools.launcher_dir(), "pmap")
    expected = _run_shell(command, livetools.PMAP, environ)
    actual = _run_shell(command, launcher, environ)
    assert (actual.stdout, actual.stderr) == (expected.stdout, expected.stderr)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("options", [[], ["-x"], ["-q"], ["-h"], ["-V"]], ids=" ".join)
def test_write_to_dev_full(zoo_pid, options):
    environ = livetools.base_environ(PYMAP_COMPAT=livetools.pmap_version())
    launcher = os.path.join(livetools.launcher_dir(), "pmap")
    results = []
    for tool in (livetools.PMAP, launcher):
        with open("/dev/full", "wb") as full:
            results.append(subprocess.run(["pmap"] + options + [str(zoo_pid)], executable=tool, env=environ,
                                          stdout=full, stderr=subprocess.PIPE, timeout=TIMEOUT))
    expected, actual = results
    assert (actual.stderr, actual.returncode) == (expected.stderr, expected.returncode)
    if options in (["-V"], ["-h"]):
        assert expected.returncode == 1 and expected.stderr.endswith(b": No space left on device\n")


def test_path_longer_than_pmaps_line_buffer():
    """pmap reads maps with fgets() into 1024 bytes: a longer line comes in
    pieces, and the continuation is listed as a mapping of its own with the
    previous line's numbers.  pymap does the same.  (-x -p is not covered:
    there pmap prints whatever its buffer holds when it reaches Swap.)"""
    with tempfile.TemporaryDirectory() as folder:
        child = zoo.start(folder, "longpath")
        try:
            pid = str(child.pid)
            for options in ([], ["-d"], ["-p"], ["-dp"], ["-x"], ["-q"]):
                result = assert_same(options + [pid])
            assert result.stdout.count(b"the end of a long path.bin") == 1
            assert len(result.stdout.splitlines()) == len(open("/proc/%s/maps" % pid, "rb").readlines()) + 2
        finally:
            child.kill()
            child.wait(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def large_pid():
    with livetools.large_process() as pid:
        yield pid


@pytest.mark.parametrize("options", [[], ["-x"], ["-d"], ["-q"], ["-xq"], ["-p"], ["-xp"]], ids=" ".join)
def test_large_process(large_pid, options):
    """3,000 mappings: blocks of smaps/maps read by the accelerators
    (emulate/listing_fast.py)."""
    from pymap.modes import listing

    with open("/proc/%d/smaps" % large_pid, "rb") as handle:
        assert len(handle.read()) > 4 * listing.FAST_MINIMUM
    result = assert_same(options + [str(large_pid)])
    assert result.returncode == 0 and result.stdout.count(b"\n") > 3000
