"""Hostile input: snapshots, names and sizes an attacker chooses.

Every run here has a wall-clock timeout and (prlimit) an address-space
limit, so a regression that hangs or grows without bound fails the test
instead of stopping the suite.  What must hold: a clear one-line message
and pmap's statuses, no traceback, no link followed below the snapshot's
root, bounded memory and time.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from tests.support import cgroups, livetools
from tests.support import ROOT, TIMEOUT

pytestmark = pytest.mark.live

PID = 4242
STAT = b"4242 (victim) S 1 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 1 1 1 1 1 0\n"
MAPS = b"".join(b"%08x-%08x rw-p 00000000 00:00 0 \n" % (0x10000 + i * 0x2000, 0x11000 + i * 0x2000)
                for i in range(40))
FIELDS = (b"Size:                  4 kB\nRss:                   4 kB\nPss:                   4 kB\n"
          b"Shared_Dirty:          0 kB\nPrivate_Dirty:         4 kB\nSwap:                  0 kB\n")
SMAPS = b"".join(line + b"\n" + FIELDS for line in MAPS.splitlines())
MODES = [[], ["-x"], ["-d"], ["-X"], ["-XX"], ["--json"], ["--reconcile"], ["-q"]]
MEMORY_LIMIT = 512 << 20  # bytes of address space a run may take


def snapshot(folder, **files):
    """A --proc-root folder holding one process, PID 4242."""
    process = os.path.join(folder, "proc", str(PID))
    os.makedirs(process)
    contents = {"stat": STAT, "status": b"Name:\tvictim\nTgid:\t4242\n", "cmdline": b"victim\0", "maps": MAPS,
                "smaps": SMAPS}
    contents.update(files)
    for name, data in contents.items():
        if data is not None:
            with open(os.path.join(process, name), "wb") as handle:
                handle.write(data)
    return os.path.join(folder, "proc")


def run(*args, limit=MEMORY_LIMIT, timeout=60):
    """pymap ARGS in a child with an address-space limit and a timeout:
    (status, stdout, stderr, seconds)."""
    command = ["prlimit", "--as=%d" % limit, "--", sys.executable, "-m", "pymap"] + [
        arg if isinstance(arg, str) else os.fsdecode(arg) for arg in args]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=livetools.base_environ(), capture_output=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr, time.monotonic() - started


def assert_clean(status, stderr, statuses=(0, 1, 42, 43)):
    assert status in statuses, (status, stderr)
    assert b"Traceback" not in stderr and b"Error" not in stderr, stderr
    assert all(line.startswith(b"pymap: ") for line in stderr.splitlines()), stderr


@pytest.fixture()
def folder():
    path = tempfile.mkdtemp(prefix="pymap-hostile-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


needs_prlimit = pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs prlimit (util-linux)")


@needs_prlimit
@pytest.mark.parametrize("name", ["stat", "status", "maps", "smaps", "cmdline", "smaps_rollup"])
@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero", "link to a file", "device"])
def test_files_that_are_not_regular_files(folder, name, kind):
    """A FIFO would block, /dev/zero never end, a link lead outside: each
    is refused with a message naming it, in every mode, at once."""
    root = snapshot(folder)
    path = os.path.join(root, str(PID), name)
    if os.path.exists(path):
        os.unlink(path)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link to /dev/zero":
        os.symlink("/dev/zero", path)
    elif kind == "link to a file":
        secret = os.path.join(folder, "secret")
        with open(secret, "wb") as handle:
            handle.write(b"TOP SECRET\0" * 10)
        os.symlink(secret, path)
    else:
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        os.mknod(path, 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero's numbers
    for mode in MODES:
        status, stdout, stderr, seconds = run("--proc-root", root, *mode, str(PID))
        assert_clean(status, stderr)
        assert seconds < 30
        assert b"TOP SECRET" not in stdout + stderr
        if name in ("stat",):
            assert status & 42 == 42  # not found, as pmap has an unreadable stat
        if name in ("maps", "smaps") and status and stderr and mode in ([], ["-x"]):
            assert os.fsencode(path) in stderr or b"victim" in stdout


@needs_prlimit
def test_pid_folder_that_is_a_link(folder):
    """DIR/PID linking to another process's folder: not followed (the
    link's owner could otherwise have root print what they cannot read)."""
    root = snapshot(folder)
    os.rename(os.path.join(root, str(PID)), os.path.join(folder, "elsewhere"))
    os.symlink(os.path.join(folder, "elsewhere"), os.path.join(root, str(PID)))
    status, stdout, stderr, _ = run("--proc-root", root, "-x", str(PID))
    assert (status, stdout) == (42, b"")
    assert b"symbolic link" in stderr
    os.unlink(os.path.join(root, str(PID)))
    os.symlink("/proc/1", os.path.join(root, str(PID)))
    assert run("--proc-root", root, str(PID))[:2] == (42, b"")


