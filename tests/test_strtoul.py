"""c_rules.strtoul against the C library's own strtoul (through ctypes)."""

import ctypes

import pytest

from hypothesis import given, settings, strategies as st

from pymap.parse.c_rules import ULONG_MAX, strtoul

pytestmark = pytest.mark.unit

libc = ctypes.CDLL(None)
libc.strtoul.restype = ctypes.c_ulong
libc.strtoul.argtypes = (ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int)


def c_strtoul(text, base):
    buffer = ctypes.create_string_buffer(text)
    end = ctypes.c_char_p()
    value = libc.strtoul(ctypes.cast(buffer, ctypes.c_char_p), ctypes.byref(end), base)
    consumed = ctypes.cast(end, ctypes.c_void_p).value - ctypes.addressof(buffer)
    return value, consumed


ALPHABET = b"0123456789abcdefxXABCDEF+- \t\nzg9"
texts = st.lists(st.sampled_from(list(ALPHABET)), max_size=30).map(bytes)


@settings(max_examples=300, deadline=None)
@given(text=texts, base=st.sampled_from([0, 8, 10, 16]))
def test_strtoul_matches_libc(text, base):
    assert strtoul(text, base) == c_strtoul(text, base)


def test_known_cases():
    for text in (b"ffffffffffffffffffffff", b"0x", b"0x1g", b"-1", b"  017", b"08", b"0X1f", b"", b"-", b"+0x10",
                 b"18446744073709551615", b"18446744073709551616"):
        for base in (0, 16):
            assert strtoul(text, base) == c_strtoul(text, base), (text, base)
    assert strtoul(b"ffffffffffffffffffffff", 16) == (ULONG_MAX, 22)
