"""pmap's C reading rules, in one place.

pmap reads /proc/PID/maps and smaps with fgets() into one 1024-byte buffer
and takes lines apart with sscanf(); procps reads numbers with strtoul() and
atoi().  What pmap prints for odd input (a line longer than the buffer, a
name that later lines overwrite, "Rss: -3 kB", a 30-digit number) follows
from these functions, so every reader in pymap goes through this module:

* ``fgets_pieces`` and ``LineBuffer``: the pieces successive fgets() calls
  return and what stays in the buffer after each;
* ``is_field_line``: pmap's test that tells an smaps field line ("Rss: ...",
  it starts with A-Z) from a mapping's header line;
* the sscanf() patterns pmap uses, each a function that returns what sscanf
  assigns (and how many conversions succeeded): ``scan_maps_header``,
  ``scan_key_value``, ``scan_table_header``, ``scan_detail_line``,
  ``scan_vmflags_line``, ``scan_stat_fields``;
* ``strtoul`` and ``atoi``.

Numbers follow glibc: optional white space and sign, a "0x" prefix for
hexadecimal conversions, saturation at ULONG_MAX (a minus sign negates
modulo 2**64), truncation for conversions into a 32-bit int, and no limit
on the number of digits (Python's int() would refuse 4,300 of them).
tests/test_c_rules.py checks each function against the C library itself.
"""

__all__ = ["LINE_BUFFER", "PIECE_MAX", "ULONG_MAX", "MASK64", "UINT_MAX", "EOF", "fgets_pieces", "LineBuffer",
           "c_string", "is_field_line", "scan_maps_header", "field_key", "scan_field_value", "scan_key_value", "scan_table_header",
           "scan_detail_line", "scan_vmflags_line", "scan_stat_fields", "strtoul", "atoi", "digits_value",
           "TableHeader", "MapsHeader", "scan_int"]

from ..source import PIECE_MAX, is_field_line  # (the source reads lines as pmap's fgets() cuts them)

LINE_BUFFER = PIECE_MAX + 1  # char mapbuf[1024]: fgets() keeps room for the NUL
ULONG_MAX = MASK64 = (1 << 64) - 1
UINT_MAX = (1 << 32) - 1
LONG_MAX = (1 << 63) - 1
EOF = -1  # what sscanf() returns when the input ends before the first conversion

_SPACE = frozenset(b" \t\n\v\f\r")  # isspace() in the C locale (and in UTF-8 ones, for bytes)
_DIGIT_VALUE = [99] * 256
for _index in range(10):
    _DIGIT_VALUE[48 + _index] = _index
for _index in range(26):
    _DIGIT_VALUE[97 + _index] = _DIGIT_VALUE[65 + _index] = 10 + _index
_LOWER_HEX = frozenset(b"0123456789abcdef")
_DEVICE_CHARS = _LOWER_HEX | frozenset(b":")
_DECIMAL = frozenset(b"0123456789")
_FLAG_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyz ")
_MAX_DIGITS = {8: 22, 10: 20, 16: 16}  # more significant digits than this overflow 64 bits


# --- fgets() and the line buffer ---------------------------------------------------

def fgets_pieces(data, limit=PIECE_MAX):
    """The strings successive fgets(buffer, limit + 1, file) calls return
    for a file holding ``data`` (a list): each at most ``limit`` bytes and
    ending after a newline where one comes soon enough.  NUL bytes are kept
    (fgets copies them; C string functions then stop at the first)."""
    lines = data.split(b"\n")
    last = lines.pop()  # what follows the last newline
    if len(last) <= limit and (not lines or max(map(len, lines)) < limit):
        pieces = [line + b"\n" for line in lines]  # every line fits the buffer: a piece each
        if last:
            pieces.append(last)
        return pieces
    return list(_fgets_pieces(data, limit))


def _fgets_pieces(data, limit):
    start = 0
    size = len(data)
    find = data.find
    while start < size:
        newline = find(b"\n", start, start + limit)
        end = newline + 1 if newline >= 0 else min(size, start + limit)
        yield data[start:end]
        start = end


