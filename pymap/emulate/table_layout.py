"""What the -X/-XX/-c table's engine (table.py) and its accelerator
(table_fast.py) share: pmap's column list (Column, TableState), which
columns a table shows (column_filter), how a finished table is printed
(TableLayout), and fgets() pieces scanned once each (ScannedPiece)."""

from ..parse.c_rules import c_string, fgets_pieces, scan_detail_line, scan_table_header, scan_vmflags_line

__all__ = ["UNIMPORTANT", "VMFLAGS", "FIRST_COLUMNS", "SmapsTableError", "Column", "TableState", "integer_width",
           "column_filter", "TableLayout", "ScannedPiece", "pieces_of"]

# the columns -X leaves out (and the only ones it does)
UNIMPORTANT = frozenset((b"AnonHugePages", b"KernelPageSize", b"MMUPageSize", b"Shared_Dirty", b"Private_Dirty",
                         b"Shared_Clean", b"Private_Clean", b"VmFlags"))
VMFLAGS = b"VmFlags"  # not translated: a field of smaps
# the heading words of the first columns (Words.headings keys), in order
FIRST_COLUMNS = ("Address", "Perm", "Offset", "Device", "Inode")


class SmapsTableError(Exception):
    """A smaps file pmap gives up on: it prints ``message`` and exits 1."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message




class Column:
    """One field column: pmap's listnode (it outlives a single PID)."""

    __slots__ = ("name", "value_text", "total", "width")

    def __init__(self, name, width):
        self.name = name
        self.value_text = b""
        self.total = 0
        self.width = width


class TableState:
    """What pmap keeps between the PIDs of one run: the column list with its
    widths and (before 4.0.4) running totals."""

    def __init__(self, compat):
        self.per_pid_totals = compat.per_pid_totals
        self.range_limited = compat.range_limits_extended
        self.columns = []


def integer_width(number):
    return len(b"%d" % number)


def column_filter(level, rc):
    """Which heading words and fields a table shows: -X (level 1) leaves out
    UNIMPORTANT, -c/-C (level 0 with ``rc``) shows what the rc file names
    (pmap compares them with its headings as translated), -XX everything."""
    if level == 1:
        return lambda name: name not in UNIMPORTANT
    if level == 0 and rc is not None:
        return rc.fields.__contains__
    return lambda name: True


class TableLayout:
    """The widths of a finished table and how pmap prints it.

    ``widths`` are the first columns' (Address, Perm, Offset, Device,
    Inode; 0 for those not shown), ``columns`` the field Columns,
    ``flags_width`` the VmFlags column's (None when it is not shown)."""

    def __init__(self, words, enabled, widths, columns, has_vmflags, flags_width, show_path):
        self.words = words
        self.enabled = enabled
        self.headings = [words.headings[name] for name in FIRST_COLUMNS]
        self.shown = [True] + [enabled(heading) for heading in self.headings[1:]]
        self.widths = list(widths)
        self.columns = columns
        self.has_vmflags = has_vmflags
        self.shows_flags = has_vmflags and enabled(VMFLAGS)
        self.flags_width = flags_width
        self.shows_name = enabled(words.headings["Mapping"])
        self.show_path = show_path

    def heading(self):
        """The heading line, after which pmap widens the first columns (and
        VmFlags) to their heading words."""
        parts = [_justify(heading, width) for heading, width, shown in zip(self.headings, self.widths, self.shown)
                 if shown]
        for column in self.columns:
            parts.append(_justify(column.name, column.width) if column.width >= 1 else column.name + b"\n")
        if self.shows_flags:
            parts.append(_justify(VMFLAGS, self.flags_width))
        parts.append(self.words.headings["Mapping"] + b"\n" if self.shows_name else b"\n")
        for index, (heading, shown) in enumerate(zip(self.headings, self.shown)):
            if shown:
                self.widths[index] = max(self.widths[index], len(heading))
        if self.shows_flags:
            self.flags_width = max(self.flags_width, len(VMFLAGS))
        return b"".join(parts)

    def row_format(self):
        """A row as one format: the shown first columns, the field values,
        the flags, then the name (b"%s" conversions, widths written in)."""
        parts = [_padded(b"" if index == 0 else b" ", width)
                 for index, (width, shown) in enumerate(zip(self.widths, self.shown)) if shown]
        parts += [_padded(b" ", column.width) for column in self.columns]
        if self.shows_flags:
            parts.append(_padded(b" ", self.flags_width))
        if self.shows_name:
            parts.append(b" %s")
        return b"".join(parts) + b"\n"

    def row_values(self, texts, flags, name):
        """The values row_format() takes for one row of render()."""
        values = [text for text, shown in zip(texts, self.shown) if shown]
        values += [column.value_text for column in self.columns]
        if self.shows_flags:
            values.append(flags)
        if self.shows_name:
            values.append(name if self.show_path else name[name.rfind(b"/") + 1:])
        return tuple(values)

    def footer(self):
        gap = sum(width + 1 for width, shown in zip(self.widths, self.shown) if shown)
        indent = b" " * gap
        rule = b"".join(b"=" * column.width + b" " for column in self.columns)
        totals = b"".join(b"%*d " % (column.width, column.total) for column in self.columns)
        return indent + rule + b"\n" + indent + totals + b"KB \n"


def _justify(text, width):
    """pmap's justify_print(text, width, right=1) for width >= 1."""
    return b"%*s " % (width, text)


def _padded(separator, width):
    """The conversion of b"%*s" % (width, text) with its width written in."""
    return separator + (b"%%%ds" % width if width > 0 else b"%s")


class ScannedPiece:
    """One fgets() piece, as C sees it, with each of pmap's scans done at most once."""

    __slots__ = ("text", "_detail", "_flags", "_mapping")
    _UNSCANNED = object()

    def __init__(self, text):
        self.text = text
        self._detail = self._flags = self._mapping = self._UNSCANNED

    def detail(self):
        if self._detail is self._UNSCANNED:
            self._detail = scan_detail_line(self.text)
        return self._detail

    def vmflags(self):
        if self._flags is self._UNSCANNED:
            self._flags = scan_vmflags_line(self.text)
        return self._flags

    def mapping(self):
        if self._mapping is self._UNSCANNED:
            self._mapping = scan_table_header(self.text)
        return self._mapping


def pieces_of(data):
    """The ScannedPiece objects of a file read whole (so each is scanned once
    for both passes)."""
    return [ScannedPiece(c_string(piece)) for piece in fgets_pieces(data)]
