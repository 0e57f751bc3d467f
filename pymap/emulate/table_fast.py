"""Accelerator of table.py's engine: the -X/-XX/-c table of a large smaps
in one pass.

The engine (table.TwoPassTable) replays pmap's two passes over the whole
file.  A large smaps is
almost always the kernel's own regular text: records with the same field
lines in the same order, every line far shorter than pmap's buffer.  For
such a file the replay reduces to one column per field, so render_blocks()
reads the file once, block by block, with one pattern per record layout
that matches only what pmap's sscanf() calls (c_rules.scan_table_header,
scan_detail_line, scan_vmflags_line) read the same way; it measures the
same widths and totals, leaves the TableState as the engine would, and
prints through the same TableLayout.  Whatever does not match raises
Declined before the TableState was touched.  When a file read again for
its second pass stops matching, the rest goes to an engine the caller
gives (``engine()``), from where this stopped.
"""

from collections import Counter
from itertools import chain

from ..parse.c_rules import MASK64, c_string, fgets_pieces, is_field_line, record_segments
from .table_layout import FIRST_COLUMNS, VMFLAGS, Column, ScannedPiece, TableLayout, column_filter, integer_width

__all__ = ["render_blocks", "Declined", "ONE_PASS_MINIMUM", "STORE_LIMIT"]


class Declined(Exception):
    """Not a file for render_blocks(): ``data`` is the whole file when it was
    read to its end (a small one), else None and it must be read again."""

    def __init__(self, data=None):
        super().__init__("smaps is not for the one-pass table")
        self.data = data


# below this size the whole file goes to render(), which needs no pattern
ONE_PASS_MINIMUM = 1 << 16
# records whose printed columns are kept between the passes (about 400
# bytes each with -XX); a larger file is read again, as pmap reads it
STORE_LIMIT = 32768

# A header as scan_table_header() reads it, where every conversion stops at
# the byte the pattern says it stops at.  The shortest header it takes has
# 32 bytes before its first colon, so scan_detail_line() never reads it as a
# field line ("%31[^:]:" would); the kernel writes at least 8 hex digits for
# each address and the offset.  The name, up to 127 bytes to the end of the
# line for sscanf(), is limited so that the whole line stays far below
# pmap's 1023-byte buffer.  (Each run is followed by a byte it cannot take,
# so no run backtracks far; no possessive "+", see listing_blocks.)
_HEADER_START = rb"(?m)^(?:([0-9a-f]{8,20})-[0-9a-f]{8,20}"
# Perm, Offset, Device and Inode, each after one space
_HEADER_WORDS = (rb"[^\s:]{4,31}", rb"[0-9a-f]{8,20}", rb"[0-9a-f:]{1,63}", rb"[0-9]{1,20}")
_NAME_TAIL = rb"(?:[ ]{1,300}(?=\S[^\n]{0,126}\n)%s|[ ]{0,300})\n"
_NAME_CAPTURES = {
    "path": rb"([^\n]*)",
    "basename": rb"(?:[^\n]*/)?([^\n/]*)",
    "none": rb"[^\n]*",
}
# a field line scan_detail_line() reads as (name, digits), with the first
# record's ending (" kB" or nothing); at most 19 digits, so that the value
# never saturates
_FIELD_LINE = rb"%s:[ ]{0,40}%s%s\n"
# the whole run scan_vmflags_line() reads (at most 127 bytes): its trailing
# space is dropped afterwards
_VMFLAGS_LINE = rb"VmFlags:[ ]{0,40}%s\n"
_VMFLAGS_RUN = rb"[a-z][a-z ]{0,126}"
# and any other line, captured (a record leaves the group empty), so that
# findall() meets every line and a stray one shows
_STRAY = rb"|([^\n]*\n))"

_patterns = {}


def _first_record_layout(block):
    """(field names, their lines' endings, whether a VmFlags line ends the
    record) of the first record of ``block``, or None when it is not a plain
    kernel record."""
    if not block[:1] or is_field_line(block):
        return None
    names = []
    endings = []
    position = block.find(b"\n") + 1
    while 0 < position < len(block):
        end = block.find(b"\n", position)
        if end < 0:
            return None
        line = block[position:end]
        if not is_field_line(line):
            return tuple(names), tuple(endings), False
        name, colon, _ = line.partition(b":")
        if not colon or len(name) > 31:
            return None
        if name == VMFLAGS:
            return tuple(names), tuple(endings), True
        names.append(name)
        endings.append(b" kB" if line.endswith(b" kB") else b"")
        position = end + 1
    return None


