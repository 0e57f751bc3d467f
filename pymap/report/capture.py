"""pymap --capture DIR PID...: save what pmap reads of a process, so that
``pymap --proc-root DIR`` later prints what the live process would have
printed at capture time, in every mode.

For each PID this writes DIR/PID/{cmdline,comm,stat,status,smaps,maps,
oom_score,oom_score_adj,cgroup} and smaps_rollup when the kernel has it,
DIR/PID/captured_at (when, in seconds since the epoch: --diff's age), the
machine's /proc/meminfo as DIR/meminfo, and the memory files of each
process's memory cgroup and of its ancestors (source.cgroup_files) as
DIR/cgroup/v1/PATH/FILE or DIR/cgroup/v2/PATH/FILE, PATH as
/proc/PID/cgroup names the cgroup (the root cgroup's in DIR/cgroup/v1/
itself): every file some mode of pymap reads (--reconcile needs the OOM
figures and meminfo, --summary --by=cgroup the cgroups'), so a snapshot
answers as the live process did.  A cgroup's files (and meminfo) already
in DIR from an earlier capture are kept, never overwritten.
The roles of the mappings (report/roles.py) are told from more: the
files of each thread that their reading read (DIR/PID/task/TID/syscall,
and stat where syscall gave no stack pointer), and the words at the start
of the mappings that need them, read from /proc/PID/mem where permitted,
as DIR/PID/mem_samples (its format is in source.FILES); what could not be
read is left out, as it was unknown live.

* maps is not read at all: it is made of the header lines of the captured
  smaps (the kernel prints the very same line for a mapping in both files),
  so the two cannot disagree however the process moved in between; smaps
  is copied block by block, so a process of any size costs little memory;
* a thread id is captured under its own number (its stat, status with the
  "Tgid:" of its process, cmdline) and, as pmap reads the memory map of the
  thread group leader, the leader's folder DIR/TGID is captured too (once,
  even when TGID is also named on the command line);
* a PID whose /proc/PID or stat cannot be read counts as not found (exit
  status 42, as pmap); a process whose smaps cannot be read (another user's,
  without the right) is saved without maps and smaps, so that --proc-root
  prints its header and exits with 1 as pmap does live; a process that exits
  while it is read is not saved; pymap says which file failed, status 1.

Safety:

* a PID folder is written in full under a temporary name beside it
  (DIR/.PID.partial-XXXX) and renamed into place when complete: a capture
  that fails (a full disk, SIGTERM, SIGHUP, Ctrl-C) leaves nothing that reads
  as a process: a signal is acted on between writes, after which pymap
  removes the temporary folder and ends by that signal;
* DIR must be the caller's own folder, writable by no one else (as ssh
  refuses a key file others can write): another user could otherwise swap
  maps and smaps before they are read; it is made (mode 0700) when missing;
* nothing is overwritten: a PID folder that is already there is refused
  (message, status 1); files are created with O_EXCL|O_NOFOLLOW, mode 0600,
  folders with mkdir (0700) and opened with O_NOFOLLOW|O_DIRECTORY, all
  relative to descriptors, so a symbolic link planted inside DIR is never
  followed.  DIR itself may be a symbolic link the caller chose.
"""

import errno
import os
from typing import Callable, Iterable

from ..parse.cgroups import memory_cgroup
from ..parse.procps import tgid_of
from ..parse.proc_files import parse_stat
from ..parse.roles import HEADER_BYTES, sample_addresses
from ..source import FILES, PROC, ProcRoot, captured_files, cgroup_files, memory_sample_line
from ..source.cgroups import CGROUP_FOLDER, cgroups_beside
from ..parse.c_rules import is_field_line
from ..errors import EXIT_FAILURE, EXIT_NOT_FOUND, AccessDenied, CgroupUnreadable, NoSuchProcess, ProcessError
from .roles import thread_facts

__all__ = ["capture", "smaps_to_maps", "CaptureError", "cgroups_to_save"]

