"""pmap's -X, -XX and -c/-C table: one column per smaps field.

pmap reads smaps twice (once to measure, once to print) with fgets() into a
1024-byte buffer and sscanf() patterns (creading.scan_table_header,
scan_detail_line, scan_vmflags_line), and keeps its column list in a static
list shared by every PID of the run.  Its quirks follow from that design: a
later mapping with fewer fields shows the previous mapping's values, one
with more fields adds columns, widths never shrink between PIDs, and totals
carried over between PIDs before 4.0.4.

``render()`` replays those two passes over the whole file.  A large smaps
in the kernel's regular layout is read once, block by block, by
table_blocks.py's accelerator, which finds the same columns, widths and
totals; ``TableLayout`` then prints the table for both: the heading (and the
widening of the first columns to their heading words that follows it), the
rows, the footer.
"""

from ..creading import MASK64, c_string, digits_value, fgets_pieces, scan_detail_line, scan_table_header, \
    scan_vmflags_line
from ..errors import ProcessError
from . import OutputMode

__all__ = ["TableState", "TableLayout", "TableMode", "SmapsTableError", "render", "column_filter",
           "UNIMPORTANT", "integer_width"]

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


class _Piece:
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


def render(data, display, level, rc, state):
    """The -X (level 1), -XX (level 2+) or -c/-C (level 0, ``rc`` given)
    table of one process's smaps ``data``, as pmap prints it."""
    pieces = [_Piece(c_string(piece)) for piece in fgets_pieces(data)]
    words = display.words
    enabled = column_filter(level, rc)

    quiet = display.quiet
    columns = state.columns
    cursor = 0

    def next_piece():
        nonlocal cursor
        if cursor >= len(pieces):
            return None
        cursor += 1
        return pieces[cursor - 1]

    widths = [0, 0, 0, 0, 0]  # address, perms, offset, device, inode
    flags_width = 0
    has_vmflags = False
    flags = b""
    measuring = True
    layout = None
    rows = []

    piece = next_piece()
    while piece is not None:
        found = piece.mapping()
        if found.count < 6:
            raise SmapsTableError(words.unknown_format)
        # pmap drops the rest of a line longer than its buffer
        tail = piece.text
        while not tail.endswith(b"\n"):
            extra = next_piece()
            if extra is None or not extra.text:
                # pmap loops forever on an unterminated last line; stop instead
                raise SmapsTableError(words.unknown_format)
            tail = extra.text
        texts = (found.start, found.perms, found.offset, found.device, found.inode)
        in_range = True
        if state.range_limited:
            start, end = digits_value(found.start, 16), digits_value(found.end, 16)
            if ((end - 1) & MASK64) < display.range_low or display.range_high < start:
                in_range = False
        for index, text in enumerate(texts):
            widths[index] = max(widths[index], len(text))

        piece = next_piece()
        detail = piece.detail() if piece is not None else None
        column_index = 0
        while detail is not None:
            field, value_text = detail
            if enabled(field):
                if column_index == len(columns):
                    column = Column(field, 0 if quiet else len(field))
                    columns.append(column)
                else:
                    column = columns[column_index]
                    if column.name != field:
                        raise SmapsTableError(b"ERROR: %s %s" % (words.inconsistent_field, piece.text))
                column.value_text = value_text
                if measuring and in_range:
                    column.total = (column.total + digits_value(value_text)) & MASK64
                    if quiet:
                        column.width = max(column.width, len(value_text))
                column_index += 1
            piece = next_piece()
            detail = piece.detail() if piece is not None else None

        found_flags = piece.vmflags() if piece is not None else None
        if found_flags is not None:
            flags = found_flags[:-1] if found_flags.endswith(b" ") else found_flags
            flags_width = max(flags_width, len(flags))
            has_vmflags = True
            piece = next_piece()

        if measuring:
            if piece is None:
                measuring = False
                cursor = 0
                piece = next_piece()
                if not quiet:
                    for column in columns:
                        column.width = max(column.width, integer_width(column.total))
            continue

        if layout is None:
            layout = TableLayout(words, enabled, widths, columns, has_vmflags, flags_width, display.show_path)
            if not quiet:
                rows.append(layout.heading())
            row_format = layout.row_format()
        if in_range:
            rows.append(row_format % layout.row_values(texts, flags, found.name))

    if not quiet and columns:
        if layout is None:
            layout = TableLayout(words, enabled, widths, columns, has_vmflags, flags_width, display.show_path)
        rows.append(layout.footer())
        if state.per_pid_totals:
            for column in columns:
                column.total = 0
    return b"".join(rows)


class TableMode(OutputMode):
    """-X, -XX and -c/-C: smaps read once, block by block, when it is the
    kernel's regular text (table_blocks.render_blocks); otherwise, or when
    it is small, the whole file goes through pmap's replay."""

    def __init__(self, session):
        super().__init__(session)
        self.state = TableState(session.compat)
        invocation = session.invocation
        self.level = invocation.table_level
        self.rc = invocation.rc

    def show(self, process):
        from .table_blocks import Fallback, render_blocks

        session = self.session
        console = session.console
        display = session.display
        console.write(session.header(process))
        console.hold()  # nothing is printed while the file is read
        try:
            blocks = session.blocks(process, b"smaps")
            try:
                pieces = render_blocks(blocks, display, self.level, self.rc, self.state)
            except Fallback as fallback:
                blocks.close()
                data = fallback.data
                if data is None:  # read again, as pmap reads it twice anyway
                    data = session.read_map(process, b"smaps")
                pieces = [render(data, display, self.level, self.rc, self.state)]
        except SmapsTableError as error:
            from ..report import ReportError

            console.release()
            raise ReportError(error.message) from None
        except ProcessError as error:
            return session.unreadable(error)
        console.release()
        for piece in pieces:
            console.write(piece)
        return 0
