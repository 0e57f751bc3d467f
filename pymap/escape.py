"""Making names and command lines printable, the way each procps release did.

pmap's output depends on the LC_CTYPE locale it runs in (it calls
setlocale(LC_ALL, "")): mapping names are cleaned with isprint() (up to
4.0.4) or mblen() (from 4.0.5), and the command line by library/escape.c,
which was rewritten three times.  Charset captures the locale; the functions
below take bytes and return bytes.
"""


__all__ = ["Charset", "charset_of_codeset", "charset_from_environment", "escape_mapping_name",
           "escape_command_line", "terminal_safe", "report_name", "escape_string"]

_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))
_ASCII_UNPRINTABLE_TO_QUESTION = b"?" * 0x20 + _PRINTABLE_ASCII + b"?" * 0x81


class Charset:
    """What the locale's ctype functions say about bytes.

    ``kind`` is "ascii" (the C/POSIX locale), "utf8" (a UTF-8 codeset) or
    "other" (any other codeset, answered by the C library itself).
    """

    __slots__ = ("kind", "unprintable_to_question", "char_unprintable_to_question", "_libc")

    def __init__(self, kind, printable=_PRINTABLE_ASCII, libc=None, char_printable=None):
        self.kind = kind
        # bytes.translate() tables: each byte isprint() rejects becomes '?',
        # asked of an unsigned char (escape.c) or of a plain char (pmap.c's
        # mapping names; ``char_printable``, when that differs)
        self.unprintable_to_question = _unprintable_to_question(printable)
        self.char_unprintable_to_question = (self.unprintable_to_question if char_printable is None else
                                             _unprintable_to_question(char_printable))
        self._libc = libc

    def __repr__(self):
        return "Charset(%r)" % self.kind

    @property
    def is_utf8(self):
        """procps's escape_str() tests nl_langinfo(CODESET) against "UTF-8"."""
        return self.kind == "utf8"

    def mblen(self, data, position):
        """C's mblen() at ``position`` of ``data``: the length of the valid
        character there, or -1."""
        byte = data[position]
        if self.kind == "ascii":
            return 1 if byte < 0x80 else -1
        if self.kind == "utf8":
            return glibc_utf8_length(data, position)
        rest = data[position:].split(b"\0", 1)[0]
        return self._libc.mblen(rest, len(rest))


def _unprintable_to_question(printable):
    if printable is _PRINTABLE_ASCII:
        return _ASCII_UNPRINTABLE_TO_QUESTION
    return bytes(byte if byte in printable else 0x3F for byte in range(256))


# glibc's UTF-8 decoder accepts the old 5- and 6-byte forms (up to U+7FFFFFFF)
# but rejects overlong forms and surrogates; mblen() follows it.
_UTF8_LEAD = {}
for _lead in range(0xC2, 0xE0):
    _UTF8_LEAD[_lead] = (2, 0x80)
for _lead in range(0xE0, 0xF0):
    _UTF8_LEAD[_lead] = (3, 0x800)
for _lead in range(0xF0, 0xF8):
    _UTF8_LEAD[_lead] = (4, 0x10000)
for _lead in range(0xF8, 0xFC):
    _UTF8_LEAD[_lead] = (5, 0x200000)
for _lead in range(0xFC, 0xFE):
    _UTF8_LEAD[_lead] = (6, 0x4000000)
_LEAD_MASK = {2: 0x1F, 3: 0x0F, 4: 0x07, 5: 0x03, 6: 0x01}


def glibc_utf8_length(data, position):
    """Length of the UTF-8 character glibc's mblen() sees at ``position``,
    or -1 for an invalid or incomplete one (the string ends at len(data))."""
    lead = data[position]
    if lead < 0x80:
        return 1
    entry = _UTF8_LEAD.get(lead)
    if entry is None:
        return -1
    length, smallest = entry
    if position + length > len(data):
        return -1
    value = lead & _LEAD_MASK[length]
    for index in range(position + 1, position + length):
        byte = data[index]
        if byte & 0xC0 != 0x80:
            return -1
        value = (value << 6) | (byte & 0x3F)
    if value < smallest or 0xD800 <= value <= 0xDFFF:
        return -1
    return length