@needs_prlimit
@pytest.mark.parametrize("what", ["one long line", "many short lines"])
def test_huge_maps_files_in_bounded_memory(folder, what):
    """A 300 MB maps file: one line, or many; memory stays flat (the address
    space limit would kill a run that held it) and the run ends."""
    root = snapshot(folder)
    path = os.path.join(root, str(PID), "maps")
    with open(path, "wb") as handle:
        if what == "one long line":
            handle.write(b"00010000-00011000 rw-p 00000000 00:00 0 /")
            block = b"n" * (1 << 20)
        else:
            block = MAPS * (1 << 20 // len(MAPS))
        for _ in range(300):
            handle.write(block)
        handle.write(b"\n")
    for mode in ([], ["-d"], ["-q"]):
        status, stdout, stderr, seconds = run("--proc-root", root, *mode, str(PID), limit=256 << 20, timeout=600)
        assert_clean(status, stderr, (0,))
        assert stdout.startswith(b"%d:   victim\n" % PID)


@needs_prlimit
@pytest.mark.parametrize("name, data", [
    ("stat", STAT.replace(b" 1 1 1 1 1 1 1 1 0", b" " + b"9" * 5000 + b" 1 1 1 1 1 1 0")),
    ("stat", b""),
    ("stat", b"4242 (victim) S 1 4242 4242 0 -1 " + b"7" * 5000 + b"\n"),
    ("status", b"Tgid:\t" + b"9" * 5000 + b"\n"),
    ("smaps", SMAPS.replace(b"Rss:                   4 kB", b"Rss: " + b"9" * 5000 + b" kB")),
    ("smaps", b"1" * 5000 + b"-" + b"2" * 5000 + b" rw-p 0 0:0 0 /x\nRss: 4 kB\nSwap: 0 kB\n"),
    ("smaps", b"10000000000000000-10000000000001000 rw-p 00000000 00:00 0 /big\nRss: 4 kB\nSwap: 0 kB\n"),
    ("smaps_rollup", b"Rss: " + b"9" * 5000 + b" kB\n"),
    ("oom_score_adj", b"5616_56970000\n"),
    ("cmdline", b"x" * (1 << 20)),
], ids=["stat 5000 digits", "empty stat", "stat 5000-digit flags", "Tgid 5000 digits", "Rss 5000 digits",
        "address 5000 digits", "address beyond 64 bits", "rollup 5000 digits", "underscores", "1 MB cmdline"])
def test_numbers_as_c_reads_them(folder, name, data):
    """Numbers of any length are read as pmap's C reads them (saturating,
    stopping at the first byte that is no digit): no ValueError, no
    OverflowError, in any mode."""
    root = snapshot(folder, **{name: data})
    if name in ("smaps_rollup", "oom_score_adj"):
        with open(os.path.join(folder, "proc", "meminfo"), "wb") as handle:
            handle.write(b"MemTotal: " + b"9" * 400 + b" kB\nSwapTotal: 0 kB\n")
    for mode in MODES:
        status, stdout, stderr, _ = run("--proc-root", root, *mode, str(PID))
        assert_clean(status, stderr)
        if name == "stat" and not data:
            assert (status, stdout) == (42, b"")  # an empty stat is not found, as pmap has it


def test_address_beyond_64_bits_saturates():
    from pymap.parse.smaps import parse_maps_line

    mapping = parse_maps_line(b"10000000000000000-10000000000001000 rw-p 00000000 00:00 0 /big")
    assert (mapping.start, mapping.end, mapping.name) == ((1 << 64) - 1, (1 << 64) - 1, b"/big")


# -- names on a terminal ------------------------------------------------------------

EVIL = b"\x1b]0;PWNED\x07\x1b[2J\x1b[31mEVIL\x1b[0m\x08\x08\x08\x08clean\r\xc2\x9b31m"


@pytest.fixture()
def evil_target(folder):
    """A stopped process mapping a file whose name is made of escape
    sequences."""
    path = os.path.join(os.fsencode(folder), EVIL)
    with open(path, "wb") as handle:
        handle.write(b"\0" * 4096)
    code = "import mmap, os, sys\nf = open(os.fsencode(sys.argv[1]), 'rb')\nm = mmap.mmap(f.fileno(), 4096, prot=1)\n"
    with livetools.stopped_process(code, argv_tail=[path]) as pid:
        yield pid


def _on_pty(args, environ):
    return livetools.on_terminal(args, environ)


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
@pytest.mark.parametrize("mode", [[], ["-x"], ["-d"], ["-p"], ["-X"], ["--reconcile"]], ids=str)
def test_names_never_reach_a_terminal_raw(evil_target, locale, mode):
    """On a terminal, no control character of a name is written raw (it is
    '?', as pmap up to 4.0.4 shows it); to a pipe, the bytes stay the
    emulated release's (main keeps them: a valid character of the locale)."""
    environ = livetools.base_environ(locale, PYMAP_COMPAT="main")
    status, output = _on_pty(mode + [str(evil_target)], environ)
    assert status == 0
    assert b"\x1b" not in output and b"\x07" not in output and b"\x08" not in output
    assert b"\xc2\x9b" not in output
    if mode != ["--reconcile"]:
        assert b"EVIL" in output and b"clean" in output
    piped = subprocess.run([sys.executable, "-m", "pymap"] + mode + [str(evil_target)], cwd=ROOT, env=environ,
                           capture_output=True, timeout=TIMEOUT)
    if mode in ([], ["-x"], ["-d"], ["-p"]):  # the release's bytes: main keeps valid characters
        assert b"\x1b]0;PWNED\x07" in piped.stdout
    if mode == ["--reconcile"]:
        assert b"\x1b" not in piped.stdout  # pymap's own output: escaped on every stream


# -- the Python API ----------------------------------------------------------------

@pytest.mark.parametrize("pid, proc_root, error", [
    (True, "/proc", TypeError), (1.0, "/proc", TypeError), ("1", "/proc", TypeError), (float("nan"), "/proc", TypeError),
    (-1, "/proc", ValueError), (1 << 40, "/proc", ValueError), (1, "/pr\0oc", ValueError), (1, 17, TypeError),
    (None, "/proc", TypeError),
])
def test_read_process_checks_its_arguments(pid, proc_root, error):
    import pymap

    with pytest.raises(error) as caught:
        pymap.read_process(pid, proc_root=proc_root)
    assert str(caught.value)


# -- captures ----------------------------------------------------------------------

def _partial(destination, pid):
    """The temporary folder of PID's capture in ``destination``, or None."""
    try:
        names = os.listdir(destination)
    except FileNotFoundError:
        return None
    return next((os.path.join(destination, name) for name in names if name.startswith(".%d.partial-" % pid)), None)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_interrupted_capture_leaves_nothing_that_reads_as_a_process(tmp_path, number):
    """SIGTERM (or Ctrl-C, or SIGHUP) in the middle of a capture: no DIR/PID
    folder (a partial one would read back as a smaller process), nothing of
    the temporary folder, and pymap ends by that signal.  The capture is
    stopped (SIGSTOP) at a point where its temporary folder is seen, holding
    what each phase has written; the signal comes while it is stopped, so it
    lands there whatever the machine's load."""
    code = ("import mmap, threading\nregions = [mmap.mmap(-1, 4096, prot=(mmap.PROT_READ if i % 2 else "
            "mmap.PROT_READ | mmap.PROT_WRITE)) for i in range(30000)]\n"
            "never = threading.Event()\nthreads = [threading.Thread(target=never.wait, daemon=True) for _ in "
            "range(300)]\nfor thread in threads:\n    thread.start()\n")
    phases = {
        "folder made": lambda partial: True,
        "smaps under way": lambda partial: os.path.exists(os.path.join(partial, "smaps")),
        "maps long": lambda partial: os.path.getsize(os.path.join(partial, "maps")) > 100_000
        if os.path.exists(os.path.join(partial, "maps")) else False,
        # the threads' folders (task/TID/syscall) under way
        "threads under way": lambda partial: len(os.listdir(os.path.join(partial, "task"))) > 1
        if os.path.isdir(os.path.join(partial, "task")) else False,
    }
    with livetools.stopped_process(code) as pid:
        for phase, reached in phases.items():
            for attempt in range(20):  # the capture may finish before a phase is seen: again
                destination = tmp_path / ("snap-%s-%d" % (phase.replace(" ", "-"), attempt))
                runner = subprocess.Popen([sys.executable, "-m", "pymap", "--capture", str(destination), str(pid)],
                                          cwd=ROOT, env=livetools.base_environ(), stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE)
                stopped = False
                deadline = time.monotonic() + TIMEOUT
                while runner.poll() is None and time.monotonic() < deadline:
                    partial = _partial(destination, pid)
                    try:
                        if partial is None or not reached(partial):
                            continue
                    except OSError:
                        continue  # renamed or removed meanwhile
                    runner.send_signal(signal.SIGSTOP)
                    try:
                        livetools.wait_stopped(runner.pid)
                    except RuntimeError:
                        break  # it ended first
                    stopped = _partial(destination, pid) is not None  # still under way
                    if stopped:
                        runner.send_signal(number)
                    runner.send_signal(signal.SIGCONT)
                    break
                _, stderr = runner.communicate(timeout=TIMEOUT)
                assert b"Traceback" not in stderr
                if not stopped:
                    continue
                left = sorted(os.listdir(destination))
                assert runner.returncode == -number, (phase, runner.returncode)
                assert str(pid) not in left and not [name for name in left if "partial" in name], (phase, left)
                break
            else:
                pytest.fail("the capture was never caught in phase %r" % phase)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make files of another user's")
NOBODY = 65534


@needs_root
@pytest.mark.parametrize("how", ["another user's", "mode 0777", "mode 0775", "mode 0770", "mode 0757"])
def test_capture_refuses_a_folder_others_can_write(tmp_path, how):
    destination = tmp_path / "snap"
    destination.mkdir()
    if how == "another user's":
        os.chown(destination, NOBODY, NOBODY)
    else:
        os.chmod(destination, int(how.split()[1], 8))  # the group's write bit counts as much as others'
    status, stdout, stderr, _ = run("--capture", str(destination), str(os.getpid()))
    assert status == 1 and stdout == b""
    assert stderr.startswith(b"pymap: %s: " % str(destination).encode()) and stderr.count(b"\n") == 1
    assert os.listdir(destination) == []
    os.chown(destination, 0, 0)
    os.chmod(destination, 0o755)  # the same folder, the caller's and closed to others: taken
    assert run("--capture", str(destination), str(os.getpid()))[0] == 0
    assert str(os.getpid()) in os.listdir(destination)


@needs_root
def test_capture_refuses_a_link_another_user_planted(tmp_path):
    """A link in a sticky world-writable folder (/tmp) that another user made,
    naming a folder of root's: root's capture would have written there."""
    shared = tmp_path / "tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    victim = tmp_path / "victim"
    victim.mkdir(mode=0o700)
    link = shared / "snap"
    os.symlink(victim, link)
    os.lchown(link, NOBODY, NOBODY)
    status, stdout, stderr, _ = run("--capture", str(link), str(os.getpid()))
    assert (status, stdout) == (1, b"") and stderr.count(b"\n") == 1
    assert stderr.startswith(b"pymap: %s: a symbolic link of another user's (uid %d)" % (bytes(link), NOBODY))
    assert os.listdir(victim) == []
    # the caller's own link is the caller's choice: followed
    os.lchown(link, 0, 0)
    assert run("--capture", str(link), str(os.getpid()))[:2] == (0, b"")
    assert sorted(os.listdir(victim)) == sorted([str(os.getpid()), "meminfo"] + (
        ["cgroup"] if cgroups.has_memory_cgroup() else []))


@needs_root
@pytest.mark.parametrize("parent_mode, owner, refused", [
    (0o777, 0, True), (0o775, 0, True), (0o770, 0, True),  # others (or the group) may replace DIR
    (0o1777, 0, False),  # /tmp: the sticky bit keeps them from renaming or removing what is not theirs
    (0o755, NOBODY, True),  # a folder another user owns: they may change it at will
    (0o755, 0, False)])
def test_capture_refuses_a_folder_whose_parent_others_may_change(tmp_path, parent_mode, owner, refused):
    parent = tmp_path / "parent"
    parent.mkdir()
    os.chmod(parent, parent_mode)
    os.chown(parent, owner, owner)
    destination = parent / "snap"
    status, stdout, stderr, _ = run("--capture", str(destination), str(os.getpid()))
    if refused:
        assert (status, stdout) == (1, b"") and stderr.count(b"\n") == 1, stderr
        assert stderr.startswith(b"pymap: %s: in %s" % (bytes(destination), bytes(parent)))
        assert not destination.exists()
    else:
        assert (status, stderr) == (0, b"") and str(os.getpid()) in os.listdir(destination)


def test_capture_of_a_process_killed_before_its_smaps(tmp_path, monkeypatch):
    """A process that dies between its stat and its smaps is not saved as
    one with no memory."""
    from pymap.errors import NoSuchProcess
    from pymap.report import capture
    from pymap.source import ProcRoot

    real = ProcRoot.line_blocks

    def dying(root, pid, name, *args, **kwargs):
        if name == b"smaps":
            raise NoSuchProcess(pid, "/proc/%d/smaps" % pid, "process exited while it was read")
        return real(root, pid, name, *args, **kwargs)

    monkeypatch.setattr(ProcRoot, "line_blocks", dying)
    messages = []
    status = capture.capture(str(tmp_path / "snap"), [os.getpid()], messages.append)
    assert status == 1 and len(messages) == 1 and b"exited" in messages[0]
    # neither the PID folder nor its temporary one is left
    assert [name for name in os.listdir(tmp_path / "snap") if str(os.getpid()) in name] == []
