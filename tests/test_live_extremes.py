"""Live edge cases compared with /usr/bin/pmap: zombies, kernel threads,
signals, broken pipes, huge command lines, thousands of PIDs, names with
every byte; and pymap's promise to open nothing for writing and run
nothing."""

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from tests.support import ROOT, TIMEOUT
from tests.support.livetools import base_environ, have_pmap, kernel_threads, launcher_dir, pmap_version, run_pmap, run_pymap, \
    stopped_process
from pymap.command.cli import run_captured

pytestmark = pytest.mark.live

needs_pmap = pytest.mark.skipif(not have_pmap(), reason="needs the installed /usr/bin/pmap")
MODES = [[], ["-x"], ["-d"], ["-q"], ["-x", "-q"], ["-X"], ["-XX"], ["-p"]]


def same_as_pmap(args, environ=None):
    expected = run_pmap(args, environ)
    actual = run_pymap(args, environ)
    assert (actual.returncode, actual.stdout, actual.stderr) == (
        expected.returncode, expected.stdout, expected.stderr), args
    return actual


def _wait_for(condition, what, timeout=TIMEOUT):
    """Poll ``condition()`` until it is true; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("waited %s s in vain until %s" % (timeout, what))
        time.sleep(0.005)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def _state(pid):
    """The state letter of /proc/PID/stat (b"R", b"S", b"Z", ...)."""
    with open("/proc/%d/stat" % pid, "rb") as handle:
        return handle.read().rpartition(b")")[2].split()[0]


@contextlib.contextmanager
def _zombie():
    """A child of ours that has exited and is not yet waited for."""
    child = os.fork()
    if child == 0:
        os._exit(0)
    try:
        _wait_for(lambda: _state(child) == b"Z", "child %d is a zombie" % child)
        yield child
    finally:
        os.waitpid(child, 0)


@needs_pmap
def test_zombie_child():
    with _zombie() as child:
        for mode in MODES:
            result = same_as_pmap(mode + [str(child)])
            assert b"<defunct>" in result.stdout


@needs_pmap
def test_kernel_thread():
    threads = kernel_threads()
    if not threads:
        pytest.skip("no kernel thread in this PID namespace (no /proc/PID/stat with PF_KTHREAD in its flags)")
    thread = str(threads[0])
    for mode in MODES:
        result = same_as_pmap(mode + [thread])
        assert result.stdout.startswith(b"%s:   [" % thread.encode()), result.stdout
    with _zombie() as child:
        same_as_pmap(["-x", thread, str(child), thread])
    same_as_pmap([thread], base_environ(LIBPROC_HIDE_KERNEL="1"))


def _snapshot_with_many_mappings(folder, count=4000):
    """A --proc-root snapshot of one process whose default listing is far
    larger than a pipe holds."""
    process = os.path.join(folder, "proc", "9")
    os.makedirs(process)
    with open(os.path.join(process, "stat"), "wb") as handle:
        handle.write(b"9 (sleeper) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 1 1 1 1 1 0\n")
    with open(os.path.join(process, "maps"), "wb") as handle:
        for index in range(count):
            start = 0x10000000 + index * 0x2000
            handle.write(b"%08x-%08x rw-p 00000000 00:00 0 \n" % (start, start + 0x1000))
    return os.path.join(folder, "proc")


# write()'s number, for kernels whose wchan shows no names (see below)
_WRITE_SYSCALL = {"x86_64": b"1", "aarch64": b"64", "riscv64": b"64", "ppc64le": b"4", "ppc64": b"4", "s390x": b"4",
                  "i686": b"4", "armv7l": b"4"}.get(os.uname().machine)


def _blocked_writing(pid):
    """Whether ``pid`` sleeps in write() on a full pipe: its wchan names the
    kernel's pipe_write (anon_pipe_write in newer kernels), or, where wchan
    shows no names, /proc/PID/syscall shows it inside write() on fd 1 (that
    file names the call a task sleeps in, and says "running" otherwise).
    Fails at once if ``pid`` has exited."""
    assert _state(pid) not in (b"Z", b"X"), "process %d exited" % pid
    wchan = _read("/proc/%d/wchan" % pid)
    if wchan.endswith(b"pipe_write"):
        return True
    if wchan not in (b"", b"0") or _WRITE_SYSCALL is None:
        return False  # asleep elsewhere (or no way to tell)
    return _read("/proc/%d/syscall" % pid).split()[:2] == [_WRITE_SYSCALL, b"0x1"]


def _wait_blocked_writing(pid):
    _wait_for(lambda: _blocked_writing(pid), "process %d blocks writing to its full pipe" % pid)


_SIGINT_MASK = 1 << (signal.SIGINT - 1)  # its bit in /proc/PID/status's signal masks


def _ignored_signals(pid):
    with open("/proc/%d/status" % pid, "rb") as handle:
        line = next(line for line in handle if line.startswith(b"SigIgn:"))
    return int(line.split()[1], 16)


def test_sigint_while_blocked_kills_by_sigint():
    """pymap blocked writing to a full pipe dies by SIGINT: no traceback, no
    KeyboardInterrupt message, returncode -SIGINT (130 in a shell); an
    inherited SIG_IGN keeps it alive, as for a C program."""
    folder = tempfile.mkdtemp(prefix="pymap-sigint-")
    try:
        command = [sys.executable, "-m", "pymap", "--proc-root", _snapshot_with_many_mappings(folder), "9"]
        environ = base_environ()
        runner = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _wait_blocked_writing(runner.pid)
            runner.send_signal(signal.SIGINT)
            _, stderr = runner.communicate(timeout=TIMEOUT)
        finally:
            runner.kill()
        assert runner.returncode == -signal.SIGINT
        assert stderr == b""

        # in a shell, that is status 130
        shell = subprocess.Popen(["sh", "-c", '"$@"; echo $? >&2', "sh"] + command, cwd=ROOT, env=environ,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        children = "/proc/%d/task/%d/children" % (shell.pid, shell.pid)
        try:
            _wait_for(lambda: _read(children).split(), "the shell has started pymap")
            inner = int(_read(children).split()[0])
            _wait_blocked_writing(inner)
            os.kill(inner, signal.SIGINT)
            _, stderr = shell.communicate(timeout=TIMEOUT)
        finally:
            shell.kill()
        assert stderr == b"130\n"

        # SIGINT ignored by whoever started pymap (nohup, a background job)
        # stays ignored, as it does for a C program: the kernel drops the
        # signal, and pymap, its pipe drained, ends as usual
        ignoring = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        try:
            _wait_blocked_writing(ignoring.pid)
            assert _ignored_signals(ignoring.pid) & _SIGINT_MASK
            ignoring.send_signal(signal.SIGINT)
            stdout, stderr = ignoring.communicate(timeout=TIMEOUT)
        finally:
            ignoring.kill()
        assert (ignoring.returncode, stderr) == (0, b"")
        assert stdout.count(b"\n") == 1 + 4000 + 1 and stdout.endswith(b" total            16000K\n"), stdout[-200:]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _running(process):
    assert process.poll() is None, "exited early: %r" % (process.communicate(timeout=TIMEOUT),)
    return True


def _has_open(pid, path):
    """Whether process ``pid`` has ``path`` open."""
    folder = "/proc/%d/fd" % pid
    for fd in os.listdir(folder):
        try:
            if os.readlink(os.path.join(folder, fd)) == path:
                return True
        except OSError:
            continue  # closed meanwhile
    return False


def _has_written(pipe):
    return bool(select.select([pipe], [], [], 0)[0])


def test_sigint_on_a_huge_process():
    """SIGINT ends pymap by SIGINT, silently, while it reads a process of
    20,000 mappings and while it writes their listing.  Its stdout is a
    pipe left unread, far smaller than the listing: pymap cannot end by
    itself before the signal comes."""
    code = ("import mmap\nregions = [mmap.mmap(-1, 4096, prot=(mmap.PROT_READ if i % 2 else "
            "mmap.PROT_READ | mmap.PROT_WRITE)) for i in range(20000)]\n")
    with stopped_process(code) as pid:
        smaps = "/proc/%d/smaps" % pid
        phases = {
            # reading (or, should the read be too quick to be seen, writing)
            "reads": lambda runner: _has_open(runner.pid, smaps) or _has_written(runner.stdout),
            "writes": lambda runner: _has_written(runner.stdout),
        }
        for phase, reached in phases.items():
            runner = subprocess.Popen([sys.executable, "-m", "pymap", "-x", str(pid), str(pid), str(pid)], cwd=ROOT,
                                      env=base_environ(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                _wait_for(lambda: _running(runner) and reached(runner), "pymap %s" % phase)
                runner.send_signal(signal.SIGINT)
                _, stderr = runner.communicate(timeout=TIMEOUT)
            finally:
                runner.kill()
            assert (runner.returncode, stderr) == (-signal.SIGINT, b""), phase


def test_broken_pipe_dies_by_sigpipe_silently():
    code = "import mmap\nregions = [mmap.mmap(-1, 4096, prot=(i % 2) + 1) for i in range(2000)]\n"
    with stopped_process(code) as pid:
        script = 'pmap -x "$1" 2>"$2" | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}"'
        errors = tempfile.NamedTemporaryFile(delete=False)
        errors.close()
        try:
            environ = base_environ(PATH=launcher_dir() + ":/usr/bin:/bin")
            for _ in range(3):
                result = subprocess.run(["bash", "-c", script, "bash", str(pid), errors.name], env=environ,
                                        capture_output=True, timeout=60)
                assert result.stdout == b"%d\n" % (128 + signal.SIGPIPE)
                with open(errors.name, "rb") as handle:
                    assert handle.read() == b""
        finally:
            os.unlink(errors.name)


@needs_pmap
def test_huge_command_line_as_pmap_shows_it():
    # a single argument may be at most 128 KiB: ten of 100 KiB make a 1 MB command line
    pieces = [bytes((33 + (i * 7 + j) % 94) for j in range(100_000)) for i in range(10)]
    pieces[3] = b"\x01\xff\xe2\x82\xac\t" * 10_000
    with stopped_process("", argv_tail=pieces) as pid:
        for locale in ("C", "C.UTF-8"):
            for mode in (["-q"], ["-x", "-q"]):
                result = same_as_pmap(mode + [str(pid)], base_environ(locale))
                assert len(result.stdout) > 100_000


@needs_pmap
def test_two_thousand_pids():
    pids = [str(os.getpid())] * 2000
    expected = run_pmap(["-q"] + pids)
    actual = run_pymap(["-q"] + pids)
    assert (actual.returncode, actual.stdout, actual.stderr) == (
        expected.returncode, expected.stdout, expected.stderr)
    if pmap_version() == "4.0.2":
        assert expected.stderr == b"pmap: library failed pids statistics\n"
    # the development line has no such limit
    main = run_pymap(["-q"] + pids, compat="main")
    assert (main.returncode, main.stderr) == (0, b"")
    header = b"%d:   " % os.getpid()
    assert sum(line.startswith(header) for line in main.stdout.split(b"\n")) == 2000


@needs_pmap
def test_mapping_names_with_every_byte():
    folder = tempfile.mkdtemp(prefix="pymap-bytes-")
    try:
        names = []
        for byte in range(1, 256):
            if byte == ord("/"):
                continue
            name = os.path.join(os.fsencode(folder), b"n" + bytes([byte]) + b"x")
            with open(name, "wb") as handle:
                handle.write(b"\0" * 4096)
            names.append(name)
        code = ("import mmap, sys, os\nfiles = [open(os.fsencode(a), 'rb') for a in sys.argv[1:]]\n"
                "maps = [mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ) for f in files]\n")
        with stopped_process(code, argv_tail=names) as pid:
            for locale in ("C", "C.UTF-8"):
                # (not -X: its Pss of the interpreter's pages drops while
                # pymap, a Python too, runs: an observer effect, not a name)
                for mode in ([], ["-x"], ["-d"], ["-p"], ["-x", "-p"]):
                    same_as_pmap(mode + [str(pid)], base_environ(locale))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- nothing written, nothing run ---------------------------------------------

def test_reading_modes_open_nothing_for_writing(monkeypatch, tmp_path):
    """In-process: the read modes never open a file other than for reading."""
    import builtins

    opened = []
    real_os_open, real_open = os.open, builtins.open

    def watch_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
            opened.append((path, flags))
        return real_os_open(path, flags, *args, **kwargs)

    def watch_open(file, mode="r", *args, **kwargs):
        if any(letter in mode for letter in "wax+"):
            opened.append((file, mode))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", watch_os_open)
    monkeypatch.setattr(builtins, "open", watch_open)
    monkeypatch.chdir(tmp_path)
    rc = tmp_path / "rc"
    rc.write_bytes(b"[Fields Display]\nRss\n")
    me = b"%d" % os.getpid()
    for mode in ([], [b"-x"], [b"-d"], [b"-q"], [b"-X"], [b"-XX"], [b"-C", str(rc).encode()], [b"-p", b"-k"]):
        status, _, stderr = run_captured([b"pmap"] + mode + [me, b"1", b"2", b"999999999"],
                                         {b"LANG": b"C.UTF-8", b"HOME": str(tmp_path).encode()})
        assert b"Traceback" not in stderr
    assert opened == []
    assert sorted(os.listdir(tmp_path)) == ["rc"]


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (the in-process test covers opens)")
def test_under_strace_no_program_run_and_no_write_open(tmp_path):
    log = tmp_path / "trace"
    me = str(os.getpid())
    for mode in ([], ["-x"], ["-X"], ["-d", "-q"]):
        command = ["strace", "-f", "-qq", "-o", str(log), "-e", "trace=execve,execveat,open,openat,openat2,creat",
                   sys.executable, "-B", "-m", "pymap"] + mode + [me, "2"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=60,
                                env=base_environ("C.UTF-8", PYTHONDONTWRITEBYTECODE="1"))
        if result.returncode != 0 and b"ptrace" in result.stderr:
            pytest.skip("strace cannot trace here: %s" % result.stderr[:200])
        assert result.returncode == 0, result.stderr
        trace = log.read_text(errors="replace")
        assert len(re.findall(r"\bexecve(at)?\(", trace)) == 1, trace[:2000]  # the interpreter itself
        writes = [line for line in trace.splitlines() if re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|creat\(", line)]
        assert writes == []