# C0 controls but tab and newline (pmap's own line ends), and DEL
_CONTROLS = bytes(range(0x09)) + bytes(range(0x0B, 0x20)) + b"\x7f"
_C0_TO_QUESTION = bytes.maketrans(_CONTROLS, b"?" * len(_CONTROLS))
_C1_TO_QUESTION = bytes.maketrans(_CONTROLS + bytes(range(0x80, 0xA0)), b"?" * (len(_CONTROLS) + 32))
_UTF8_C1 = tuple(b"\xc2" + bytes([byte]) for byte in range(0x80, 0xA0))


def terminal_safe(data, utf8):
    """``data`` with every control character shown as pmap up to 4.0.4 shows
    it, '?' (one a byte): C0 controls but tab and newline, DEL, and C1
    controls (U+0080-U+009F in UTF-8, the bytes 0x80-0x9F in a one-byte
    charset).  What a terminal would act on never reaches it."""
    if utf8:
        data = data.translate(_C0_TO_QUESTION)
        if b"\xc2" in data:
            for sequence in _UTF8_C1:
                data = data.replace(sequence, b"??")
        return data
    return data.translate(_C1_TO_QUESTION)


def charset_of_codeset(codeset):
    """The Charset of the LC_CTYPE locale pymap has set (language.py sets
    it as pmap's setlocale() would), whose codeset is ``codeset`` (bytes)."""
    upper = codeset.upper()
    if upper in (b"ANSI_X3.4-1968", b"ASCII", b"US-ASCII"):
        return Charset("ascii")
    if upper in (b"UTF-8", b"UTF8"):
        return Charset("utf8")
    import ctypes

    libc = ctypes.CDLL(None)
    libc.mblen.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
    printable = bytes(byte for byte in range(256) if libc.isprint(byte))
    # pmap.c passes a plain char, signed where the ABI says so (x86): a byte
    # from 0x80 is a negative number then, which glibc answers as the byte
    # but for 0xFF, -1, which is EOF and never printable
    signed = _char_is_signed()
    char_printable = bytes(byte for byte in range(256) if libc.isprint(byte - 256 if signed and byte >= 0x80 else byte))
    return Charset("other", printable, libc, char_printable)


def _char_is_signed():
    """Whether C's plain char is signed on this machine (the psABIs of Arm,
    POWER, s390 and RISC-V make it unsigned)."""
    import os

    return not os.uname().machine.startswith(("arm", "aarch64", "ppc", "powerpc", "s390", "riscv"))


def charset_from_environment(environ):
    """The Charset of the locale pmap would have run in with ``environ``
    (bytes to bytes)."""
    from .language import from_environment

    return charset_of_codeset(from_environment(environ).codeset)


# --- mapping names (src/pmap.c, classic modes) ---------------------------------


def escape_mapping_name(name, charset, method):
    """The mapping name as pmap prints it in its classic modes.

    method "isprint" (procps <= 4.0.4): every byte isprint() rejects, asked
    of a plain char, becomes '?'.  method "mblen" (>= 4.0.5): a valid
    character of the locale stays as it is, each byte that does not start
    one becomes '?'.
    """
    if method == "isprint":
        return name.translate(charset.char_unprintable_to_question)
    if charset.kind == "utf8":
        try:
            name.decode("utf-8")
            return name  # Python's strict decoder accepts a subset of glibc's
        except UnicodeDecodeError:
            pass
    elif charset.kind == "ascii" and name.isascii():
        return name
    out = bytearray()
    position = 0
    end = len(name)
    while position < end:
        length = charset.mblen(name, position)
        if length < 1:
            out.append(0x3F)
            position += 1
        else:
            out += name[position:position + length]
            position += length
    return bytes(out)


