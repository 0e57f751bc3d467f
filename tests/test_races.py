"""Processes that vanish while pymap reads them.

The kernel does not fail a read of /proc/PID/smaps when the process exits
in the middle: the file just ends early.  pymap must then report the process
as one it could not read (its header line, status 1), never print the
mappings it got with a totals line as if that were the whole table.
"""

import errno
import os
import subprocess
import sys
import threading
import time

import pytest

from tests.support import TIMEOUT
from pymap import source as procfs
from pymap.command.cli import run_captured

pytestmark = pytest.mark.live

MAPPINGS = 3000
CHILD = r'''
import mmap, os, sys, time
# alternate protections so that the kernel cannot merge neighbours
regions = [mmap.mmap(-1, 4096, prot=(mmap.PROT_READ if i %% 2 else mmap.PROT_READ | mmap.PROT_WRITE))
           for i in range(%d)]
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(float(sys.argv[1]))
os._exit(0)
''' % MAPPINGS


def table_lines(stdout):
    """The mapping lines of a one-process default or -x listing."""
    lines = stdout.split(b"\n")[1:-1]
    return [line for line in lines
            if line and not line.startswith((b"Address", b"----", b"total kB", b" total"))]


def assert_complete_or_unread(status, stdout, stderr, extended):
    assert b"Traceback" not in stderr
    assert status in (0, 1, 42), (status, stderr)
    if status == 42:
        assert stdout == b""
        return
    assert stdout.count(b"\n") >= 1
    if status == 1:
        assert stdout.count(b"\n") == 1, stdout[:300]  # the header line alone
        return
    totals = b"total kB " if extended else b" total "
    assert stdout.split(b"\n")[-2].startswith(totals), stdout[-300:]
    count = len(table_lines(stdout))
    # all the mappings, or none at all (a zombie has no memory left)
    assert count == 0 or count >= MAPPINGS, "a table of %d mappings presented as complete" % count


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs a live /proc")
def test_processes_exiting_while_read():
    deadline = time.monotonic() + 30
    seen = {}
    for round_number in range(20):
        if time.monotonic() > deadline:
            break
        delay = 0.002 * (round_number % 10)
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(delay)], stdout=subprocess.PIPE,
                                 env={"PATH": "/usr/bin:/bin", "LANG": "C"})
        try:
            assert child.stdout.readline() == b"ready\n"
            # reap at once, so that runs meet zombies, reaped PIDs and the exit itself
            reaper = threading.Thread(target=child.wait)
            reaper.start()
            outside = None
            if round_number % 4 == 0:
                outside = subprocess.Popen(
                    [sys.executable, "-m", "pymap", "-x", str(child.pid)],
                    cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, LANG="C"))
            runs = 0
            while time.monotonic() < deadline and runs < 200:
                extended = runs % 2 == 1
                argv = [b"pmap"] + ([b"-x"] if extended else []) + [b"%d" % child.pid]
                status, stdout, stderr = run_captured(argv, {b"LANG": b"C"})
                assert_complete_or_unread(status, stdout, stderr, extended)
                seen[status] = seen.get(status, 0) + 1
                runs += 1
                if status == 42:
                    break
            reaper.join(timeout=TIMEOUT)
            if outside is not None:
                stdout, stderr = outside.communicate(timeout=20)
                # the launcher's name is "pymap" here; what matters is the shape
                assert b"Traceback" not in stderr
                assert outside.returncode in (0, 1, 42), stderr
                if outside.returncode == 0:
                    assert_complete_or_unread(0, stdout, stderr, True)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=TIMEOUT)
    assert seen.get(42), seen  # the loop did follow processes to their end


# -- faults injected where the kernel could produce them ------------------------

def _snapshot(tmp_path, mappings=400):
    folder = tmp_path / "proc" / "77"
    folder.mkdir(parents=True)
    lines = b"".join(b"%08x-%08x rw-p 00000000 00:00 0 \n" % (0x10000 + i * 0x2000, 0x11000 + i * 0x2000)
                     for i in range(mappings))
    fields = (b"Size:                  4 kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n"
              b"Rss:                   4 kB\nPss:                   4 kB\nShared_Clean:          0 kB\n"
              b"Shared_Dirty:          0 kB\nPrivate_Clean:         0 kB\nPrivate_Dirty:         4 kB\n"
              b"Referenced:            4 kB\nAnonymous:             4 kB\nLazyFree:              0 kB\n"
              b"AnonHugePages:         0 kB\nSwap:                  0 kB\nSwapPss:               0 kB\n"
              b"Locked:                0 kB\nTHPeligible:           0\nVmFlags: rd wr mr mw me ac \n")
    (folder / "maps").write_bytes(lines)
    (folder / "smaps").write_bytes(b"".join(line + fields for line in lines.splitlines(True)))
    (folder / "stat").write_bytes(b"77 (victim) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 1 1 1 1 1 0\n")
    (folder / "status").write_bytes(b"Name:\tvictim\nTgid:\t77\n")
    (folder / "cmdline").write_bytes(b"victim\0")
    return str(tmp_path / "proc").encode()


