"""The source layer: a /proc root, live or a snapshot, and the one registry
of the files pymap reads and captures.

Everything pymap reads of a process or of the machine comes through a
ProcRoot, and every OSError is turned here, and nowhere else, into
NoSuchProcess, AccessDenied or UnreadableProcess (errors.py), which name the
file that failed.

A snapshot comes from anywhere, so every file is opened as pmap's reads
could not be abused: relative to a descriptor of the root, following no
symbolic link below it (the PID folder included), without blocking (a FIFO
or a device is refused, not waited on), and only when it is a regular file
(/proc's files are); each kind of file is read up to a size no real one
reaches (FILES), and a maps or smaps line is never held longer than pmap's
own fgets() buffer needs (line_blocks).

A new data source is one entry in FILES (its bound, whether it is a
process's or the machine's, whether --capture saves it) and a parser in
pymap/parse.  Besides ProcRoot: the SysV minor probe (sysv.py), pymap's own
environment as it was started (original_environment) and the check of a
--proc-root folder before anything is read from it (root_problem).

The memory controller's cgroups live outside /proc: a CgroupRoot (source/cgroups.py, beside the
ProcRoot, ``cgroups_beside(root)``) reads a cgroup's files by the cgroup's
path as /proc/PID/cgroup writes it.  Live, the hierarchies are found in
/proc/self/mountinfo (cgroup v1's memory controller, the unified cgroup v2
hierarchy); in a snapshot (--capture), they are stored under the snapshot
as ROOT/cgroup/v1/PATH/ and ROOT/cgroup/v2/PATH/ (the root cgroup's files in
ROOT/cgroup/v1/ itself), and read with the same rules as a PID folder.

The kernel log (--oom-report) is read by kernel_log.py: /dev/kmsg (its
FileKind here), else dmesg, or a log file the user names.
"""

import errno
import os

from ..errors import AccessDenied, NoSuchProcess, ProcessError, UnreadableProcess

__all__ = ["ProcRoot", "ProcessFiles", "FileKind", "FILES", "PROC", "CMDLINE_LIMIT", "LINE_BLOCK", "PIECE_MAX", "READ_CHUNK",
           "MEMORY_READ_MAX", "original_environment", "root_problem",
           "is_field_line", "is_pid_name", "captured_files", "memory_sample_line", "cgroup_files", "FILE_FLAGS",
           "FOLDER_FLAGS", "LINK_REASON"]

PROC = b"/proc"

# procps reads at most this much of a command line (its 128 KiB buffer less the NUL)
CMDLINE_LIMIT = 128 * 1024 - 1
# pmap's fgets() takes at most this much of a line at a time (char mapbuf[1024])
PIECE_MAX = 1023
# the most one read of a process's memory (/proc/PID/mem) may take: the
# header words of a malloc chunk or heap at a mapping's start, never more
MEMORY_READ_MAX = 64


class FileKind:
    """What pymap knows of one kind of file: ``limit``, the most it reads
    (far beyond what the kernel writes, so that a larger file, damaged or
    hostile, is an error rather than an unbounded read; None: read in
    blocks, never whole; for mem, the most one read at an address takes),
    ``cut`` whether a longer file is cut at the limit rather than refused
    (as procps cuts a command line), ``machine`` whether it is the
    machine's (ROOT/NAME) rather than a process's (ROOT/PID/NAME), ``task``
    whether it is a file of each thread (ROOT/PID/task/TID/NAME, registered
    as "task/NAME"), ``captured`` whether --capture saves it, ``made``
    whether --capture makes it rather than copying a file of that name
    (maps from smaps, mem_samples from reads of mem), ``optional`` whether
    older kernels (and snapshots of them, or of older pymaps) may lack it,
    ``memory`` whether it tells of the process's memory (read after its
    identity files; another user's process may deny it, as it denies
    smaps), ``cgroup`` the cgroup hierarchy versions (1, 2) whose cgroup
    folders hold it (empty: a file of /proc), ``path`` the absolute path
    of a file that is under no /proc root (the kernel log): it has a reader
    of its own, and is never ROOT/NAME."""

    __slots__ = ("name", "limit", "cut", "machine", "task", "captured", "made", "optional", "memory", "cgroup",
                 "path")

    def __init__(self, name, limit, cut=False, machine=False, task=False, captured=True, made=False, optional=False,
                 memory=False, cgroup=(), path=None):
        self.name = name
        self.limit = limit
        self.cut = cut
        self.machine = machine
        self.task = task
        self.captured = captured
        self.made = made
        self.optional = optional
        self.memory = memory
        self.cgroup = frozenset(cgroup)
        self.path = path

    def __repr__(self):
        return "FileKind(%r)" % self.name


