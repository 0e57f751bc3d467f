"""Reading /proc (or a snapshot laid out like it): bytes in, a few errors out.

One small function per file.  Every OSError is turned into NoSuchProcess,
AccessDenied or UnreadableProcess here and nowhere else.  ``root`` is the
procfs root as bytes (b"/proc" for the live system).

A snapshot comes from anywhere, so every file is opened as pmap's reads
could not be abused: relative to a descriptor of the root, following no
symbolic link below it (the PID folder included), without blocking (a FIFO
or a device is refused, not waited on), and only when it is a regular file
(/proc's files are); each kind of file is read up to a size no real one
reaches (READ_LIMITS), and a maps or smaps line is never held longer than
pmap's own fgets() buffer needs (read_line_blocks).
"""

import errno
import os

from .creading import (PIECE_MAX, STAT_PPID, STAT_START_STACK, STAT_START_TIME, atoi, c_string, is_field_line,
                       scan_stat_fields)
from .errors import AccessDenied, NoSuchProcess, ProcessError, UnreadableProcess

__all__ = ["PROC", "read_file", "ProcFolder", "read_line_blocks", "read_machine_file", "read_tgid", "read_stat", "read_cmdline",
           "select_process", "why_not_selected", "exists", "is_pid_name", "process_path", "parse_stat", "tgid_of", "StatInfo", "READ_LIMITS"]

PROC = b"/proc"

# procps reads at most this much of a command line (its 128 KiB buffer less the NUL)
CMDLINE_LIMIT = 128 * 1024 - 1
# the most pymap reads of each kind of file: far beyond what the kernel
# writes, so that a file that is larger (a damaged or hostile snapshot) is
# an error, not an unbounded read.  maps and smaps have no limit: they are
# read in blocks.
READ_LIMITS = {b"stat": 64 << 10, b"status": 1 << 20, b"comm": 4 << 10, b"cmdline": CMDLINE_LIMIT,
               b"smaps_rollup": 64 << 10, b"oom_score": 4 << 10, b"oom_score_adj": 4 << 10,
               b"meminfo": 1 << 20}
# (files read whole that are named elsewhere: maps and smaps by
# read_file(whole_map=True), for the API and the table's replay)

# reads of 64 KiB: the kernel hands out at most a page per read of maps or
# smaps, and a larger request only costs a larger allocation per call
_CHUNK = 1 << 16
# read_line_blocks() joins its reads into blocks of this size: the streamed
# formatters pay per block
LINE_BLOCK = 1 << 18

_GONE = frozenset((errno.ENOENT, errno.ESRCH, errno.ENOTDIR))
_DENIED = frozenset((errno.EACCES, errno.EPERM))
_FILE_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
_FOLDER_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECTORY
_S_IFMT, _S_IFREG, _S_IFDIR, _S_IFLNK = 0o170000, 0o100000, 0o040000, 0o120000


def _error(pid, path, exc):
    if exc.errno == errno.ELOOP:
        return UnreadableProcess(pid, os.fsdecode(path), "a symbolic link (pymap follows none below --proc-root)")
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


def _open(root, pid, name, path):
    """A descriptor of ROOT/PID/NAME (``pid`` None: ROOT/NAME): no link
    followed below ROOT, a regular file only, opened without blocking."""
    folder, pid = pid, 0 if pid is None else pid
    try:
        root_fd = os.open(root, _FOLDER_FLAGS)
    except (OSError, ValueError) as exc:
        raise _error(pid, path, exc if isinstance(exc, OSError) else OSError(errno.EINVAL, str(exc))) from None
    try:
        if folder is None:
            return _open_regular(root_fd, name, pid, path)
        folder_fd = _open_pid_folder(root_fd, root, folder, path)
        try:
            return _open_regular(folder_fd, name, pid, path)
        finally:
            os.close(folder_fd)
    finally:
        os.close(root_fd)


def _open_pid_folder(root_fd, root, pid, path):
    """A descriptor of the folder ROOT/PID (``root_fd``), not through a link;
    ``path`` is what an error names.  /proc's PID entries are folders; a
    snapshot's that is a link or a file is named as such (O_NOFOLLOW with
    O_DIRECTORY says only ENOTDIR, which would pass for a process that is
    gone)."""
    name = b"%d" % pid
    try:
        return os.open(name, _FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=root_fd)
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            try:
                mode = os.stat(name, dir_fd=root_fd, follow_symlinks=False).st_mode & _S_IFMT
            except OSError:
                mode = None
            if mode is not None:
                reason = "a symbolic link (pymap follows none below --proc-root)" if mode == _S_IFLNK \
                    else "not a folder"
                raise UnreadableProcess(pid, os.fsdecode(process_path(root, pid)), reason) from None
        raise _error(pid, path, exc) from None


