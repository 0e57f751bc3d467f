"""pmap's -X, -XX and -c/-C table: one column per smaps field.

pmap reads smaps twice (once to measure, once to print) with fgets() into a
1024-byte buffer and sscanf() patterns (creading.scan_table_header,
scan_detail_line, scan_vmflags_line), and keeps its column list in a static
list shared by every PID of the run.  Its quirks follow from that design: a
later mapping with fewer fields shows the previous mapping's values, one
with more fields adds columns, widths never shrink between PIDs, and totals
carried over between PIDs before 4.0.4.

``Replay`` runs those two passes, each over the file as read for it (a
small file is read once for both).  A large smaps in the kernel's regular
layout goes through table_blocks.py's accelerator, which finds the same
columns, widths and totals from the same reading; ``TableLayout`` then
prints the table for both: the heading (and the widening of the first
columns to their heading words that follows it), the rows, the footer.
"""

from ..creading import MASK64, c_string, digits_value, fgets_pieces, scan_detail_line, scan_table_header, \
    scan_vmflags_line
from ..errors import ProcessError
from . import OutputMode

__all__ = ["TableState", "TableLayout", "TableMode", "SmapsTableError", "Replay", "render", "replay", "pieces_of",
           "column_filter", "UNIMPORTANT", "integer_width"]

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


# rows joined into one piece of output at a time
_ROWS_PER_PIECE = 512


class Replay:
    """pmap's two passes over smaps, as its loop runs them.

    ``measure(pieces)`` is the first pass (widths, totals, the column
    list), ``printing(pieces)`` the second, which yields the table's bytes
    a few hundred rows at a time.  Each pass reads the file anew, as pmap's
    fseek() to the start makes the kernel write it anew: the two may differ
    for a live process, and pmap's widths of the first columns and of
    VmFlags then grow between rows of the second pass, as here.  ``pieces``
    are _Piece objects of the file's fgets() pieces."""

    def __init__(self, display, level, rc, state):
        self.display = display
        self.words = display.words
        self.enabled = column_filter(level, rc)
        self.state = state
        self.widths = [0, 0, 0, 0, 0]  # address, perms, offset, device, inode
        self.flags_width = 0
        self.has_vmflags = False
        self.flags = b""
        self.widened = True  # since the row format was last made
        self.heading_done = False

    def _records(self, pieces, measuring):
        """Read each record of ``pieces`` as pmap does and yield (its first
        columns' texts, its name, whether it is in -A's range) once its
        fields and flags are read."""
        words = self.words
        enabled = self.enabled
        quiet = self.display.quiet
        state = self.state
        columns = state.columns
        widths = self.widths
        pieces = iter(pieces)
        piece = next(pieces, None)
        while piece is not None:
            found = piece.mapping()
            if found.count < 6:
                raise SmapsTableError(words.unknown_format)
            # pmap drops the rest of a line longer than its buffer
            tail = piece.text
            while not tail.endswith(b"\n"):
                extra = next(pieces, None)
                if extra is None or not extra.text:
                    # pmap loops forever on an unterminated last line; stop instead
                    raise SmapsTableError(words.unknown_format)
                tail = extra.text
            texts = (found.start, found.perms, found.offset, found.device, found.inode)
            in_range = True
            if state.range_limited:
                start, end = digits_value(found.start, 16), digits_value(found.end, 16)
                if ((end - 1) & MASK64) < self.display.range_low or self.display.range_high < start:
                    in_range = False
            for index, text in enumerate(texts):
                if len(text) > widths[index]:
                    widths[index] = len(text)
                    self.widened = True

            piece = next(pieces, None)
            detail = piece.detail() if piece is not None else None
            column_index = 0
            while detail is not None:
                field, value_text = detail
                if enabled(field):
                    if column_index == len(columns):
                        column = Column(field, 0 if quiet else len(field))
                        columns.append(column)
                        self.widened = True
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
                piece = next(pieces, None)
                detail = piece.detail() if piece is not None else None

            found_flags = piece.vmflags() if piece is not None else None
            if found_flags is not None:
                flags = self.flags = found_flags[:-1] if found_flags.endswith(b" ") else found_flags
                if len(flags) > self.flags_width or not self.has_vmflags:
                    self.flags_width = max(self.flags_width, len(flags))
                    self.has_vmflags = True
                    self.widened = True
                piece = next(pieces, None)
            yield texts, found.name, in_range

    def measure(self, pieces):
        """The first pass: nothing is printed."""
        for _ in self._records(pieces, True):
            pass
        if not self.display.quiet:
            for column in self.state.columns:
                column.width = max(column.width, integer_width(column.total))

    def layout(self):
        return TableLayout(self.words, self.enabled, self.widths, self.state.columns, self.has_vmflags,
                           self.flags_width, self.display.show_path)

    def resume(self, layout, heading_done):
        """Go on with the second pass where another reader of the same file
        stopped, with the widths of its ``layout`` (widened by the heading
        when it printed it); the columns hold the last row's values, and
        ``flags`` the last row's."""
        self.widths[:] = layout.widths
        self.flags_width = layout.flags_width
        self.has_vmflags = layout.has_vmflags
        self.heading_done = heading_done
        self.widened = True

    def printing(self, pieces):
        """The second pass: the heading, the rows, the footer, in pieces."""
        quiet = self.display.quiet
        out = []
        layout = row_format = None
        records = self._records(pieces, False)
        while True:
            try:
                texts, name, in_range = next(records)
            except StopIteration:
                break
            except SmapsTableError:  # pmap has printed the rows before it
                if out:
                    yield b"".join(out)
                raise
            if not self.heading_done:
                self.heading_done = True
                if not quiet:
                    layout = self.layout()
                    out.append(layout.heading())
                    # the heading words widen the first columns and VmFlags
                    self.widths[:] = layout.widths
                    self.flags_width = layout.flags_width
            if self.widened:
                self.widened = False
                layout = self.layout()
                row_format = layout.row_format()
            if in_range:
                out.append(row_format % layout.row_values(texts, self.flags, name))
                if len(out) >= _ROWS_PER_PIECE:
                    yield b"".join(out)
                    out = []
        columns = self.state.columns
        if not quiet and columns:
            out.append(self.layout().footer())
            if self.state.per_pid_totals:
                for column in columns:
                    column.total = 0
        if out:
            yield b"".join(out)