# what it saves, from the source's registry (source.FILES): a process's
# identity files, then its memory files (smaps copied as it is read, maps
# made from it, then the small ones), and the machine's files
_IDENTITY = captured_files(memory=False)
_SMALL_MEMORY = tuple(name for name in captured_files(memory=True) if FILES[name].limit is not None
                      and not FILES[name].made)
_SAVED = captured_files()
_MACHINE = captured_files(machine=True)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC



class CaptureError(Exception):
    """A snapshot folder could not be written; ``message`` is the line to show."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def smaps_to_maps(smaps: bytes) -> bytes:
    """/proc/PID/maps as the kernel would have printed it with this smaps:
    the header line of every mapping (field lines start with a capital
    letter, header lines with a hex digit)."""
    return _MapsLines().feed(smaps)


class _MapsLines:
    """smaps_to_maps() of a file given in blocks, which may cut a line."""

    def __init__(self):
        self.header = None  # whether the line under way (cut by a block's end) is a header

    def feed(self, block):
        out = []
        lines = block.split(b"\n")
        ends_line = block.endswith(b"\n")
        if ends_line:
            lines.pop()
        for index, line in enumerate(lines):
            last = index == len(lines) - 1 and not ends_line
            if self.header is None:  # a line starts here
                header = bool(line) and not is_field_line(line)
            else:
                header = self.header
            if header:
                out.append(line if last else line + b"\n")
            self.header = header if last else None
        return b"".join(out)


def _shown(directory, pid, name=None):
    path = b"%s/%d" % (directory.rstrip(b"/") or b"/", pid)
    return path if name is None else path + b"/" + name


def _reason(error):
    return os.fsencode(error.strerror or str(error))


def _problem(error):
    return b"%s: %s" % (os.fsencode(error.path or ""), os.fsencode(error.reason or ""))


def _open_destination(directory):
    """A descriptor of DIR, made when missing; refused unless it is the
    caller's own folder, writable by no one else, in a folder no one else
    may change (_check_parent).  DIR may be a symbolic link of the caller's
    own, never one another user planted (in /tmp, say), where root would
    otherwise capture into whatever folder of root's the link names."""
    try:
        entry = os.stat(directory, follow_symlinks=False)
    except FileNotFoundError:
        entry = None
    except (OSError, ValueError) as error:
        raise CaptureError(b"%s: %s" % (directory, _reason(error) if isinstance(error, OSError) else b"invalid"))
    _check_parent(directory)
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW
    if entry is None:
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:  # made meanwhile: looked at as any other
            return _open_destination(directory)
        except OSError as error:
            raise CaptureError(b"%s: %s" % (directory, _reason(error))) from None
    elif entry.st_mode & 0o170000 == 0o120000:
        if entry.st_uid != os.geteuid():
            raise CaptureError(b"%s: a symbolic link of another user's (uid %d): pymap captures only through a "
                               b"link of its user's" % (directory, entry.st_uid))
        target = os.path.realpath(directory)
        _check_parent(target)
        directory = target
    try:
        fd = os.open(directory, flags)
    except OSError as error:
        raise CaptureError(b"%s: %s" % (directory, _reason(error))) from None
    _check_private(fd, directory)
    return fd


def _check_parent(path):
    """Refuse a path whose folder another user may change: one others may
    write into without the sticky bit (which keeps them from renaming or
    removing what is not theirs), or one another user (not root) owns."""
    parent = os.path.dirname(os.path.abspath(path)) or b"/"
    try:
        status = os.stat(parent)
    except OSError as error:
        raise CaptureError(b"%s: %s" % (parent, _reason(error))) from None
    sticky = status.st_mode & 0o1000
    if status.st_uid not in (0, os.geteuid()):
        raise CaptureError(b"%s: in %s, a folder of another user's (uid %d): they could replace it; pymap "
                           b"captures only into a folder of its user's" % (path, parent, status.st_uid))
    if status.st_mode & 0o022 and not sticky:
        raise CaptureError(b"%s: in %s, which others may write (mode %04o, no sticky bit): they could replace "
                           b"it; pymap captures only into a folder no one else can change"
                           % (path, parent, status.st_mode & 0o7777))


