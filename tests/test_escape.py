"""escape.glibc_utf8_length against glibc's mblen() in C.UTF-8."""

import ctypes
import locale

import pytest
from hypothesis import given, settings, strategies as st

from pymap.escape import Charset, escape_mapping_name, glibc_utf8_length

pytestmark = pytest.mark.unit

libc = ctypes.CDLL(None)
libc.mblen.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
libc.mblen.restype = ctypes.c_int


@pytest.fixture(scope="module")
def utf8_locale():
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
    except locale.Error:
        pytest.skip("no C.UTF-8 locale")
    yield
    locale.setlocale(locale.LC_CTYPE, saved)


def c_mblen(data):
    libc.mblen(None, 0)  # reset the shift state
    return libc.mblen(data, len(data))


# lead bytes of every length, continuation bytes, and ASCII
interesting = st.lists(st.sampled_from([0x41, 0x7F, 0x80, 0x8F, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
                                        0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xF7, 0xF8, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF]),
                       min_size=1, max_size=7).map(bytes)


@settings(max_examples=400, deadline=None)
@given(data=st.one_of(interesting, st.binary(min_size=1, max_size=7)))
def test_utf8_length_matches_mblen(utf8_locale, data):
    if b"\0" in data:
        data = data.split(b"\0", 1)[0] or b"A"
    expected = c_mblen(data)
    assert glibc_utf8_length(data, 0) == (expected if expected > 0 else -1), data


def _utf8_form(value, length):
    """``value`` in the ``length``-byte form of the original UTF-8 (up to 6
    bytes, overlong forms included): the lead's free bits, then 6 bits a byte."""
    if length == 1:
        return bytes([value])
    tail = [0x80 | (value >> (6 * index)) & 0x3F for index in reversed(range(length - 1))]
    lead_bits = 7 - length  # the bits a lead of this length holds
    lead = (0xFF << (8 - length)) & 0xFF | (value >> (6 * (length - 1))) & ((1 << lead_bits) - 1)
    return bytes([lead] + tail)


# the edges of every rule: each length's smallest value, the one below it
# (an overlong form), its largest; the surrogates' edges; the lead's own
# bits set over continuation bytes of zeros; 0xFE and 0xFF, which lead no
# form, over five continuation bytes -- drawn bytes seldom land on them
_EDGES = sorted({_utf8_form(value, length)
                 for length, smallest, largest in ((2, 0x80, 0x7FF), (3, 0x800, 0xFFFF), (4, 0x10000, 0x1FFFFF),
                                                   (5, 0x200000, 0x3FFFFFF), (6, 0x4000000, 0x7FFFFFFF))
                 for value in (smallest - 1, smallest, smallest + 1, largest, largest >> 1, 0x10FFFF, 0x110000,
                               1 << 6 * (length - 1), largest >> 6 * (length - 1) << 6 * (length - 1))
                 if value <= largest}
                | {_utf8_form(value, 3) for value in (0xD7FF, 0xD800, 0xDFFF, 0xE000, 0xF8FF, 0xFFFD)}
                | {lead + tail * 5 for lead in (b"\xfe", b"\xff") for tail in (b"\x80", b"\xbf")})


@pytest.mark.parametrize("data", _EDGES, ids=lambda data: data.hex())
def test_utf8_length_at_the_edges(utf8_locale, data):
    expected = c_mblen(data)
    assert glibc_utf8_length(data, 0) == (expected if expected > 0 else -1)
    # cut short, it is incomplete for both
    assert glibc_utf8_length(data[:-1], 0) == c_mblen(data[:-1]) == -1


def test_mapping_names():
    utf8 = Charset("utf8")
    assert escape_mapping_name(b"a\xffb", utf8, "mblen") == b"a?b"
    assert escape_mapping_name("漢字".encode(), utf8, "mblen") == "漢字".encode()
    assert escape_mapping_name("漢字".encode(), Charset("ascii"), "isprint") == b"??????"
    assert escape_mapping_name(b"tab\there", Charset("ascii"), "isprint") == b"tab?here"


@settings(max_examples=200, deadline=None)
@given(printable=st.frozensets(st.integers(0, 255)), char_printable=st.frozensets(st.integers(0, 255)),
       name=st.binary(max_size=40))
def test_a_charset_cleans_what_its_isprint_rejects(printable, char_printable, name):
    """Any charset's isprint cleaning: each byte outside the printable set
    becomes '?', every other byte stays; the classic modes' names up to
    4.0.4 by isprint() of a plain char, the command line from 4.0.5 outside
    UTF-8 by isprint() of an unsigned char."""
    from pymap.escape import escape_string

    charset = Charset("other", bytes(sorted(printable)), None, bytes(sorted(char_printable)))
    assert escape_mapping_name(name, charset, "isprint") == bytes(
        byte if byte in char_printable else 0x3F for byte in name)
    text = name.split(b"\0", 1)[0]  # escape_str() takes a C string
    assert escape_string(text, charset, "4.0.5") == bytes(byte if byte in printable else 0x3F for byte in text)


def test_terminal_safe_replaces_exactly_the_controls():
    """On a terminal: C0 controls but tab and newline, DEL and the C1
    controls (U+0080-U+009F in UTF-8, bytes 0x80-0x9F in a one-byte
    charset) become '?', nothing else changes."""
    from pymap.escape import terminal_safe

    every_byte = bytes(range(256))
    controls = set(range(0x09)) | set(range(0x0B, 0x20)) | {0x7F}
    expected = bytes(0x3F if byte in controls else byte for byte in range(256))
    assert terminal_safe(every_byte, True) == expected
    one_byte = bytes(0x3F if byte in controls or 0x80 <= byte <= 0x9F else byte for byte in range(256))
    assert terminal_safe(every_byte, False) == one_byte
    c1 = "".join(map(chr, range(0x80, 0xA0))).encode("utf-8")
    assert terminal_safe(b"a" + c1 + "\u00a0\u00e9".encode() + b"\t\n", True) == (
        b"a" + b"??" * 32 + "\u00a0\u00e9".encode() + b"\t\n")
