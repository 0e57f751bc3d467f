"""One formatter per pmap output mode: pure functions from the model to bytes."""

MASK64 = (1 << 64) - 1


class Display:
    """How a process is to be shown: the options every formatter shares.

    ``range_low``/``range_high`` are -A's bounds (inclusive, 64-bit),
    ``name_method`` is Compat.name_escaping, ``shm_minor`` the device minor of
    SysV shared memory (None when unknown, as when pmap's probe fails).
    """

    __slots__ = ("quiet", "show_path", "kernel_names", "range_low", "range_high",
                 "charset", "name_method", "shm_minor")

    def __init__(self, charset, name_method="mblen", quiet=False, show_path=False, kernel_names=False,
                 range_low=0, range_high=MASK64, shm_minor=None):
        self.charset = charset
        self.name_method = name_method
        self.quiet = quiet
        self.show_path = show_path
        self.kernel_names = kernel_names
        self.range_low = range_low
        self.range_high = range_high
        self.shm_minor = shm_minor


def header_line(tgid, command_line):
    """pmap's first line for a process: "PID:   COMMAND LINE"."""
    return b"%d:   %s\n" % (tgid & 0xFFFFFFFF, command_line)  # printed with %u
