"""pymap.report.textfile: DIR/pymap.prom for node_exporter's textfile
collector, put in place atomically: never a partial file for a reader,
nothing left behind on a failure or a signal (a real full tmpfs too), the
folders it refuses, and the early check of the folder (folder_problem).
A real node_exporter reads the file in tests/test_prometheus.py."""

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import threading

import pytest

from pymap.report.openmetrics import render_prometheus
from pymap.report.textfile import TextfileError, folder_problem, write_textfile
from tests.support import ROOT, TIMEOUT
from tests.support import livetools
from tests.support.prometheus import hostile_families

pytestmark = pytest.mark.live

needs_root = pytest.mark.skipif(not livetools.is_root(), reason="needs root (to act as another user)")


def listing(directory):
    return sorted(os.listdir(directory))


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


@pytest.fixture
def textfile_dir(tmp_path):
    directory = tmp_path / "textfile"
    directory.mkdir()
    directory.chmod(0o755)
    return directory


def test_textfile_is_written_0644_whatever_the_umask(textfile_dir):
    old = os.umask(0o077)
    try:
        write_textfile(str(textfile_dir), b"# TYPE a gauge\na 1\n")
    finally:
        os.umask(old)
    assert listing(textfile_dir) == ["pymap.prom"]
    assert read(textfile_dir / "pymap.prom") == b"# TYPE a gauge\na 1\n"
    assert stat.S_IMODE(os.stat(textfile_dir / "pymap.prom").st_mode) == 0o644


def test_textfile_of_families_is_the_text_format(textfile_dir):
    families = hostile_families()
    write_textfile(os.fsencode(textfile_dir), families)
    assert read(textfile_dir / "pymap.prom") == render_prometheus(families)
    with pytest.raises(TypeError):
        write_textfile(textfile_dir, "a str")


def test_textfile_replaces_the_old_one_and_a_link(textfile_dir, tmp_path):
    write_textfile(textfile_dir, b"old\n")
    write_textfile(textfile_dir, bytearray(b"new\n"))
    assert read(textfile_dir / "pymap.prom") == b"new\n"
    target = tmp_path / "target"
    target.write_bytes(b"the link's target\n")
    os.unlink(textfile_dir / "pymap.prom")
    os.symlink(target, textfile_dir / "pymap.prom")
    write_textfile(textfile_dir, b"newer\n")
    assert not os.path.islink(textfile_dir / "pymap.prom")
    assert read(textfile_dir / "pymap.prom") == b"newer\n"
    assert read(target) == b"the link's target\n"
    assert listing(textfile_dir) == ["pymap.prom"]


def test_textfile_temporary_name_is_ignored_by_node_exporter(textfile_dir, monkeypatch):
    seen = []
    real_write = os.write

    def write(fd, data):
        seen.append(listing(textfile_dir))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    write_textfile(textfile_dir, b"x\n")
    monkeypatch.undo()
    (temporary,) = seen[0]
    assert temporary.startswith(".pymap-") and temporary.endswith(".tmp") and not temporary.endswith(".prom")
    assert listing(textfile_dir) == ["pymap.prom"]


def test_textfile_reader_never_sees_a_partial_file(textfile_dir):
    """A reader looping beside the writer reads one whole version or
    another, and sees nothing in the folder but pymap.prom and the
    temporary file."""
    versions = [b"# TYPE pymap_v gauge\n" + b"pymap_v{pad=\"%s\"} %d\n" % (b"x" * 200000, index) for index in range(40)]
    known = set(versions)
    problems = []
    reads = [0]
    done = threading.Event()
    path = textfile_dir / "pymap.prom"

    def reader():
        while not done.is_set():
            try:
                data = read(path)
            except FileNotFoundError:
                if reads[0]:
                    problems.append("pymap.prom vanished")
                continue
            reads[0] += 1
            if data not in known:
                problems.append("a partial file of %d bytes" % len(data))
            for name in os.listdir(textfile_dir):
                if name != "pymap.prom" and not (name.startswith(".pymap-") and name.endswith(".tmp")):
                    problems.append("unexpected file %r" % name)

    thread = threading.Thread(target=reader)
    write_textfile(textfile_dir, versions[0])
    thread.start()
    try:
        for version in versions[1:]:
            write_textfile(textfile_dir, version)
    finally:
        done.set()
        thread.join(30)
    assert not thread.is_alive()
    assert problems == []
    assert reads[0] > 0
    assert listing(textfile_dir) == ["pymap.prom"]
    assert read(path) == versions[-1]