def _check_private(fd, shown):
    """Refuse a folder another user owns or may write into (they could swap
    its files under pymap): the group's write bit counts as others'."""
    status = os.fstat(fd)
    if status.st_uid != os.geteuid():
        os.close(fd)
        raise CaptureError(b"%s: owned by another user (uid %d): pymap captures only into a folder of its user's"
                           % (shown, status.st_uid))
    if status.st_mode & 0o022:
        os.close(fd)
        raise CaptureError(b"%s: writable by others (mode %04o): pymap captures only into a folder no one else "
                           b"can write" % (shown, status.st_mode & 0o7777))


class _PidFolder:
    """One PID folder being written under a temporary name."""

    def __init__(self, directory, directory_fd, pid, checkpoint=lambda: None):
        self.directory = directory
        self.directory_fd = directory_fd
        self.pid = pid
        self.checkpoint = checkpoint  # raises where a signal asks the capture to stop
        self.name = b"%d" % pid
        self.temporary = b".%d.partial-%s" % (pid, os.urandom(6).hex().encode())
        self.fd = None
        self.written = []

    def check_free(self):
        """Refuse when DIR/PID is there already (with the file that is)."""
        try:
            status = os.stat(self.name, dir_fd=self.directory_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        except OSError as error:
            raise CaptureError(b"%s: %s" % (_shown(self.directory, self.pid), _reason(error))) from None
        if status.st_mode & 0o170000 != 0o040000:
            raise CaptureError(b"%s: not a directory (pymap does not follow links in a snapshot)"
                               % _shown(self.directory, self.pid))
        shown = _shown(self.directory, self.pid)
        try:
            existing = os.open(self.name, _DIR_FLAGS, dir_fd=self.directory_fd)
        except OSError:
            existing = None
        try:
            for file_name in _SAVED if existing is not None else ():
                try:
                    os.stat(file_name, dir_fd=existing, follow_symlinks=False)
                except OSError:
                    continue
                shown = _shown(self.directory, self.pid, file_name)  # the first file that would be overwritten
                break
        finally:
            if existing is not None:
                os.close(existing)
        raise CaptureError(b"%s: already exists (pymap never overwrites a snapshot)" % shown)

    def __enter__(self):
        self.check_free()
        try:
            os.mkdir(self.temporary, 0o700, dir_fd=self.directory_fd)
        except OSError as error:
            raise CaptureError(b"%s: %s" % (_shown(self.directory, self.pid), _reason(error))) from None
        try:
            self.fd = os.open(self.temporary, _DIR_FLAGS, dir_fd=self.directory_fd)
        except BaseException as error:  # (Ctrl-C under python -m pymap: KeyboardInterrupt) the empty folder goes too
            try:
                os.rmdir(self.temporary, dir_fd=self.directory_fd)
            except OSError:
                pass
            if isinstance(error, OSError):
                raise CaptureError(b"%s: %s" % (_shown(self.directory, self.pid), _reason(error))) from None
            raise
        return self

    def create(self, file_name):
        """A descriptor of a new file in the folder."""
        self.checkpoint()
        try:
            fd = os.open(file_name, _FILE_FLAGS, 0o600, dir_fd=self.fd)
        except OSError as error:
            raise CaptureError(b"%s: %s" % (_shown(self.directory, self.pid, file_name), _reason(error))) from None
        self.written.append(file_name)
        return fd

    def write(self, fd, file_name, data):
        self.checkpoint()
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except OSError as error:
            raise CaptureError(b"%s: %s" % (_shown(self.directory, self.pid, file_name), _reason(error))) from None

    def put(self, file_name, data):
        fd = self.create(file_name)
        try:
            self.write(fd, file_name, data)
        finally:
            os.close(fd)

    def put_task(self, tid, file_name, data):
        """DIR/PID/task/TID/NAME, its folders made when missing (no link followed)."""
        self.checkpoint()
        shown = _shown(self.directory, self.pid, b"task/%d/%s" % (tid, file_name))
        outer = _sub_folder(self.fd, b"task", shown)
        if b"task" not in self.written:
            self.written.append(b"task")
        try:
            inner = _sub_folder(outer, b"%d" % tid, shown)
        finally:
            os.close(outer)
        try:
            try:
                fd = os.open(file_name, _FILE_FLAGS, 0o600, dir_fd=inner)
            except OSError as error:
                raise CaptureError(b"%s: %s" % (shown, _reason(error))) from None
            try:
                self.write(fd, b"task/%d/%s" % (tid, file_name), data)
            finally:
                os.close(fd)
        finally:
            os.close(inner)

    def commit(self):
        """Rename the complete folder into place (never over another)."""
        self.checkpoint()  # the last point where stopping leaves nothing
        try:
            os.fsync(self.fd)
            _rename_no_replace(self.temporary, self.name, self.directory_fd)
        except OSError as error:
            if error.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise CaptureError(b"%s: already exists (pymap never overwrites a snapshot)"
                                   % _shown(self.directory, self.pid)) from None
            raise CaptureError(b"%s: %s" % (_shown(self.directory, self.pid), _reason(error))) from None
        self.temporary = None

    def __exit__(self, *exception):
        if self.fd is not None:
            if self.temporary is not None:  # not committed: nothing of it stays
                try:  # (what it holds: a file may have been made just before an exception)
                    names = os.listdir(self.fd)
                except OSError:
                    names = self.written
                for file_name in names:
                    _remove(self.fd, file_name)
                try:
                    os.rmdir(self.temporary, dir_fd=self.directory_fd)
                except OSError:
                    pass
            os.close(self.fd)
        return False


def _sub_folder(parent_fd, name, shown):
    """A descriptor of the folder NAME in ``parent_fd``, made (0700) when missing."""
    try:
        os.mkdir(name, 0o700, dir_fd=parent_fd)
    except FileExistsError:
        pass
    except OSError as error:
        raise CaptureError(b"%s: %s" % (shown, _reason(error))) from None
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as error:
        raise CaptureError(b"%s: %s" % (shown, _reason(error))) from None


def _remove(parent_fd, name):
    """Remove NAME from the folder ``parent_fd``: a file, or a folder with
    what it holds (no link followed); what cannot be removed stays."""
    try:
        os.unlink(name, dir_fd=parent_fd)
        return
    except IsADirectoryError:
        pass
    except OSError as error:
        if error.errno != errno.EPERM:  # (unlink of a folder: EISDIR on Linux, EPERM elsewhere)
            return
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError:
        return
    try:
        for entry in os.listdir(fd):
            _remove(fd, entry)
    except OSError:
        pass
    finally:
        os.close(fd)
    try:
        os.rmdir(name, dir_fd=parent_fd)
    except OSError:
        pass


def _rename_no_replace(source, target, directory_fd):
    """renameat2(RENAME_NOREPLACE) where the C library has it, else a rename
    that an existing non-empty folder refuses."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
        renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    except (ImportError, OSError, AttributeError):
        os.rename(source, target, src_dir_fd=directory_fd, dst_dir_fd=directory_fd)
        return
    if renameat2(directory_fd, source, directory_fd, target, 1) != 0:  # RENAME_NOREPLACE
        number = ctypes.get_errno()
        if number in (errno.ENOSYS, errno.EINVAL):  # a file system without it
            os.rename(source, target, src_dir_fd=directory_fd, dst_dir_fd=directory_fd)
            return
        raise OSError(number, os.strerror(number))


def _identity(root, pid):
    """{name: bytes} of PID's identity files (stat, status, cmdline, comm)
    from ``root`` (a source.ProcRoot), and the problems reading them; None
    when it does not exist (as pmap decides: no ROOT/PID or no readable
    stat)."""
    if not root.has_folder(pid):
        return None
    files = {}
    problems = []
    try:
        files[b"stat"] = root.read(pid, b"stat")
    except ProcessError:
        return None
    if not files[b"stat"]:
        return None
    for name in _IDENTITY:
        if name != b"stat":
            _read_optional(root, pid, name, files, problems)
    return files, problems


def _read_optional(root, pid, name, files, problems):
    """Read NAME (a command line cut where procps cuts it, as live reading
    does); a file the kernel may lack and that is missing is no problem."""
    try:
        files[name] = root.read(pid, name)
    except ProcessError as error:
        if FILES[name].optional and not isinstance(error, AccessDenied):
            return
        problems.append(error)


def _write_process(root, folder, pid, files, problems, with_memory, message):
    """Write one PID folder (under its temporary name): the identity files,
    then (``with_memory``) smaps as it is read, maps made from it, and the
    other files.  Returns (the status bits, whether the folder is complete:
    every file read, or only the memory files denied, which --proc-root
    then reports as pmap does live)."""
    status = 0
    for name in _IDENTITY:
        if name in files:
            folder.put(name, files[name])
    when = root.captured_at(pid)
    if when is not None:
        folder.put(b"captured_at", b"%.3f\n" % when)
    if with_memory:
        stat = parse_stat(files[b"stat"])
        try:
            addresses = _copy_smaps(root, pid, folder, stat.state)
        except (NoSuchProcess, AccessDenied, ProcessError) as error:
            if isinstance(error, NoSuchProcess) and "exited" in (error.reason or ""):
                raise  # nothing of a process that exited while it was read is saved
            problems.append(error)
        else:
            extra = {}
            for name in _SMALL_MEMORY:
                _read_optional(root, pid, name, extra, problems)
            for name, data in extra.items():
                folder.put(name, data)
            _copy_role_sources(root, pid, folder, stat.start_stack, addresses)
    complete = True
    for problem in problems:
        message(_problem(problem))
        status |= EXIT_FAILURE
        name = os.fsencode(os.path.basename(problem.path or ""))
        if not (isinstance(problem, AccessDenied) and name in FILES and FILES[name].memory):
            complete = False
    return status, complete


def _copy_smaps(root, pid, folder, state):
    """smaps copied block by block, and maps made from it, into the folder;
    returns the starts of the mappings whose first words the roles read
    (roles.sample_addresses)."""
    blocks = root.line_blocks(pid, b"smaps", whole_records=True, state=state)
    smaps_fd = maps_fd = None
    addresses = []
    try:
        maps_lines = _MapsLines()
        for block in blocks:
            if smaps_fd is None:
                smaps_fd = folder.create(b"smaps")
                maps_fd = folder.create(b"maps")
            folder.write(smaps_fd, b"smaps", block)
            folder.write(maps_fd, b"maps", maps_lines.feed(block))
            addresses += sample_addresses(block)
        if smaps_fd is None:  # an empty smaps: a process without memory
            folder.put(b"smaps", b"")
            folder.put(b"maps", b"")
    finally:
        blocks.close()
        for fd in (smaps_fd, maps_fd):
            if fd is not None:
                os.close(fd)
    return addresses


def _copy_role_sources(root, pid, folder, start_stack, addresses):
    """What the roles of the mappings are told from, as report/roles.py
    reads it: each thread's files read (task/TID/...), and the words at
    each of ``addresses`` that can be read (mem_samples).  What cannot be
    read (another user's threads and memory) is left out: unknown here as
    it was live."""
    try:
        files = root.process(pid)
    except ProcessError:
        return
    with files:
        thread_facts(files, start_stack, folder.put_task)
        samples_fd = None
        lines = []
        try:
            with files.memory() as memory:
                for index, address in enumerate(addresses):
                    try:
                        data = memory.read(address, HEADER_BYTES)
                    except ProcessError:
                        break  # the memory cannot be read at all
                    if data is not None:
                        lines.append(memory_sample_line(address, data))
                    if lines and (len(lines) >= 1024 or index == len(addresses) - 1):
                        if samples_fd is None:
                            samples_fd = folder.create(b"mem_samples")
                        folder.write(samples_fd, b"mem_samples", b"".join(lines))
                        lines = []
        finally:
            if samples_fd is not None:
                os.close(samples_fd)


def _write_machine_files(root, directory, directory_fd, checkpoint=lambda: None):
    """DIR/meminfo, unless an earlier capture into DIR wrote it (written under
    a temporary name and linked into place, never over a file)."""
    for name in _MACHINE:
        checkpoint()
        try:
            data = root.machine_file(name)
        except ProcessError:
            continue
        _put_new(directory_fd, name, data, b"%s/%s" % (directory.rstrip(b"/"), name))


def _put_new(folder_fd, name, data, shown):
    """NAME in the folder, unless it is there (written under a temporary
    name and linked into place, never over a file)."""
    temporary = b".%s.partial-%s" % (name, os.urandom(6).hex().encode())
    try:
        fd = os.open(temporary, _FILE_FLAGS, 0o600, dir_fd=folder_fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        try:
            os.link(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
        except FileExistsError:
            pass
    except OSError as error:
        raise CaptureError(b"%s: %s" % (shown, _reason(error))) from None
    finally:
        try:
            os.unlink(temporary, dir_fd=folder_fd)
        except OSError:
            pass


def _subfolder(parent_fd, name, shown):
    """A descriptor of the folder NAME in ``parent_fd``, made (0700) when
    missing; never through a link."""
    try:
        os.mkdir(name, 0o700, dir_fd=parent_fd)
    except FileExistsError:
        pass
    except OSError as error:
        raise CaptureError(b"%s: %s" % (shown, _reason(error))) from None
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as error:
        raise CaptureError(b"%s: %s" % (shown, _reason(error) if error.errno not in (errno.ELOOP, errno.ENOTDIR)
                                        else b"not a folder (pymap follows no link in a snapshot)")) from None


def cgroups_to_save(cgroups, captured):
    """(version, path) of the memory cgroups of the ``captured`` cgroup
    files (bytes), with their ancestors, each once, parents first."""
    wanted = []
    seen = set()
    for data in captured:
        found = memory_cgroup(data)
        if found is None:
            continue
        version, path = found
        chain = [path]
        while path != b"/":
            path = path.rstrip(b"/").rpartition(b"/")[0] or b"/"
            chain.append(path)
        for each in reversed(chain):
            key = (version, each)
            if key not in seen and cgroups.names_of(version, each) is not None:
                seen.add(key)
                wanted.append(key)
    return wanted


def _write_cgroup_files(cgroups, wanted, directory, directory_fd, checkpoint=lambda: None):
    """DIR/cgroup/vN/PATH/FILE for each cgroup of ``wanted``: the files it
    has of cgroup_files(N); a file an earlier capture saved stays."""
    for version, path in wanted:
        checkpoint()
        files = {}
        for name in cgroup_files(version):
            try:
                files[name] = cgroups.read(version, path, name)
            except CgroupUnreadable:
                continue  # (a file this cgroup lacks; a cgroup removed meanwhile)
        if not files:
            continue
        names = [CGROUP_FOLDER, b"v%d" % version] + cgroups.names_of(version, path)
        shown = directory.rstrip(b"/")
        fd = os.dup(directory_fd)
        try:
            for name in names:
                shown += b"/" + name
                next_fd = _subfolder(fd, name, shown)
                os.close(fd)
                fd = next_fd
            for name, data in files.items():
                _put_new(fd, name, data, shown + b"/" + name)
        finally:
            os.close(fd)


def capture(directory: "str | bytes | os.PathLike[str] | os.PathLike[bytes]", pids: "Iterable[int]",
            message: "Callable[[bytes], object]", root: bytes = PROC) -> int:
    """Capture each PID of ``pids`` from ``root`` (a source.ProcRoot, or its
    path as bytes: /proc by default)
    into ``directory`` (bytes); ``message(bytes)`` shows one line on stderr.
    Returns pmap's kind of exit status: 42 or'ed in when a PID was not
    found, 1 when something could not be read or written."""
    directory = os.fsencode(directory)
    root = root if isinstance(root, ProcRoot) else ProcRoot(root)
    pids = list(pids)
    try:
        directory_fd = _open_destination(directory)
    except CaptureError as error:
        message(error.message)
        return EXIT_FAILURE
    status = 0
    missing = 0
    done = set()
    wanted = set(pids)
    cgroup_files_seen = []
    try:
        with _Signals() as signals:
            for pid in pids:
                if pid in done:
                    continue
                found = _identity(root, pid)
                if found is None:
                    missing += 1
                    continue
                files, problems = found
                group = [(pid, files, problems, True)]
                tgid = tgid_of(files.get(b"status", b""), pid)
                if tgid != pid and tgid > 0:
                    group[0] = (pid, files, problems, False)
                    if tgid not in done and tgid not in wanted:
                        # a thread: pmap reads its leader's maps, so save the
                        # leader (the thread's own smaps would only repeat them)
                        leader = _identity(root, tgid)
                        if leader is not None:
                            group.append((tgid,) + leader + (True,))
                for one_pid, one_files, one_problems, with_memory in group:
                    if one_pid in done:
                        continue
                    done.add(one_pid)
                    try:
                        with _PidFolder(directory, directory_fd, one_pid, signals.checkpoint) as folder:
                            written, complete = _write_process(root, folder, one_pid, one_files, one_problems,
                                                               with_memory, message)
                            status |= written
                            if complete:
                                folder.commit()
                                if with_memory and b"cgroup" in one_files:  # (its cgroup's files are saved last)
                                    cgroup_files_seen.append(one_files[b"cgroup"])
                            else:  # nothing that would read as the whole process
                                message(b"%s: not saved: files of the process could not be read"
                                        % _shown(directory, one_pid))
                    except CaptureError as error:
                        message(error.message)
                        status |= EXIT_FAILURE
                    except NoSuchProcess as error:
                        message(_problem(error))
                        status |= EXIT_FAILURE
            if done:
                try:
                    _write_machine_files(root, directory, directory_fd, signals.checkpoint)
                except CaptureError as error:
                    message(error.message)
                    status |= EXIT_FAILURE
                cgroups = cgroups_beside(root)
                try:
                    _write_cgroup_files(cgroups, cgroups_to_save(cgroups, cgroup_files_seen), directory,
                                        directory_fd, signals.checkpoint)
                except CaptureError as error:
                    message(error.message)
                    status |= EXIT_FAILURE
    finally:
        os.close(directory_fd)
    if missing:
        status |= EXIT_NOT_FOUND
    return status


class _Terminated(BaseException):
    """SIGTERM, SIGHUP or SIGINT came while a capture wrote: raised at the
    next checkpoint, once the writing can stop cleanly."""

    def __init__(self, number):
        super().__init__(number)
        self.number = number


class _Signals:
    """While a capture writes, SIGTERM, SIGHUP and SIGINT (those not
    ignored) only note that they came; checkpoint() raises _Terminated at
    points where stopping leaves no partial folder behind (never between a
    rename and its bookkeeping).  After the temporary folder is removed, the
    dispositions are restored and the signal is raised again, so pymap ends
    by it as a C program would."""

    def __init__(self):
        self.pending = None

    def __enter__(self):
        try:
            import _signal as signal
        except ImportError:  # pragma: no cover
            import signal

        def note(number, frame):
            if self.pending is None:
                self.pending = number

        self.signal = signal
        self.previous = {}
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            if signal.getsignal(number) is signal.SIG_DFL:
                self.previous[number] = signal.signal(number, note)
        return self

    def checkpoint(self):
        if self.pending is not None:
            raise _Terminated(self.pending)

    def __exit__(self, kind, value, traceback):
        for number, handler in self.previous.items():
            self.signal.signal(number, handler)
        if self.pending is not None:
            os.kill(os.getpid(), self.pending)  # (its default: pymap ends here)
        return kind is _Terminated
