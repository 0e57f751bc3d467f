"""The few exceptions that cross the procfs boundary.

Everything the kernel (or a snapshot folder) can do wrong while pymap reads
a process is mapped to one of these in procfs.py, so no OSError or
UnicodeDecodeError ever reaches the formatters or the command line.
"""


class PymapError(Exception):
    """Base of pymap's own errors."""


class ProcessError(PymapError):
    """A process could not be read.  ``path`` names the file that failed."""

    def __init__(self, pid, path=None, reason=""):
        self.pid = pid
        self.path = path
        self.reason = reason
        message = "process %d" % pid
        if path is not None:
            message += ": %s" % path
        if reason:
            message += ": %s" % reason
        super().__init__(message)


class NoSuchProcess(ProcessError):
    """The PID does not exist (or vanished before it could be read)."""


class AccessDenied(ProcessError):
    """The caller may not read this process's memory map."""


class UnreadableProcess(ProcessError):
    """The process exists but one of its files could not be read whole."""
