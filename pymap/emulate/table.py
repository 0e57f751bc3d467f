"""pmap's -X, -XX and -c/-C table: one column per smaps field.

pmap reads smaps twice (once to measure, once to print) with fgets() into a
1024-byte buffer and sscanf() patterns (c_rules.scan_table_header,
scan_detail_line, scan_vmflags_line), and keeps its column list in a static
list shared by every PID of the run.  Its quirks follow from that design: a
later mapping with fewer fields shows the previous mapping's values, one
with more fields adds columns, widths never shrink between PIDs, and totals
carried over between PIDs before 4.0.4.

``TwoPassTable`` runs those two passes, each over the file as read for it
(a small file is read once for both).  A large smaps in the kernel's
regular layout goes through table_fast.py's accelerator instead, which
finds the same columns, widths and totals from the same reading;
table_layout.TableLayout then prints the table for both: the heading (and
the widening of the first columns to their heading words that follows it),
the rows, the footer.
"""

from ..parse.c_rules import MASK64, digits_value
from .table_layout import Column, SmapsTableError, TableLayout, column_filter, integer_width, pieces_of

__all__ = ["TwoPassTable", "render", "replay"]

# rows joined into one piece of output at a time
_ROWS_PER_PIECE = 512


class TwoPassTable:
    """pmap's two passes over smaps, as its loop runs them.

    ``measure(pieces)`` is the first pass (widths, totals, the column
    list), ``printing(pieces)`` the second, which yields the table's bytes
    a few hundred rows at a time.  Each pass reads the file anew, as pmap's
    fseek() to the start makes the kernel write it anew: the two may differ
    for a live process, and pmap's widths of the first columns and of
    VmFlags then grow between rows of the second pass, as here.  ``pieces``
    are ScannedPiece objects of the file's fgets() pieces."""

    def __init__(self, view, level, rc, state):
        self.view = view
        self.words = view.words
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
        quiet = self.view.quiet
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
                if ((end - 1) & MASK64) < self.view.range_low or self.view.range_high < start:
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
        if not self.view.quiet:
            for column in self.state.columns:
                column.width = max(column.width, integer_width(column.total))

    def layout(self):
        return TableLayout(self.words, self.enabled, self.widths, self.state.columns, self.has_vmflags,
                           self.flags_width, self.view.show_path)

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
        quiet = self.view.quiet
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


def replay(first, second, view, level, rc, state):
    """The table's bytes in pieces from the file's ScannedPiece objects as read
    for the ``first`` and the ``second`` pass (``second`` is read only once
    the first pass, which runs before this returns, is done)."""
    table = TwoPassTable(view, level, rc, state)
    table.measure(first)
    return table.printing(second)


def render(data, view, level, rc, state):
    """The -X (level 1), -XX (level 2+) or -c/-C (level 0, ``rc`` given)
    table of one process's smaps ``data``, as pmap prints it."""
    pieces = pieces_of(data)
    return b"".join(replay(pieces, pieces, view, level, rc, state))
