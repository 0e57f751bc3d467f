"""The output modes (modes.py lists them) and what they share: the Display
options, pmap's words, and the contract each mode's class follows."""

from ..creading import MASK64

__all__ = ["Display", "OutputMode", "Words", "ENGLISH", "header_line", "MASK64"]


class Display:
    """How a process is to be shown: the options every formatter shares.

    ``range_low``/``range_high`` are -A's bounds (inclusive, 64-bit),
    ``name_method`` is Compat.name_escaping, ``shm_minor`` the device minor of
    SysV shared memory (None when unknown, as when pmap's probe fails), and
    ``find_shm_minor`` a function that finds it when a mapping first needs
    it (None: it is not to be looked for).  ``words`` are pmap's strings in
    the user's language (words.Words).  ``skip_partial_headers`` is
    Compat.skips_partial_headers (3.3's classic modes).
    """

    __slots__ = ("quiet", "show_path", "kernel_names", "range_low", "range_high",
                 "charset", "name_method", "shm_minor", "find_shm_minor", "words", "skip_partial_headers")

    def __init__(self, charset, name_method="mblen", quiet=False, show_path=False, kernel_names=False,
                 range_low=0, range_high=MASK64, shm_minor=None, find_shm_minor=None, words=None,
                 skip_partial_headers=False):
        self.charset = charset
        self.name_method = name_method
        self.skip_partial_headers = skip_partial_headers
        self.quiet = quiet
        self.show_path = show_path
        self.kernel_names = kernel_names
        self.range_low = range_low
        self.range_high = range_high
        self.shm_minor = shm_minor
        self.find_shm_minor = find_shm_minor
        self.words = ENGLISH if words is None else words


# --- pmap's words: the headings, labels and totals lines it prints, and the
# column widths it derives from them.  pmap takes each of these strings
# through gettext (nls_initialize() and _() in pmap.c), and measures its -x
# and -d columns with strlen() of the headings: a longer heading widens the
# column, in bytes.

# the widths pmap starts from, before a heading widens a column (64-bit)
_START_WIDTHS = {"Address": 16, "Kbytes": 7, "RSS": 7, "Dirty": 7, "Mode": 5, "Offset": 16, "Device": 9}
# which headings pmap right-justifies (justify_print's last argument)
_RIGHT = frozenset(("Kbytes", "RSS", "Dirty"))


class Words:
    """The strings of one run of pmap, in its language."""

    def __init__(self, translate=None):
        _ = translate if translate is not None else (lambda text: text)
        self.headings = {name: _(name.encode()) for name in
                         ("Address", "Offset", "Device", "Mapping", "Perm", "Inode", "Kbytes", "Mode", "RSS",
                          "Dirty")}
        self.anon = _(b"  [ anon ]")
        self.stack = _(b"  [ stack ]")
        self.total_format = _(b" total %16ldK\n")
        self.total_kb = _(b"total kB")
        self.device_format = _(b"mapped: %ldK    writeable/private: %ldK    shared: %ldK\n")
        # the -X table's complaints (its "ERROR: %s %s" is not translated)
        self.unknown_format = _(b"Unknown format in smaps file!")
        self.inconsistent_field = _(b"inconsistent detail field in smaps file, line:\n")

    def widths(self, columns, quiet=False):
        """The widths of -x's or -d's ``columns`` (heading names): pmap's
        starting widths, widened to each heading's length unless -q."""
        widths = []
        for name in columns:
            width = _START_WIDTHS[name]
            if not quiet:
                width = max(width, len(self.headings[name]))
            widths.append(width)
        return widths

    def heading(self, columns, widths):
        """The heading line of -x or -d (justify_print() of each, then the
        Mapping heading with puts())."""
        parts = []
        for name, width in zip(columns, widths):
            text = self.headings[name]
            parts.append(b"%*s " % (width, text) if name in _RIGHT else b"%-*s " % (width, text))
        return b"".join(parts) + self.headings["Mapping"] + b"\n"

    def total_line(self, mapped_kb):
        """The default listing's last line."""
        return _printf(self.total_format, b" total %16ldK\n", (mapped_kb,))

    def device_totals(self, mapped_kb, writeable_kb, shared_kb):
        """-d's last line."""
        return _printf(self.device_format, b"mapped: %ldK    writeable/private: %ldK    shared: %ldK\n",
                       (mapped_kb, writeable_kb, shared_kb))

    def extended_totals(self, widths, mapped_kb, rss_kb, dirty_kb):
        """-x's rule and totals lines."""
        address, kbytes, rss, dirty = widths[:4]
        rule = b"%-*s %*s %*s %*s \n" % (address, b"-" * 16, kbytes, b"-------", rss, b"-------", dirty, b"-------")
        return rule + b"%-*s %*d %*d %*d\n" % (address, self.total_kb, kbytes, mapped_kb, rss, rss_kb, dirty, dirty_kb)


def _printf(translated, english, arguments):
    """printf() of a translated format (language.printf)."""
    from ..language import printf

    return printf(translated, english, arguments)


ENGLISH = Words()


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