def _open_regular(folder_fd, name, pid, path):
    """A descriptor of NAME in the folder ``folder_fd``: not through a link,
    without blocking, and only when it is a regular file."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder_fd)
    except OSError as exc:
        raise _error(pid, path, exc) from None
    try:
        mode = os.fstat(fd).st_mode & _S_IFMT
    except OSError as exc:
        os.close(fd)
        raise _error(pid, path, exc) from None
    if mode != _S_IFREG:
        os.close(fd)
        raise UnreadableProcess(pid, os.fsdecode(path), "not a regular file")
    return fd


def _read_to_end(fd, pid, path, cap=None):
    """What ``fd`` holds, read in chunks to its end; with ``cap``, at most
    cap + 1 bytes (one more than allowed: the caller tells a file too large)."""
    blocks = []
    total = 0
    while cap is None or total <= cap:
        block = _read(fd, pid, path, _CHUNK if cap is None else min(_CHUNK, cap + 1 - total))
        if not block:
            break
        blocks.append(block)
        total += len(block)
    return b"".join(blocks)


def _within_cap(data, pid, path, name, cap, limit):
    """``data`` read with _read_to_end(cap): cut to ``limit`` when one was
    asked for, else an error when the file is larger than ``cap``."""
    if len(data) <= cap:
        return data
    if limit is not None:
        return data[:limit]
    raise UnreadableProcess(pid, os.fsdecode(path), "larger than %d bytes: not a %s file" % (
        cap, name.decode("ascii", "replace")))


class ProcFolder:
    """The root of /proc (or of a snapshot) opened once, for reading the
    small files of many processes (--summary): each PID folder is opened
    once, its files relative to it, with read_file()'s rules (no link
    followed, regular files only, READ_LIMITS).  Use as a context manager."""

    def __init__(self, root):
        self.root = root
        try:
            self.fd = os.open(root, _FOLDER_FLAGS)
        except (OSError, ValueError) as exc:
            raise _error(0, root, exc if isinstance(exc, OSError) else OSError(errno.EINVAL, str(exc))) from None

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        os.close(self.fd)

    def pids(self):
        """The entries of the root named by a PID, in numeric order: only
        canonical decimal names ("0123" is not PID 123, as the kernel never
        writes it: a snapshot holding both would count a process twice)."""
        try:
            names = os.listdir(self.fd)
        except OSError as exc:
            raise _error(0, self.root, exc) from None
        return sorted(int(name) for name in names if is_pid_name(name))

    def process(self, pid):
        """A reader of PID's files (a context manager)."""
        return _ProcessFiles(self, pid)


class _ProcessFiles:
    def __init__(self, folder, pid):
        self.root = folder.root
        self.pid = pid
        self.fd = _open_pid_folder(folder.fd, self.root, pid, process_path(self.root, pid))

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        os.close(self.fd)

    def read(self, name, limit=None):
        """The whole file NAME (at most ``limit`` bytes when given, else an
        error beyond READ_LIMITS[NAME])."""
        path = process_path(self.root, self.pid, name)
        fd = _open_regular(self.fd, name, self.pid, path)
        cap = READ_LIMITS[name] if limit is None else limit
        try:
            data = _read_to_end(fd, self.pid, path, cap)
        finally:
            os.close(fd)
        return _within_cap(data, self.pid, path, name, cap, limit)

    def blocks(self, name):
        """NAME (smaps) in line blocks, as read_line_blocks()."""
        return read_line_blocks(self.root, self.pid, name, whole_records=True)


def is_pid_name(name):
    """Whether a folder name (str) is a PID as /proc writes one: decimal
    digits without a leading zero, from 1 to 2^31 - 1."""
    return name.isascii() and name.isdigit() and name[0] != "0" and len(name) <= 10 and int(name) <= 0x7FFFFFFF


def exists(root, pid):
    """Whether ROOT/PID exists as a folder (a link is not followed)."""
    try:
        root_fd = os.open(root, _FOLDER_FLAGS)
    except (OSError, ValueError):
        return False
    try:
        status = os.stat(b"%d" % pid, dir_fd=root_fd, follow_symlinks=False)
    except OSError:
        return False
    finally:
        os.close(root_fd)
    return status.st_mode & _S_IFMT == _S_IFDIR