def test_textfile_from_another_thread(textfile_dir):
    """No signal handler can be set outside the main thread: it writes all
    the same."""
    errors = []

    def write():
        try:
            write_textfile(textfile_dir, b"x\n")
        except BaseException as error:  # pragma: no cover
            errors.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(30)
    assert errors == [] and read(textfile_dir / "pymap.prom") == b"x\n"


def _failing(monkeypatch, name, error, after=0):
    """os.NAME raising ``error`` from its call number ``after`` on."""
    real = getattr(os, name)
    calls = [0]

    def fake(*args, **kwargs):
        calls[0] += 1
        if calls[0] > after:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, fake)


@pytest.mark.parametrize("name, error, after, message", [
    ("write", OSError(errno.ENOSPC, "No space left on device"), 1,
     b"No space left on device (pymap.prom left as it was)"),
    ("write", OSError(errno.EIO, "Input/output error"), 0, b"Input/output error (pymap.prom left as it was)"),
    ("fsync", OSError(errno.EIO, "Input/output error"), 0, b"Input/output error (pymap.prom left as it was)"),
    ("fchmod", OSError(errno.EPERM, "Operation not permitted"), 0,
     b"Operation not permitted (pymap.prom left as it was)"),
    ("rename", OSError(errno.EXDEV, "Invalid cross-device link"), 0, b"pymap.prom: Invalid cross-device link"),
    ("open", OSError(errno.EMFILE, "Too many open files"), 0, b"Too many open files"),
])
def test_textfile_failure_leaves_nothing_behind(textfile_dir, monkeypatch, name, error, after, message):
    write_textfile(textfile_dir, b"old\n")
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:3]))  # several writes
    if name == "open":  # the folder opens; the temporary file does not
        real_open = os.open

        def open_(path, flags, *args, **kwargs):
            if "dir_fd" in kwargs:
                raise error
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", open_)
    else:
        _failing(monkeypatch, name, error, after)
    with pytest.raises(TextfileError) as caught:
        write_textfile(textfile_dir, b"new contents\n")
    monkeypatch.undo()
    assert caught.value.message == b"--textfile %s: %s" % (os.fsencode(textfile_dir), message)
    assert str(caught.value)  # (an Exception as any other)
    assert listing(textfile_dir) == ["pymap.prom"]
    assert read(textfile_dir / "pymap.prom") == b"old\n"


def test_textfile_keyboard_interrupt_mid_write_leaves_nothing(textfile_dir, monkeypatch):
    _failing(monkeypatch, "write", KeyboardInterrupt(), 0)
    with pytest.raises(KeyboardInterrupt):
        write_textfile(textfile_dir, b"new\n")
    monkeypatch.undo()
    assert listing(textfile_dir) == []


def test_textfile_over_a_folder_named_pymap_prom(textfile_dir):
    (textfile_dir / "pymap.prom").mkdir()
    (textfile_dir / "pymap.prom" / "inside").write_bytes(b"")
    with pytest.raises(TextfileError) as caught:
        write_textfile(textfile_dir, b"x\n")
    assert caught.value.message == b"--textfile %s: pymap.prom: Is a directory" % os.fsencode(textfile_dir)
    assert listing(textfile_dir) == ["pymap.prom"]


_SIGNAL_CHILD = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from pymap.report import textfile
directory, name, disposition = sys.argv[2:5]
number = getattr(signal, name)
if disposition == "SIG_DFL":
    signal.signal(number, signal.SIG_DFL)
real_write = os.write
def write(fd, data):  # the signal comes in the middle of the file
    os.kill(os.getpid(), number)
    return real_write(fd, data[:10])
os.write = write
try:
    textfile.write_textfile(directory, b"new contents\n" * 10)
except KeyboardInterrupt:
    print("KeyboardInterrupt", sorted(os.listdir(directory)))
    sys.exit(130)
print("not interrupted")
"""


@pytest.mark.parametrize("name, disposition", [
    ("SIGTERM", "SIG_DFL"), ("SIGHUP", "SIG_DFL"), ("SIGINT", "SIG_DFL"), ("SIGINT", "python"),
])
def test_textfile_signal_mid_write_is_acted_on_after_cleanup(textfile_dir, name, disposition):
    """The signal is noted, the write stops at the next checkpoint, the
    temporary file goes, then the process ends by the signal (or, under
    Python's SIGINT handler, KeyboardInterrupt is raised)."""
    write_textfile(textfile_dir, b"old\n")
    result = subprocess.run([sys.executable, "-c", _SIGNAL_CHILD, ROOT, str(textfile_dir), name, disposition],
                            capture_output=True, timeout=TIMEOUT, env=livetools.base_environ())
    if disposition == "SIG_DFL":
        assert result.returncode == -getattr(signal, name), result
        assert result.stdout == b""
    else:
        assert (result.returncode, result.stdout) == (130, b"KeyboardInterrupt ['pymap.prom']\n"), result
    assert listing(textfile_dir) == ["pymap.prom"]
    assert read(textfile_dir / "pymap.prom") == b"old\n"


def test_textfile_signals_are_restored(textfile_dir):
    before = [signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)]
    write_textfile(textfile_dir, b"x\n")
    assert [signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)] == before