class _Faulty:
    """os.read for files whose name ends with ``name``: after ``good`` reads
    it fails with ``error`` or (error None) ends the file as an exited
    process does, for good, even when read again from the start."""

    def __init__(self, monkeypatch, name, good, error):
        self.fds = set()
        self.reads = 0
        real_open, real_read = os.open, os.read

        def fake_open(path, *args, **kwargs):
            fd = real_open(path, *args, **kwargs)
            if (b"/" + os.fsencode(path)).endswith(name):  # (procfs opens files relative to their folder)
                self.fds.add(fd)
            return fd

        def fake_read(fd, size):
            if fd in self.fds:
                self.reads += 1
                if self.reads > good:
                    if error is None:
                        return b""
                    raise OSError(error, os.strerror(error))
            return real_read(fd, size)

        monkeypatch.setattr(procfs.os, "open", fake_open)
        monkeypatch.setattr(procfs.os, "read", fake_read)
        monkeypatch.setattr(procfs, "READ_CHUNK", 4096)


@pytest.mark.parametrize("mode", [[], [b"-x"], [b"-d"], [b"-X"], [b"-XX"]])
@pytest.mark.parametrize("error", [None, errno.ESRCH, errno.EIO, errno.ENOENT])
def test_fault_in_the_middle_of_the_maps(tmp_path, monkeypatch, mode, error):
    root = _snapshot(tmp_path)
    whole = run_captured([b"pmap", b"--proc-root", root] + mode + [b"77"], {b"LANG": b"C"})
    assert whole[0] == 0 and whole[1].count(b"\n") > 400
    name = b"/maps" if not mode or mode == [b"-d"] else b"/smaps"
    _Faulty(monkeypatch, name, 3, error)
    status, stdout, stderr = run_captured([b"pmap", b"--proc-root", root] + mode + [b"77"], {b"LANG": b"C"})
    assert b"Traceback" not in stderr
    assert (status, stdout) == (1, b"77:   victim\n")
    assert stderr.count(b"\n") <= 1


@pytest.mark.parametrize("error", [errno.ENOENT, errno.ESRCH, errno.EACCES, errno.EIO])
def test_fault_when_opening_the_maps(tmp_path, monkeypatch, error):
    root = _snapshot(tmp_path)
    real_open = os.open

    def fake_open(path, *args, **kwargs):
        if (b"/" + os.fsencode(path)).endswith((b"/maps", b"/smaps")):  # (opened relative to their folder)
            raise OSError(error, os.strerror(error))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(procfs.os, "open", fake_open)
    for mode in ([], [b"-x"], [b"-X"]):
        status, stdout, stderr = run_captured([b"pmap", b"--proc-root", root] + mode + [b"77", b"77"],
                                              {b"LANG": b"C"})
        assert (status, stdout) == (1, b"77:   victim\n77:   victim\n"), (mode, stderr)
        assert b"Traceback" not in stderr


def test_process_gone_between_check_and_stat(tmp_path, monkeypatch):
    """/proc/PID exists when checked, then nothing in it can be opened: the
    PID counts as not found (42), as procps's library skips it."""
    root = _snapshot(tmp_path)
    real_open = os.open

    def fake_open(path, *args, **kwargs):
        if os.fsencode(path) == b"77" or b"/77/" in os.fsencode(path):  # the folder, opened relative to the root
            raise OSError(errno.ESRCH, os.strerror(errno.ESRCH))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(procfs.os, "open", fake_open)
    status, stdout, stderr = run_captured([b"pmap", b"--proc-root", root, b"-x", b"77"], {b"LANG": b"C"})
    assert (status, stdout) == (42, b"")
    assert b"Traceback" not in stderr


def test_interrupted_reads_are_retried(tmp_path, monkeypatch):
    root = _snapshot(tmp_path)
    whole = run_captured([b"pmap", b"--proc-root", root, b"-x", b"77"], {b"LANG": b"C"})
    real_read = os.read
    calls = []

    def fake_read(fd, size):
        calls.append(fd)
        if len(calls) % 2:
            raise InterruptedError(errno.EINTR, "Interrupted system call")
        return real_read(fd, size)

    monkeypatch.setattr(procfs.os, "read", fake_read)
    assert run_captured([b"pmap", b"--proc-root", root, b"-x", b"77"], {b"LANG": b"C"}) == whole
