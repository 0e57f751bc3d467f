"""pymap --capture DIR PID...: save what pmap reads of a process, so that
``pymap --proc-root DIR`` later prints what the live process would have
printed at capture time, in every mode.

For each PID this writes DIR/PID/{cmdline,comm,stat,status,smaps,maps,
oom_score,oom_score_adj} and smaps_rollup when the kernel has it, and the
machine's /proc/meminfo as DIR/meminfo: every file some mode of pymap reads
(--reconcile needs the OOM figures and meminfo), so a snapshot answers as
the live process did.  Each /proc file is read once, all of them before
anything is written:

* maps is not read at all: it is made of the header lines of the captured
  smaps (the kernel prints the very same line for a mapping in both files),
  so the two cannot disagree however the process moved in between;
* a thread id is captured under its own number (its stat, status with the
  "Tgid:" of its process, cmdline) and, as pmap reads the memory map of the
  thread group leader, the leader's folder DIR/TGID is captured too (once,
  even when TGID is also named on the command line);
* a PID whose /proc/PID or stat cannot be read counts as not found (exit
  status 42, as pmap); a process whose smaps cannot be read (another user's,
  without the right) is saved without maps and smaps, so that --proc-root
  prints its header and exits with 1 as pmap does live; pymap says which
  file failed and exits with 1.

Safety: nothing in DIR is overwritten (a PID folder already holding one of
these files is refused with a message and exit status 1), files are created
with O_EXCL|O_NOFOLLOW and mode 0600, folders with mkdir (mode 0700) and
opened with O_NOFOLLOW|O_DIRECTORY, everything relative to file descriptors
so a symbolic link planted inside DIR is never followed.  DIR itself may be
a symbolic link the caller chose; it is created (one level) when missing.
"""

import errno
import os
from typing import Callable, Iterable

from . import procfs
from .errors import AccessDenied, ProcessError

__all__ = ["capture", "smaps_to_maps", "CaptureError", "FILES"]

# what --proc-root reads (comm for other tools and readers)
FILES = (b"cmdline", b"comm", b"stat", b"status", b"maps", b"smaps", b"smaps_rollup", b"oom_score", b"oom_score_adj")
# files of the machine, beside the PID folders
MACHINE_FILES = (b"meminfo",)

_THREAD_FILES = (b"cmdline", b"comm", b"stat", b"status")

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

EXIT_FAILURE = 1
EXIT_NOT_FOUND = 42


class CaptureError(Exception):
    """A snapshot folder could not be written; ``message`` is the line to show."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def smaps_to_maps(smaps: bytes) -> bytes:
    """/proc/PID/maps as the kernel would have printed it with this smaps:
    the header line of every mapping (field lines start with a capital
    letter, header lines with a hex digit)."""
    lines = []
    for line in smaps.split(b"\n"):
        if line and not b"A" <= line[:1] <= b"Z":
            lines.append(line + b"\n")
    return b"".join(lines)


class _Snapshot:
    """The files of one process folder, read but not yet written."""

    def __init__(self, pid):
        self.pid = pid
        self.files = {}
        self.problems = []  # ProcessError of files that exist but could not be read


def _read_optional(root, pid, name, snapshot):
    try:
        snapshot.files[name] = procfs.read_file(root, pid, name)
    except ProcessError as error:
        if name in (b"smaps_rollup", b"oom_score", b"oom_score_adj") and not isinstance(error, AccessDenied):
            return  # older kernels (and older snapshots) have none
        snapshot.problems.append(error)


def _read_identity(root, pid):
    """Read PID's stat, status, cmdline and comm, or None when it does not
    exist (as pmap decides: no /proc/PID or no readable stat)."""
    if not procfs.exists(root, pid):
        return None
    snapshot = _Snapshot(pid)
    try:
        snapshot.files[b"stat"] = procfs.read_file(root, pid, b"stat")
    except ProcessError:
        return None
    for name in (b"status", b"cmdline", b"comm"):
        _read_optional(root, pid, name, snapshot)
    return snapshot


def _read_memory(root, snapshot):
    """Add smaps, the maps made from it and smaps_rollup."""
    try:
        smaps = procfs.read_file(root, snapshot.pid, b"smaps", whole_map=True)
    except ProcessError as error:
        snapshot.problems.append(error)
        return
    snapshot.files[b"smaps"] = smaps
    snapshot.files[b"maps"] = smaps_to_maps(smaps)
    for name in (b"smaps_rollup", b"oom_score", b"oom_score_adj"):
        _read_optional(root, snapshot.pid, name, snapshot)


def _tgid_of(snapshot):
    status = snapshot.files.get(b"status")
    if status is None:
        return snapshot.pid
    return procfs.tgid_of(status, snapshot.pid)


def _shown(directory, pid, name=None):
    path = b"%s/%d" % (directory.rstrip(b"/") or b"/", pid)
    return path if name is None else path + b"/" + name


def _reason(error):
    return os.fsencode(error.strerror or str(error))


def _open_destination(directory):
    """A descriptor of DIR, made when missing."""
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except OSError as error:
        raise CaptureError(b"%s: %s" % (directory, _reason(error))) from None
    try:
        return os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise CaptureError(b"%s: %s" % (directory, _reason(error))) from None


def _write_snapshot(directory, directory_fd, snapshot):
    """Write one PID folder; raises CaptureError without writing anything
    when one of its files is already there."""
    name = b"%d" % snapshot.pid
    try:
        os.mkdir(name, 0o700, dir_fd=directory_fd)
    except FileExistsError:
        pass
    except OSError as error:
        raise CaptureError(b"%s: %s" % (_shown(directory, snapshot.pid), _reason(error))) from None
    try:
        folder_fd = os.open(name, _DIR_FLAGS, dir_fd=directory_fd)
    except OSError as error:
        reason = b"not a directory (pymap does not follow links in a snapshot)" \
            if error.errno in (errno.ENOTDIR, errno.ELOOP) else _reason(error)
        raise CaptureError(b"%s: %s" % (_shown(directory, snapshot.pid), reason)) from None
    try:
        for file_name in FILES:
            try:
                os.stat(file_name, dir_fd=folder_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise CaptureError(b"%s: %s" % (_shown(directory, snapshot.pid, file_name),
                                                _reason(error))) from None
            raise CaptureError(b"%s: already exists (pymap never overwrites a snapshot)"
                               % _shown(directory, snapshot.pid, file_name))
        for file_name in FILES:
            data = snapshot.files.get(file_name)
            if data is not None:
                _write_new_file(folder_fd, file_name, data, _shown(directory, snapshot.pid, file_name))
    finally:
        os.close(folder_fd)


def _write_new_file(folder_fd, name, data, shown):
    """Create ``name`` in the folder (never over an existing file or link)
    holding ``data``; CaptureError naming ``shown`` when that fails."""
    try:
        fd = os.open(name, _FILE_FLAGS, 0o600, dir_fd=folder_fd)
    except OSError as error:
        raise CaptureError(b"%s: %s" % (shown, _reason(error))) from None
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError as error:
        raise CaptureError(b"%s: %s" % (shown, _reason(error))) from None
    finally:
        os.close(fd)


def _read_machine_files(root):
    """{name: bytes} of the machine's files (meminfo) that can be read."""
    found = {}
    for name in MACHINE_FILES:
        try:
            found[name] = procfs.read_machine_file(root, name)
        except ProcessError:
            pass
    return found


