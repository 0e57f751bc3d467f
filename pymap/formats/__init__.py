"""The output modes (modes.py lists them) and what they share: the Display
options and the contract each mode's class follows."""

from ..creading import MASK64

__all__ = ["Display", "OutputMode", "header_line", "MASK64"]


class Display:
    """How a process is to be shown: the options every formatter shares.

    ``range_low``/``range_high`` are -A's bounds (inclusive, 64-bit),
    ``name_method`` is Compat.name_escaping, ``shm_minor`` the device minor of
    SysV shared memory (None when unknown, as when pmap's probe fails), and
    ``find_shm_minor`` a function that finds it when a mapping first needs
    it (None: it is not to be looked for).  ``words`` are pmap's strings in
    the user's language (words.Words).
    """

    __slots__ = ("quiet", "show_path", "kernel_names", "range_low", "range_high",
                 "charset", "name_method", "shm_minor", "find_shm_minor", "words")

    def __init__(self, charset, name_method="mblen", quiet=False, show_path=False, kernel_names=False,
                 range_low=0, range_high=MASK64, shm_minor=None, find_shm_minor=None, words=None):
        from ..words import ENGLISH

        self.charset = charset
        self.name_method = name_method
        self.quiet = quiet
        self.show_path = show_path
        self.kernel_names = kernel_names
        self.range_low = range_low
        self.range_high = range_high
        self.shm_minor = shm_minor
        self.find_shm_minor = find_shm_minor
        self.words = ENGLISH if words is None else words


class OutputMode:
    """The contract of an output mode.

    report.run() makes one instance for the command with its report.Session
    and calls ``run(pids)``, which returns the exit status bits.  The usual
    ``run`` selects each PID as procps does (a PID that counts as not found
    adds 42) and calls ``show(process)`` for each: it writes through
    ``session.console`` and returns 0, or 1 when the process could not be
    read.  ``finish()`` follows the last process.  A mode that fails as pmap
    fails (printing a message and exiting 1) raises report.ReportError."""

    def __init__(self, session):
        self.session = session

    def run(self, pids):
        session = self.session
        status = 0
        missing = 0
        for pid in pids:
            process = session.select(pid)
            if process is None:
                missing += 1
                continue
            status |= self.show(process)
        status |= self.finish()
        return status | (42 if missing else 0)

    def show(self, process):
        raise NotImplementedError

    def finish(self):
        return 0


def header_line(tgid, command_line):
    """pmap's first line for a process: "PID:   COMMAND LINE"."""
    return b"%d:   %s\n" % (tgid & 0xFFFFFFFF, command_line)  # printed with %u
