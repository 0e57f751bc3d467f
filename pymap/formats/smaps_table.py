"""pmap's -X, -XX and -c/-C table: one column per smaps field.

pmap reads smaps twice (once to measure, once to print) with fgets() into a
1024-byte buffer and sscanf() patterns, and keeps its column list in a static
list shared by every PID of the run.  Its quirks follow from that design: a
later mapping with fewer fields shows the previous mapping's values, one
with more fields adds columns, widths never shrink between PIDs, and totals
carried over between PIDs before 4.0.4.  To print the same bytes, render()
splits the file once into pmap's fgets() pieces, scans each piece at most
once, then replays pmap's two passes over those pieces.  A large smaps in
the kernel's regular layout takes render_blocks() instead: one pass, block
by block, with the same result (see "the same table in one pass" below).
"""

MASK64 = (1 << 64) - 1
_FGETS_MAX = 1023  # fgets(mapbuf, 1024, f) keeps room for the NUL

# pmap's heading words (nls_* in pmap.c), as printed in the C locale
ADDRESS, PERM, OFFSET, DEVICE, INODE, MAPPING = b"Address", b"Perm", b"Offset", b"Device", b"Inode", b"Mapping"
VMFLAGS = b"VmFlags"

# the columns -X leaves out (and the only ones it does)
UNIMPORTANT = frozenset((b"AnonHugePages", b"KernelPageSize", b"MMUPageSize", b"Shared_Dirty", b"Private_Dirty",
                         b"Shared_Clean", b"Private_Clean", b"VmFlags"))

_SPACE = frozenset(b" \t\n\v\f\r")  # C isspace() in every locale pmap runs in
_HEX = frozenset(b"0123456789abcdef")
_DEVICE = _HEX | frozenset(b":")
_DIGITS = frozenset(b"0123456789")
_FLAG_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyz ")