def c_string(piece):
    """``piece`` as C string functions see it: up to its first NUL."""
    nul = piece.find(b"\0")
    return piece if nul < 0 else piece[:nul]


class LineBuffer:
    """pmap's ``char mapbuf[1024]``: fgets() writes each piece and a NUL at
    its start and leaves the rest as it was, so a pointer into the buffer
    taken for one line may show bytes of later lines."""

    __slots__ = ("data",)

    def __init__(self):
        self.data = bytearray(LINE_BUFFER)

    def load(self, piece):
        """fgets() has read ``piece`` (at most PIECE_MAX bytes)."""
        size = len(piece)
        self.data[:size] = piece
        self.data[size] = 0

    def string_at(self, offset):
        """The C string that starts at ``offset``."""
        data = self.data
        end = data.find(0, offset)
        return bytes(data[offset:end if end >= 0 else LINE_BUFFER])


def _starts_record(block):
    """Whether ``block`` starts with a header line, so that what came before
    it ended with a whole record (an empty line would not end one)."""
    return block[:1] not in (b"", b"\n") and not is_field_line(block)


def last_record_start(block):
    """Where the last header line of ``block`` after its first line starts
    (0 when there is none)."""
    end = len(block) - 1 if block.endswith(b"\n") else len(block)
    while True:
        start = block.rfind(b"\n", 0, end) + 1
        if start <= 0:
            return 0
        if start < end and not is_field_line(block[start:start + 1]):
            return start
        end = start - 1


# a run of blocks without a record's start is given on at this size (no
# kernel record is near it)
SEGMENT_LIMIT = 1 << 20


def record_segments(blocks):
    """(segment, end) pairs whose segment[:end] follow each other through a
    smaps file given in line blocks: whole records where the blocks allow
    it (a block is given on once the next one shows whether its last record
    is whole, a run longer than SEGMENT_LIMIT without a record's start as it
    is), then what is left at the end.  Readers check what they take."""
    held = None
    for block in blocks:
        if held is not None:
            if _starts_record(block) or len(held) > SEGMENT_LIMIT:
                yield held, len(held)
            else:
                last = last_record_start(held)
                if last:
                    yield held, last
                block = held[last:] + block
        held = block
    if held:
        yield held, len(held)


# --- numbers ----------------------------------------------------------------------

def digits_value(digits, base=10):
    """The value of a run of digits of ``base``, saturated at ULONG_MAX, with
    no limit on how many there are."""
    value = _magnitude(digits, base)
    return ULONG_MAX if value is None else value


def _magnitude(digits, base):
    """The value of a run of digits, or None when it overflows 64 bits."""
    significant = digits.lstrip(b"0")
    if len(significant) > _MAX_DIGITS[base]:
        return None
    if not significant:
        return 0
    value = int(significant, base)
    return None if value > ULONG_MAX else value


def _unsigned(digits, base, negative):
    """strtoul()'s result for a run of digits after an optional sign:
    overflow saturates (and ignores the sign), a minus sign negates modulo
    2**64."""
    value = _magnitude(digits, base)
    if value is None:
        return ULONG_MAX
    return -value & ULONG_MAX if negative else value


def _digit_run(text, position, base):
    end = position
    size = len(text)
    values = _DIGIT_VALUE
    while end < size and values[text[end]] < base:
        end += 1
    return end


def _signed_start(text, position):
    """Where a numeric conversion starts: white space skipped, then an
    optional sign: (negative, position), or EOF when only white space is left."""
    size = len(text)
    while position < size and text[position] in _SPACE:
        position += 1
    if position >= size:
        return EOF
    if text[position] in b"+-":
        return text[position] == 45, position + 1
    return False, position


def _scan_unsigned(text, position, base, bits=64):
    """One of scanf's unsigned conversions (%lx, %lu, %llu, %llx, %x, %u)
    at ``position``: (value, end), EOF when only white space is left, or
    None for a matching failure.  glibc reads the longest prefix that can
    start a number, then converts it as strtoul() does."""
    signed = _signed_start(text, position)
    if signed is EOF:
        return EOF
    negative, position = signed
    size = len(text)
    start = position
    if base == 16 and position + 1 < size and text[position] == 48 and text[position + 1] in b"xX":
        position += 2  # glibc takes "0x" even when no hexadecimal digit follows
        start = position
        end = _digit_run(text, position, 16)
    else:
        end = _digit_run(text, position, base)
        if end == start:
            return None
    value = _unsigned(text[start:end], base, negative)
    if bits == 32:
        value &= UINT_MAX
    return value, end


