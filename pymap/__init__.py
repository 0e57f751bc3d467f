"""pymap: procps-ng pmap, byte for byte, in Python, and then more than pmap."""

__version__ = "0.1.0"

__all__ = ["__version__", "read_process", "Process", "Mapping", "PymapError", "ProcessError",
           "NoSuchProcess", "AccessDenied", "UnreadableProcess"]

from .errors import AccessDenied, NoSuchProcess, ProcessError, PymapError, UnreadableProcess
from .model import Mapping, Process


def read_process(pid, proc_root="/proc"):
    """Read one process and its mappings (with their smaps fields).

    Raises NoSuchProcess when the PID does not exist and AccessDenied when
    its memory map may not be read.
    """
    from . import procfs
    from .model import parse_smaps
    from .report import select_process

    root = proc_root.encode() if isinstance(proc_root, str) else bytes(proc_root)
    process = select_process(root, pid)
    if process is None:
        raise NoSuchProcess(pid)
    process.mappings = parse_smaps(procfs.read_file(root, process.tgid, b"smaps"))
    return process
