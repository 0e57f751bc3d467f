"""escape.glibc_utf8_length against glibc's mblen() in C.UTF-8."""

import ctypes
import locale

import pytest
from hypothesis import given, settings, strategies as st

from pymap.escape import Charset, escape_mapping_name, glibc_utf8_length

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


def test_mapping_names():
    utf8 = Charset("utf8")
    assert escape_mapping_name(b"a\xffb", utf8, "mblen") == b"a?b"
    assert escape_mapping_name("漢字".encode(), utf8, "mblen") == "漢字".encode()
    assert escape_mapping_name("漢字".encode(), Charset("ascii"), "isprint") == b"??????"
    assert escape_mapping_name(b"tab\there", Charset("ascii"), "isprint") == b"tab?here"


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