# --- command lines (library/readproc.c and library/escape.c) -------------------

# the library's buffers: 128 KiB for the command line, 64 bytes for the name
_BUFFER = 128 * 1024
_NAME_BUFFER = 64


def command_line_text(cmdline):
    """What procps makes of raw /proc/PID/cmdline bytes before escaping:
    trailing NULs dropped, the other NULs and newlines become spaces, a final
    space (from a trailing newline) dropped.  None for an empty file."""
    if not cmdline:
        return None
    data = cmdline[:_BUFFER - 1]
    length = len(data)
    kept = data.rstrip(b"\0")
    text = kept.replace(b"\0", b" ").replace(b"\n", b" ")
    if len(kept) == length and text.endswith(b" "):
        text = text[:-1]
    return text


# procps 4.0.2-4.0.4 without a UTF-8 locale: controls become '.', high bytes '?'
_ESC_TABLE_OLD = bytes(
    (0x2E if (byte < 0x20 or byte == 0x7F) else 0x3F if byte >= 0x80 else byte) for byte in range(256)
)
_UTF8_SEQUENCE_LENGTH_OLD = [1] * 0x80 + [-1] * 0x42 + [2] * 30 + [3] * 16 + [4] * 5 + [-1] * 11


def escape_string(text, charset, flavour):
    """library/escape.c's escape_str() on a C string (``text`` has no NUL)."""
    if not charset.is_utf8:
        if flavour in ("4.0.2", "4.0.4"):
            return text.translate(_ESC_TABLE_OLD)
        return text.translate(charset.unprintable_to_question)
    if flavour == "4.0.2":
        return _escape_utf8_402(text)
    if flavour == "4.0.4":
        return _escape_utf8_404(text)
    return _escape_utf8_405(text)


def _escape_utf8_402(text):
    out = bytearray(text)
    position = 0
    length = len(out)
    while position < length:
        size = _UTF8_SEQUENCE_LENGTH_OLD[out[position]]
        if size < 0 or position + size > length:
            # a corrupt string: the rest is escaped as if no locale applied
            out[position:] = bytes(out[position:]).translate(_ESC_TABLE_OLD)
            break
        if out[position] < 0x20 or out[position] == 0x7F:
            out[position] = 0x3F
        position += size
    return bytes(out)


def _escape_utf8_404(text):
    out = bytearray(text)
    position = 0
    length = len(out)
    while position < length:
        lead = out[position]
        size = _UTF8_SEQUENCE_LENGTH_OLD[lead]
        following = out[position + 1] if position + 1 < length else 0
        if (size < 0 or position + size > length
                or (lead == 0xC2 and 0x80 <= following <= 0x9F)
                or any(not 0x80 <= out[index] <= 0xBF for index in range(position + 1, position + size))):
            out[position] = 0x3F
            position += 1
            continue
        if lead < 0x20 or lead == 0x7F:
            out[position] = 0x3F
        position += size
    return bytes(out)


def _utf8_length_405(data, position, size):
    """library/escape.c's u8charlen() of 4.0.5 onwards (RFC 3629, private use
    areas refused)."""
    first = data[position]
    if first <= 0x7F:
        return 1
    if size >= 2 and data[position + 1] & 0xC0 == 0x80:
        if 0xC2 <= first <= 0xDF:
            return 2
        if size >= 3 and data[position + 2] & 0xC0 == 0x80:
            triple = (first << 16) + (data[position + 1] << 8) + data[position + 2]
            if 0xEE8080 <= triple <= 0xEFA3BF:
                return -1
            x = ((first << 6) | (data[position + 1] & 0x3F)) & 0xFFFFFFFF
            if 0x3820 <= x <= 0x3B5F or 0x3B80 <= x <= 0x3BFF:
                return 3
            if size >= 4 and data[position + 3] & 0xC0 == 0x80:
                quad = (triple << 8) + data[position + 3]
                if 0xF3B08080 <= quad <= 0xF3BFBFBD or 0xF4808080 <= quad <= 0xF48FBFBD:
                    return -1
                if 0x3C10 <= x <= 0x3D0F:
                    return 4
    return -1


