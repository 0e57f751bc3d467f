"""pymap.parse.c_rules against the C library itself (through ctypes).

pmap reads /proc with fgets() into one 1024-byte buffer and takes lines
apart with sscanf(), strtoul() and atoi(), so what it prints for odd input
(signs, "0x" prefixes, 5000-digit numbers, overflow, odd white space, long
words, NUL bytes, lines longer than the buffer) is whatever glibc does.
Each test here runs pymap's Python version of one of those calls and the
real one on the same input -- hypothesis-generated inputs biased towards
the tricky cases, plus explicit examples -- and requires the same result:
the same return value and the same values in every variable sscanf()
assigned (or left alone).
"""

import ctypes
import os
import tempfile
from ctypes import byref, c_char, c_int, c_uint, c_ulong, c_ulonglong, create_string_buffer

import pytest

from hypothesis import given, settings, strategies as st

from pymap.parse import c_rules
from pymap.parse.c_rules import (LINE_BUFFER, PIECE_MAX, ULONG_MAX, LineBuffer, MapsHeader, atoi, c_string,
                            digits_value, fgets_pieces, is_field_line, scan_detail_line, scan_key_value,
                            scan_maps_header, scan_stat_fields, scan_table_header, scan_vmflags_line, strtoul)

pytestmark = pytest.mark.unit

SETTINGS = settings(max_examples=300, deadline=None)

libc = ctypes.CDLL(None)
libc.sscanf.restype = c_int
libc.strtoul.restype = c_ulong
libc.strtoul.argtypes = (ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), c_int)
libc.atoi.restype = c_int
libc.atoi.argtypes = (ctypes.c_char_p,)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
libc.fgets.restype = ctypes.c_void_p
libc.fgets.argtypes = (ctypes.c_void_p, c_int, ctypes.c_void_p)
libc.ftell.restype = ctypes.c_long
libc.ftell.argtypes = (ctypes.c_void_p,)
libc.fclose.restype = c_int
libc.fclose.argtypes = (ctypes.c_void_p,)


# --- input building blocks ---------------------------------------------------------

WHITE = [b" ", b"\t", b"\v", b"\f", b"\r", b"\n"]
separators_ws = st.sampled_from([b" "] * 6 + WHITE + [b"  ", b" \t ", b"\r\n", b""])
HEX_BOUNDARIES = [b"ffffffffffffffff", b"10000000000000000", b"fffffffffffffffe", b"ffffffff", b"100000000",
                  b"FFFFFFFFFFFFFFFF", b"7fffffffffffffff", b"8000000000000000", b"0", b"00000000"]
DEC_BOUNDARIES = [b"18446744073709551615", b"18446744073709551616", b"18446744073709551614", b"4294967295",
                  b"4294967296", b"2147483647", b"2147483648", b"2147483649", b"9223372036854775807",
                  b"9223372036854775808", b"9223372036854775809", b"99999999999999999999", b"0", b"1"]


def _repeat(pair):
    digit, count = pair
    return digit * count


def digit_runs(alphabet, boundaries):
    return st.one_of(
        st.text(alphabet=alphabet, min_size=1, max_size=24).map(str.encode),
        st.sampled_from(boundaries),
        st.tuples(st.sampled_from([c.encode() for c in alphabet]), st.integers(17, 5000)).map(_repeat),
    )