FILES = {kind.name: kind for kind in (
    FileKind(b"cmdline", CMDLINE_LIMIT, cut=True),
    FileKind(b"comm", 4 << 10),
    FileKind(b"stat", 64 << 10),
    FileKind(b"status", 1 << 20),
    FileKind(b"maps", None, memory=True, made=True),
    FileKind(b"smaps", None, memory=True),
    FileKind(b"smaps_rollup", 64 << 10, optional=True, memory=True),
    FileKind(b"oom_score", 4 << 10, optional=True, memory=True),
    FileKind(b"oom_score_adj", 4 << 10, optional=True, memory=True),
    FileKind(b"cgroup", 64 << 10, optional=True),  # its cgroups: "ID:controllers:path" lines
    # when --capture saved the folder (seconds since the epoch): not a file of /proc
    FileKind(b"captured_at", 4 << 10, optional=True, captured=False),
    # a thread's system call and stack pointer: "running", "-1 SP PC" (blocked
    # outside a system call) or "NR ARG1 ... ARG6 SP PC" (proc(5)); read (and
    # captured) for the roles of mappings, which thread stacks hold
    FileKind(b"task/syscall", 4 << 10, task=True, optional=True, memory=True),
    # a thread's stat: its kstkesp (field 29) where syscall gave no stack
    # pointer (kernels write 0 there but for a thread dumping core)
    FileKind(b"task/stat", 64 << 10, task=True, optional=True),
    # the process's memory, read only at a mapping's start, MEMORY_READ_MAX
    # bytes at most a read, within one page, and only where pagemap says the
    # page is present (ProcessFiles.memory): never copied as such
    FileKind(b"mem", MEMORY_READ_MAX, captured=False, optional=True, memory=True),
    # a 64-bit entry per page of the address space: bit 63, the page is
    # present (read before mem: a read of mem would fault in a page that is
    # not, or read it back from swap); one entry a read
    FileKind(b"pagemap", 8, captured=False, optional=True, memory=True),
    # a snapshot's stand-in for mem: the bytes --capture read of it, one line
    # per address, "ADDRESS HEXBYTES\n" (the address in hexadecimal as maps
    # writes it, the bytes read there as two hexadecimal digits each), in
    # address order; an address that could not be read has no line, and a
    # process whose memory could not be read no file (memory_sample_line)
    FileKind(b"mem_samples", None, made=True, optional=True, memory=True),
    FileKind(b"meminfo", 1 << 20, machine=True),
    FileKind(b"self/mountinfo", 4 << 20, machine=True, captured=False),  # where the cgroup hierarchies are
    # a memory cgroup's files: cgroup v2's, then v1's memory controller's
    FileKind(b"memory.current", 4 << 10, cgroup=(2,)),
    FileKind(b"memory.max", 4 << 10, cgroup=(2,)),
    FileKind(b"memory.swap.max", 4 << 10, cgroup=(2,), optional=True),
    FileKind(b"memory.events", 64 << 10, cgroup=(2,)),
    FileKind(b"memory.stat", 256 << 10, cgroup=(1, 2)),
    FileKind(b"memory.usage_in_bytes", 4 << 10, cgroup=(1,)),
    FileKind(b"memory.limit_in_bytes", 4 << 10, cgroup=(1,)),
    FileKind(b"memory.memsw.limit_in_bytes", 4 << 10, cgroup=(1,), optional=True),
    FileKind(b"memory.swappiness", 4 << 10, cgroup=(1,), optional=True),
    FileKind(b"memory.oom_control", 4 << 10, cgroup=(1,)),
    # the kernel's log, read record by record (kernel_log): the limit bounds
    # the whole read, far above the largest ring buffer (log_buf_len's
    # usual most is 32 MiB), so a flood of new records cannot keep it going
    FileKind(b"kmsg", 1 << 28, machine=True, captured=False, path=b"/dev/kmsg"),
)}


def captured_files(machine=False, memory=None, task=False):
    """The names --capture saves of a process (or of the machine, or of
    each of its threads), in FILES' order; with ``memory``, only those that
    are (or are not) memory files."""
    return tuple(name for name, kind in FILES.items() if kind.captured and kind.machine == machine
                 and kind.task == task and not kind.cgroup and (memory is None or kind.memory == memory))