def _escape_utf8_405(text):
    if text.isascii():
        if all(0x20 <= byte != 0x7F for byte in text):
            return text
    out = bytearray(text)
    position = 0
    remaining = len(out)
    while remaining > 0:
        size = _utf8_length_405(out, position, remaining)
        lead = out[position]
        following = out[position + 1] if remaining > 1 else 0
        if size < 0 or lead < 0x20 or lead == 0x7F or (lead == 0xC2 and 0x80 <= following <= 0x9F):
            out[position] = 0x3F
            size = 1
        position += size
        remaining -= size
    return bytes(out)


def report_name(name, charset, flavour):
    """A name in one of pymap's own reports (a --summary group, a mapping
    in --reconcile or --diff): escaped as the command line of pmap's header
    is (escape_str(), so no tab or newline forges a row), then
    terminal_safe(), whatever the stream."""
    return terminal_safe(escape_string(name.replace(b"\0", b"?"), charset, flavour), charset.is_utf8)


def escape_command_line(cmdline, comm, state, charset, flavour, empty):
    """The command line of pmap's header line.

    ``cmdline`` is the raw /proc/PID/cmdline, ``comm`` the raw name from
    /proc/PID/stat (None when stat had none), ``state`` its state letter,
    ``flavour`` the escape.c rewrite (Compat.cmdline_escaping) and ``empty``
    what is shown when nothing is left (Compat.empty_cmdline).
    """
    if flavour.startswith("3.3"):
        return command_line_33(cmdline, comm, charset, flavour)
    text = command_line_text(cmdline)
    if text is not None:
        shown = escape_string(text, charset, flavour)
    else:
        # no command line (kernel threads, zombies): "[name]", like ps
        if comm is None:
            name = b"(null)"  # glibc's printf of a NULL name
        else:
            raw = comm.split(b"\0", 1)[0][:_NAME_BUFFER - 1]
            name = escape_string(raw, charset, flavour)
        shown = b"[" + escape_string(name, charset, flavour) + b"]"
        if state == b"Z":
            shown += b" <defunct>"
    return shown if shown else empty


# --- command lines as procps 3.3's libprocps made them (proc/readproc.c,
# proc/escape.c): pmap's escape_command(cmdbuf, p, 512, 0xfffff,
# ESC_ARGS|ESC_BRACKETS) -------------------------------------------------------

_TITLE_BUFFER_33 = 512  # pmap's cmdbuf
_CELLS_33 = 0xFFFFF  # pmap's maxcmd
_ASCII_PRINTABLE = frozenset(range(0x20, 0x7F))


def argument_vector_33(cmdline):
    """file2strvec(): the arguments of raw /proc/PID/cmdline bytes, split at
    NULs and newlines (a last one without its NUL kept); None for an empty
    file, whose name is shown in brackets instead."""
    if not cmdline:
        return None
    if not cmdline.endswith(b"\0"):
        cmdline += b"\0"
    return cmdline.replace(b"\n", b"\0").split(b"\0")[:-1]


def command_line_33(cmdline, comm, charset, flavour):
    """pmap 3.3's header command line: the arguments escaped one by one and
    joined with spaces into 512 bytes (at most 511 shown; every empty
    argument, a last one included, still costs its space), or the name from
    stat (its raw first 63 bytes, "" when stat did not parse) in brackets,
    with no " <defunct>" for a zombie."""
    cells = [_CELLS_33]
    arguments = argument_vector_33(cmdline)
    if arguments:
        out = b""
        index = 0
        while True:  # escape_strlist()
            out += _escape_33(arguments[index], _TITLE_BUFFER_33 - len(out), cells, charset, flavour)
            if _TITLE_BUFFER_33 - len(out) < 3:
                break
            index += 1
            if index >= len(arguments) or cells[0] <= 1:
                break
            out += b" "
            cells[0] -= 1
        return out
    cells[0] -= 2  # the brackets
    name = (comm or b"")[:_NAME_BUFFER - 1]
    return b"[" + _escape_33(name, _TITLE_BUFFER_33 - 2, cells, charset, flavour) + b"]"


