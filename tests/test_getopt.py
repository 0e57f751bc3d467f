"""getopt.getopt_long: glibc's order of results and its messages word for word."""

import pytest

from pymap.command.options import (NO_ARGUMENT, OPTIONAL_ARGUMENT, REQUIRED_ARGUMENT, GetoptError, LongOption,
                                  getopt_long)

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


# --- optional arguments, against the C library's own getopt_long ----------------------

OPTIONAL = [LongOption(b"oom-report", OPTIONAL_ARGUMENT, "--oom-report", exact_only=True),
            LongOption(b"range", REQUIRED_ARGUMENT, "A"), LongOption(b"extended", NO_ARGUMENT, "x")]
ARGVS = [["--oom-report"], ["--oom-report=kern.log"], ["--oom-report", "kern.log"], ["--oom-report="],
         ["1", "--oom-report", "2"], ["--oom-report=-", "-x"], ["--oom-report", "--range", "5", "--oom-report=a=b"],
         ["--oom-report", "--", "--oom-report=x"], ["-x", "--oom-report=", "--extended"]]


def glibc_getopt_long(argv, shortopts, longopts):
    """[(key, argument)] and the operands, from glibc's getopt_long() itself
    (through ctypes), with getopt's state reset first (optind = 0)."""
    import ctypes

    libc = ctypes.CDLL(None)

    class Option(ctypes.Structure):
        _fields_ = [("name", ctypes.c_char_p), ("has_arg", ctypes.c_int), ("flag", ctypes.POINTER(ctypes.c_int)),
                    ("val", ctypes.c_int)]

    table = (Option * (len(longopts) + 1))(*[Option(option.name, int(option.has_arg), None, 1000 + index)
                                              for index, option in enumerate(longopts)], Option(None, 0, None, 0))
    words = [ctypes.c_char_p(word) for word in argv]
    array = (ctypes.c_char_p * (len(words) + 1))(*words, None)
    ctypes.c_int.in_dll(libc, "optind").value = 0
    ctypes.c_int.in_dll(libc, "opterr").value = 0
    optarg = ctypes.c_char_p.in_dll(libc, "optarg")
    results = []
    while True:
        key = libc.getopt_long(len(argv), array, shortopts.encode(), table, None)
        if key == -1:
            break
        results.append((longopts[key - 1000].key if key >= 1000 else chr(key), optarg.value))
    return results, [array[index] for index in range(ctypes.c_int.in_dll(libc, "optind").value, len(argv))]


@pytest.mark.parametrize("argv", ARGVS, ids=" ".join)
def test_optional_arguments_as_glibc_takes_them(argv):
    full = [b"pymap"] + [word.encode() for word in argv]
    operands = []
    mine = list(getopt_long(full, "xA:", OPTIONAL, operands))
    assert (mine, operands) == glibc_getopt_long(full, "xA:", OPTIONAL)


def test_optional_arguments():
    operands = []
    assert list(getopt_long([b"pymap", b"--oom-report", b"f", b"--oom-report=g", b"--oom-report="], "", OPTIONAL,
                            operands)) == [("--oom-report", None), ("--oom-report", b"g"), ("--oom-report", b"")]
    assert operands == [b"f"]
