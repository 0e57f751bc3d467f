"""The kernel log, for --oom-report: /dev/kmsg record by record, without
blocking, where the caller may read it, else what dmesg prints, or a log
file the user names (or standard input); always as lines of bounded
length (kernel_log, log_file), every failure an errors.UnreadableFile that
names the log.  /dev/kmsg is FILES[b"kmsg"] (its path, and the bound of a
whole read)."""

import errno
import os

from ..errors import UnreadableFile
from . import FILES, READ_CHUNK

__all__ = ["KernelLog", "kernel_log", "log_file", "bounded_lines", "DMESG", "LOG_LINE_MAX", "KMSG_RECORD_MAX",
           "KMSG_DEVICE"]

# a line of a log is kept up to this many bytes (the rest is read and
# dropped): a kernel message is at most 1 KiB, 8 KiB escaped in /dev/kmsg
LOG_LINE_MAX = 16384
# what one read of /dev/kmsg may return: the kernel refuses (EINVAL) a
# buffer too small for the record; CONSOLE_EXT_LOG_MAX is 8 KiB
KMSG_RECORD_MAX = 1 << 16
# the fallback when /dev/kmsg cannot be read (a container without it, an
# older kernel): dmesg reads the log through syslog(2) there.  -x shows each
# message's facility, so that what user space wrote to /dev/kmsg (made
# facility "user" by the kernel, whatever it claims) is not taken for the
# kernel's report (-r shows the level alone)
DMESG = (b"dmesg", b"-x")
# /dev/kmsg's device number (drivers/char/mem.c)
KMSG_DEVICE = (1, 11)
_STDIN = b"-"
_FILE_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
_S_IFMT, _S_IFREG, _S_IFDIR, _S_IFCHR = 0o170000, 0o100000, 0o040000, 0o020000


class KernelLog:
    """A kernel log being read: ``name`` (bytes) says where from, as
    messages name it ("/dev/kmsg", "dmesg", the file as given, "standard
    input"); ``live`` whether it is the running kernel's own (its times
    are this boot's); iterating gives its lines (bytes, without their
    newline, at most LOG_LINE_MAX bytes each) and raises UnreadableFile
    when the reading fails half-way."""

    def __init__(self, name, lines, live=False):
        self.name = name
        self.live = live
        self._lines = lines

    def __iter__(self):
        return self._lines

    def close(self):
        self._lines.close()


def _log_error(name, exc):
    if exc.errno == errno.ELOOP:
        return UnreadableFile(name, "a symbolic link (pymap follows none: name the file it points to)")
    return UnreadableFile(name, exc.strerror or str(exc))


def _read_log(fd, name, want):
    """One os.read of a log file or pipe (b"" at its end).  A pipe left
    non-blocking by whoever passed it (standard input) is waited on, not
    taken for ended."""
    while True:
        try:
            return os.read(fd, want)
        except InterruptedError:
            continue
        except BlockingIOError:
            import select

            select.select([fd], [], [])
        except OSError as exc:
            raise _log_error(name, exc) from None


def bounded_lines(chunks, max_line=LOG_LINE_MAX):
    """The lines of a stream given as byte chunks, without their newline,
    each cut to ``max_line`` bytes (the rest of a longer line is read and
    dropped, never held); a last line without a newline counts."""
    pending = b""
    dropping = False
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not dropping:
                    pending += chunk[start:start + max_line - len(pending)]
                    dropping = len(pending) >= max_line
                break
            if not dropping:
                pending += chunk[start:start + max(0, min(end - start, max_line - len(pending)))]
            yield pending
            pending = b""
            dropping = False
            start = end + 1
    if pending:
        yield pending


