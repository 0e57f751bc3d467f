"""How pmap shows a process: the options its formats share (ViewOptions),
its strings in the user's language (PmapStrings), its header line."""

from ..parse.c_rules import MASK64

__all__ = ["ViewOptions", "PmapStrings", "ENGLISH", "header_line"]


class ViewOptions:
    """How a process is to be shown: the options pmap's formats share.

    ``range_low``/``range_high`` are -A's bounds (inclusive, 64-bit),
    ``name_method`` is Compat.name_escaping, ``sysv_minor`` a function that
    gives the device minor of SysV shared memory when a mapping first needs
    it (the source's: ProcRoot.sysv_minor; None when it is unknown, as when
    pmap's probe fails).  ``words`` are pmap's strings in the user's
    language (PmapStrings).  ``skip_partial_headers`` is
    Compat.skips_partial_headers (3.3's classic modes).
    """

    __slots__ = ("quiet", "show_path", "kernel_names", "range_low", "range_high",
                 "charset", "name_method", "sysv_minor", "words", "skip_partial_headers")

    def __init__(self, charset, name_method="mblen", quiet=False, show_path=False, kernel_names=False,
                 range_low=0, range_high=MASK64, sysv_minor=None, words=None, skip_partial_headers=False):
        self.charset = charset
        self.name_method = name_method
        self.skip_partial_headers = skip_partial_headers
        self.quiet = quiet
        self.show_path = show_path
        self.kernel_names = kernel_names
        self.range_low = range_low
        self.range_high = range_high
        self.sysv_minor = sysv_minor if sysv_minor is not None else _no_minor
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


class PmapStrings:
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


ENGLISH = PmapStrings()


def _no_minor():
    return None


def header_line(tgid, command_line):
    """pmap's first line for a process: "PID:   COMMAND LINE"."""
    return b"%d:   %s\n" % (tgid & 0xFFFFFFFF, command_line)  # printed with %u
