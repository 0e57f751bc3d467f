"""getopt.getopt_long: glibc's order of results and its messages word for word."""

import pytest

from pymap.command.options import GetoptError, LongOption, getopt_long

pytestmark = pytest.mark.unit

LONG = [LongOption(b"extended", False, "x"), LongOption(b"device", False, "d"), LongOption(b"range", True, "A"),
        LongOption(b"read-rc", False, "c"), LongOption(b"read-rc-from", True, "C"),
        LongOption(b"proc-root", True, "--proc-root", exact_only=True)]


def parse(*argv, permute=True):
    operands = []
    options = list(getopt_long([b"pmap"] + [a.encode() for a in argv], "xdA:cC:q", LONG, operands, permute))
    return options, operands


def message(*argv, permute=True):
    with pytest.raises(GetoptError) as caught:
        parse(*argv, permute=permute)
    return caught.value.message


def test_bundles_and_arguments():
    assert parse("-xq", "1") == ([("x", None), ("q", None)], [b"1"])
    assert parse("-qA1,2", "-A", "3") == ([("q", None), ("A", b"1,2"), ("A", b"3")], [])
    assert parse("1", "-x", "--", "-d") == ([("x", None)], [b"1", b"-d"])
    assert parse("1", "-x", permute=False) == ([], [b"1", b"-x"])
    assert parse("-", "-x") == ([("x", None)], [b"-"])


def test_long_options_and_abbreviations():
    assert parse("--ext", "--dev", "--ra=5", "--range", "6") == (
        [("x", None), ("d", None), ("A", b"5"), ("A", b"6")], [])
    assert parse("--read-rc")[0] == [("c", None)]  # an exact match beats a longer option
    assert parse("--proc-root", "/x")[0] == [("--proc-root", b"/x")]


def test_glibc_messages():
    assert message("-z") == b"pmap: invalid option -- 'z'"
    assert message("-A") == b"pmap: option requires an argument -- 'A'"
    assert message("--bogus=1") == b"pmap: unrecognized option '--bogus=1'"
    assert message("--extended=1") == b"pmap: option '--extended' doesn't allow an argument"
    assert message("--range") == b"pmap: option '--range' requires an argument"
    assert message("--read") == b"pmap: option '--read' is ambiguous; possibilities: '--read-rc' '--read-rc-from'"
    assert message("--proc") == b"pmap: unrecognized option '--proc'"  # pymap's own need their full name


def test_options_act_one_by_one():
    """An error comes only when getopt reaches it (pmap's -V exits first)."""
    results = getopt_long([b"pmap", b"-x", b"-z"], "x", LONG, [])
    assert next(results) == ("x", None)
    with pytest.raises(GetoptError):
        next(results)
