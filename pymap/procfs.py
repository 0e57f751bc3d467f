"""Reading /proc (or a snapshot laid out like it): bytes in, a few errors out.

One small function per file.  Every OSError is turned into NoSuchProcess,
AccessDenied or UnreadableProcess here and nowhere else.  ``root`` is the
procfs root as bytes (b"/proc" for the live system).
"""

import errno
import os

from .creading import STAT_PPID, STAT_START_STACK, atoi, c_string, is_field_line, scan_stat_fields
from .errors import AccessDenied, NoSuchProcess, UnreadableProcess

PROC = b"/proc"

# procps reads at most this much of a command line (its 128 KiB buffer less the NUL)
CMDLINE_LIMIT = 128 * 1024 - 1

# reads of 64 KiB: the kernel hands out at most a page per read of maps or
# smaps, and a larger request only costs a larger allocation per call
_CHUNK = 1 << 16
# read_line_blocks() joins its reads into blocks of this size: the streamed
# formatters pay per block
LINE_BLOCK = 1 << 18

_GONE = frozenset((errno.ENOENT, errno.ESRCH, errno.ENOTDIR))
_DENIED = frozenset((errno.EACCES, errno.EPERM))


def _error(pid, path, exc):
    reason = exc.strerror or str(exc)
    shown = os.fsdecode(path)
    if exc.errno in _GONE:
        return NoSuchProcess(pid, shown, reason)
    if exc.errno in _DENIED:
        return AccessDenied(pid, shown, reason)
    return UnreadableProcess(pid, shown, reason)


def process_path(root, pid, name=None):
    path = b"%s/%d" % (root, pid)
    return path if name is None else path + b"/" + name


def exists(root, pid):
    """Whether /proc/PID exists (as a directory entry, whatever it holds)."""
    try:
        os.stat(process_path(root, pid))
    except OSError:
        return False
    return True