def _scan_signed(text, position, bits):
    """scanf's %d (bits 32) and %ld (64): strtol() then the C conversion."""
    signed = _signed_start(text, position)
    if signed is EOF:
        return EOF
    negative, position = signed
    end = _digit_run(text, position, 10)
    if end == position:
        return None
    magnitude = _magnitude(text[position:end], 10)
    if magnitude is None:
        magnitude = ULONG_MAX
    value = max(-magnitude, -LONG_MAX - 1) if negative else min(magnitude, LONG_MAX)
    if bits == 32:
        value &= UINT_MAX
        if value > 0x7FFFFFFF:
            value -= 1 << 32
    return value, end


def strtoul(text, base):
    """glibc's strtoul(text, &end, base) for base 0, 8, 10 or 16: (value,
    consumed), consumed 0 when no number starts the text.  Overflow
    saturates to ULONG_MAX; a minus sign negates modulo 2**64."""
    position = 0
    length = len(text)
    while position < length and text[position] in _SPACE:
        position += 1
    negative = False
    if position < length and text[position] in b"+-":
        negative = text[position] == 45
        position += 1
    if position < length and text[position] == 48:  # '0'
        if base in (0, 16) and position + 1 < length and text[position + 1] in b"xX":
            if position + 2 < length and _DIGIT_VALUE[text[position + 2]] < 16:
                position += 2
                base = 16
            else:
                # "0x" with no hex digit: only the "0" converts
                return 0, position + 1
        elif base == 0:
            base = 8
    if base == 0:
        base = 10
    end = _digit_run(text, position, base)
    if end == position:
        return 0, 0
    return _unsigned(text[position:end], base, negative), end


def scan_int(text):
    """sscanf(text, "%d"): the int, or None when no number starts the text."""
    scanned = _scan_signed(text, 0, 32)
    return scanned[0] if scanned not in (None, EOF) else None


def atoi(text):
    """C's atoi(): white space, a sign, digits; 0 when there are none.
    (strtol() then a conversion to int: overflow saturates, then wraps.)"""
    scanned = _scan_signed(text, 0, 32)
    return scanned[0] if scanned not in (None, EOF) else 0


# --- scanf's string conversions -----------------------------------------------------

def _skip_space(text, position):
    size = len(text)
    while position < size and text[position] in _SPACE:
        position += 1
    return position


def _word(text, position, limit):
    """%<limit>s: (word, end) or EOF."""
    position = _skip_space(text, position)
    end = position
    stop = min(len(text), position + limit)
    while end < stop and text[end] not in _SPACE:
        end += 1
    if end == position:
        return EOF
    return text[position:end], end


def _set_run(text, position, allowed, limit):
    """%<limit>[set]: (run, end) or None (EOF when the text has ended)."""
    if position >= len(text):
        return EOF
    end = position
    stop = min(len(text), position + limit)
    while end < stop and text[end] in allowed:
        end += 1
    return (text[position:end], end) if end > position else None


def _not_run(text, position, stop_byte, limit):
    """%<limit>[^c]: (run, end) or None (EOF when the text has ended)."""
    if position >= len(text):
        return EOF
    stop = text.find(stop_byte, position, position + limit)
    end = stop if stop >= 0 else min(len(text), position + limit)
    if end == position:
        return None
    return text[position:end], end


# --- pmap's patterns --------------------------------------------------------------

