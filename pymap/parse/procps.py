"""A process, selected as procps's library does, for pmap's header and maps.

``select_process(root, pid, ...)`` gives the Process of a PID argument, or
None when procps counts it as not found: no ROOT/PID folder (or a link
there), a stat that cannot be read or is empty, a kernel thread hidden by
LIBPROC_HIDE_KERNEL.  The thread group (status' Tgid, read with atoi() as
procps reads it) decides whose maps are read, from 4.0.2 on.
"""

from ..errors import ProcessError, UnreadableProcess
from .c_rules import atoi
from .proc_files import parse_stat

TYPE_CHECKING = False  # (the typing module is not worth its import at start-up)
if TYPE_CHECKING:
    from .smaps import Mapping  # noqa: F401

__all__ = ["Process", "select_process", "read_stat", "read_cmdline", "tgid_of"]


class Process:
    """One process as pmap sees it.

    ``cmdline`` is /proc/PID/cmdline as read (NUL-separated bytes), ``comm``
    the name between the parentheses of /proc/PID/stat, ``start_stack`` the
    stack start from stat (0 when stat does not say), ``start_time`` when
    the process started, in clock ticks after boot (stat's starttime: a PID
    with another start time is another process), ``mappings`` a list of
    Mapping or None when they were not read.
    """

    __slots__ = ("pid", "tgid", "cmdline", "comm", "state", "ppid", "start_stack", "mappings", "start_time")

    pid: int
    tgid: int
    cmdline: bytes
    comm: bytes
    state: bytes
    ppid: int
    start_stack: int
    mappings: "list[Mapping] | None"
    start_time: int

    def __init__(self, pid, tgid, cmdline=b"", comm=b"", state=b"", ppid=0, start_stack=0, mappings=None,
                 start_time=0):
        self.pid = pid
        self.tgid = tgid
        self.cmdline = cmdline
        self.comm = comm
        self.state = state
        self.ppid = ppid
        self.start_stack = start_stack
        self.mappings = mappings
        self.start_time = start_time

    @property
    def arguments(self):
        """The command line as a list of byte strings."""
        data = self.cmdline
        if data.endswith(b"\0"):
            data = data[:-1]
        return data.split(b"\0") if data else []

    def __repr__(self):
        return "Process(pid=%d, tgid=%d, cmdline=%r)" % (self.pid, self.tgid, self.cmdline[:60])


def tgid_of(status, pid):
    """The Tgid of a status file's bytes, as procps reads it (the number
    after "Tgid:" through atoi()), or ``pid`` when it has none."""
    where = status.find(b"Tgid:")
    if where < 0:
        return pid
    return atoi(status[where + 5:where + 5 + 64])


def read_stat(root, pid):
    """StatInfo of ROOT/PID/stat; raises when it cannot be read or is empty
    (procps's file2str() fails on an empty file: the process is then not
    found)."""
    data = root.read(pid, b"stat")
    if not data:
        import os

        raise UnreadableProcess(pid, os.fsdecode(root.path_of(pid, b"stat")), "empty")
    return parse_stat(data)


def read_cmdline(root, pid):
    """ROOT/PID/cmdline as raw bytes, at most as much as procps reads; b""
    when it cannot be read (procps shows the bracketed name then)."""
    try:
        return root.read(pid, b"cmdline")
    except ProcessError:
        return b""


def select_process(root, pid, hide_kernel=False, thread_group=True):
    """The Process for a PID argument as procps's library selects it from
    ``root`` (a source.ProcRoot), or None when it counts as not found.
    ``thread_group``: a thread's ID stands for its process (status' Tgid,
    as 4.x's library reads it); else for itself (3.3, which never reads
    status)."""
    if not root.has_folder(pid):
        return None
    tgid = pid
    if thread_group:
        try:
            tgid = tgid_of(root.read(pid, b"status"), pid)
        except ProcessError:
            pass
    try:
        stat = read_stat(root, pid)
    except ProcessError:
        return None
    if hide_kernel and (stat.ppid == 2 or pid == 2):
        return None
    return Process(pid, tgid, read_cmdline(root, pid), stat.comm, stat.state, stat.ppid, stat.start_stack,
                   start_time=stat.start_time)