@st.composite
def numbers(draw, alphabet, boundaries, prefixes):
    """A number as text: sign, prefix, leading zeros, digits -- or junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([b"", b"-", b"+", b"0x", b"0X", b"-0x", b"-0x5", b"+0X", b"x", b"g", b"--1",
                                     b"+-1", b"- 1", b"0xg", b"\xff", b":", b"0x0x1"]))
    sign = draw(st.sampled_from([b""] * 6 + [b"+", b"-"]))
    prefix = draw(st.sampled_from(prefixes))
    zeros = draw(st.sampled_from([b""] * 6 + [b"0", b"000", b"0" * 40, b"0" * 5000]))
    return sign + prefix + zeros + draw(digit_runs(alphabet, boundaries))


hex_numbers = numbers("0123456789abcdefABCDEF", HEX_BOUNDARIES, [b""] * 6 + [b"0x", b"0X", b"0x", b"0X0"])
dec_numbers = numbers("0123456789", DEC_BOUNDARIES, [b""] * 10 + [b"0x", b"0X"])
any_numbers = st.one_of(hex_numbers, dec_numbers)

words = st.one_of(
    st.sampled_from([b"r-xp", b"rw-p", b"---p", b"rw-s", b"r--s", b"rwxp", b"", b"-", b"x"]),
    st.binary(min_size=1, max_size=50).map(lambda b: bytes(c for c in b if c not in b" \t\n\v\f\r\0")),
    st.tuples(st.sampled_from([b"a", b"\xc3", b"-", b"r"]), st.integers(28, 40)).map(_repeat),
)
names = st.one_of(
    st.sampled_from([b"", b"/usr/lib/libc.so.6", b"[heap]", b"[stack]", b"/tmp/a name with spaces (deleted)",
                     b"/\xff\xfe", b"[anon:x]", b"\t/odd"]),
    st.binary(max_size=40),
    st.tuples(st.sampled_from([b"a", b"/"]), st.integers(120, 140)).map(_repeat),
)
junk = st.binary(max_size=40)


def no_nul(text):
    return text.replace(b"\0", b"")


def maybe(draw, default, alternatives, odds=4):
    """``default`` most of the time, else one of ``alternatives``."""
    if draw(st.integers(0, odds)) == 0:
        return draw(alternatives)
    return default


@st.composite
def mutated(draw, parts):
    """Join ``parts``, then now and then cut the text short, insert junk or
    drop a piece."""
    parts = list(parts)
    choice = draw(st.integers(0, 7))
    if choice == 0 and parts:
        del parts[draw(st.integers(0, len(parts) - 1))]
    elif choice == 1:
        parts.insert(draw(st.integers(0, len(parts))), draw(junk))
    text = b"".join(parts)
    if choice == 2:
        text = text[:draw(st.integers(0, len(text)))]
    return no_nul(text)


@st.composite
def maps_lines(draw):
    parts = [
        maybe(draw, b"", st.sampled_from(WHITE + [b"  ", b"-", b"+"]), 8),
        draw(maybe(draw, st.sampled_from([b"55d0c0a00000", b"7f1e2c000000", b"0"]), st.just(hex_numbers))),
        maybe(draw, b"-", st.sampled_from([b"", b" ", b" -", b"--", b":", b"\t"])),
        draw(maybe(draw, st.sampled_from([b"55d0c0a02000", b"7f1e2c200000", b"ffffffffffffffff"]),
                   st.just(hex_numbers))),
        draw(separators_ws),
        draw(words),
        draw(separators_ws),
        draw(hex_numbers),
        draw(separators_ws),
        draw(hex_numbers),
        maybe(draw, b":", st.sampled_from([b"", b" :", b": ", b"::", b"-"])),
        draw(hex_numbers),
        draw(separators_ws),
        draw(dec_numbers),
        draw(separators_ws),
        draw(names),
        maybe(draw, b"\n", st.sampled_from([b"", b"\r\n", b" \n"])),
    ]
    return draw(mutated(parts))


def token_soup(tokens, max_size=16):
    return st.lists(st.sampled_from(tokens), max_size=max_size).map(lambda parts: no_nul(b"".join(parts)))


MAPS_TOKENS = [b"0", b"1", b"f", b"F", b"a", b"9", b"0x", b"0X", b"x", b"-", b"+", b":", b" ", b"\t", b"\v", b"\f",
               b"\r", b"\n", b"rw-p", b"ffffffffffffffff", b"10000000000000000", b"18446744073709551616", b"g",
               b"\xff", b"z"]


def _kernel_line(fields):
    start, end, perms, offset, major, minor, inode, name, upper = fields
    line = b"%08x-%08x %s %08x %02x:%02x %d " % (start, end, perms, offset, major, minor, inode)
    return (line.upper() if upper else line) + name


# what the kernel prints ("%08lx-%08lx %s %08llx %02x:%02x %lu "), with values up to the limits of the types
kernel_lines = st.tuples(
    st.integers(0, ULONG_MAX), st.integers(0, ULONG_MAX), st.sampled_from([b"r-xp", b"rw-s", b"---p", b"rwxs"]),
    st.integers(0, ULONG_MAX), st.integers(0, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF),
    st.one_of(st.integers(0, ULONG_MAX), st.integers(0, 10**19 - 1)), names, st.booleans(),
).map(_kernel_line).map(no_nul)
maps_texts = st.one_of(maps_lines(), kernel_lines, token_soup(MAPS_TOKENS), junk.map(no_nul))


# --- 1. scan_maps_header --------------------------------------------------------------

MAPS_FORMAT = b"%lx-%lx %31s %llx %x:%x %llu"
OLD = dict(start=0x1111, end=0x2222, offset=0x3333, major=0x44, minor=0x55, inode=0x66)
OLD_PERMS = b"old-perms\0" + b"#" * 22  # 32 bytes, with bytes after the NUL
HAS_CONSUMED = "consumed" in getattr(MapsHeader, "__slots__", ())  # sscanf's %n after the seven


def c_maps_header(text):
    start, end = c_ulong(OLD["start"]), c_ulong(OLD["end"])
    perms = create_string_buffer(OLD_PERMS, 32)
    offset = c_ulonglong(OLD["offset"])
    major, minor = c_uint(OLD["major"]), c_uint(OLD["minor"])
    inode = c_ulonglong(OLD["inode"])
    consumed = c_int(-1)
    count = libc.sscanf(text, MAPS_FORMAT + b"%n", byref(start), byref(end), perms, byref(offset), byref(major),
                        byref(minor), byref(inode), byref(consumed))
    return count, (start.value, end.value, perms.value, offset.value, major.value, minor.value, inode.value), \
        perms.raw, consumed.value if count == 7 else None


def py_maps_header(text):
    header = MapsHeader()
    for name, value in OLD.items():
        setattr(header, name, value)
    header.perms = bytearray(OLD_PERMS)
    count = scan_maps_header(text, header)
    consumed = None
    if count == 7 and HAS_CONSUMED:  # how far sscanf read: where the name starts
        consumed = header.consumed
    return count, (header.start, header.end, header.perms_text(), header.offset, header.major, header.minor,
                   header.inode), bytes(header.perms), consumed


def check_maps_header(text):
    assert b"\0" not in text
    python, c = py_maps_header(text), c_maps_header(text)
    if not HAS_CONSUMED:
        c = c[:3] + (None,)
    assert python == c, text


@SETTINGS
@given(text=maps_texts)
def test_scan_maps_header_matches_sscanf(text):
    check_maps_header(text)


MAPS_EXAMPLES = [
    b"55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1311 /usr/bin/cat\n",
    b"7ffc9a1e0000-7ffc9a201000 rw-p 00000000 00:00 0 [stack]\n",
    b"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n",
    b"", b" ", b"\t\v\f\r\n ", b"-", b"+", b"x", b"0x", b"0X", b"-0x5", b"0x-1", b"0xg-1", b"0x0x1-2",
    b"1-", b"1- 2", b"1 -2", b"1-2", b"1-2 ", b"1-2 r", b"1-2 r 0x", b"1-2 r 3 4", b"1-2 r 3 4:", b"1-2 r 3 4: 5",
    b"1-2 r 3 4 :5 6", b"1-2 r 3 4:5", b"1-2 r 3 4:5 ", b"1-2 r 3 4:5 x", b"1-2 r 3 4:5 0x10",
    b"+1-+2 +r +3 +4:+5 +6", b"-1--2 -r -3 -4:-5 -6", b"-0x1--0X2 p -0x3 -0x4:-0x5 -6",
    b"ffffffffffffffff-10000000000000000 p 1ffffffffffffffff 100000000:123456789 18446744073709551616",
    b"-ffffffffffffffff-0 p 0 0:0 0",
    b"0-1 p -ffffffffffffffff 0:0 0",
    b"0-1 p 0 0:0 -18446744073709551615",
    b"0-1 p 0 -ffffffffffffffff:-ffffffff 0",
    b"0" * 5000 + b"1-" + b"f" * 5000 + b" p " + b"0" * 4999 + b"a 0:0 " + b"9" * 5000,
    b"0x" + b"0" * 5000 + b"-0X" + b"0" * 5000 + b"F p 0 0:0 " + b"0" * 5000 + b"7",
    b"ABCDEF-FEDCBA R-XP ABC DE:F0 12",
    b"1\t-2", b"1-2\tr-xp\v0\f1:2\r3\n/x", b"\n1-2 p 3 4:5 6",
    b"1-2 " + b"p" * 31 + b" 3 4:5 6", b"1-2 " + b"p" * 32 + b" 3 4:5 6", b"1-2 " + b"p" * 31 + b"3 4:5 6",
    b"1-2 " + b"a" * 40 + b"bc 4:5 6", b"1-2 \xff\xfe\x80 3 4:5 6", b"\x80", b"1-2 p \x80",
    b"0x1-0x2 p 0x3 0x4:0x5 0x6", b"0x1-0x2 p 0x3 0x4:0x5 06",
]


def test_scan_maps_header_examples():
    for text in MAPS_EXAMPLES:
        check_maps_header(text)


def test_scan_maps_header_keeps_old_values():
    header = MapsHeader()
    assert scan_maps_header(b"10-20 rw-p 30 8:1 99 /x", header) == 7
    assert scan_maps_header(b"a-b r", header) == 3
    assert (header.start, header.end, header.perms_text(), header.offset, header.inode) == (10, 11, b"r", 0x30, 99)
    assert bytes(header.perms[:5]) == b"r\0-p\0"


# --- 2. scan_key_value ----------------------------------------------------------------

def c_key_value(text):
    key = create_string_buffer(b"K" * 20, 21)
    value = c_ulonglong(12345)
    count = libc.sscanf(text, b"%20[^:]: %llu", key, byref(value))
    return count, key.value, value.value


def check_key_value(text):
    count, key, value = c_key_value(text)
    result = scan_key_value(text)
    assert (result is not None) == (count == 2), (text, count, result)
    if count == 2:
        assert result == (key, value), text


KEYS = st.one_of(
    st.sampled_from([b"Rss", b"Pss", b"Size", b"KernelPageSize", b"VmFlags", b"THPeligible", b"", b" ", b"a b",
                     b"\t", b"\n", b"x" * 19, b"x" * 20, b"x" * 21, b"A" * 40, b"Private_Hugetlb",
                     b"ProtectionKey"]),
    st.binary(max_size=25),
)


@st.composite
def key_value_lines(draw):
    parts = [draw(KEYS), maybe(draw, b":", st.sampled_from([b"", b" :", b"::", b": :"])), draw(separators_ws),
             draw(dec_numbers), draw(st.sampled_from([b" kB\n", b" kB", b"", b" kB junk\n", b" 2 kB", b" MB",
                                                      b"kB", b"x", b"\n"]))]
    return draw(mutated(parts))


KEY_TOKENS = [b"Rss", b":", b" ", b"\t", b"\n", b"kB", b"1", b"0", b"+", b"-", b"0x", b"9" * 20, b"x" * 8, b"\xff"]
key_value_texts = st.one_of(key_value_lines(), token_soup(KEY_TOKENS), junk.map(no_nul))


@SETTINGS
@given(text=key_value_texts)
def test_scan_key_value_matches_sscanf(text):
    check_key_value(text)


KEY_VALUE_EXAMPLES = [
    b"Rss: 7 MB", b"Rss: 9 kB junk", b"Rss: +3 kB", b"Rss: -3 kB", b"Rss: 99999999999999999999 kB",
    b"Rss:  1 2 kB", b"Rss:                 1024 kB\n", b"Rss:", b"Rss: ", b"Rss: \n", b"Rss:x", b"Rss: 0x10 kB",
    b"Rss:-", b"Rss: -18446744073709551615 kB", b"Rss: -18446744073709551616 kB", b"Rss: 18446744073709551615",
    b"Rss: " + b"0" * 5000 + b"42 kB", b"Rss: " + b"9" * 5000, b"Rss: \v\f\r\t5", b"Rss :5", b"Rss\n: 5",
    b"x" * 20 + b": 5", b"x" * 21 + b": 5", b"x" * 19 + b":5", b"no colon", b":", b": 5", b"::5", b"", b" ",
    b"VmFlags: rd wr", b"THPeligible:    0\n", b"\xff\xfe: 3",
]


def test_scan_key_value_examples():
    for text in KEY_VALUE_EXAMPLES:
        check_key_value(text)
    assert scan_key_value(b"Rss: 9 kB junk") == (b"Rss", 9)
    assert scan_key_value(b"Rss: -3 kB") == (b"Rss", ULONG_MAX - 2)


# --- 3. scan_table_header -------------------------------------------------------------

TABLE_FORMAT = b"%20[0-9a-f]-%20[0-9a-f] %31s %20[0-9a-f] %63[0-9a-f:] %20s %127[^\n]"
TABLE_SIZES = (21, 21, 32, 21, 64, 21, 128)


def c_table_header(text):
    buffers = [create_string_buffer(size) for size in TABLE_SIZES]
    count = libc.sscanf(text, TABLE_FORMAT, *buffers)
    return count, [buffer.value for buffer in buffers]


def check_table_header(text):
    count, strings = c_table_header(text)
    header = scan_table_header(text)
    assert header.count == max(count, 0), (text, count, header.count)
    fields = [header.start, header.end, header.perms, header.offset, header.device, header.inode, header.name]
    assert fields[:header.count] == strings[:header.count], text


LOWER_HEX = "0123456789abcdef"
table_hex = st.one_of(
    st.sampled_from([b"55d0c0a00000", b"7ffc9a201000", b"0", b"00000000", b"f" * 20, b"f" * 21, b"0" * 25,
                     b"ABC", b"0x10", b"", b"-1", b"+1", b"1g"]),
    st.text(alphabet=LOWER_HEX, min_size=1, max_size=24).map(str.encode),
    hex_numbers,
)
devices = st.one_of(
    st.sampled_from([b"08:01", b"00:00", b"fd:01", b"103:02", b"FD:01", b":", b"::::", b"0" * 63 + b":",
                     b"1" * 64, b"a:b:c", b"", b"08-01", b"08 :01"]),
    st.text(alphabet=LOWER_HEX + ":", min_size=1, max_size=70).map(str.encode),
)
inodes = st.one_of(st.sampled_from([b"0", b"1311", b"9" * 20, b"9" * 21, b"-1", b"abc", b""]), words, dec_numbers)


@st.composite
def table_lines(draw):
    parts = [
        maybe(draw, b"", st.sampled_from([b" ", b"\t", b"-"]), 8),
        draw(table_hex), maybe(draw, b"-", st.sampled_from([b"", b" -", b"- ", b"--", b":"])), draw(table_hex),
        draw(separators_ws), draw(words), draw(separators_ws), draw(table_hex), draw(separators_ws),
        draw(devices), draw(separators_ws), draw(inodes), draw(separators_ws), draw(names),
        maybe(draw, b"\n", st.sampled_from([b"", b"\n\n", b"\nRss: 4 kB\n", b" \n"])),
    ]
    return draw(mutated(parts))


TABLE_TOKENS = [b"0", b"f", b"a", b"F", b"9", b"-", b":", b" ", b"\t", b"\n", b"rw-p", b"x", b"08:01", b"f" * 20,
                b"/lib", b"\xff", b"[heap]"]
table_texts = st.one_of(table_lines(), token_soup(TABLE_TOKENS), junk.map(no_nul))


@SETTINGS
@given(text=table_texts)
def test_scan_table_header_matches_sscanf(text):
    check_table_header(text)


TABLE_EXAMPLES = [
    b"55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1311                       /usr/bin/cat\n",
    b"7ffc9a1e0000-7ffc9a201000 rw-p 00000000 00:00 0                          [stack]\n",
    b"55d0c1c00000-55d0c1c21000 rw-p 00000000 00:00 0 \n", b"55d0c1c00000-55d0c1c21000 rw-p 00000000 00:00 0",
    b"55d0c1c00000-55d0c1c21000 rw-p 00000000 00:00 0 \n\n/x", b"1-2 p 3 4:5 6 \t\n", b"1-2 p 3 4:5 6\n/name",
    b"", b" ", b"\n", b"-", b"1", b"1-", b"1-2", b"1-2 ", b"1-2 p", b"1-2 p ", b"1-2 p 3", b"1-2 p 3 ",
    b"1-2 p 3 4", b"1-2 p 3 4 ", b"1-2 p 3 4 5", b"1 -2 p 3 4 5 6", b"1- 2 p 3 4 5 6", b" 1-2 p 3 4 5 6",
    b"A-2 p 3 4 5 6", b"1-B p 3 4 5 6", b"1-2 p C 4 5 6", b"1-2 p 3 D 5 6", b"1-2 p 3 4 5 6 " + b"n" * 200,
    b"f" * 20 + b"-" + b"f" * 20 + b" p 3 4 5 6 x", b"f" * 21 + b"-2 p 3 4 5 6 x", b"1-" + b"f" * 21 + b" p 3 4 5 6",
    b"1-2 " + b"p" * 31 + b" 3 4 5 6 x", b"1-2 " + b"p" * 32 + b" 3 4 5 6 x", b"1-2 " + b"p" * 31 + b"3 4 5 6 x",
    b"1-2 p " + b"0" * 20 + b" 4 5 6 x", b"1-2 p " + b"0" * 21 + b" 4 5 6 x",
    b"1-2 p 3 " + b":" * 63 + b" 5 6 x", b"1-2 p 3 " + b":" * 64 + b" 5 6 x",
    b"1-2 p 3 4 " + b"9" * 20 + b" x", b"1-2 p 3 4 " + b"9" * 21 + b" x",
    b"1-2 p 3 4 5 " + b"\xff" * 130, b"1-2 p 3 4 5 \v\f\r\tname\r\n",
]


def test_scan_table_header_examples():
    for text in TABLE_EXAMPLES:
        check_table_header(text)


# --- 4. scan_detail_line --------------------------------------------------------------

def c_detail_line(text):
    name = create_string_buffer(32)
    value = create_string_buffer(21)
    byte = c_char(b"?")
    count = libc.sscanf(text, b"%31[^:]: %20[0-9] kB %c", name, value, byref(byte))
    return count, name.value, value.value


def check_detail_line(text):
    count, name, value = c_detail_line(text)
    result = scan_detail_line(text)
    assert (result is not None) == (count == 2), (text, count, result)
    if count == 2:
        assert result == (name, value), text


DETAIL_NAMES = st.one_of(
    st.sampled_from([b"Rss", b"Private_Dirty", b"THPeligible", b"VmFlags", b"", b" ", b"n" * 30, b"n" * 31,
                     b"n" * 32, b"n" * 45, b"a b", b"\n"]),
    st.binary(max_size=35),
)
DETAIL_VALUES = st.one_of(
    st.sampled_from([b"0", b"4", b"1024", b"9" * 20, b"9" * 21, b"0" * 25, b"", b"-1", b"+1", b"x", b"0x1"]),
    dec_numbers,
)
DETAIL_TAILS = [b" kB\n", b" kB", b"kB", b" kB ", b" kB \n\t", b" kB x", b" kBx", b" kB\nRss", b" k", b" k\n",
                b" K", b" kb", b" MB", b"", b"\n", b" ", b" x", b"  kB  \v", b" kB\xff"]


@st.composite
def detail_lines(draw):
    parts = [draw(DETAIL_NAMES), maybe(draw, b":", st.sampled_from([b"", b"::", b" :"])), draw(separators_ws),
             draw(DETAIL_VALUES), draw(st.sampled_from(DETAIL_TAILS))]
    return draw(mutated(parts))


DETAIL_TOKENS = [b"Rss", b":", b" ", b"\t", b"\n", b"kB", b"k", b"B", b"1", b"0", b"9" * 20, b"-", b"+", b"x",
                 b"\xff"]
detail_texts = st.one_of(detail_lines(), token_soup(DETAIL_TOKENS), junk.map(no_nul))


@SETTINGS
@given(text=detail_texts)
def test_scan_detail_line_matches_sscanf(text):
    check_detail_line(text)


DETAIL_EXAMPLES = [
    b"Rss:                   4 kB\n", b"THPeligible:    0\n", b"Rss: 4 kB x", b"Rss: 4 kBx", b"Rss: 4 kB",
    b"Rss: 4", b"Rss: 4 k", b"Rss: 4 kb", b"Rss: 4kB", b"Rss: 4 kB \n", b"Rss: 4 kB\nx", b"Rss: -4 kB",
    b"Rss: +4 kB", b"Rss: x", b"Rss:", b"Rss: ", b"", b" ", b":", b": 4 kB", b"Rss 4 kB",
    b"Rss: " + b"9" * 20 + b" kB", b"Rss: " + b"9" * 21 + b" kB", b"Rss: " + b"9" * 25,
    b"n" * 31 + b": 4 kB", b"n" * 32 + b": 4 kB", b"n" * 31 + b":4", b"Rss: 4 kB\xff", b"Rss:\n\t 7\n",
    b"VmFlags: rd wr mr", b"ProtectionKey:         0\n",
]


def test_scan_detail_line_examples():
    for text in DETAIL_EXAMPLES:
        check_detail_line(text)


# --- 5. scan_vmflags_line -------------------------------------------------------------

def c_vmflags_line(text):
    flags = create_string_buffer(128)
    count = libc.sscanf(text, b"VmFlags: %127[a-z ]", flags)
    return count, flags.value


def check_vmflags_line(text):
    count, flags = c_vmflags_line(text)
    result = scan_vmflags_line(text)
    assert (result is not None) == (count == 1), (text, count, result)
    if count == 1:
        assert result == flags, text


flag_words = st.lists(st.one_of(st.sampled_from([b"rd", b"wr", b"mr", b"mw", b"me", b"ac", b"sd", b"um", b"uw",
                                                 b"Rd", b"x1", b"_", b"\xff"]),
                                st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
                                .map(str.encode)), max_size=60)


@st.composite
def vmflags_lines(draw):
    prefix = maybe(draw, b"VmFlags:", st.sampled_from([b"VmFlags", b"vmFlags:", b" VmFlags:", b"VmFlags :",
                                                      b"VmFlags::", b"VMFlags:", b"", b"V", b"VmFlags:\n"]), 6)
    separator = maybe(draw, b" ", st.sampled_from([b"", b"\t", b"  ", b" \n ", b"\v", b"\r"]), 3)
    body = draw(flag_words)
    joiner = maybe(draw, b" ", st.sampled_from([b"  ", b"\t", b"\n", b""]), 5)
    tail = draw(st.sampled_from([b" \n", b"\n", b"", b" ", b"\t", b" X"]))
    return draw(mutated([prefix, separator, joiner.join(body), tail]))


vmflags_texts = st.one_of(vmflags_lines(), junk.map(lambda j: no_nul(b"VmFlags:" + j)), junk.map(no_nul))


@SETTINGS
@given(text=vmflags_texts)
def test_scan_vmflags_line_matches_sscanf(text):
    check_vmflags_line(text)


VMFLAGS_EXAMPLES = [
    b"VmFlags: rd wr mr mw me ac sd \n", b"VmFlags: rd", b"VmFlags:rd", b"VmFlags:\trd", b"VmFlags:\n rd",
    b"VmFlags:", b"VmFlags: ", b"VmFlags: \n", b"VmFlags: RD", b"VmFlags: 1", b"VmFlags", b"VmFlag", b"",
    b" VmFlags: rd", b"VmFlags : rd", b"VmFlags: " + b"ab " * 50, b"VmFlags: " + b"a" * 127 + b"b",
    b"VmFlags: " + b" " * 200 + b"rd", b"VmFlags: rd\twr", b"VmFlags: rd_wr", b"VmFlags: \xffrd",
]


def test_scan_vmflags_line_examples():
    for text in VMFLAGS_EXAMPLES:
        check_vmflags_line(text)


# --- 6. scan_stat_fields --------------------------------------------------------------

STAT_FORMAT = (b"%c %d %d %d %d %d %lu %lu %lu %lu %lu %llu %llu %llu %llu %d %d %d %lu %llu "
               b"%lu %lu %lu %lu %lu %lu %lu %lu")
STAT_TYPES = [c_char] + [c_int] * 5 + [c_ulong] * 5 + [c_ulonglong] * 4 + [c_int] * 3 + [c_ulong, c_ulonglong] + \
    [c_ulong] * 8


def c_stat_fields(text):
    variables = [kind(b"?") if kind is c_char else kind(77 + index) for index, kind in enumerate(STAT_TYPES)]
    count = libc.sscanf(text, STAT_FORMAT, *[byref(variable) for variable in variables])
    return count, [variable.value for variable in variables]


def check_stat_fields(text):
    assert len(STAT_TYPES) == 28 == STAT_FORMAT.count(b"%")
    count, values = c_stat_fields(text)
    result = scan_stat_fields(text)
    assert len(result) == max(count, 0), (text, count, result)
    assert result == values[:len(result)], text


STAT_REAL = (b"S 1 4242 4242 0 -1 4194560 1234 0 0 0 5 3 0 0 20 0 1 0 123456 12345678 456 "
             b"18446744073709551615 94000000000000 94000000100000 140730000000000 0 0 0 0 0 0 0 0 17 3 0 0\n")
int_texts = st.one_of(
    st.sampled_from([b"-1", b"0", b"2147483647", b"2147483648", b"-2147483648", b"-2147483649", b"4294967295",
                     b"4294967296", b"4294967297", b"9223372036854775807", b"9223372036854775808",
                     b"-9223372036854775808", b"-9223372036854775809", b"-18446744073709551615",
                     b"18446744073709551616", b"-99999999999999999999"]),
    dec_numbers, st.integers(-(1 << 70), 1 << 70).map(lambda n: str(n).encode()),
)


STAT_FIELDS = STAT_REAL.split(b" ")[1:28]
STAT_REST = b" " + b" ".join(STAT_REAL.split(b" ")[28:])


@st.composite
def stat_lines(draw):
    """STAT_REAL with a few fields, separators and the state changed (few
    draws, so that a failure shrinks fast)."""
    state = draw(st.one_of(st.sampled_from([b"S", b"R", b"D", b"Z", b"t", b"X", b" ", b"\t", b"-", b"1"]),
                           st.integers(1, 255).map(lambda byte: bytes([byte]))))
    fields = list(STAT_FIELDS)
    for index, text in draw(st.lists(st.tuples(st.integers(0, 26), int_texts), max_size=5)):
        fields[index] = text
    separators = [b" "] * 27
    for index, text in draw(st.lists(st.tuples(st.integers(0, 26), separators_ws), max_size=3)):
        separators[index] = text
    rest = draw(st.sampled_from([STAT_REST, STAT_REST, b"", b"\n", b" x"]))
    parts = [state] + [part for pair in zip(separators, fields) for part in pair] + [rest]
    return draw(mutated(parts))


STAT_TOKENS = [b"S", b" ", b"\t", b"\n", b"1", b"-1", b"+2", b"0", b"2147483648", b"18446744073709551616", b"x",
               b"-", b"\xff"]
stat_texts = st.one_of(stat_lines(), token_soup(STAT_TOKENS, 40), junk.map(no_nul))


@SETTINGS
@given(text=stat_texts)
def test_scan_stat_fields_matches_sscanf(text):
    check_stat_fields(text)


STAT_EXAMPLES = [
    STAT_REAL, STAT_REAL.rstrip(b"\n"), b"", b" ", b"\n", b"S", b"S ", b"S x", b"  1 2", b"\n1 2 3", b"S-1 -2",
    b"S 2147483648 -2147483649 4294967297 99999999999999999999 -99999999999999999999",
    b"S 1 2 3 4 5 -6 -7 18446744073709551616 -18446744073709551615 +10",
    b"S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28",
    b"S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16 -17 -18 19 20 21 22 23 24 25 26 27 x",
    b"S 0x10 2", b"S 1 0x10", b"S " + b"0" * 5000 + b"7 " + b"9" * 5000, b"\xff 1", b"S\t1\v2\f3\r4\n5",
]


def test_scan_stat_fields_examples():
    for text in STAT_EXAMPLES:
        check_stat_fields(text)


# --- 7. strtoul and 8. atoi -----------------------------------------------------------

def c_strtoul(text, base):
    buffer = create_string_buffer(text)
    end = ctypes.c_char_p()
    value = libc.strtoul(ctypes.cast(buffer, ctypes.c_char_p), byref(end), base)
    consumed = ctypes.cast(end, ctypes.c_void_p).value - ctypes.addressof(buffer)
    return value, consumed


NUMBER_TOKENS = [b"0", b"1", b"7", b"8", b"9", b"a", b"f", b"F", b"g", b"x", b"X", b"0x", b"0X", b"+", b"-", b" ",
                 b"\t", b"\n", b"\v", b"\f", b"\r", b"\xff", b"ffffffffffffffff", b"18446744073709551615",
                 b"2147483648"]
number_texts = st.one_of(
    any_numbers.map(no_nul),
    st.tuples(st.sampled_from([b""] * 4 + WHITE + [b" \t\n"]), any_numbers, junk).map(
        lambda parts: no_nul(b"".join(parts))),
    token_soup(NUMBER_TOKENS),
)


@SETTINGS
@given(text=number_texts, base=st.sampled_from([0, 10, 16]))
def test_strtoul_matches_libc(text, base):
    assert strtoul(text, base) == c_strtoul(text, base), (text, base)


NUMBER_EXAMPLES = [
    b"", b" ", b"-", b"+", b"0", b"00", b"08", b"0x", b"0X", b"0xg", b"-0x", b"-0x5", b"+0x10", b" \t\n\v\f\r12",
    b"ffffffffffffffff", b"ffffffffffffffffff", b"-ffffffffffffffff", b"-0xffffffffffffffff", b"-1",
    b"18446744073709551615", b"18446744073709551616", b"-18446744073709551615", b"-18446744073709551616",
    b"-18446744073709551614", b"4294967295", b"4294967296", b"2147483647", b"2147483648", b"-2147483648",
    b"-2147483649", b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808",
    b"-9223372036854775809", b"0" * 5000 + b"15", b"9" * 5000, b"-" + b"9" * 5000, b"0x" + b"0" * 5000 + b"f",
    b"12abc", b"- 1", b"+-1", b"\xff1", b"017", b"0179",
]


def test_strtoul_examples():
    for text in NUMBER_EXAMPLES:
        for base in (0, 10, 16):
            assert strtoul(text, base) == c_strtoul(text, base), (text, base)


@SETTINGS
@given(text=number_texts)
def test_atoi_matches_libc(text):
    assert atoi(text) == libc.atoi(text), text


def test_atoi_examples():
    for text in NUMBER_EXAMPLES:
        assert atoi(text) == libc.atoi(text), text


# --- 9. fgets_pieces and LineBuffer --------------------------------------------------

def c_fgets(data):
    """The pieces successive fgets(buffer, 1024, file) calls store, and the
    buffer after the last of them."""
    descriptor, path = tempfile.mkstemp(prefix="pymap-fgets-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        stream = libc.fopen(path.encode(), b"rb")
        assert stream
        buffer = create_string_buffer(LINE_BUFFER)
        pieces = []
        strings = []
        try:
            while True:
                before = libc.ftell(stream)
                if not libc.fgets(buffer, LINE_BUFFER, stream):
                    break
                size = libc.ftell(stream) - before
                assert 0 < size <= PIECE_MAX and buffer.raw[size] == 0
                pieces.append(buffer.raw[:size])
                strings.append(buffer.value)
        finally:
            libc.fclose(stream)
        return pieces, strings, buffer
    finally:
        os.unlink(path)


def check_fgets(data):
    pieces, strings, buffer = c_fgets(data)
    assert list(fgets_pieces(data)) == pieces
    assert [c_string(piece) for piece in pieces] == strings
    lines = LineBuffer()
    for piece in pieces:
        lines.load(piece)
    assert bytes(lines.data) == buffer.raw
    assert buffer.raw[PIECE_MAX] == 0  # so C string reads below stay inside the buffer
    base = ctypes.addressof(buffer)
    for offset in range(0, LINE_BUFFER, 61):
        assert lines.string_at(offset) == ctypes.string_at(base + offset), offset


LINE_LENGTHS = [0, 1, 2, 100, 1021, 1022, 1023, 1024, 1025, 2045, 2046, 2047, 3000]


@st.composite
def fgets_data(draw):
    segments = []
    for _ in range(draw(st.integers(0, 6))):
        fill = draw(st.sampled_from([b"a", b"b", b"\0", b"x\0", b"\xff", b"\r"]))
        length = draw(st.one_of(st.sampled_from(LINE_LENGTHS), st.integers(0, 2100)))
        body = (fill * length)[:length]
        if draw(st.booleans()):
            body = body[:length // 2] + draw(st.binary(max_size=20)) + body[length // 2:]
        segments.append(body + draw(st.sampled_from([b"\n", b"\n", b"\n", b"", b"\n\n", b"\r\n"])))
    return b"".join(segments)


@settings(max_examples=150, deadline=None)
@given(data=st.one_of(fgets_data(), st.binary(max_size=3000)))
def test_fgets_pieces_match_fgets(data):
    check_fgets(data)


def test_fgets_examples():
    for data in (b"", b"\n", b"\n\n", b"a", b"a\nb", b"\0", b"\0\n\0", b"x" * 1023, b"x" * 1022 + b"\n",
                 b"x" * 1023 + b"\n", b"x" * 1024, b"x" * 2046 + b"\n", b"x" * 3000 + b"\nshort\n",
                 b"a\0b" * 400 + b"\nRss: 4 kB\n", b"y" * 1500 + b"\n" + b"z" * 10 + b"\n"):
        check_fgets(data)


# --- 10. is_field_line ----------------------------------------------------------------

def test_is_field_line():
    assert not is_field_line(b"")
    for byte in range(256):
        piece = bytes([byte]) + b"ss: 4 kB\n"
        assert is_field_line(piece) == (ord("A") <= byte <= ord("Z")), byte
        assert is_field_line(bytes([byte])) == (ord("A") <= byte <= ord("Z")), byte


# --- 11. digits_value -----------------------------------------------------------------

DIGITS = {8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
DIGIT_BOUNDARIES = {
    8: [b"", b"1" + b"0" * 5000, b"1777777777777777777777", b"1777777777777777777776", b"2000000000000000000000"],
    10: [b"", b"1" + b"0" * 5000, b"18446744073709551615", b"18446744073709551616", b"18446744073709551614"],
    16: [b"", b"1" + b"0" * 5000, b"ffffffffffffffff", b"FFFFFFFFFFFFFFFE", b"10000000000000000"],
}


@st.composite
def digit_strings(draw):
    base = draw(st.sampled_from([8, 10, 16]))
    zeros = b"0" * draw(st.sampled_from([0, 0, 1, 5, 30, 5000]))
    body = draw(st.one_of(st.text(alphabet=DIGITS[base], max_size=30).map(str.encode),
                          st.sampled_from(DIGIT_BOUNDARIES[base])))
    return base, zeros + body


@SETTINGS
@given(case=digit_strings())
def test_digits_value(case):
    base, digits = case
    value = digits_value(digits, base)
    significant = digits.lstrip(b"0")
    if len(significant) < 4000:  # Python's int() limit on digits
        assert value == min(int(significant or b"0", base), ULONG_MAX)
    else:
        assert value == ULONG_MAX
    if digits:  # strtoul on a bare digit run saturates the same way
        assert c_strtoul(digits, base) == (value, len(digits))


def test_digits_value_examples():
    assert digits_value(b"") == 0
    assert digits_value(b"0" * 5000) == 0
    assert digits_value(b"0" * 5000 + b"1") == 1
    assert digits_value(b"1" + b"0" * 5000) == ULONG_MAX
    assert digits_value(b"18446744073709551615") == ULONG_MAX
    assert digits_value(b"18446744073709551614") == ULONG_MAX - 1
    assert digits_value(b"18446744073709551616") == ULONG_MAX
    assert digits_value(b"0" * 40 + b"18446744073709551614") == ULONG_MAX - 1
    assert digits_value(b"ffffffffffffffff", 16) == ULONG_MAX
    assert digits_value(b"0fffffffffffffffe", 16) == ULONG_MAX - 1
    assert digits_value(b"FFFFFFFFFFFFFFFF0", 16) == ULONG_MAX
    assert digits_value(b"1777777777777777777777", 8) == ULONG_MAX
    assert digits_value(b"1777777777777777777776", 8) == ULONG_MAX - 1
    assert digits_value(b"2000000000000000000000", 8) == ULONG_MAX
    assert c_rules.MASK64 == ULONG_MAX