_FULL_CHILD = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from pymap.report import textfile
directory = sys.argv[2]
textfile.write_textfile(directory, b"small\n")
try:
    textfile.write_textfile(directory, b"x" * (4 << 20))
    message = None
except textfile.TextfileError as error:
    message = error.message.decode()
with open(os.path.join(directory, "pymap.prom"), "rb") as handle:
    kept = handle.read().decode()
print(json.dumps([message, sorted(os.listdir(directory)), kept]))
"""


@pytest.mark.skipif(not livetools.can_unshare(), reason="needs root and unshare -m (to mount a small tmpfs)")
def test_textfile_on_a_full_filesystem(tmp_path):
    """A 64 KiB tmpfs mounted in a private mount namespace: the big write
    fails with ENOSPC, the small file stays, nothing else is left."""
    mount = tmp_path / "full"
    mount.mkdir()
    result = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         'mount -t tmpfs -o size=64k,mode=0755 pymap-test "$1" && exec "$2" -c "$3" "$4" "$1"',
         "sh", str(mount), sys.executable, _FULL_CHILD, ROOT],
        capture_output=True, timeout=TIMEOUT, env=livetools.base_environ())
    assert result.returncode == 0, result
    message, names, kept = json.loads(result.stdout)
    assert message == "--textfile %s: No space left on device (pymap.prom left as it was)" % mount
    assert names == ["pymap.prom"]
    assert kept == "small\n"


# the folder

def test_textfile_missing_folder(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(TextfileError) as caught:
        write_textfile(missing, b"x\n")
    assert caught.value.message == b"--textfile %s: No such file or directory" % os.fsencode(missing)
    assert not missing.exists()  # never made
    with pytest.raises(TextfileError) as caught:
        write_textfile(missing, b"x\n", option=b"")
    assert caught.value.message == b"%s: No such file or directory" % os.fsencode(missing)
    with pytest.raises(TextfileError) as caught:
        write_textfile(b"bad\0name", b"x\n")
    assert caught.value.message == b"--textfile bad\0name: invalid name"


def test_textfile_folder_that_is_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"")
    with pytest.raises(TextfileError) as caught:
        write_textfile(path, b"x\n")
    assert caught.value.message == b"--textfile %s: Not a directory" % os.fsencode(path)


_NOBODY_CHILD = r"""
import sys
from pymap.report import textfile
try:
    textfile.write_textfile(sys.argv[1], b"x\n")
except textfile.TextfileError as error:
    sys.stdout.buffer.write(error.message)
