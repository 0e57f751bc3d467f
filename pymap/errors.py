"""The few exceptions that cross the source layer's boundary, pymap's exit
statuses, and how a mode gives up.

Everything the kernel (or a snapshot folder) can do wrong while pymap reads
a process, or a log, is mapped to one of these in source.py, so no OSError
or UnicodeDecodeError ever reaches the formatters or the command line.
"""

# pmap's exit statuses (or-ed over the PIDs of a call)
EXIT_SUCCESS = 0
EXIT_FAILURE = 1  # bad options, an unreadable rc file, a process whose map could not be read
EXIT_NOT_FOUND = 42  # a PID that was not found


class Exit(Exception):
    """Leave the command with this status (its messages already written)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


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


class CgroupUnreadable(PymapError):
    """A file of a cgroup could not be read.  ``path`` names it (bytes, as
    shown), ``reason`` says why (str); ``gone``: the cgroup itself is not
    there (removed, or removed while it was read)."""

    def __init__(self, path, reason, gone=False):
        self.path = path
        self.reason = reason
        self.gone = gone
        super().__init__("%s: %s" % (path.decode("utf-8", "replace") if isinstance(path, bytes) else path, reason))


_CONTROLS_SHOWN = bytes(63 if byte < 32 or byte == 127 else byte for byte in range(256))


class UnreadableFile(PymapError):
    """A file that is no process's could not be read (a kernel log named by
    --oom-report, /dev/kmsg, dmesg's output).  ``path`` (bytes) names it as
    the user gave it; ``reason`` (str) says why.  ``message`` is the line
    shown after the program's name (one line: control bytes of the path and
    the reason shown as "?")."""

    def __init__(self, path, reason):
        self.path = path
        self.reason = reason
        self.message = b"%s: %s" % (path, reason.encode("utf-8", "surrogateescape"))
        self.message = self.message.translate(_CONTROLS_SHOWN)
        super().__init__(self.message.decode("utf-8", "surrogateescape"))


class Failure(PymapError):
    """A mode gives up as pmap does: ``message`` (bytes, one line) is shown
    after the program's name, and the status is 1."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message