def _chunks(fd, name, close):
    try:
        while True:
            chunk = _read_log(fd, name, READ_CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        if close:
            os.close(fd)


def log_file(path):
    """The KernelLog of a file the user names (bytes; b"-": standard
    input, whatever it is).  A named file is opened without following a
    symbolic link and without blocking, and must be a regular file (a pipe
    goes through standard input); it is read in blocks, whatever its size.
    Raises UnreadableFile."""
    if path == _STDIN:
        return KernelLog(b"standard input", bounded_lines(_chunks(0, b"standard input", close=False)))
    try:
        fd = os.open(path, _FILE_FLAGS)
    except (OSError, ValueError) as exc:
        raise _log_error(path, exc if isinstance(exc, OSError) else OSError(errno.EINVAL, "invalid path")) from None
    try:
        mode = os.fstat(fd).st_mode & _S_IFMT
    except OSError as exc:
        os.close(fd)
        raise _log_error(path, exc) from None
    if mode != _S_IFREG:
        os.close(fd)
        raise UnreadableFile(path, "Is a directory" if mode == _S_IFDIR else
                             "not a regular file (a pipe goes as -, on standard input)")
    return KernelLog(path, bounded_lines(_chunks(fd, path, close=True)))


def kernel_log(environ=None):
    """The KernelLog of the running kernel: /dev/kmsg (FILES[b"kmsg"]) when
    the caller may read it, else the output of DMESG run with ``environ``
    (bytes to bytes; None: pymap's own).  Raises UnreadableFile when
    neither can be read (naming both reasons)."""
    kind = FILES[b"kmsg"]
    try:
        fd = os.open(kind.path, _FILE_FLAGS)
    except (OSError, ValueError) as exc:
        reason = _log_error(kind.path, exc if isinstance(exc, OSError) else OSError(errno.EINVAL, "invalid path"))
        return _dmesg(environ, reason.message.decode("utf-8", "surrogateescape"))
    try:
        status = os.fstat(fd)
        # the kernel's own device (mem's minor 11), not a stand-in (a container's /dev/null)
        is_device = status.st_mode & _S_IFMT == _S_IFCHR and (os.major(status.st_rdev), os.minor(status.st_rdev)) \
            == KMSG_DEVICE
    except OSError:
        is_device = False
    if not is_device:
        os.close(fd)
        return _dmesg(environ, "%s: not the kernel's log device" % os.fsdecode(kind.path))
    return KernelLog(kind.path, _kmsg_lines(fd, kind.path, kind.limit), live=True)


def _kmsg_lines(fd, name, limit):
    """/dev/kmsg's records from the oldest it holds, as lines: each read is
    one record ("PRI,SEQ,USEC,FLAGS;message" and " KEY=value" lines), the
    end is EAGAIN; records overwritten while they are read (EPIPE) are
    skipped, as dmesg skips them."""
    total = 0
    try:
        while total < limit:
            try:
                record = os.read(fd, KMSG_RECORD_MAX)
            except InterruptedError:
                continue
            except BlockingIOError:
                return
            except BrokenPipeError:
                total += 1  # (bounded even if every read were to find its record overwritten)
                continue
            except OSError as exc:
                raise _log_error(name, exc) from None
            if not record:
                return
            total += len(record)
            for line in record.split(b"\n"):
                if line:
                    yield line[:LOG_LINE_MAX]
    finally:
        os.close(fd)


def _dmesg(environ, kmsg_reason):
    """The KernelLog of DMESG's output, read as it comes; dmesg's complaint
    (its first line on stderr) or its status fails the reading at the end,
    with why /dev/kmsg was not read."""
    import subprocess
    import tempfile

    name = b"dmesg"
    errors = tempfile.TemporaryFile()  # (a pipe could fill while stdout is read)
    try:
        process = subprocess.Popen(list(DMESG), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
                                   env=environ, close_fds=True)
    except OSError as exc:
        errors.close()
        raise UnreadableFile(name, "%s (%s)" % (exc.strerror or str(exc), kmsg_reason)) from None

    def lines():
        try:
            yield from bounded_lines(_chunks(process.stdout.fileno(), name, close=False))
            status = process.wait()
            if status != 0:
                errors.seek(0)
                said = errors.read(4096).split(b"\n", 1)[0].decode("utf-8", "replace")
                if said.startswith("dmesg: "):
                    said = said[len("dmesg: "):]
                raise UnreadableFile(name, "%s (%s)" % (said or "exit status %d" % status, kmsg_reason))
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()
            errors.close()

    return KernelLog(name, lines(), live=True)