class SmapsTableError(Exception):
    """A smaps file pmap gives up on: it prints ``message`` and exits 1."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


UNKNOWN_FORMAT = b"Unknown format in smaps file!"


class _Column:
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


# --- C scanning helpers ----------------------------------------------------

def _run(text, pos, allowed, limit):
    """End of the longest run (at most ``limit``) of ``allowed`` bytes at pos."""
    end = pos
    stop = min(len(text), pos + limit)
    while end < stop and text[end] in allowed:
        end += 1
    return end


def _skip_space(text, pos):
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    return pos


def _word_end(text, pos, limit):
    """End of a %s conversion of at most ``limit`` non-space bytes."""
    end = pos
    stop = min(len(text), pos + limit)
    while end < stop and text[end] not in _SPACE:
        end += 1
    return end


def scan_mapping_line(text):
    """sscanf(text, "%20[0-9a-f]-%20[0-9a-f] %31s %20[0-9a-f] %63[0-9a-f:]
    %20s %127[^\\n]") as pmap calls it: the list of converted strings (its
    length is sscanf's count, when that is not EOF)."""
    found = []
    pos = 0

    def hex_run(limit, allowed=_HEX):
        nonlocal pos
        end = _run(text, pos, allowed, limit)
        if end == pos:
            return False
        found.append(text[pos:end])
        pos = end
        return True

    def word(limit):
        nonlocal pos
        pos = _skip_space(text, pos)
        end = _word_end(text, pos, limit)
        if end == pos:
            return False
        found.append(text[pos:end])
        pos = end
        return True

    if not hex_run(20):
        return found
    if pos >= len(text) or text[pos] != 0x2D:  # '-'
        return found
    pos += 1
    if not hex_run(20):
        return found
    if not word(31):
        return found
    pos = _skip_space(text, pos)
    if not hex_run(20):
        return found
    pos = _skip_space(text, pos)
    if not hex_run(63, _DEVICE):
        return found
    if not word(20):
        return found
    pos = _skip_space(text, pos)
    end = pos
    while end < len(text) and end - pos < 127 and text[end] != 0x0A:
        end += 1
    if end > pos:
        found.append(text[pos:end])
    return found


def scan_detail_line(text):
    """(name, value text) when sscanf(text, "%31[^:]: %20[0-9] kB %c")
    returns 2 (pmap's test for a field line), else None.  THPeligible and
    ProtectionKey lines carry no "kB" and still count."""
    name_end = 0
    while name_end < len(text) and name_end < 31 and text[name_end] != 0x3A:  # ':'
        name_end += 1
    if name_end == 0 or name_end >= len(text) or text[name_end] != 0x3A:
        return None
    pos = _skip_space(text, name_end + 1)
    value_end = _run(text, pos, _DIGITS, 20)
    if value_end == pos:
        return None
    # a third conversion (" kB %c" followed by any byte) makes the count 3
    tail = _skip_space(text, value_end)
    if text[tail:tail + 2] == b"kB" and _skip_space(text, tail + 2) < len(text):
        return None
    return text[:name_end], text[pos:value_end]


def scan_vmflags_line(text):
    """The flags when sscanf(text, "VmFlags: %127[a-z ]") returns 1, else None."""
    if not text.startswith(b"VmFlags:"):
        return None
    pos = _skip_space(text, 8)
    end = _run(text, pos, _FLAG_CHARS, 127)
    if end == pos:
        return None
    return text[pos:end]


def c_ulong(digits):
    """sscanf("%lu") of a digit string: glibc saturates at ULONG_MAX."""
    return min(int(digits), MASK64)


def integer_width(number):
    return len(b"%d" % number)


def fgets_pieces(data):
    """The strings successive fgets(buf, 1024, f) calls see: at most 1023
    bytes, ending after a newline; each cut at its first NUL as C sees it."""
    pieces = []
    start = 0
    size = len(data)
    while start < size:
        newline = data.find(b"\n", start, start + _FGETS_MAX)
        end = newline + 1 if newline >= 0 else min(size, start + _FGETS_MAX)
        piece = data[start:end]
        nul = piece.find(b"\0")
        pieces.append(piece if nul < 0 else piece[:nul])
        start = end
    return pieces


class _Piece:
    """One fgets() piece with each of pmap's scans done at most once."""

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
            self._mapping = scan_mapping_line(self.text)
        return self._mapping


def _strtoul_hex(digits):
    return min(int(digits, 16), MASK64)


# --- the table ---------------------------------------------------------------

def column_filter(level, rc):
    """Which heading words and fields a table shows: -X (level 1) leaves out
    UNIMPORTANT, -c/-C (level 0 with ``rc``) shows what the rc file names,
    -XX everything."""
    if level == 1:
        return lambda name: name not in UNIMPORTANT
    if level == 0 and rc is not None:
        return rc.fields.__contains__
    return lambda name: True


def render(data, display, level, rc, state):
    """The -X (level 1), -XX (level 2+) or -c/-C (level 0, ``rc`` given)
    table of one process's smaps ``data``, as pmap prints it."""
    pieces = [_Piece(text) for text in fgets_pieces(data)]
    enabled = column_filter(level, rc)

    quiet = display.quiet
    columns = state.columns
    out = []
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
    header_due = True

    piece = next_piece()
    while piece is not None:
        found = piece.mapping()
        if len(found) < 6:
            raise SmapsTableError(UNKNOWN_FORMAT)
        # pmap drops the rest of a line longer than its buffer
        tail = piece.text
        while not tail.endswith(b"\n"):
            extra = next_piece()
            if extra is None or not extra.text:
                # pmap loops forever on an unterminated last line; stop instead
                raise SmapsTableError(UNKNOWN_FORMAT)
            tail = extra.text
        start, end, perms, offset, device, inode = found[:6]
        name = found[6] if len(found) > 6 else b""
        in_range = True
        if state.range_limited:
            if ((_strtoul_hex(end) - 1) & MASK64) < display.range_low or display.range_high < _strtoul_hex(start):
                in_range = False
        for index, text in enumerate((start, perms, offset, device, inode)):
            widths[index] = max(widths[index], len(text))

        piece = next_piece()
        detail = piece.detail() if piece is not None else None
        column_index = 0
        while detail is not None:
            field, value_text = detail
            if enabled(field):
                if column_index == len(columns):
                    column = _Column(field, 0 if quiet else len(field))
                    columns.append(column)
                else:
                    column = columns[column_index]
                    if column.name != field:
                        raise SmapsTableError(b"ERROR: inconsistent detail field in smaps file, line:\n "
                                              + piece.text)
                column.value_text = value_text
                if measuring and in_range:
                    column.total = (column.total + c_ulong(value_text)) & MASK64
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

        if header_due and not quiet:
            out.append(_header(widths, columns, has_vmflags, flags_width, enabled))
            widths[0] = max(widths[0], len(ADDRESS))
            for index, word in ((1, PERM), (2, OFFSET), (3, DEVICE), (4, INODE)):
                if enabled(word):
                    widths[index] = max(widths[index], len(word))
            if has_vmflags and enabled(VMFLAGS):
                flags_width = max(flags_width, len(VMFLAGS))
        header_due = False
        if in_range:
            out.append(_row(widths, columns, has_vmflags, flags_width, flags, name, display.show_path, enabled,
                            (start, perms, offset, device, inode)))

    if not quiet and columns:
        out.append(_footer(widths, columns, enabled))
        if state.per_pid_totals:
            for column in columns:
                column.total = 0
    return b"".join(out)


def _justify(text, width):
    """pmap's justify_print(text, width, right=1) for width >= 1."""
    return b"%*s " % (width, text)


def _header(widths, columns, has_vmflags, flags_width, enabled):
    parts = [_justify(ADDRESS, widths[0])]
    for index, word in ((1, PERM), (2, OFFSET), (3, DEVICE), (4, INODE)):
        if enabled(word):
            parts.append(_justify(word, widths[index]))
    for column in columns:
        parts.append(_justify(column.name, column.width) if column.width >= 1 else column.name + b"\n")
    if has_vmflags and enabled(VMFLAGS):
        parts.append(_justify(VMFLAGS, flags_width))
    parts.append(MAPPING + b"\n" if enabled(MAPPING) else b"\n")
    return b"".join(parts)


def _row(widths, columns, has_vmflags, flags_width, flags, name, show_path, enabled, texts):
    parts = [b"%*s" % (widths[0], texts[0])]
    for index, word in ((1, PERM), (2, OFFSET), (3, DEVICE), (4, INODE)):
        if enabled(word):
            parts.append(b" %*s" % (widths[index], texts[index]))
    for column in columns:
        parts.append(b" %*s" % (column.width, column.value_text))
    if has_vmflags and enabled(VMFLAGS):
        parts.append(b" %*s" % (flags_width, flags))
    if enabled(MAPPING):
        if not show_path:
            name = name[name.rfind(b"/") + 1:]
        parts.append(b" " + name)
    parts.append(b"\n")
    return b"".join(parts)


def _footer(widths, columns, enabled):
    gap = widths[0] + 1
    for index, word in ((1, PERM), (2, OFFSET), (3, DEVICE), (4, INODE)):
        if enabled(word):
            gap += widths[index] + 1
    indent = b" " * gap
    rule = b"".join(b"=" * column.width + b" " for column in columns)
    totals = b"".join(b"%*d " % (column.width, column.total) for column in columns)
    return indent + rule + b"\n" + indent + totals + b"KB \n"


# --- the same table in one pass ---------------------------------------------
#
# render() replays pmap's two passes over the whole file.  A large smaps is
# almost always the kernel's own regular text: records with the same field
# lines in the same order, every line far shorter than pmap's buffer.  For
# such a file the replay reduces to one column per field, so render_blocks()
# reads the file once, block by block, with one pattern per block that
# matches only what pmap's sscanf() calls read the same way.  Whatever does
# not match raises Fallback before the TableState was touched.

class Fallback(Exception):
    """Not a file for render_blocks(): ``data`` is the whole file when it was
    read to its end (a small one), else None and it must be read again."""

    def __init__(self, data=None):
        super().__init__("smaps is not for the one-pass table")
        self.data = data


# below this size the whole file goes to render(), which needs no pattern
ONE_PASS_MINIMUM = 1 << 16

# A header as scan_mapping_line() reads it, where every conversion stops at
# the byte the pattern says it stops at.  The shortest header it takes has
# 32 bytes before its first colon, so scan_detail_line() never reads it as a
# field line ("%31[^:]:" would); the kernel writes at least 8 hex digits for
# each address and the offset.  The name, up to 127 bytes to the end of the
# line for sscanf(), is limited so that the whole line stays far below
# pmap's 1023-byte buffer.
# (Possessive runs, "+", as in streamed._HEADER_CORE: each is followed by a
# byte it cannot take.)
_TABLE_HEADER_START = rb"(?m)^(?:([0-9a-f]{8,20}+)-[0-9a-f]{8,20}+"
# Perm, Offset, Device and Inode, each after one space
_TABLE_HEADER_WORDS = (rb"[^\s:]{4,31}+", rb"[0-9a-f]{8,20}+", rb"[0-9a-f:]{1,63}+", rb"[0-9]{1,20}+")
_NAME_TAIL = rb"(?:[ ]{1,300}+(?=\S[^\n]{0,126}\n)%s|[ ]{0,300}+)\n"
_NAME_CAPTURES = {
    "path": rb"([^\n]*)",
    "basename": rb"(?:[^\n]*/)?([^\n/]*)",
    "none": rb"[^\n]*",
}
# a field line scan_detail_line() reads as (name, digits), with the first
# record's ending (" kB" or nothing); at most 19 digits, so that c_ulong()
# never saturates
_FIELD_LINE = rb"%s:[ ]{0,40}+%s%s\n"
# the whole run scan_vmflags_line() reads (at most 127 bytes): its trailing
# space is dropped afterwards
_VMFLAGS_LINE = rb"VmFlags:[ ]{0,40}+%s\n"
_VMFLAGS_RUN = rb"[a-z][a-z ]{0,126}+"

_table_patterns = {}


def _first_record_layout(block):
    """(field names, their lines' endings, whether a VmFlags line ends the
    record) of the first record of ``block``, or None when it is not a plain
    kernel record."""
    from ..model import _is_header

    if not block[:1] or not _is_header(block):
        return None
    names = []
    endings = []
    position = block.find(b"\n") + 1
    while 0 < position < len(block):
        end = block.find(b"\n", position)
        if end < 0:
            return None
        line = block[position:end]
        if _is_header(line):
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


def _table_pattern(layout, endings, has_vmflags, enabled, show_path):
    """The compiled pattern of one whole record, capturing the start and
    the shown heading words, field values and flags, and the name, in the
    order the pattern meets them."""
    fields = tuple(enabled(name) for name in layout)
    words = tuple(enabled(word) for word in (PERM, OFFSET, DEVICE, INODE, VMFLAGS, MAPPING))
    key = (layout, endings, has_vmflags, fields, words, show_path)
    pattern = _table_patterns.get(key)
    if pattern is None:
        import re

        parts = [_TABLE_HEADER_START]
        for shown, word in zip(words[:4], _TABLE_HEADER_WORDS):
            parts.append(b" (%s)" % word if shown else b" " + word)
        parts.append(_NAME_TAIL % _NAME_CAPTURES["none" if not words[5] else "path" if show_path else "basename"])
        for field, ending, shown in zip(layout, endings, fields):
            parts.append(_FIELD_LINE % (re.escape(field), rb"([0-9]{1,19}+)" if shown else rb"[0-9]{1,19}+",
                                        re.escape(ending)))
        if has_vmflags:
            parts.append(_VMFLAGS_LINE % (b"(%s)" % _VMFLAGS_RUN if words[4] else _VMFLAGS_RUN))
        # and any other line, captured, as in streamed._record_pattern
        pattern = _table_patterns[key] = re.compile(b"".join(parts) + rb"|([^\n]*\n))")
    return pattern


def render_blocks(blocks, display, level, rc, state):
    """render()'s bytes, as an iterator of pieces, from the line blocks of a
    smaps file read once; Fallback when the file is not the kernel's
    regular text (or is small), with ``state`` untouched."""
    from collections import Counter
    from itertools import chain

    from .streamed import _coalesced, _last_header, starts_record

    if state.range_limited and not (display.range_low == 0 and display.range_high == MASK64):
        raise Fallback
    blocks = _coalesced(blocks)
    first = next(blocks, b"")
    if len(first) < ONE_PASS_MINIMUM:
        raise Fallback(first + b"".join(blocks))
    found_layout = _first_record_layout(first)
    if found_layout is None:
        raise Fallback
    layout, endings, has_vmflags = found_layout
    enabled = column_filter(level, rc)
    show_path = display.show_path
    quiet = display.quiet
    pattern = _table_pattern(layout, endings, has_vmflags, enabled, show_path)
    names = [name for name in layout if enabled(name)]
    if state.columns and [column.name for column in state.columns] != names:
        raise Fallback  # render() knows what pmap does with another layout
    words = [word for word in (PERM, OFFSET, DEVICE, INODE) if enabled(word)]
    shows_flags = has_vmflags and enabled(VMFLAGS)
    shows_name = enabled(MAPPING)
    # the captures, in the pattern's order: start, words, name, values, flags
    values_at = 1 + len(words) + shows_name
    text_columns = list(range(1 + len(words)))  # whose widths pmap measures
    flags_at = values_at + len(names)
    if shows_flags:
        text_columns.append(flags_at)
    text_widths = [0] * len(text_columns)
    totals = [0] * len(names)
    value_widths = [0] * len(names)
    stored = []
    # printed order: start, words, values, flags, name
    order = list(range(1 + len(words))) + list(range(values_at, values_at + len(names) + shows_flags))
    if shows_name:
        order.append(values_at - 1)

    def take(segment, end):
        """The records of segment[:end], which must be whole ones only."""
        columns = list(zip(*pattern.findall(segment, 0, end)))
        strays = columns.pop() if columns else (None,)
        if strays.count(b"") != len(strays):
            raise Fallback
        for index in range(len(names)):
            values = columns[values_at + index]
            if values.count(b"0") == len(values):  # the usual column: one shared b"0"
                width = 1
            else:
                counts = Counter(values)
                totals[index] += sum(int(text) * count for text, count in counts.items())
                width = max(map(len, counts))
            value_widths[index] = max(value_widths[index], width)
        if shows_flags:
            runs = columns[flags_at]
            shown = {run: run[:-1] if run.endswith(b" ") else run for run in set(runs)}
            columns[flags_at] = tuple(map(shown.__getitem__, runs))
        for index, column in enumerate(text_columns):
            texts = columns[column]
            text_widths[index] = max(text_widths[index], max(map(len, texts)))
            if index:  # few distinct words: keep one copy of each
                shared = {text: text for text in set(texts)}
                columns[column] = tuple(map(shared.__getitem__, texts))
        stored.append([columns[index] for index in order])

    # a block is taken once the next one shows whether its last record is
    # whole, as in streamed._ExtendedListing.feed
    held = None
    for block in chain((first,), blocks):
        if b"\0" in block:
            raise Fallback
        if held is not None:
            if starts_record(block):
                take(held, len(held))
            else:
                last = _last_header(held, 0)
                if last:
                    take(held, last)
                block = held[last:] + block
        held = block
    if not held.endswith(b"\n"):
        raise Fallback
    take(held, len(held))

    # what render() leaves behind after its measuring pass
    columns = state.columns
    if not columns:
        columns.extend(_Column(name, 0 if quiet else len(name)) for name in names)
    last_values = [values[-1] for values in stored[-1][1 + len(words):1 + len(words) + len(names)]]
    for column, total, width, value_text in zip(columns, totals, value_widths, last_values):
        column.value_text = value_text  # what a later PID with fewer fields shows
        column.total = (column.total + total) & MASK64
        column.width = max(column.width, width if quiet else integer_width(column.total))
    widths = [0] * 5
    for word, width in zip([ADDRESS] + words, text_widths):
        widths[(ADDRESS, PERM, OFFSET, DEVICE, INODE).index(word)] = width
    flags_width = text_widths[-1] if shows_flags else 0

    heading = None
    if not quiet:
        heading = _header(widths, columns, has_vmflags, flags_width, enabled)
        widths[0] = max(widths[0], len(ADDRESS))
        for index, word in ((1, PERM), (2, OFFSET), (3, DEVICE), (4, INODE)):
            if enabled(word):
                widths[index] = max(widths[index], len(word))
        if shows_flags:
            flags_width = max(flags_width, len(VMFLAGS))
    row = [_padded(b"", widths[0])]
    row += [_padded(b" ", widths[(ADDRESS, PERM, OFFSET, DEVICE, INODE).index(word)]) for word in words]
    row += [_padded(b" ", column.width) for column in columns]
    if shows_flags:
        row.append(_padded(b" ", flags_width))
    if shows_name:
        row.append(b" %s")
    row = b"".join(row) + b"\n"
    footer = None
    if not quiet and columns:
        footer = _footer(widths, columns, enabled)
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


def _padded(separator, width):
    """The conversion of b"%*s" % (width, text) with its width written in."""
    return separator + (b"%%%ds" % width if width > 0 else b"%s")