def cgroup_files(version):
    """The names of a cgroup's files pymap reads (and --capture saves) in a
    hierarchy of that version (1 or 2), in FILES' order."""
    return tuple(name for name, kind in FILES.items() if version in kind.cgroup)


def memory_sample_line(address, data):
    """The line of a snapshot's mem_samples that says ``data`` (bytes) was
    read at ``address``."""
    return b"%x %s\n" % (address, data.hex().encode("ascii"))


# reads of 64 KiB: the kernel hands out at most a page per read of maps or
# smaps, and a larger request only costs a larger allocation per call
READ_CHUNK = 1 << 16
ENVIRON_LIMIT = 1 << 21  # ARG_MAX at most, and then some
# line_blocks() joins its reads into blocks of this size: the streamed
# formatters pay per block
LINE_BLOCK = 1 << 18

_GONE = frozenset((errno.ENOENT, errno.ESRCH, errno.ENOTDIR))
_DENIED = frozenset((errno.EACCES, errno.EPERM))
FILE_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
FOLDER_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECTORY
_S_IFMT, _S_IFREG, _S_IFDIR, _S_IFLNK = 0o170000, 0o100000, 0o040000, 0o120000
LINK_REASON = "a symbolic link (pymap follows none below --proc-root)"
_UPPER = frozenset(range(ord("A"), ord("Z") + 1))


def is_field_line(piece):
    """pmap's test for an smaps field line ("keys are upper"): the first byte
    is A-Z.  Every other line is taken for a mapping's header."""
    return piece[:1] != b"" and piece[0] in _UPPER


def is_pid_name(name):
    """Whether a folder name (str) is a PID as /proc writes one: decimal
    digits without a leading zero, from 1 to 2^31 - 1."""
    return name.isascii() and name.isdigit() and name[0] != "0" and len(name) <= 10 and int(name) <= 0x7FFFFFFF


def _error(pid, path, exc):
    """The ProcessError of an OSError met reading ``path`` (bytes)."""
    if exc.errno == errno.ELOOP:
        return UnreadableProcess(pid, os.fsdecode(path), LINK_REASON)
    reason = exc.strerror or str(exc)
    shown = os.fsdecode(path)
    if exc.errno in _GONE:
        return NoSuchProcess(pid, shown, reason)
    if exc.errno in _DENIED:
        return AccessDenied(pid, shown, reason)
    return UnreadableProcess(pid, shown, reason)


def _read(fd, pid, path, want):
    """One os.read, its errors mapped."""
    while True:
        try:
            return os.read(fd, want)
        except InterruptedError:
            continue
        except OSError as exc:
            raise _error(pid, path, exc) from None


def _read_to_end(fd, pid, path, cap=None):
    """What ``fd`` holds, read in chunks to its end; with ``cap``, at most
    cap + 1 bytes (one more than allowed: the caller tells a file too large)."""
    blocks = []
    total = 0
    while cap is None or total <= cap:
        block = _read(fd, pid, path, READ_CHUNK if cap is None else min(READ_CHUNK, cap + 1 - total))
        if not block:
            break
        blocks.append(block)
        total += len(block)
    return b"".join(blocks)


def _open_regular(folder_fd, name, pid, path):
    """A descriptor of NAME in the folder ``folder_fd``: not through a link,
    without blocking, and only when it is a regular file."""
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=folder_fd)
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


def _bounded(data, pid, path, kind, limit):
    """``data`` read with _read_to_end(limit): cut to the limit when the kind
    (or the caller) says so, else an error when the file is larger."""
    if len(data) <= limit:
        return data
    if kind is None or kind.cut:
        return data[:limit]
    raise UnreadableProcess(pid, os.fsdecode(path), "larger than %d bytes: not a %s file" % (
        limit, kind.name.decode("ascii", "replace")))


def _state_letter(stat):
    """The state letter of a stat file (what follows the name's ')')."""
    closing = stat.rfind(b")")
    return stat[closing + 2:closing + 3] if closing >= 0 else b""