class MapsHeader:
    """What sscanf(line, "%lx-%lx %31s %llx %x:%x %llu", ...) has assigned
    so far in pmap's classic modes: the variables keep their values from one
    line to the next, and a conversion that fails leaves them as they were.
    ``perms`` is pmap's ``char perms[32]``, which it also edits in place.
    ``consumed`` is how far a scan that converted all seven read (what
    follows is the name)."""

    __slots__ = ("start", "end", "perms", "offset", "major", "minor", "inode", "consumed")

    def __init__(self):
        self.start = self.end = self.offset = self.major = self.minor = self.inode = 0
        self.perms = bytearray(32)  # char perms[32] = ""
        self.consumed = 0

    def perms_text(self):
        """The perms buffer as printf("%s") shows it."""
        perms = self.perms
        end = perms.find(0)
        return bytes(perms[:end if end >= 0 else 32])


_HEX_DIGITS = b"0123456789abcdefABCDEF"
_PERMS_LETTERS = b"rwxsp-"


def scan_maps_header(text, header):
    """sscanf(text, "%lx-%lx %31s %llx %x:%x %llu") into ``header`` (a
    MapsHeader), in order until a conversion fails; returns sscanf's count.
    ``text`` is a C string (no NUL)."""
    # the kernel's own lines, "%08lx-%08lx %s %08llx %02x:%02x %lu ...",
    # read without a scan byte by byte (the same values, by construction
    # of what is accepted: single spaces, plain digits that cannot overflow)
    parts = text.split(b" ", 5)
    if len(parts) >= 5:
        addresses, perms, offset, device, inode = parts[:5]
        start, dash, end = addresses.partition(b"-")
        major, colon, minor = device.partition(b":")
        if (dash and colon and 0 < len(start) <= 16 and 0 < len(end) <= 16 and 0 < len(offset) <= 16
                and 0 < len(major) <= 8 and 0 < len(minor) <= 8 and 0 < len(inode) <= 19 and inode.isdigit()
                and len(perms) == 4 and not perms.translate(None, _PERMS_LETTERS)
                and not (start + end + offset + major + minor).translate(None, _HEX_DIGITS)):
            header.start = int(start, 16)
            header.end = int(end, 16)
            header.perms[:5] = perms + b"\0"
            header.offset = int(offset, 16)
            header.major = int(major, 16)
            header.minor = int(minor, 16)
            header.inode = int(inode)
            header.consumed = len(text) - len(parts[5]) - 1 if len(parts) == 6 else len(text)
            return 7
    header.consumed = 0
    scanned = _scan_unsigned(text, 0, 16)
    if scanned is EOF:
        return EOF
    if scanned is None:
        return 0
    header.start, position = scanned
    if text[position:position + 1] != b"-":
        return 1
    scanned = _scan_unsigned(text, position + 1, 16)
    if scanned is None or scanned is EOF:
        return 1
    header.end, position = scanned
    scanned = _word(text, position, 31)
    if scanned is EOF:
        return 2
    word, position = scanned
    header.perms[:len(word) + 1] = word + b"\0"
    count = 3
    for attribute, base, bits, separator in (("offset", 16, 64, None), ("major", 16, 32, b":"),
                                             ("minor", 16, 32, None), ("inode", 10, 64, None)):
        scanned = _scan_unsigned(text, position, base, bits)
        if scanned is None or scanned is EOF:
            return count
        value, position = scanned
        setattr(header, attribute, value)
        header.consumed = position
        count += 1
        if separator is not None:
            if text[position:position + 1] != separator:
                return count
            position += 1
    return count


def field_key(text):
    """The key of sscanf(text, "%20[^:]: %llu") when the colon follows it
    (at most 20 bytes, not empty), else None."""
    colon = text.find(b":", 0, 21)
    if colon <= 0:
        return None
    return text[:colon]


def scan_field_value(text, position):
    """The %llu of "%20[^:]: %llu" read from ``position`` (just after the
    colon), or None when it does not convert."""
    words = text[position:position + 64].split(None, 1)
    if words and len(words[0]) < 20 and words[0].isdigit():
        return int(words[0])  # the kernel's "   1234 kB": plain digits that cannot overflow
    scanned = _scan_unsigned(text, position, 10)
    if scanned is None or scanned is EOF:
        return None
    return scanned[0]


def scan_key_value(text):
    """(key, value) when sscanf(text, "%20[^:]: %llu") converts both (pmap's
    -x reading of a field line), else None."""
    key = field_key(text)
    if key is None:
        return None
    value = scan_field_value(text, len(key) + 1)
    return None if value is None else (key, value)


