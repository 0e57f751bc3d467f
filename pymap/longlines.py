"""Maps and smaps files with lines too long for pmap's line buffer.

pmap's classic modes read lines with fgets() into a 1024-byte buffer, so a
line of 1023 bytes or more (a very long path) arrives in pieces, and each
continuation piece is parsed as a line of its own: sscanf() fills what it
can, the other fields keep the values of the line before (and the mode
buffer keeps pmap's own edits of it), and the piece itself is the "line"
the mapping name is taken from.  report.py takes this path only when a line
is that long; the usual path never pays for it.
"""

from .cstdlib import strtoul
from .model import Mapping, _add_field, SmapsFormatError

LINE_BUFFER = 1024
_SPACE = b" \t\n\v\f\r"
_UPPER = frozenset(range(ord("A"), ord("Z") + 1))


def has_long_line(data):
    """Whether fgets() with pmap's buffer would split some line of ``data``."""
    limit = LINE_BUFFER - 1
    start = 0
    while True:
        newline = data.find(b"\n", start)
        end = len(data) if newline < 0 else newline
        if end + 1 - start > limit:
            return True
        if newline < 0:
            return False
        start = newline + 1


def fgets_pieces(data):
    """The strings successive fgets(buffer, 1024) calls return, without newlines,
    each with whether it is the start of a line."""
    limit = LINE_BUFFER - 1
    position = 0
    at_line_start = True
    while position < len(data):
        newline = data.find(b"\n", position, position + limit)
        if newline >= 0:
            yield data[position:newline], at_line_start
            position = newline + 1
            at_line_start = True
        else:
            yield data[position:position + limit], at_line_start
            position += limit
            at_line_start = False


class _ScanState:
    """The variables pmap's sscanf() writes, kept from line to line."""

    def __init__(self):
        self.start = self.end = self.offset = self.major = self.minor = self.inode = 0
        self.perms = bytearray(32)  # char perms[32] = ""


def _skip_space(text, position):
    while position < len(text) and text[position] in _SPACE:
        position += 1
    return position


def _scan_number(text, position, base):
    """%lx / %x / %llu: (value, new position) or None when nothing converts."""
    position = _skip_space(text, position)
    value, used = strtoul(text[position:position + 64], base)
    if used == 0:
        return None
    return value, position + used


def _scan_line(text, state):
    """sscanf(text, "%lx-%lx %31s %llx %x:%x %llu", ...): assign fields in
    order until one fails, leaving the rest as they were."""
    scanned = _scan_number(text, 0, 16)
    if scanned is None:
        return
    state.start, position = scanned
    if text[position:position + 1] != b"-":
        return
    scanned = _scan_number(text, position + 1, 16)
    if scanned is None:
        return
    state.end, position = scanned
    position = _skip_space(text, position)
    word_end = position
    while word_end < len(text) and word_end - position < 31 and text[word_end] not in _SPACE:
        word_end += 1
    if word_end == position:
        return
    word = text[position:word_end]
    state.perms[:len(word) + 1] = word + b"\0"
    scanned = _scan_number(text, word_end, 16)
    if scanned is None:
        return
    state.offset, position = scanned
    scanned = _scan_number(text, position, 16)
    if scanned is None:
        return
    state.major, position = scanned
    if text[position:position + 1] != b":":
        return
    scanned = _scan_number(text, position + 1, 16)
    if scanned is None:
        return
    state.minor, position = scanned
    scanned = _scan_number(text, position, 10)
    if scanned is not None:
        state.inode = scanned[0]


def _name_of_whole_line(text):
    """The name field of a complete maps line (what follows the inode)."""
    parts = text.split(None, 5)
    return parts[5] if len(parts) == 6 else b""


def parse_pieces(data):
    """Mappings as pmap's classic modes see ``data`` (maps or smaps) piece by
    piece.  A continuation piece becomes a Mapping whose name is the whole
    piece; its other fields may be stale.  ``perms`` is pmap's 32-byte mode
    buffer, which formatters read as C does (up to its first NUL)."""
    state = _ScanState()
    mappings = []
    current = None
    for piece, at_line_start in fgets_pieces(data):
        if piece[:1] and piece[0] in _UPPER:
            if current is not None:
                try:
                    _add_field(current, piece)
                except SmapsFormatError:
                    pass  # pmap skips what does not scan as "Key: number"
            continue
        _scan_line(piece, state)
        perms = bytes(state.perms)
        name = _name_of_whole_line(piece) if at_line_start else piece
        current = Mapping(state.start, state.end, perms.rstrip(b"\0") if perms[4:].strip(b"\0") == b"" else perms,
                          state.offset, state.major, state.minor, state.inode, name)
        mappings.append(current)
        # pmap edits its mode buffer in place before printing it
        if state.perms[3] == ord("p"):
            state.perms[3] = ord("-")
        state.perms[4] = ord("-")
        state.perms[5] = 0
    return mappings