def pieces_of(data):
    """The _Piece objects of a file read whole (so each is scanned once
    for both passes)."""
    return [_Piece(c_string(piece)) for piece in fgets_pieces(data)]


def replay(first, second, display, level, rc, state):
    """The table's bytes in pieces from the file's _Piece objects as read
    for the ``first`` and the ``second`` pass (``second`` is read only once
    the first pass, which runs before this returns, is done)."""
    table = Replay(display, level, rc, state)
    table.measure(first)
    return table.printing(second)


def render(data, display, level, rc, state):
    """The -X (level 1), -XX (level 2+) or -c/-C (level 0, ``rc`` given)
    table of one process's smaps ``data``, as pmap prints it."""
    pieces = pieces_of(data)
    return b"".join(replay(pieces, pieces, display, level, rc, state))


class TableMode(OutputMode):
    """-X, -XX and -c/-C: smaps through table_blocks.render_blocks when it is
    the kernel's regular text; otherwise, or when it is small, through
    pmap's Replay, reading the file twice as pmap does (a small one once)."""

    def __init__(self, session):
        super().__init__(session)
        self.state = TableState(session.compat)
        invocation = session.invocation
        self.level = invocation.table_level
        self.rc = invocation.rc

    def _blocks(self, process, again=False):
        """smaps in line blocks; read ``again`` for the second pass, an
        error ends the file, as pmap's fgets() after its fseek() then
        returns NULL (the process exited between the passes)."""
        try:
            yield from self.session.blocks(process, b"smaps")
        except ProcessError:
            if not again:
                raise

    def _pieces(self, process, again=False):
        for block in self._blocks(process, again):
            for piece in fgets_pieces(block):
                yield _Piece(c_string(piece))

    def show(self, process):
        from .table_blocks import Fallback, render_blocks

        session = self.session
        console = session.console
        display = session.display
        arguments = (display, self.level, self.rc, self.state)
        console.write(session.header(process))
        console.hold()  # nothing is printed while pmap measures
        try:
            blocks = self._blocks(process)
            try:
                pieces = render_blocks(blocks, *arguments, reread=lambda: self._blocks(process, again=True))
            except Fallback as fallback:
                blocks.close()
                if fallback.data is not None:  # a small file, read once
                    whole = pieces_of(fallback.data)
                    pieces = replay(whole, whole, *arguments)
                else:
                    pieces = replay(self._pieces(process), self._pieces(process, again=True), *arguments)
        except SmapsTableError as error:
            console.release()
            raise _report_error(error) from None
        except ProcessError as error:
            return session.unreadable(error)
        console.release()
        try:
            for piece in pieces:
                console.write(piece)
        except SmapsTableError as error:  # the file changed between the passes
            raise _report_error(error) from None
        return 0


def _report_error(error):
    from ..report import ReportError

    return ReportError(error.message)