"""


def test_textfile_folder_not_writable(tmp_path):
    if livetools.is_root():  # root writes anywhere: ask as nobody
        with livetools.public_folder("pymap-textfile-") as folder:
            code = livetools.public_copy_of_pymap(folder)
            directory = os.path.join(folder, "textfile")
            os.mkdir(directory, 0o755)
            result = subprocess.run([livetools.SYSTEM_PYTHON, "-c", _NOBODY_CHILD, directory], cwd=code,
                                    capture_output=True, timeout=TIMEOUT, user=livetools.NOBODY,
                                    group=livetools.NOBODY, extra_groups=[],
                                    env={"PATH": "/usr/bin:/bin", "LANG": "C", "PYTHONPATH": code,
                                         "PYTHONDONTWRITEBYTECODE": "1"})
            assert (result.stdout, result.stderr) == (b"--textfile %s: Permission denied" % directory.encode(), b"")
            assert os.listdir(directory) == []
    else:
        directory = tmp_path / "textfile"
        directory.mkdir(mode=0o555)
        with pytest.raises(TextfileError) as caught:
            write_textfile(directory, b"x\n")
        assert caught.value.message == b"--textfile %s: Permission denied" % os.fsencode(directory)


@pytest.mark.parametrize("mode, refused", [
    (0o777, True), (0o775, True), (0o757, True), (0o1777, False), (0o1775, False), (0o755, False), (0o700, False),
])
def test_textfile_folder_others_may_write(textfile_dir, mode, refused):
    textfile_dir.chmod(mode)
    if refused:
        with pytest.raises(TextfileError) as caught:
            write_textfile(textfile_dir, b"x\n")
        assert caught.value.message == (
            b"--textfile %s: writable by others (mode %04o, no sticky bit): they could replace pymap.prom; "
            b"pymap writes only into a folder no one else can change" % (os.fsencode(textfile_dir), mode))
        assert listing(textfile_dir) == []
    else:
        write_textfile(textfile_dir, b"x\n")
        assert listing(textfile_dir) == ["pymap.prom"]


def test_textfile_in_a_folder_others_may_write(tmp_path):
    parent = tmp_path / "open"
    parent.mkdir()
    directory = parent / "textfile"
    directory.mkdir(mode=0o755)
    parent.chmod(0o777)
    with pytest.raises(TextfileError) as caught:
        write_textfile(directory, b"x\n")
    assert caught.value.message == (
        b"--textfile %s: in %s, which others may write (mode 0777, no sticky bit): they could replace it; pymap "
        b"writes only into a folder no one else can change" % (os.fsencode(directory), os.fsencode(parent)))
    parent.chmod(0o1777)  # as /tmp: others cannot rename what is not theirs
    write_textfile(directory, b"x\n")
    assert listing(directory) == ["pymap.prom"]


def test_textfile_through_a_link_of_ones_own(textfile_dir, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(textfile_dir)
    write_textfile(link, b"x\n")
    assert listing(textfile_dir) == ["pymap.prom"]
    assert os.path.islink(link)


@needs_root
def test_textfile_through_a_link_of_another_user(textfile_dir, tmp_path):
    link = tmp_path / "planted"
    link.symlink_to(textfile_dir)
    os.lchown(link, livetools.NOBODY, livetools.NOBODY)
    with pytest.raises(TextfileError) as caught:
        write_textfile(link, b"x\n")
    assert caught.value.message == (
        b"--textfile %s: a symbolic link of another user's (uid %d): pymap writes only through a link of its "
        b"user's or root's" % (os.fsencode(link), livetools.NOBODY))
    assert listing(textfile_dir) == []


def test_textfile_through_a_link_into_a_folder_others_may_write(tmp_path):
    open_folder = tmp_path / "open"
    open_folder.mkdir()
    open_folder.chmod(0o777)
    link = tmp_path / "link"
    link.symlink_to(open_folder)
    with pytest.raises(TextfileError) as caught:
        write_textfile(link, b"x\n")
    assert b"writable by others (mode 0777, no sticky bit)" in caught.value.message
    assert os.listdir(open_folder) == []


# the early check of the folder (--summary --textfile checks it before reading any process)

def test_folder_problem_is_what_write_textfile_would_say(tmp_path, textfile_dir):
    """The same one-line messages as write_textfile's, for the same folders;
    None for a folder it writes into, and nothing is left there."""
    open_folder = tmp_path / "open"
    open_folder.mkdir()
    open_folder.chmod(0o777)
    a_file = tmp_path / "file"
    a_file.write_bytes(b"")
    for folder in (tmp_path / "missing", a_file, open_folder):
        with pytest.raises(TextfileError) as caught:
            write_textfile(folder, b"x\n")
        assert folder_problem(folder).message == caught.value.message
    assert folder_problem(textfile_dir) is None
    assert listing(textfile_dir) == []
    assert folder_problem(tmp_path / "missing", option=b"").message == b"%s: No such file or directory" % (
        os.fsencode(tmp_path / "missing"))


@pytest.mark.skipif(not livetools.can_unshare(), reason="needs root and unshare -m (to mount a read-only tmpfs)")
def test_folder_problem_on_a_read_only_filesystem(tmp_path):
    """Root may write anywhere but on a read-only file system: the probe
    (the temporary file, made and removed) says so."""
    mount = tmp_path / "ro"
    mount.mkdir()
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from pymap.report.textfile import folder_problem; "
            "sys.stdout.buffer.write(folder_problem(sys.argv[2]).message)")
    result = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         'mount -t tmpfs -o ro,size=64k,mode=0755 pymap-test "$1" && exec "$2" -c "$3" "$4" "$1"',
         "sh", str(mount), sys.executable, code, ROOT],
        capture_output=True, timeout=TIMEOUT, env=livetools.base_environ())
    assert (result.returncode, result.stdout) == (0, b"--textfile %s: Read-only file system" % os.fsencode(mount)), \
        result