def _read(fd, pid, path, want):
    """One os.read, its errors mapped."""
    while True:
        try:
            return os.read(fd, want)
        except InterruptedError:
            continue
        except OSError as exc:
            raise _error(pid, path, exc) from None


def read_file(root, pid, name, limit=None, whole_map=False, state=None):
    """The whole of ROOT/PID/NAME as bytes.

    ``limit``: read at most this much (the rest is not an error); else a
    file larger than READ_LIMITS[NAME] is an error.  ``whole_map``: NAME is
    maps or smaps, read to its end, and a process that exits while it is
    read must not pass for one with fewer mappings (see _check_still_mapped;
    ``state`` is the process's state when it was selected)."""
    path = process_path(root, pid, name)
    fd = _open(root, pid, name, path)
    cap = limit if limit is not None else None if whole_map else READ_LIMITS.get(name, 1 << 20)
    try:
        data = _read_to_end(fd, pid, path, cap)
        if cap is not None and len(data) > cap:
            return _within_cap(data, pid, path, name, cap, limit)
        if whole_map:
            _check_still_mapped(fd, root, pid, path, len(data), state)
        return data
    finally:
        os.close(fd)


def _check_still_mapped(fd, root, pid, path, total, state):
    """Raise NoSuchProcess when the memory the maps/smaps file ``fd``
    describes is gone.  The kernel ends such a file early, without an error,
    when the process exits (or execs) while it is read: the table would look
    complete but miss mappings.  Read again from the start: a live address
    space shows its first mapping, a released one shows nothing (or ESRCH
    once the process is reaped).  A file that was empty from the start is a
    process without memory (a kernel thread, a zombie) unless the process
    has died since it was selected.  Regular snapshot files always pass."""
    if total:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            first = _read(fd, pid, path, 1)
        except OSError as exc:
            raise _error(pid, path, exc) from None
        if not first:
            raise NoSuchProcess(pid, os.fsdecode(path), "process exited while it was read")
        return
    if state is None or state in (b"Z", b"X") or root != PROC:
        return
    try:
        now = read_stat(root, pid).state
    except ProcessError:
        now = b"X"
    if now in (b"Z", b"X"):
        raise NoSuchProcess(pid, os.fsdecode(path), "process exited while it was read")


def read_line_blocks(root, pid, name, block_size=LINE_BLOCK, whole_records=False, state=None):
    """Yield ROOT/PID/NAME in blocks of about ``block_size`` bytes that each
    end at a line boundary (the last may lack its newline), so a large smaps
    is never held whole.  ``whole_records``: end each block, where the file
    allows, before a line that starts a smaps record (one that does not
    start with an upper-case letter), so that the next block starts with it.
    A line longer than a block is cut where pmap's fgets() would cut it (a
    multiple of creading.PIECE_MAX bytes into the line), so that no line is
    held whole however long it is.  ``state``: see read_file."""
    path = process_path(root, pid, name)
    fd = _open(root, pid, name, path)
    try:
        parts = []
        size = 0
        line_start = 0  # where the line under way starts, counted from the start of parts
        seen = 0
        while True:
            chunk = _read(fd, pid, path, _CHUNK)
            if not chunk:
                break
            parts.append(chunk)
            seen += len(chunk)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                line_start = size + newline + 1
            size += len(chunk)
            if size < block_size:
                continue
            # cut in the last piece read, so that the block is copied once
            last = parts[-1]
            cut = _record_start(last) if whole_records and size < 4 * block_size else last.rfind(b"\n") + 1
            if not cut and size - line_start >= block_size:
                # a line longer than a block: cut it where fgets() would
                pieces = (size - line_start) // PIECE_MAX * PIECE_MAX
                cut = line_start + pieces - (size - len(last))
                if not 0 < cut <= len(last):
                    block = b"".join(parts)
                    at = line_start + pieces
                    parts, last, cut = [block], block, at
            if cut:
                parts[-1] = last[:cut]
                yield b"".join(parts)
                parts = [last[cut:]] if cut < len(last) else []
                size = len(last) - cut
                newline = last.rfind(b"\n", cut)
                line_start = newline + 1 - cut if newline >= 0 else 0
        _check_still_mapped(fd, root, pid, path, seen, state)
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
    path = root + b"/" + name
    try:
        fd = _open(root, None, name, path)
    except (NoSuchProcess, AccessDenied) as error:
        raise UnreadableProcess(0, error.path, error.reason) from None
    try:
        data = _read_to_end(fd, 0, path, READ_LIMITS[name])
    except (NoSuchProcess, AccessDenied) as error:
        raise UnreadableProcess(0, error.path, error.reason) from None
    finally:
        os.close(fd)
    if len(data) > READ_LIMITS[name]:
        raise UnreadableProcess(0, os.fsdecode(path), "larger than %d bytes" % READ_LIMITS[name])
    return data


