"""--textfile DIR: DIR/pymap.prom for node_exporter's textfile collector,
put in place atomically.

Writes ``data`` (bytes: an exposition, normally render_prometheus()'s; or
an iterable of MetricFamily, rendered with render_prometheus()) as
DIRECTORY/pymap.prom, atomically, the way node_exporter's textfile
collector needs it (it reads every ``*.prom`` file of the folder at each
scrape, and may do so at any moment):

* the data goes into a new file of the same folder, ``.pymap-<random>.tmp``
  (a name the collector ignores: it does not end in ``.prom``), created
  with O_CREAT|O_EXCL|O_NOFOLLOW relative to a descriptor of the folder,
  mode 0644 whatever the umask (node_exporter runs as another user); it is
  written in full and fsync'ed, then renamed over pymap.prom, which
  replaces it atomically: a reader sees the old file or the new one, never
  a part of one; the folder is fsync'ed after the rename;
* a pymap.prom that is a symbolic link is replaced by the file (rename
  replaces the link itself, the link's target is never written);
* on any failure the temporary file is removed and pymap.prom is left as it
  was: nothing else is ever left in the folder.  SIGTERM, SIGHUP and SIGINT
  (those whose disposition is the default one, and SIGINT's default Python
  handler) are only noted while the file is written: the write stops at
  the next checkpoint (between blocks, before fsync, before the rename),
  the temporary file is removed, and then the signal is acted on (the
  process ends by it, or KeyboardInterrupt is raised), as pymap's
  --capture does (called from another thread than the main one, where no
  signal handler runs, nothing is intercepted).  Only SIGKILL or a crash
  can leave a ``.pymap-*.tmp`` behind, which node_exporter ignores;
* DIRECTORY must exist (it is not made) and be a folder no one else may
  write into unless its sticky bit is set (group or others' write bits
  without it are refused: others could replace pymap.prom); the same holds
  for the folder that holds DIRECTORY (they could replace DIRECTORY).
  DIRECTORY may be a symbolic link of the caller's own or of root's, never
  one of another user's (a link planted in /tmp would otherwise choose
  where root writes); the folders' owners are not checked otherwise
  (Debian's /var/lib/prometheus belongs to the user prometheus, its
  node-exporter folder to root).

Every failure raises TextfileError, whose ``message`` is one line of bytes
naming the option (``option``, b"--textfile" by default; b"" for none) and
the folder as given, e.g. ``b"--textfile /x: No such file or
directory"``, ``b"--textfile /x: Permission denied"``, ``b"--textfile /x:
No space left on device (pymap.prom left as it was)"``; the caller prints
``pymap: <message>`` and exits with status 1.

Standard library only.
"""

import os

from .openmetrics import render_prometheus

__all__ = ["write_textfile", "TextfileError", "TEXTFILE_NAME", "textfile_name", "folder_problem"]

TEXTFILE_NAME = b"pymap.prom"


def textfile_name(by):
    """The file of --summary's metrics grouped ``by``: pymap.prom for
    programs (the default), pymap-BY.prom for the others, so that a folder
    holds one grouping's and another's side by side (node_exporter reads
    every *.prom of it)."""
    return TEXTFILE_NAME if by == "program" else b"pymap-%s.prom" % by.encode()
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_BLOCK = 1 << 20  # written between two checkpoints


class TextfileError(Exception):
    """write_textfile() failed; ``message`` is the line (bytes) to show after
    ``pymap: ``."""

    def __init__(self, message: bytes):
        super().__init__(message)
        self.message = message


def _reason(error):
    return os.fsencode(error.strerror or str(error))


def _check_parent(path, shown):
    """Refuse a path in a folder others may write into without the sticky
    bit: they could put another folder or a link in its place."""
    parent = os.path.dirname(os.path.abspath(path)) or b"/"
    try:
        status = os.stat(parent)
    except OSError as error:
        raise TextfileError(b"%s: %s: %s" % (shown, parent, _reason(error))) from None
    if status.st_mode & 0o022 and not status.st_mode & 0o1000:
        raise TextfileError(b"%s: in %s, which others may write (mode %04o, no sticky bit): they could replace "
                            b"it; pymap writes only into a folder no one else can change"
                            % (shown, parent, status.st_mode & 0o7777))


def _open_directory(directory, shown):
    """A descriptor of ``directory``, after the checks the module's
    docstring lists."""
    try:
        entry = os.stat(directory, follow_symlinks=False)
    except OSError as error:
        raise TextfileError(b"%s: %s" % (shown, _reason(error))) from None
    except ValueError:  # a NUL in the name
        raise TextfileError(b"%s: invalid name" % shown) from None
    path = directory
    if entry.st_mode & 0o170000 == 0o120000:
        if entry.st_uid not in (0, os.geteuid()):
            raise TextfileError(b"%s: a symbolic link of another user's (uid %d): pymap writes only through a "
                                b"link of its user's or root's" % (shown, entry.st_uid))
        _check_parent(directory, shown)
        path = os.path.realpath(directory)
    _check_parent(path, shown)
    try:
        fd = os.open(path, _DIRECTORY_FLAGS)
    except OSError as error:
        raise TextfileError(b"%s: %s" % (shown, _reason(error))) from None
    mode = os.fstat(fd).st_mode
    if mode & 0o022 and not mode & 0o1000:
        os.close(fd)
        raise TextfileError(b"%s: writable by others (mode %04o, no sticky bit): they could replace %s; pymap "
                            b"writes only into a folder no one else can change"
                            % (shown, mode & 0o7777, TEXTFILE_NAME))
    return fd