class TableHeader:
    """The strings sscanf(text, "%20[0-9a-f]-%20[0-9a-f] %31s %20[0-9a-f]
    %63[0-9a-f:] %20s %127[^\\n]") converts for pmap's -X/-XX/-c table, in
    order (``count`` of them)."""

    __slots__ = ("count", "start", "end", "perms", "offset", "device", "inode", "name")

    def __init__(self, found):
        self.count = len(found)
        found = list(found) + [b""] * (7 - len(found))
        self.start, self.end, self.perms, self.offset, self.device, self.inode, self.name = found


def scan_table_header(text):
    """TableHeader of a C string (its count is below 6 when pmap would
    give up: "Unknown format in smaps file!")."""
    found = []
    scanned = _set_run(text, 0, _LOWER_HEX, 20)
    if scanned is None or scanned is EOF:
        return TableHeader(found)
    found.append(scanned[0])
    position = scanned[1]
    if text[position:position + 1] != b"-":
        return TableHeader(found)
    steps = ((_set_run, _LOWER_HEX, 20, False), (_word, None, 31, True), (_set_run, _LOWER_HEX, 20, True),
             (_set_run, _DEVICE_CHARS, 63, True), (_word, None, 20, True))
    position += 1
    for function, allowed, limit, skip in steps:
        if skip:
            position = _skip_space(text, position)
        scanned = function(text, position, limit) if allowed is None else function(text, position, allowed, limit)
        if scanned is None or scanned is EOF:
            return TableHeader(found)
        found.append(scanned[0])
        position = scanned[1]
    position = _skip_space(text, position)
    scanned = _not_run(text, position, b"\n", 127)
    if scanned is not None and scanned is not EOF:
        found.append(scanned[0])
    return TableHeader(found)


def scan_detail_line(text):
    """(name, value digits) when sscanf(text, "%31[^:]: %20[0-9] kB %c")
    returns 2, pmap's test for a field of its -X table; else None.  (A
    line with a byte after "kB" converts three and is not a field; lines
    without "kB", THPeligible's, are.)"""
    scanned = _not_run(text, 0, b":", 31)
    if scanned is None or scanned is EOF:
        return None
    name, position = scanned
    if text[position:position + 1] != b":":
        return None
    position = _skip_space(text, position + 1)
    scanned = _set_run(text, position, _DECIMAL, 20)
    if scanned is None or scanned is EOF:
        return None
    value, position = scanned
    tail = _skip_space(text, position)
    if text[tail:tail + 2] == b"kB" and _skip_space(text, tail + 2) < len(text):
        return None
    return name, value


def scan_vmflags_line(text):
    """The flags when sscanf(text, "VmFlags: %127[a-z ]") converts one, else None."""
    if not text.startswith(b"VmFlags:"):
        return None
    scanned = _set_run(text, _skip_space(text, 8), _FLAG_CHARS, 127)
    if scanned is None or scanned is EOF:
        return None
    return scanned[0]


# /proc/PID/stat after "comm) ", as procps's stat2proc() scans it, up to
# start_stack and the two after it: "%c " (the state), then %d (d) and
# %lu/%llu (u) conversions
_STAT_CONVERSIONS = "c" + "d" * 5 + "u" * 5 + "u" * 4 + "d" * 3 + "u" * 10
STAT_PPID, STAT_START_TIME, STAT_START_STACK = 1, 19, 25


def scan_stat_fields(text):
    """The values sscanf() assigns from the part of /proc/PID/stat after the
    command name's closing parenthesis and space, as procps scans it (the
    state as a one-byte bytes, then numbers), stopping at the first failure."""
    values = []
    if not text:
        return values
    values.append(text[:1])  # %c: any byte, white space included
    position = 1
    for kind in _STAT_CONVERSIONS[1:]:
        if kind == "d":
            scanned = _scan_signed(text, position, 32)
        else:
            scanned = _scan_unsigned(text, position, 10)
        if scanned is None or scanned is EOF:
            break
        value, position = scanned
        values.append(value)
    return values