def original_environment():
    """The environment pymap was started with (bytes to bytes).  Python may
    have changed its own copy (PEP 538 coerces LC_CTYPE=C to C.UTF-8), and
    pmap would have seen the original, which /proc/self/environ still holds;
    os.environb when that cannot be read."""
    try:
        fd = os.open(PROC + b"/self/environ", os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return dict(os.environb)
    try:
        data = _read_to_end(fd, 0, PROC + b"/self/environ", ENVIRON_LIMIT)
    except ProcessError:
        return dict(os.environb)
    finally:
        os.close(fd)
    environ = {}
    for entry in data.split(b"\0"):
        name, sep, value = entry.partition(b"=")
        if sep and name not in environ:
            environ[name] = value
    return environ


def root_problem(path):
    """Why the folder ``path`` (bytes) cannot serve as a /proc root, or None
    when it can: (denied, reason) where ``denied`` says it is there but may
    not be read or searched (its processes may exist, they cannot be read),
    else it is missing or no folder (none of its PIDs can be found)."""
    try:
        fd = os.open(path, FOLDER_FLAGS)
    except ValueError:  # a NUL byte
        return False, "invalid path"
    except OSError as error:
        return error.errno in _DENIED, os.strerror(error.errno)
    try:
        os.stat(b".", dir_fd=fd)  # needs the right to search it, as every PID folder does
        return None
    except OSError as error:
        return True, os.strerror(error.errno)
    finally:
        os.close(fd)


class ProcRoot:
    """A /proc root: the live /proc, or a snapshot laid out like it
    (--proc-root DIR, a --capture folder).  ``path`` is bytes; ``snapshot``
    says whether it is a snapshot (its files are as they were written, so a
    short read is no exit)."""

    def __init__(self, path=PROC, snapshot=None):
        self.path = path
        self.snapshot = path != PROC if snapshot is None else snapshot
        self._sysv_minors = {}  # (pid, name) (live: None) -> the minor
        self.cgroup_root = None  # the cgroups beside it: source.cgroups.cgroups_beside()

    def __repr__(self):
        return "ProcRoot(%r)" % self.path

    # --- paths and folders

    def path_of(self, pid, name=None):
        """ROOT/PID, or ROOT/PID/NAME (bytes)."""
        path = b"%s/%d" % (self.path, pid)
        return path if name is None else path + b"/" + name

    def _root_fd(self, pid, path):
        try:
            return os.open(self.path, FOLDER_FLAGS)
        except (OSError, ValueError) as exc:
            raise _error(pid, path, exc if isinstance(exc, OSError) else OSError(errno.EINVAL, str(exc))) from None

    def _pid_folder(self, root_fd, pid, path):
        """A descriptor of ROOT/PID, not through a link; ``path`` is what an
        error names.  /proc's PID entries are folders; a snapshot's that is a
        link or a file is named as such (O_NOFOLLOW with O_DIRECTORY says
        only ENOTDIR, which would pass for a process that is gone)."""
        name = b"%d" % pid
        try:
            return os.open(name, FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=root_fd)
        except OSError as exc:
            if exc.errno == errno.ENOTDIR:
                try:
                    mode = os.stat(name, dir_fd=root_fd, follow_symlinks=False).st_mode & _S_IFMT
                except OSError:
                    mode = None
                if mode is not None:
                    raise UnreadableProcess(pid, os.fsdecode(self.path_of(pid)),
                                            LINK_REASON if mode == _S_IFLNK else "not a folder") from None
            raise _error(pid, path, exc) from None

    def _open(self, pid, name):
        """A descriptor of ROOT/PID/NAME (``pid`` None: ROOT/NAME)."""
        path = self.path_of(pid, name) if pid is not None else self.path + b"/" + name
        root_fd = self._root_fd(pid or 0, path)
        try:
            if pid is None:
                return _open_regular(root_fd, name, 0, path), path
            folder_fd = self._pid_folder(root_fd, pid, path)
            try:
                return _open_regular(folder_fd, name, pid, path), path
            finally:
                os.close(folder_fd)
        finally:
            os.close(root_fd)

    def pids(self):
        """The entries of the root named by a PID, in numeric order: only
        canonical decimal names ("0123" is not PID 123, as the kernel never
        writes it: a snapshot holding both would count a process twice)."""
        root_fd = self._root_fd(0, self.path)
        try:
            names = os.listdir(root_fd)
        except OSError as exc:
            raise _error(0, self.path, exc) from None
        finally:
            os.close(root_fd)
        return sorted(int(name) for name in names if is_pid_name(name))

    def has_folder(self, pid):
        """Whether ROOT/PID exists as a folder (a link is not followed)."""
        try:
            status = os.stat(self.path_of(pid), follow_symlinks=False)
        except (OSError, ValueError):
            return False
        return status.st_mode & _S_IFMT == _S_IFDIR

    def why_unreadable(self, pid):
        """Why a PID whose folder is there counts as not found, or None when
        ROOT/PID is simply absent (pmap says nothing of a PID that does not
        exist): the ProcessError naming what is wrong (a link, not a folder,
        a stat that cannot be read or is empty)."""
        path = self.path_of(pid)
        try:
            mode = os.stat(path, follow_symlinks=False).st_mode & _S_IFMT
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            return _error(pid, path, exc if isinstance(exc, OSError) else OSError(errno.EINVAL, str(exc)))
        if mode == _S_IFLNK:
            return UnreadableProcess(pid, os.fsdecode(path), LINK_REASON)
        if mode != _S_IFDIR:
            return UnreadableProcess(pid, os.fsdecode(path), "not a folder")
        try:
            if not self.read(pid, b"stat"):
                return UnreadableProcess(pid, os.fsdecode(self.path_of(pid, b"stat")), "empty")
        except ProcessError as error:
            return error
        return None

    # --- reading

    def read(self, pid, name, limit=None):
        """The whole of ROOT/PID/NAME, bounded by FILES[NAME] (cut where the
        kind says so, else an error beyond it); ``limit``: read at most this
        much, the rest no error."""
        kind = FILES.get(name)
        fd, path = self._open(pid, name)
        cap = limit if limit is not None else kind.limit if kind is not None else 1 << 20
        try:
            data = _read_to_end(fd, pid, path, cap)
        finally:
            os.close(fd)
        return _bounded(data, pid, path, None if limit is not None else kind, cap)

    def machine_file(self, name):
        """ROOT/NAME, a file of the whole machine (meminfo), as bytes; raises
        UnreadableProcess (pid 0) when it cannot be read."""
        kind = FILES[name]
        if kind.path is not None:
            raise ValueError("%r is no file of a /proc root" % name)
        try:
            fd, path = self._open(None, name)
        except (NoSuchProcess, AccessDenied) as error:
            raise UnreadableProcess(0, error.path, error.reason) from None
        try:
            data = _read_to_end(fd, 0, path, kind.limit)
        except (NoSuchProcess, AccessDenied) as error:
            raise UnreadableProcess(0, error.path, error.reason) from None
        finally:
            os.close(fd)
        if len(data) > kind.limit:
            raise UnreadableProcess(0, os.fsdecode(path), "larger than %d bytes" % kind.limit)
        return data

    def whole_map(self, pid, name, state=None):
        """The whole of a maps or smaps file (the API, the -X replay), read
        to its end; a process that exits while it is read must not pass for
        one with fewer mappings (_check_still_mapped; ``state`` is the
        process's state when it was selected)."""
        fd, path = self._open(pid, name)
        try:
            data = _read_to_end(fd, pid, path)
            self._check_still_mapped(fd, pid, path, len(data), state)
            return data
        finally:
            os.close(fd)

    def _check_still_mapped(self, fd, pid, path, total, state):
        """Raise NoSuchProcess when the memory the maps/smaps file ``fd``
        describes is gone.  The kernel ends such a file early, without an
        error, when the process exits (or execs) while it is read: the table
        would look complete but miss mappings.  Read again from the start: a
        live address space shows its first mapping, a released one shows
        nothing (or ESRCH once the process is reaped).  A file that was empty
        from the start is a process without memory (a kernel thread, a
        zombie) unless the process has died since it was selected.  A
        snapshot's regular files always pass."""
        if total:
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                first = _read(fd, pid, path, 1)
            except OSError as exc:
                raise _error(pid, path, exc) from None
            if not first:
                raise NoSuchProcess(pid, os.fsdecode(path), "process exited while it was read")
            return
        if state is None or state in (b"Z", b"X") or self.snapshot:
            return
        try:
            now = _state_letter(self.read(pid, b"stat"))
        except ProcessError:
            now = b"X"
        if now in (b"Z", b"X"):
            raise NoSuchProcess(pid, os.fsdecode(path), "process exited while it was read")

    def line_blocks(self, pid, name, block_size=LINE_BLOCK, whole_records=False, state=None):
        """Yield ROOT/PID/NAME in blocks of about ``block_size`` bytes that
        each end at a line boundary (the last may lack its newline), so a
        large smaps is never held whole.  ``whole_records``: end each block,
        where the file allows, before a line that starts a smaps record (one
        that does not start with an upper-case letter), so that the next
        block starts with it.  A line longer than a block is cut where
        pmap's fgets() would cut it (a multiple of PIECE_MAX bytes into the
        line), so that no line is held whole however long it is.
        ``state``: see whole_map."""
        fd, path = self._open(pid, name)
        try:
            parts = []
            size = 0
            line_start = 0  # where the line under way starts, counted from the start of parts
            seen = 0
            while True:
                chunk = _read(fd, pid, path, READ_CHUNK)
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
            self._check_still_mapped(fd, pid, path, seen, state)
            if parts:
                yield b"".join(parts)
        finally:
            os.close(fd)

    def sysv_minor(self, pid, name=b"maps"):
        """The device minor of SysV shared memory (None: unknown), found once.
        Live, pmap's probe (pmap probes at start; the result is the same).
        A snapshot cannot be probed: the minor is inferred from the SysV
        mappings of the process's own ``name`` file (sysv.infer_minor)."""
        from . import sysv

        key = (pid, name) if self.snapshot else None
        if key not in self._sysv_minors:
            if self.snapshot:
                try:
                    minor = sysv.infer_minor(sysv.candidate_lines(self.line_blocks(pid, name)))
                except ProcessError:
                    minor = None  # the read under way will tell
            else:
                minor = sysv.probe_live_minor()
            self._sysv_minors[key] = minor
        return self._sysv_minors[key]

    def captured_at(self, pid):
        """When the process's files were read: now for a live root; for a
        snapshot the time --capture saved in ROOT/PID/captured_at (seconds
        since the epoch), None when it has none (or it does not parse)."""
        if not self.snapshot:
            import time

            return time.time()
        try:
            value = float(self.read(pid, b"captured_at").strip() or b"x")
        except (ProcessError, ValueError):
            return None
        return value if 0 < value < 1e12 else None

    def process(self, pid):
        """The files of PID, its folder opened once (a context manager):
        for reading many small files of many processes (--summary)."""
        return ProcessFiles(self, pid)

    def read_many(self, pids, read_one, readers=2, minimum=128):
        """[read_one(pid), or the ProcessError it raised] for each PID, in order.

        Most of the time is the kernel's, walking each process's mappings
        for smaps_rollup, on one CPU at a time per reader: with at least
        ``minimum`` PIDs and several CPUs, forked readers take a share each
        and send their results back through a pipe (marshal: ``read_one``
        returns plain values), while this process reads its own share.  A
        reader that fails leaves its share to this process."""

        def read(index):
            try:
                return read_one(pids[index])
            except ProcessError as error:
                return error

        readers = min(readers, os.cpu_count() or 1) if len(pids) >= minimum else 1
        helpers = []
        for share in range(1, readers):
            helper = _start_reader(lambda share=share: [read(index) for index in range(share, len(pids), readers)])
            if helper is not None:
                helpers.append((share, helper))
        taken = {share for share, _ in helpers}
        results = [None] * len(pids)
        for index in range(len(pids)):
            if index % readers not in taken:
                results[index] = read(index)
        for share, helper in helpers:
            rows = _finish_reader(helper)
            indices = range(share, len(pids), readers)
            if rows is None or len(rows) != len(indices):
                rows = [read(index) for index in indices]  # the reader failed: read its share here
            for index, row in zip(indices, rows):
                results[index] = row
        return results


class ProcessFiles:
    """The files of one PID, its folder opened once, with ProcRoot.read's
    rules (no link followed, regular files only, FILES' bounds): its own
    files, its threads' (tasks, read_task) and its memory (memory).  A
    context manager; raises NoSuchProcess (or another ProcessError) when the
    folder cannot be opened."""

    def __init__(self, root, pid):
        self.root = root
        self.pid = pid
        self._task_fd = None
        path = root.path_of(pid)
        root_fd = root._root_fd(pid, path)
        try:
            self.fd = root._pid_folder(root_fd, pid, path)
        finally:
            os.close(root_fd)

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        if self._task_fd is not None:
            os.close(self._task_fd)
        os.close(self.fd)

    def read(self, name, limit=None):
        """The whole file NAME, as ProcRoot.read."""
        kind = FILES.get(name)
        path = self.root.path_of(self.pid, name)
        fd = _open_regular(self.fd, name, self.pid, path)
        cap = limit if limit is not None else kind.limit
        try:
            data = _read_to_end(fd, self.pid, path, cap)
        finally:
            os.close(fd)
        return _bounded(data, self.pid, path, None if limit is not None else kind, cap)

    def blocks(self, name):
        """NAME (smaps) in line blocks, as ProcRoot.line_blocks."""
        return self.root.line_blocks(self.pid, name, whole_records=True)

    def _task_folder(self):
        """A descriptor of ROOT/PID/task (opened once, not through a link)."""
        if self._task_fd is None:
            try:
                self._task_fd = os.open(b"task", FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=self.fd)
            except OSError as exc:
                raise _error(self.pid, self.root.path_of(self.pid, b"task"), exc) from None
        return self._task_fd

    def tasks(self):
        """The thread IDs in ROOT/PID/task, in numeric order (names as /proc
        writes PIDs; anything else in a snapshot's folder is left out)."""
        folder = self._task_folder()
        try:
            names = os.listdir(folder)
        except OSError as exc:
            raise _error(self.pid, self.root.path_of(self.pid, b"task"), exc) from None
        return sorted(int(name) for name in names if is_pid_name(name))

    def read_task(self, tid, name):
        """ROOT/PID/task/TID/NAME whole, bounded by FILES[b"task/" + NAME]."""
        kind = FILES[b"task/" + name]
        path = self.root.path_of(self.pid, b"task/%d/%s" % (tid, name))
        try:
            folder = os.open(b"%d" % tid, FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=self._task_folder())
        except OSError as exc:
            raise _error(self.pid, path, exc) from None
        try:
            fd = _open_regular(folder, name, self.pid, path)
        finally:
            os.close(folder)
        try:
            data = _read_to_end(fd, self.pid, path, kind.limit)
        finally:
            os.close(fd)
        return _bounded(data, self.pid, path, kind, kind.limit)

    def memory(self):
        """A reader of the process's memory at given addresses (a context
        manager): /proc/PID/mem live, the samples --capture saved in a
        snapshot (FILES' mem and mem_samples)."""
        return _SampledMemory(self) if self.root.snapshot else _LiveMemory(self)


class _LiveMemory:
    """Reads of /proc/PID/mem at addresses: at most MEMORY_READ_MAX bytes
    each, within one page, never written, and only of a page that is
    present (its pagemap entry says so: pymap never faults a page in, nor
    reads one back from swap, and so changes nothing of the process's
    memory); the two files are opened read-only, once, when first needed.
    Pagemap is read PAGEMAP_RUN entries at a time (a walk of the page
    tables, no more): the next address asked for is often near."""

    PRESENT = 1 << 63  # pagemap's "page present" bit
    PAGEMAP_RUN = 256

    def __init__(self, files):
        self.files = files
        self.fds = {}
        self.error = None
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.run_start = self.run_end = 0  # the pages whose entries ``run`` holds
        self.run = b""

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}

    def _pread(self, name, size, offset):
        """pread of ROOT/PID/NAME (opened on first use), or None where
        nothing can be read at that offset."""
        fd = self.fds.get(name)
        if fd is None:
            files = self.files
            try:
                fd = self.fds[name] = _open_regular(files.fd, name, files.pid, files.root.path_of(files.pid, name))
            except ProcessError as error:
                self.error = error
                raise
        while True:
            try:
                return os.pread(fd, size, offset) or None
            except InterruptedError:
                continue
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EFAULT):  # not mapped (any longer), or not readable there
                    return None
                raise _error(self.files.pid, self.files.root.path_of(self.files.pid, name), exc) from None

    def _present(self, page):
        """Whether pagemap says the page (a number) is present."""
        if not self.run_start <= page < self.run_end:
            self.run = self._pread(b"pagemap", 8 * self.PAGEMAP_RUN, page * 8) or b""
            self.run_start, self.run_end = page, page + len(self.run) // 8
            if not self.run_start <= page < self.run_end:
                return False
        at = (page - self.run_start) * 8
        return bool(int.from_bytes(self.run[at:at + 8], "little") & self.PRESENT)

    def read(self, address, size):
        """The bytes at ``address`` (to the end of its page at most), or None
        where nothing is read there (not mapped any longer, the page not
        present); raises the ProcessError of a memory that cannot be read
        at all (another user's: AccessDenied), each time it is asked again."""
        if not 0 < size <= MEMORY_READ_MAX:
            raise ValueError("at most %d bytes of memory a read" % MEMORY_READ_MAX)
        if self.error is not None:
            raise self.error
        if not 0 <= address < 1 << 63:  # beyond what pread's offset can say
            return None
        page = self.page
        number = address // page
        if self.run_start <= number < self.run_end:  # (_present, without the call)
            at = (number - self.run_start) * 8
            if not int.from_bytes(self.run[at:at + 8], "little") & self.PRESENT:
                return None
        elif not self._present(number):
            return None
        return self._pread(b"mem", min(size, page - address % page), address)

    def read_many(self, addresses, size):
        """read(address, size) of each address in turn (a generator: what
        was read before an error stays read), in a loop of few calls: a
        batch of a process's mappings, whose reads cost the kernel most."""
        addresses = iter(addresses)
        for address in addresses:  # the first: opens the files, checks the size, raises as read does
            yield self.read(address, size)
            break
        page, present, pread, mem = self.page, self.PRESENT, os.pread, self.fds.get(b"mem")
        for address in addresses:
            number = address // page
            if mem is None or not 0 <= address < 1 << 63 or not self.run_start <= number < self.run_end:
                yield self.read(address, size)  # (_present reads the next run of pagemap)
                mem = self.fds.get(b"mem")
                continue
            at = (number - self.run_start) * 8
            if not int.from_bytes(self.run[at:at + 8], "little") & present:
                yield None  # never faulted in
                continue
            try:
                data = pread(mem, min(size, page - address % page), address) or None
            except OSError:
                data = self.read(address, size)  # (its retry, its errors)
            yield data