def read_file(root, pid, name, limit=None, whole_map=False, path=None):
    """The whole of /proc/PID/NAME (or of ``path``) as bytes (at most
    ``limit`` bytes).

    ``whole_map``: NAME is maps or smaps, and a process that exits while it
    is read must not pass for one with fewer mappings (the kernel then just
    ends the file early); see _check_still_mapped."""
    if path is None:
        path = process_path(root, pid, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise _error(pid, path, exc) from None
    try:
        blocks = []
        total = 0
        while limit is None or total < limit:
            want = _CHUNK if limit is None else min(_CHUNK, limit - total)
            try:
                block = os.read(fd, want)
            except InterruptedError:
                continue
            except OSError as exc:
                raise _error(pid, path, exc) from None
            if not block:
                break
            blocks.append(block)
            total += len(block)
        if whole_map and total:
            _check_still_mapped(fd, pid, path)
        return b"".join(blocks)
    finally:
        os.close(fd)


def _check_still_mapped(fd, pid, path):
    """Raise NoSuchProcess when the memory the open maps/smaps file ``fd``
    describes is gone.  The kernel ends such a file early, without an error,
    when the process exits (or execs) while it is read: the table would look
    complete but miss mappings.  Read again from the start: a live address
    space shows its first mapping, a released one shows nothing (or ESRCH
    once the process is reaped).  Regular snapshot files always pass."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                first = os.read(fd, 1)
                break
            except InterruptedError:
                continue
    except OSError as exc:
        raise _error(pid, path, exc) from None
    if not first:
        raise NoSuchProcess(pid, os.fsdecode(path), "process exited while it was read")


def read_line_blocks(root, pid, name, block_size=LINE_BLOCK, whole_records=False):
    """Yield /proc/PID/NAME in blocks of about ``block_size`` bytes that each
    end at a line boundary (the last may lack its newline), so a large smaps
    is never held whole.  ``whole_records``: end each block, where the file
    allows, before a line that starts a smaps record (one that does not
    start with an upper-case letter), so that the next block starts with it."""
    path = process_path(root, pid, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise _error(pid, path, exc) from None
    try:
        parts = []
        size = 0
        seen = False
        while True:
            try:
                chunk = os.read(fd, _CHUNK)
            except InterruptedError:
                continue
            except OSError as exc:
                raise _error(pid, path, exc) from None
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
            if size < block_size:
                continue
            # cut in the last piece read, so that the block is copied once
            last = parts[-1]
            cut = _record_start(last) if whole_records and size < 4 * block_size else last.rfind(b"\n") + 1
            if cut:
                parts[-1] = last[:cut]
                yield b"".join(parts)
                seen = True
                parts = [last[cut:]] if cut < len(last) else []
                size = len(last) - cut
        if parts or seen:
            _check_still_mapped(fd, pid, path)
        if parts:
            yield b"".join(parts)
    finally:
        os.close(fd)


def _record_start(piece):
    """Where the last line of ``piece`` that starts a smaps record begins
    (after a newline in ``piece``), or 0."""
    end = len(piece)
    while True:
        start = piece.rfind(b"\n", 0, end) + 1
        if start == 0:
            return 0
        line = piece[start:start + 1]
        if line and line != b"\n" and not is_field_line(line):
            return start
        end = start - 1


def read_machine_file(root, name):
    """ROOT/NAME, a file of the whole machine (meminfo), as bytes; raises
    UnreadableProcess (pid 0) when it cannot be read."""
    try:
        return read_file(root, 0, name, path=root + b"/" + name)
    except (NoSuchProcess, AccessDenied) as error:
        raise UnreadableProcess(0, error.path, error.reason) from None


def read_tgid(root, pid):
    """The thread group id from /proc/PID/status, as procps finds it: the
    number after "Tgid:" read with atoi(), or the PID itself when status
    cannot be read or has no Tgid line."""
    try:
        status = read_file(root, pid, b"status")
    except (NoSuchProcess, AccessDenied, UnreadableProcess):
        return pid
    return tgid_of(status, pid)


def tgid_of(status, pid):
    """The Tgid of a status file's bytes (``pid`` when it has none)."""
    where = status.find(b"Tgid:")
    if where < 0:
        return pid
    return atoi(status[where + 5:where + 5 + 64])


class StatInfo:
    """The parts of /proc/PID/stat pmap uses."""

    __slots__ = ("comm", "state", "ppid", "start_stack")

    def __init__(self, comm=b"", state=b"", ppid=0, start_stack=0):
        self.comm = comm
        self.state = state
        self.ppid = ppid
        self.start_stack = start_stack


def parse_stat(data):
    """Parse /proc/PID/stat as procps's stat2proc() does: the name runs from
    the first '(' to the last ')', two bytes after which sscanf() reads the
    state and the numbers (creading.scan_stat_fields); fields that do not
    scan leave the rest at zero (a kernel thread's start_stack is 0)."""
    info = StatInfo()
    opening = data.find(b"(")
    if opening < 0:
        return info
    closing = data.rfind(b")")
    if closing < opening + 1 or closing + 1 >= len(data):
        return info
    info.comm = data[opening + 1:closing]
    values = scan_stat_fields(c_string(data[closing + 2:]))
    if values:
        info.state = values[0]
    if len(values) > STAT_PPID:
        info.ppid = values[STAT_PPID]
    if len(values) > STAT_START_STACK:
        info.start_stack = values[STAT_START_STACK]
    return info


def read_stat(root, pid):
    """StatInfo of /proc/PID/stat; raises when it cannot be read (procps then
    treats the process as not found)."""
    return parse_stat(read_file(root, pid, b"stat"))


def read_cmdline(root, pid):
    """/proc/PID/cmdline as raw bytes, at most as much as procps reads; b""
    when it cannot be read (procps shows the bracketed name then)."""
    try:
        return read_file(root, pid, b"cmdline", CMDLINE_LIMIT)
    except (NoSuchProcess, AccessDenied, UnreadableProcess):
        return b""


def select_process(root, pid, hide_kernel=False):
    """The model.Process for a PID argument as procps's library selects it,
    or None when it counts as not found: no /proc/PID, an unreadable stat,
    or a kernel thread hidden by LIBPROC_HIDE_KERNEL."""
    from .model import Process

    if not exists(root, pid):
        return None
    tgid = read_tgid(root, pid)
    try:
        stat = read_stat(root, pid)
    except (NoSuchProcess, AccessDenied, UnreadableProcess):
        return None
    if hide_kernel and (stat.ppid == 2 or pid == 2):
        return None
    cmdline = read_cmdline(root, pid)
    return Process(pid, tgid, cmdline, stat.comm, stat.state, stat.ppid, stat.start_stack)