def _escape_33(text, size, cells, charset, flavour):
    """escape_str() of 3.3 into a buffer of ``size`` bytes, ``cells`` (a
    one-item list) the display cells left, taken down by what is used."""
    if size <= 0 or cells[0] <= 0:
        return b""
    if not charset.is_utf8 or all(byte in _ASCII_PRINTABLE for byte in text):
        # ESC_tab: controls '.', bytes from 0x80 '?' (printable ASCII is
        # itself in both branches, one byte and one cell each)
        taken = text[:min(size, cells[0] + 1) - 1].translate(_ESC_TABLE_OLD)
        cells[0] -= len(taken)
        return taken
    return _escape_utf8_33(text, size, cells, flavour)


def _escape_utf8_33(text, size, cells, flavour):
    """escape_str_utf8() of 3.3, with the C library's own mbrtowc(),
    iswprint() and wcwidth() in the locale pmap would have set (this
    process's LC_CTYPE is that one: language.from_environment)."""
    mbrtowc, iswprint, wcwidth = _wide_functions()
    import ctypes

    state = ctypes.create_string_buffer(32)
    wide = ctypes.c_uint32()
    source = ctypes.create_string_buffer(text + b"\0" * 8)
    base = ctypes.addressof(source)
    out = bytearray()
    used_cells = used_bytes = 0
    position = 0
    old = flavour == "3.3.15"
    while used_cells < cells[0] and used_bytes + 1 < size:
        length = mbrtowc(ctypes.byref(wide), base + position, 6, state)
        if length == 0:
            break
        if length >= 1 << 63:  # (size_t)-1 or -2: not a valid character here
            ctypes.memset(state, 0, 32)
            out.append(0x3F)
            position += 1
            used_cells += 1
            used_bytes += 1
            continue
        if length == 1:
            byte = text[position]
            out.append(byte if byte in _ASCII_PRINTABLE else 0x3F)
            position += 1
            used_cells += 1
            used_bytes += 1
            continue
        if not iswprint(wide.value):
            out.append(0x3F)  # one '?' for the whole character
            position += length
            used_cells += 1
            used_bytes += 1
            continue
        width = wcwidth(wide.value)
        sequence = text[position:position + length]
        if old and width <= 0:  # 3.3.15 and 3.3.16: no room check first
            out.append(0x3F)
            position += length
            used_cells += 1
            used_bytes += 1
            continue
        if width > cells[0] - used_cells or length >= size - (used_bytes + 1):
            break
        if old and 0x9B in sequence:  # (a CSI byte inside the character)
            out.append(0x3F)
            used_cells += 1
            used_bytes += 1
        else:
            out += sequence
            used_bytes += length
            if width > 0:
                used_cells += width
        position += length
    cells[0] -= used_cells
    return bytes(out)


_WIDE = None


def _wide_functions():
    """The C library's mbrtowc, iswprint and wcwidth (ctypes, loaded once)."""
    global _WIDE
    if _WIDE is None:
        import ctypes

        libc = ctypes.CDLL(None)
        mbrtowc = libc.mbrtowc
        mbrtowc.argtypes = (ctypes.POINTER(ctypes.c_uint32), ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
        mbrtowc.restype = ctypes.c_size_t
        iswprint = libc.iswprint
        iswprint.argtypes = (ctypes.c_uint32,)
        wcwidth = libc.wcwidth
        wcwidth.argtypes = (ctypes.c_uint32,)
        _WIDE = (mbrtowc, iswprint, wcwidth)
    return _WIDE