class _SampledMemory:
    """A snapshot's memory: the lines of its mem_samples (FILES), read in
    blocks as addresses are asked for in increasing order (a lower address
    starts the file again); None where it holds nothing."""

    def __init__(self, files):
        self.files = files
        self.lines = None
        self.pending = None  # (address, bytes) of the line read last, not yet asked for
        self.last = -1

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        if self.lines is not None:
            self.lines.close()
            self.lines = None

    def _samples(self):
        for block in self.files.root.line_blocks(self.files.pid, b"mem_samples"):
            for line in block.split(b"\n"):
                address, _, data = line.partition(b" ")
                if 0 < len(address) <= 16 and len(data) <= 2 * MEMORY_READ_MAX:
                    try:
                        yield int(address, 16), bytes.fromhex(data.decode("ascii"))
                    except ValueError:
                        continue  # not a sample line

    def read(self, address, size):
        if not 0 < size <= MEMORY_READ_MAX:
            raise ValueError("at most %d bytes of memory a read" % MEMORY_READ_MAX)
        if address <= self.last or self.lines is None:
            self.__exit__()
            self.lines = self._samples()
            self.pending = None
        self.last = address
        try:
            while self.pending is None or self.pending[0] < address:
                self.pending = next(self.lines)
        except (StopIteration, ProcessError):  # the end, or no samples (missing, unreadable)
            self.pending = (1 << 64, b"")
            return None
        found, data = self.pending
        return data[:size] or None if found == address else None

    def read_many(self, addresses, size):
        """read(address, size) of each address in turn."""
        for address in addresses:
            yield self.read(address, size)


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