def _pattern(layout, endings, has_vmflags, fields, words, show_path):
    """The compiled pattern of one whole record, capturing the start and
    the shown heading words, field values and flags, and the name, in the
    order the pattern meets them."""
    key = (layout, endings, has_vmflags, fields, words, show_path)
    pattern = _patterns.get(key)
    if pattern is None:
        import re

        parts = [_HEADER_START]
        for shown, word in zip(words[:4], _HEADER_WORDS):
            parts.append(b" (%s)" % word if shown else b" " + word)
        parts.append(_NAME_TAIL % _NAME_CAPTURES["none" if not words[5] else "path" if show_path else "basename"])
        for field, ending, shown in zip(layout, endings, fields):
            parts.append(_FIELD_LINE % (re.escape(field), rb"([0-9]{1,19})" if shown else rb"[0-9]{1,19}",
                                        re.escape(ending)))
        if has_vmflags:
            parts.append(_VMFLAGS_LINE % (b"(%s)" % _VMFLAGS_RUN if words[4] else _VMFLAGS_RUN))
        pattern = _patterns[key] = re.compile(b"".join(parts) + _STRAY)
    return pattern


class _Records:
    """The pattern of one record layout and where its captures land."""

    def __init__(self, pattern, names, shown_words, has_vmflags):
        self.pattern = pattern
        self.field_count = len(names)
        self.word_count = sum(shown_words[:4])
        self.shows_flags = has_vmflags and shown_words[4]
        shows_name = shown_words[5]
        # the captures, in the pattern's order: start, words, name, values, flags
        self.values_at = 1 + self.word_count + shows_name
        self.text_columns = list(range(1 + self.word_count))  # whose widths pmap measures
        self.flags_at = self.values_at + self.field_count
        if self.shows_flags:
            self.text_columns.append(self.flags_at)
        # printed order: start, words, values, flags, name
        self.order = list(range(1 + self.word_count)) + list(
            range(self.values_at, self.values_at + self.field_count + self.shows_flags))
        if shows_name:
            self.order.append(self.values_at - 1)

    def columns(self, segment, end):
        """The printed columns of the records of segment[:end] in printed
        order (words and flags shared, flags without their trailing
        space), or None when it is not whole records of this layout."""
        if segment[end - 1:end] != b"\n" or segment.find(b"\0", 0, end) >= 0:
            return None
        columns = list(zip(*self.pattern.findall(segment, 0, end)))
        strays = columns.pop() if columns else (None,)
        if strays.count(b"") != len(strays):
            return None
        if self.shows_flags:
            runs = columns[self.flags_at]
            shown = {run: run[:-1] if run.endswith(b" ") else run for run in set(runs)}
            columns[self.flags_at] = tuple(map(shown.__getitem__, runs))
        for index in self.text_columns[1:]:  # few distinct words: keep one copy of each
            texts = columns[index]
            shared = {text: text for text in set(texts)}
            columns[index] = tuple(map(shared.__getitem__, texts))
        return [columns[index] for index in self.order]

    def text_widths(self, printed):
        """The widths of the measured texts (first columns, flags) of printed columns."""
        texts = printed[:1 + self.word_count]
        if self.shows_flags:
            texts.append(printed[1 + self.word_count + self.field_count])
        return [max(map(len, column)) for column in texts]

    def values(self, printed):
        return printed[1 + self.word_count:1 + self.word_count + self.field_count]

    def last_flags(self, printed):
        return printed[1 + self.word_count + self.field_count][-1] if self.shows_flags else b""