def read_tgid(root, pid):
    """The thread group id from /proc/PID/status, as procps finds it: the
    number after "Tgid:" read with atoi(), or the PID itself when status
    cannot be read or has no Tgid line."""
    try:
        status = read_file(root, pid, b"status")
    except ProcessError:
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

    __slots__ = ("comm", "state", "ppid", "start_stack", "start_time")

    def __init__(self, comm=b"", state=b"", ppid=0, start_stack=0, start_time=0):
        self.comm = comm
        self.state = state
        self.ppid = ppid
        self.start_stack = start_stack
        self.start_time = start_time


def parse_stat(data):
    """Parse /proc/PID/stat as procps's stat2proc() does, on the file read
    as a C string: the name runs from the first '(' to the last ')', two
    bytes after which sscanf() reads the state and the numbers
    (creading.scan_stat_fields); fields that do not scan leave the rest at
    zero (a kernel thread's start_stack is 0).  Without a '(', a ')' after
    it and a byte after that, stat2proc() gives up: no name (``comm`` None,
    which 4.x's header prints as "(null)"), everything zero."""
    data = c_string(data)
    opening = data.find(b"(")
    if opening < 0:
        return StatInfo(comm=None)
    closing = data.rfind(b")")
    if closing < opening + 1 or closing + 1 >= len(data):
        return StatInfo(comm=None)
    info = StatInfo()
    info.comm = data[opening + 1:closing]
    values = scan_stat_fields(c_string(data[closing + 2:]))
    if values:
        info.state = values[0]
    if len(values) > STAT_PPID:
        info.ppid = values[STAT_PPID]
    if len(values) > STAT_START_TIME:
        info.start_time = values[STAT_START_TIME]
    if len(values) > STAT_START_STACK:
        info.start_stack = values[STAT_START_STACK]
    return info


def read_stat(root, pid):
    """StatInfo of /proc/PID/stat; raises when it cannot be read or is empty
    (procps's file2str() fails on an empty file: the process is then not
    found)."""
    data = read_file(root, pid, b"stat")
    if not data:
        raise UnreadableProcess(pid, os.fsdecode(process_path(root, pid, b"stat")), "empty")
    return parse_stat(data)


def read_cmdline(root, pid):
    """/proc/PID/cmdline as raw bytes, at most as much as procps reads; b""
    when it cannot be read (procps shows the bracketed name then)."""
    try:
        return read_file(root, pid, b"cmdline", CMDLINE_LIMIT)
    except ProcessError:
        return b""


def why_not_selected(root, pid):
    """Why select_process() found no PID in a snapshot whose folder is
    there: the ProcessError naming what is wrong (a link, not a folder, an
    unreadable or missing stat); None when ROOT/PID is simply absent (pmap
    says nothing of a PID that does not exist)."""
    path = process_path(root, pid)
    try:
        mode = os.stat(path, follow_symlinks=False).st_mode & _S_IFMT
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return _error(pid, path, exc if isinstance(exc, OSError) else OSError(errno.EINVAL, str(exc)))
    if mode == _S_IFLNK:
        return UnreadableProcess(pid, os.fsdecode(path), "a symbolic link (pymap follows none below --proc-root)")
    if mode != _S_IFDIR:
        return UnreadableProcess(pid, os.fsdecode(path), "not a folder")
    try:
        read_stat(root, pid)
    except ProcessError as error:
        return error
    return None


def select_process(root, pid, hide_kernel=False, thread_group=True):
    """The model.Process for a PID argument as procps's library selects it,
    or None when it counts as not found: no /proc/PID (or a link there), an
    unreadable or empty stat, or a kernel thread hidden by
    LIBPROC_HIDE_KERNEL.  ``thread_group``: a thread's ID stands for its
    process (status' Tgid, as 4.x's library reads it); else for itself (3.3,
    which never reads status)."""
    from .model import Process

    if not exists(root, pid):
        return None
    tgid = read_tgid(root, pid) if thread_group else pid
    try:
        stat = read_stat(root, pid)
    except ProcessError:
        return None
    if hide_kernel and (stat.ppid == 2 or pid == 2):
        return None
    cmdline = read_cmdline(root, pid)
    return Process(pid, tgid, cmdline, stat.comm, stat.state, stat.ppid, stat.start_stack,
                   start_time=stat.start_time)