# --- forked readers (ProcRoot.read_many) ---------------------------------------------

def _start_reader(read_share):
    """Fork a helper that runs ``read_share()`` and writes its results to a
    pipe; (pid, read end), or None when it cannot be forked."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the helper: nothing of the parent's output is ever flushed here
        status = 1
        try:
            os.close(read_end)
            data = _marshal_results(read_share())
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view):]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _finish_reader(helper):
    """The results a helper sent, or None when it failed."""
    pid, read_end = helper
    parts = []
    try:
        while True:
            part = os.read(read_end, 1 << 20)
            if not part:
                break
            parts.append(part)
    except OSError:
        parts = None
    finally:
        os.close(read_end)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = 1
    if parts is None or status != 0:
        return None
    try:
        return _unmarshal_results(b"".join(parts))
    except (ValueError, EOFError, TypeError):
        return None


_ERRORS = {"NoSuchProcess": NoSuchProcess, "AccessDenied": AccessDenied}


def _marshal_results(results):
    import marshal

    return marshal.dumps([("error", type(result).__name__, result.pid, result.path, result.reason)
                          if isinstance(result, ProcessError) else ("value", result) for result in results])


def _unmarshal_results(data):
    import marshal

    results = []
    for item in marshal.loads(data):
        if item[0] == "error":
            _, kind, pid, path, reason = item
            results.append(_ERRORS.get(kind, UnreadableProcess)(pid, path, reason))
        else:
            results.append(item[1])
    return results