def render_blocks(blocks, view, level, rc, state, reread=None, engine=None):
    """The table's bytes (as the engine prints them), as an iterator of
    pieces, from the line blocks of a smaps file; Declined when the file is
    not the kernel's regular text (or is small), with ``state`` untouched.

    The printed columns of up to STORE_LIMIT records are kept between the
    measuring and the printing; a larger file is read again with
    ``reread()`` (new line blocks of the file) when it is given, as pmap
    reads it twice: what then does not match, or would widen a column as
    pmap widens it while it prints, is printed by ``engine()`` (a new
    table.TwoPassTable) from there."""
    if state.range_limited and not (view.range_low == 0 and view.range_high == MASK64):
        raise Declined
    # the first block, joined with the next ones until it holds the first
    # record whole (and ONE_PASS_MINIMUM bytes); a file that ends first is
    # small and goes to render() whole
    parts = []
    size = 0
    for block in blocks:
        parts.append(block)
        size += len(block)
        if size >= ONE_PASS_MINIMUM:
            first = b"".join(parts)
            parts = [first]
            found_layout = _first_record_layout(first)
            if found_layout is not None:
                break
            if not is_field_line(first[:1]) and first.count(b"\n") > 64:
                raise Declined  # no plain kernel record within 64 lines
    else:
        raise Declined(b"".join(parts))
    layout, endings, has_vmflags = found_layout
    words = view.words
    enabled = column_filter(level, rc)
    headings = [words.headings[name] for name in FIRST_COLUMNS]
    shown_words = tuple(enabled(heading) for heading in headings[1:]) + (
        enabled(VMFLAGS), enabled(words.headings["Mapping"]))
    pattern = _pattern(layout, endings, has_vmflags, tuple(enabled(name) for name in layout), shown_words,
                       view.show_path)
    names = [name for name in layout if enabled(name)]
    if state.columns and [column.name for column in state.columns] != names:
        raise Declined  # render() knows what pmap does with another layout
    records = _Records(pattern, names, shown_words, has_vmflags)

    text_widths = [0] * len(records.text_columns)
    totals = [0] * len(names)
    value_widths = [0] * len(names)
    stored = []
    kept = 0
    printed = None
    for segment, end in record_segments(chain((first,), blocks)):
        printed = records.columns(segment, end)
        if printed is None:
            raise Declined
        for index, values in enumerate(records.values(printed)):
            if values.count(b"0") == len(values):  # the usual column: one shared b"0"
                width = 1
            else:
                counts = Counter(values)
                totals[index] += sum(int(text) * count for text, count in counts.items())
                width = max(map(len, counts))
            value_widths[index] = max(value_widths[index], width)
        text_widths = list(map(max, text_widths, records.text_widths(printed)))
        if stored is not None:
            stored.append(printed)
            kept += len(printed[0])
            if reread is not None and kept > STORE_LIMIT:
                stored = None  # read again to print

    # what render() leaves behind after its measuring pass
    columns = state.columns
    quiet = view.quiet
    if not columns:
        columns.extend(Column(name, 0 if quiet else len(name)) for name in names)
    for column, total, width, values in zip(columns, totals, value_widths, records.values(printed)):
        column.value_text = values[-1]  # what a later PID with fewer fields shows
        column.total = (column.total + total) & MASK64
        column.width = max(column.width, width if quiet else integer_width(column.total))
    widths = [0] * 5
    shown_first = [0] + [index + 1 for index, shown in enumerate(shown_words[:4]) if shown]
    for index, width in zip(shown_first, text_widths):
        widths[index] = width
    flags_width = text_widths[-1] if records.shows_flags else 0

    table = TableLayout(words, enabled, widths, columns, has_vmflags, flags_width, view.show_path)
    if stored is None:
        replay = engine()
        replay.flags = records.last_flags(printed)  # pmap's buffer keeps them into its second pass
        return _second_pass(table, quiet, records, reread, replay)
    heading = None if quiet else table.heading()
    row = table.row_format()
    footer = None
    if not quiet and columns:
        footer = table.footer()
        if state.per_pid_totals:
            for column in columns:
                column.total = 0
    return _pieces(heading, row, stored, footer)


def _pieces(heading, row, stored, footer):
    """The table's bytes a block at a time, each block's columns let go of
    as soon as its rows are made."""
    if heading is not None:
        yield heading
    stored.reverse()
    while stored:
        yield b"".join(map(row.__mod__, zip(*stored.pop())))
    if footer is not None:
        yield footer


def _second_pass(table, quiet, records, reread, replay):
    """The table's bytes from a second reading of the file, the rows of a
    segment at a time; from the first segment that does not match or would
    widen a measured column, the engine prints the rest (and the footer).
    As in pmap, the heading comes with the first row of this reading."""
    heading_done = False
    segments = record_segments(reread())
    for segment, end in segments:
        printed = records.columns(segment, end)
        limits = [width for width, shown in zip(table.widths, table.shown) if shown]
        if records.shows_flags:
            limits.append(table.flags_width)
        if printed is None or any(map(int.__gt__, records.text_widths(printed), limits)):
            replay.resume(table, heading_done)
            rest = chain(((segment, end),), segments)
            yield from replay.printing(ScannedPiece(c_string(piece)) for part, part_end in rest
                                       for piece in fgets_pieces(part[:part_end]))
            return
        if not heading_done:
            heading_done = True
            if not quiet:
                yield table.heading()
            row = table.row_format()
        yield b"".join(map(row.__mod__, zip(*printed)))
        for column, values in zip(table.columns, records.values(printed)):
            column.value_text = values[-1]
        replay.flags = records.last_flags(printed)
    # the file as read again ends here (or the process did): the footer
    replay.resume(table, heading_done)
    yield from replay.printing(())