def _write_machine_files(directory, directory_fd, files):
    """DIR/meminfo, unless an earlier capture into DIR wrote it."""
    for name, data in files.items():
        try:
            os.stat(name, dir_fd=directory_fd, follow_symlinks=False)
            continue
        except FileNotFoundError:
            pass
        except OSError as error:
            raise CaptureError(b"%s/%s: %s" % (directory.rstrip(b"/"), name, _reason(error))) from None
        _write_new_file(directory_fd, name, data, b"%s/%s" % (directory.rstrip(b"/"), name))


def capture(directory: "str | bytes | os.PathLike[str] | os.PathLike[bytes]", pids: "Iterable[int]",
            message: "Callable[[bytes], object]", root: bytes = procfs.PROC) -> int:
    """Capture each PID of ``pids`` from ``root`` (bytes, /proc by default)
    into ``directory`` (bytes); ``message(bytes)`` shows one line on stderr.
    Returns pmap's kind of exit status: 42 or'ed in when a PID was not
    found, 1 when something could not be read or written."""
    directory = os.fsencode(directory)
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
    machine = _read_machine_files(root)
    try:
        for pid in pids:
            if pid in done:
                continue
            snapshot = _read_identity(root, pid)
            if snapshot is None:
                missing += 1
                continue
            group = [snapshot]
            tgid = _tgid_of(snapshot)
            if tgid == pid or tgid <= 0:
                _read_memory(root, snapshot)
            elif tgid not in done and tgid not in wanted:
                # a thread: pmap reads its leader's maps, so save the leader
                # (the thread's own smaps would only repeat them)
                leader = _read_identity(root, tgid)
                if leader is not None:
                    _read_memory(root, leader)
                    group.append(leader)
            for one in group:
                if one.pid in done:
                    continue
                done.add(one.pid)
                for problem in one.problems:
                    message(b"%s: %s" % (os.fsencode(problem.path or ""), os.fsencode(problem.reason or "")))
                    status |= EXIT_FAILURE
                try:
                    _write_snapshot(directory, directory_fd, one)
                except CaptureError as error:
                    message(error.message)
                    status |= EXIT_FAILURE
        if done:
            try:
                _write_machine_files(directory, directory_fd, machine)
            except CaptureError as error:
                message(error.message)
                status |= EXIT_FAILURE
    finally:
        os.close(directory_fd)
    if missing:
        status |= EXIT_NOT_FOUND
    return status


class CaptureMode:
    """--capture DIR as an output mode (formats.OutputMode's contract): it
    selects its processes itself, threads' leaders included."""

    def __init__(self, session):
        self.session = session

    def run(self, pids):
        session = self.session
        return capture(session.invocation.capture_dir, pids, session.console.message, session.root)