def write_textfile(directory: "str | bytes | os.PathLike[str] | os.PathLike[bytes]", data,
                   option: bytes = b"--textfile", name: bytes = TEXTFILE_NAME) -> None:
    """Write ``data`` (bytes, or an iterable of MetricFamily rendered with
    render_prometheus()) as DIRECTORY/NAME (pymap.prom), atomically, for
    node_exporter's textfile collector; see the module's docstring for the
    guarantees.  TextfileError(message) on failure, the message starting
    with ``option`` and DIRECTORY."""
    directory = os.fsencode(directory)
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
    elif isinstance(data, str):
        raise TypeError("write_textfile() writes bytes (or MetricFamily's), not str")
    else:
        data = render_prometheus(data)
    shown = b"%s %s" % (option, directory) if option else directory
    fd = _open_directory(directory, shown)
    try:
        with _DeferredSignals(shown, name) as signals:
            _replace(fd, data, shown, signals.checkpoint, name)
    finally:
        os.close(fd)


def folder_problem(directory, option: bytes = b"--textfile"):
    """The TextfileError that write_textfile() would raise for the folder
    itself (missing, not a folder, refused, not writable), or None.  The
    command asks before it reads any process, so that a mistyped folder
    fails at once; the probe is the temporary file write_textfile() makes,
    made and removed at once."""
    directory = os.fsencode(directory)
    shown = b"%s %s" % (option, directory) if option else directory
    try:
        fd = _open_directory(directory, shown)
    except TextfileError as error:
        return error
    try:
        temporary = _temporary_name()
        os.close(os.open(temporary, _FILE_FLAGS, 0o644, dir_fd=fd))
        os.unlink(temporary, dir_fd=fd)
    except OSError as error:
        return TextfileError(b"%s: %s" % (shown, _reason(error)))
    finally:
        os.close(fd)
    return None


def _temporary_name():
    return b".pymap-%s.tmp" % os.urandom(8).hex().encode()


def _replace(directory_fd, data, shown, checkpoint, name):
    temporary = _temporary_name()
    created = False
    step = None
    try:
        checkpoint()
        fd = os.open(temporary, _FILE_FLAGS, 0o644, dir_fd=directory_fd)
        created = True
        step = b"written"
        try:
            os.fchmod(fd, 0o644)  # whatever the umask: node_exporter reads it as another user
            view = memoryview(data)
            while view:
                checkpoint()
                view = view[os.write(fd, view[:_BLOCK]):]
            checkpoint()
            os.fsync(fd)
        finally:
            os.close(fd)
        checkpoint()  # the last point where stopping leaves the old file
        step = b"replaced"
        os.rename(temporary, name, src_dir_fd=directory_fd, dst_dir_fd=directory_fd)
        created = False
    except OSError as error:
        if step is None:  # the temporary file could not be made: the folder's fault
            raise TextfileError(b"%s: %s" % (shown, _reason(error))) from None
        if step == b"written":
            raise TextfileError(b"%s: %s (%s left as it was)" % (shown, _reason(error), name)) from None
        raise TextfileError(b"%s: %s: %s" % (shown, name, _reason(error))) from None
    finally:
        if created:
            try:
                os.unlink(temporary, dir_fd=directory_fd)
            except OSError:
                pass
    try:
        os.fsync(directory_fd)  # the rename itself, on disk
    except OSError:
        pass


class _Interrupted(BaseException):
    """A noted signal, raised at a checkpoint; never leaves write_textfile."""

    def __init__(self, number):
        super().__init__(number)
        self.number = number


class _DeferredSignals:
    """While the file is written, SIGTERM, SIGHUP and SIGINT (with their
    default disposition, or SIGINT with Python's default handler) are only
    noted; checkpoint() raises _Interrupted once one came.  On leaving (the
    temporary file removed by then), the dispositions are restored and the
    signal is acted on: raised again (the process ends by it, as a C
    program would) or, for Python's SIGINT handler, KeyboardInterrupt."""

    def __init__(self, shown, name=TEXTFILE_NAME):
        self.shown = shown
        self.name = name
        self.pending = None
        self.previous = {}

    def __enter__(self):
        try:
            import _signal as signal  # what signal wraps (importing signal costs enum)
        except ImportError:  # pragma: no cover
            import signal
        self.signal = signal

        def note(number, frame):
            if self.pending is None:
                self.pending = number

        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            handler = signal.getsignal(number)
            if handler is signal.SIG_DFL or (number == signal.SIGINT and handler is signal.default_int_handler):
                try:
                    self.previous[number] = signal.signal(number, note)
                except ValueError:  # not the main thread, where no signal handler runs
                    break
        return self

    def checkpoint(self):
        if self.pending is not None:
            raise _Interrupted(self.pending)

    def __exit__(self, kind, value, traceback):
        signal = self.signal
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        number = self.pending
        if number is None:
            return False
        if self.previous.get(number) is signal.default_int_handler:
            raise KeyboardInterrupt
        os.kill(os.getpid(), number)  # the default disposition: the process ends here
        if kind is _Interrupted:  # (still here: the signal is blocked)
            raise TextfileError(b"%s: interrupted by signal %d (%s left as it was)"
                                % (self.shown, number, self.name)) from None
        return False
