"""pymap: procps-ng pmap, byte for byte, in Python, and then more than pmap."""

__version__ = "0.1.0"

__all__ = ["__version__", "read_process", "Process", "Mapping", "PymapError", "ProcessError",
           "NoSuchProcess", "AccessDenied", "UnreadableProcess"]

import os

from .errors import AccessDenied, NoSuchProcess, ProcessError, PymapError, UnreadableProcess
from .parse.procps import Process


def __getattr__(name):
    # Mapping's module (the smaps parser) is imported when asked for: pmap's
    # own modes never need it, and every start would pay for it
    if name == "Mapping":
        from .parse.smaps import Mapping

        return Mapping
    raise AttributeError("module 'pymap' has no attribute %r" % name)


def read_process(pid: int, proc_root: "str | bytes | os.PathLike[str] | os.PathLike[bytes]" = "/proc") -> Process:
    """Read one process and its mappings, with every smaps field.

    The same reading the command uses: the source layer (source.ProcRoot,
    one read of each file) and parse.smaps.parse_smaps, with the process
    selected as pmap selects it (parse.procps.select_process).  ``proc_root`` may name a snapshot written by
    ``pymap --capture``.  Returns a Process whose ``mappings`` is a list of
    Mapping in the kernel's order.

    Raises NoSuchProcess when the PID does not exist (no PROC_ROOT/PID or no
    readable stat), AccessDenied when its memory map may not be read, and
    UnreadableProcess when smaps cannot be read whole or is not a smaps file;
    TypeError when ``pid`` is not an int (a bool, a float or a str is not
    one) or ``proc_root`` not a path, ValueError when ``pid`` is no PID
    (below 1, above 2**31 - 1) or ``proc_root`` holds a NUL.
    """
    if not isinstance(pid, int) or isinstance(pid, bool):
        raise TypeError("read_process: pid must be an int, not %s" % type(pid).__name__)
    if not 1 <= pid <= 0x7FFFFFFF:
        raise ValueError("read_process: pid must be from 1 to 2147483647, not %d" % pid)
    if not isinstance(proc_root, (str, bytes, os.PathLike)):
        raise TypeError("read_process: proc_root must be a path (str, bytes or os.PathLike), not %s"
                        % type(proc_root).__name__)
    if b"\0" in os.fsencode(proc_root):
        raise ValueError("read_process: proc_root holds a NUL byte")
    from .parse.procps import select_process
    from .parse.smaps import SmapsFormatError, parse_smaps
    from .source import ProcRoot

    root = ProcRoot(os.fsencode(proc_root))
    process = select_process(root, pid)
    if process is None:
        raise NoSuchProcess(pid, os.fsdecode(root.path_of(pid)), "No such process")
    data = root.whole_map(process.tgid, b"smaps", state=process.state)
    try:
        process.mappings = parse_smaps(data)
    except SmapsFormatError as error:
        raise UnreadableProcess(pid, os.fsdecode(root.path_of(process.tgid, b"smaps")), str(error)) from None
    return process
