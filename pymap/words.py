"""pmap's words: the headings, labels and totals lines it prints, and the
column widths it derives from them.

pmap takes each of these strings through gettext (nls_initialize() and
_() in pmap.c), and measures its -x and -d columns with strlen() of the
headings: a longer heading widens the column, in bytes.  ``Words`` holds
them for one run; ``translate`` is the catalog lookup (English when None).
"""

__all__ = ["Words", "ENGLISH"]

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
        return self.total_format % mapped_kb

    def device_totals(self, mapped_kb, writeable_kb, shared_kb):
        """-d's last line."""
        return self.device_format % (mapped_kb, writeable_kb, shared_kb)

    def extended_totals(self, widths, mapped_kb, rss_kb, dirty_kb):
        """-x's rule and totals lines."""
        address, kbytes, rss, dirty = widths[:4]
        rule = b"%-*s %*s %*s %*s \n" % (address, b"-" * 16, kbytes, b"-------", rss, b"-------", dirty, b"-------")
        return rule + b"%-*s %*d %*d %*d\n" % (address, self.total_kb, kbytes, mapped_kb, rss, rss_kb, dirty, dirty_kb)


ENGLISH = Words()
