"""The one-pass -X/-XX/-c table (table_fast.render_blocks) prints exactly
what render() replays from the whole file and leaves the same TableState
behind, or steps aside (Fallback) with the TableState untouched."""

import glob
import os
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.support.goldens import GOLDENS, snapshot_files
from pymap.compat import Compat
from pymap.escape import Charset
from pymap.emulate import table as smaps_table, table_fast as table_blocks, table_layout
from pymap.emulate.words import ViewOptions
from pymap.emulate.rcfile import RcConfig

pytestmark = pytest.mark.golden


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Small files take the one-pass path too (in the small blocks _blocks()
    makes, so that records go on from one block into the next)."""
    monkeypatch.setattr(table_blocks, "ONE_PASS_MINIMUM", 0)


def _blocks(data, seed):
    """Line-aligned blocks of random sizes, as ProcRoot.line_blocks yields."""
    rng = random.Random(seed)
    position = 0
    while position < len(data):
        cut = data.rfind(b"\n", position, position + rng.choice((40, 700, 3000, 65536))) + 1
        if cut <= position:
            cut = data.find(b"\n", position) + 1 or len(data)
        yield data[position:cut]
        position = cut


def _state(state):
    return [(column.name, column.value_text, column.total, column.width) for column in state.columns]


RC = RcConfig([b"Perm", b"Inode", b"Rss", b"Pss", b"Swap", b"Locked", b"VmFlags", b"Mapping"], 0)
LEVELS = [(1, None), (2, None), (0, RC), (0, RcConfig([b"Rss"], 0)), (0, RcConfig([b"Offset", b"Device"], 0))]
RELEASES = ["4.0.2", "4.0.4", "main"]


def _displays():
    ascii_ = Charset("ascii")
    yield ViewOptions(ascii_)
    yield ViewOptions(ascii_, quiet=True)
    yield ViewOptions(ascii_, show_path=True)
    yield ViewOptions(ascii_, quiet=True, show_path=True)
    yield ViewOptions(ascii_, range_low=0x10000, range_high=0x7fffffffffff)


def _check(data, display, level, rc, release, previous=(), seed=0):
    """True when render_blocks() took ``data`` (and agreed with render()),
    False when it stepped aside."""
    slow = table_layout.TableState(Compat(release))
    fast = table_layout.TableState(Compat(release))
    for earlier in previous:
        for state in (slow, fast):
            smaps_table.render(earlier, display, level, rc, state)
    before = _state(fast)
    try:
        expected = smaps_table.render(data, display, level, rc, slow)
    except table_layout.SmapsTableError:
        expected = None
    # and again with nothing kept between the passes: the file is read twice
    twice = table_layout.TableState(Compat(release))
    for earlier in previous:
        smaps_table.render(earlier, display, level, rc, twice)
    try:
        pieces = table_blocks.render_blocks(_blocks(data, seed), display, level, rc, fast)
    except table_blocks.Declined:
        assert _state(fast) == before
        return False
    actual = b"".join(pieces)
    assert expected is not None, "render_blocks() took a file pmap refuses"
    assert actual == expected
    assert _state(fast) == _state(slow)
    readings = []

    def reread():
        readings.append(seed)
        return _blocks(data, seed + 1)

    original, table_blocks.STORE_LIMIT = table_blocks.STORE_LIMIT, 0
    try:
        pieces = table_blocks.render_blocks(_blocks(data, seed), display, level, rc, twice, reread=reread,
                                            engine=lambda: smaps_table.TwoPassTable(display, level, rc, twice))
    finally:
        table_blocks.STORE_LIMIT = original
    assert not readings, "the second pass reads the file only when it prints"
    assert b"".join(pieces) == expected and len(readings) == 1
    assert _state(twice) == _state(slow)
    return True


def _golden_smaps():
    return snapshot_files("smaps")


@pytest.mark.parametrize("path", _golden_smaps())
def test_goldens(path):
    with open(path, "rb") as handle:
        data = handle.read()
    taken = 0
    for level, rc in LEVELS:
        for display in _displays():
            for release in RELEASES:
                taken += _check(data, display, level, rc, release, seed=taken)
    # (the synthetic cases have names pmap cuts at 127 bytes; the recorded odd-headers, titles and
    # thread-ids cases hold files written by hand)
    case = os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(path))))
    if data and case in ("rich", "longargs", "oddargs", "two-processes"):
        assert taken, "a live process's smaps should take the one-pass table"


# --- a kernel-like file and ways to break it ------------------------------------

FIELDS = (b"Size", b"KernelPageSize", b"MMUPageSize", b"Rss", b"Pss", b"Pss_Dirty", b"Shared_Clean",
          b"Shared_Dirty", b"Private_Clean", b"Private_Dirty", b"Referenced", b"Anonymous", b"KSM", b"LazyFree",
          b"AnonHugePages", b"ShmemPmdMapped", b"FilePmdMapped", b"Shared_Hugetlb", b"Private_Hugetlb", b"Swap",
          b"SwapPss", b"Locked", b"THPeligible", b"ProtectionKey")
UNITLESS = (b"THPeligible", b"ProtectionKey")
NAMES = [b"", b"/usr/lib/x86_64-linux-gnu/libc.so.6", b"[heap]", b"/opt/demo/a b/c d (deleted)", b"[stack]",
         b"/srv/zoo/\xff\xfe", b"/ends/with/", b"/memfd:x (deleted)", b"[anon:named]"]


def _field(name, value):
    if name in UNITLESS:
        return b"%-16s%8d\n" % (name + b":", value)
    return b"%-16s%8d kB\n" % (name + b":", value)


def _record(index, name=None, fields=FIELDS, flags=b"rd wr mr mw me ac "):
    start = 0x7f0000000000 + index * 0x3000
    if name is None:
        name = NAMES[index % len(NAMES)]
    line = b"%x-%x %s %08x %s %d" % (start, start + 0x2000, (b"rw-p", b"r--s", b"r-xp")[index % 3],
                                     (index * 0x1000) if name else 0, b"fe:01" if name else b"00:00",
                                     (1000 + index) if name else 0)
    line += (b" " * max(1, 73 - len(line)) + name) if name else b" "
    values = [((index * 7 + position) % 5) * 4 if position % 3 else 0 for position in range(len(fields))]
    if index % 5 == 0:
        values[0] = 123456789012  # wider than the kernel's 8 columns
    body = b"".join(_field(field, value) for field, value in zip(fields, values))
    return line + b"\n" + body + (b"VmFlags: " + flags + b"\n" if flags is not None else b"")


def _plain(count=40, start=0, **options):
    return b"".join(_record(index, **options) for index in range(start, start + count))


def _replace_in_record(data, index, old, new):
    record = _record(index)
    assert record in data and old in record, (index, old)
    return data.replace(record, record.replace(old, new, 1), 1)


PLAIN = _plain()
FLAGS = b"VmFlags: rd wr mr mw me ac "
BROKEN = {
    "garbage line": PLAIN + b"garbage line\n" + _plain(start=40),
    "record without Swap": _plain() + _record(40, fields=tuple(f for f in FIELDS if f != b"Swap")) + _plain(start=41),
    "record with an extra field": _plain() + _record(40, fields=FIELDS + (b"Extra",)) + _plain(start=41),
    "fields swapped": _plain() + _record(40, fields=FIELDS[1:2] + FIELDS[:1] + FIELDS[2:]) + _plain(start=41),
    "fewer fields from the start": _plain(fields=FIELDS[:10]),
    "no VmFlags at all": _plain(flags=None),
    "no VmFlags in one record": _plain() + _record(40, flags=None) + _plain(start=41),
    "empty VmFlags": _replace_in_record(PLAIN, 7, b"VmFlags: rd wr mr mw me ac ", b"VmFlags: "),
    "VmFlags with two trailing spaces": _replace_in_record(PLAIN, 7, b"me ac ", b"me ac  "),
    "VmFlags with an upper-case flag": _replace_in_record(PLAIN, 7, b"me ac ", b"me AC "),
    "VmFlags of 127 bytes": _replace_in_record(PLAIN, 7, FLAGS, b"VmFlags: " + b"ab " * 40 + b"abcdefg"),
    "VmFlags of 128 bytes": _replace_in_record(PLAIN, 7, FLAGS, b"VmFlags: " + b"ab " * 40 + b"abcdefgh"),
    "VmFlags of 126 bytes and a space": _replace_in_record(PLAIN, 7, FLAGS, b"VmFlags: " + b"ab " * 40 + b"abcdef "),
    "VmFlags of 127 bytes and a space": _replace_in_record(PLAIN, 7, FLAGS,
                                                           b"VmFlags: " + b"ab " * 40 + b"abcdefg "),
    "value without kB": _replace_in_record(PLAIN, 3, b" kB\nPss:", b"\nPss:"),
    "value with MB": _replace_in_record(PLAIN, 3, b" kB\nPss:", b" MB\nPss:"),
    "kB and more": _replace_in_record(PLAIN, 3, b" kB\nPss:", b" kB x\nPss:"),
    "19 digits": _replace_in_record(PLAIN, 3, b"Rss:                   0 kB", b"Rss: 9999999999999999999 kB"),
    "20 digits": _replace_in_record(PLAIN, 3, b"Rss:                   0 kB", b"Rss: 99999999999999999999 kB"),
    "leading zeros": _replace_in_record(PLAIN, 3, b"Rss:                   0 kB", b"Rss:                 007 kB"),
    "tab before a value": _replace_in_record(PLAIN, 3, b"Rss:       ", b"Rss:\t      "),
    "short addresses": _plain() + b"10000-11000 r--p 00000000 00:00 0 \n" + _record(40).split(b"\n", 1)[1],
    "colon early in the header": _plain() + b"1000-2000 rw:p 00000000 00:00 0 \n" + _record(40).split(b"\n", 1)[1],
    "colon in the permissions": _replace_in_record(PLAIN, 5, b" r-xp ", b" r:xp "),
    "tab before the name": _replace_in_record(PLAIN, 1, b"      /usr/lib", b"\t/usr/lib"),
    "name of 127 bytes": _replace_in_record(PLAIN, 1, b"/usr/lib/x86_64-linux-gnu/libc.so.6", b"/" + b"n" * 126),
    "name of 128 bytes": _replace_in_record(PLAIN, 1, b"/usr/lib/x86_64-linux-gnu/libc.so.6", b"/" + b"n" * 127),
    "name of 400 bytes": _replace_in_record(PLAIN, 1, b"/usr/lib/x86_64-linux-gnu/libc.so.6", b"/" + b"n" * 399),
    "name with trailing spaces": _replace_in_record(PLAIN, 1, b"libc.so.6", b"libc.so.6   "),
    "line of 1100 bytes": _replace_in_record(PLAIN, 1, b"/usr/lib/x86_64-linux-gnu/libc.so.6",
                                             b"/" + b"n" * 1100),
    "NUL in a name": _replace_in_record(PLAIN, 1, b"libc.so.6", b"libc\0so.6"),
    "no newline at the end": PLAIN[:-1],
    "header only at the end": PLAIN + _record(40).split(b"\n", 1)[0] + b"\n",
    "empty line": PLAIN + b"\n" + _plain(start=40),
    "field line first": b"Rss: 4 kB\n" + PLAIN,
    "inode with letters": _replace_in_record(PLAIN, 1, b" 1001 ", b" 10x1 "),
    "one record": _record(0),
}


@pytest.mark.parametrize("release", RELEASES)
def test_plain_takes_the_one_pass_table(release):
    """All of it, but for an -A range where the release applies it to -X."""
    for level, rc in LEVELS:
        for display in _displays():
            limited = display.range_low != 0 and Compat(release).range_limits_extended
            assert _check(PLAIN, display, level, rc, release, seed=level) != limited


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken(name):
    data = BROKEN[name]
    for level, rc in LEVELS:
        for display in _displays():
            for release in ("4.0.2", "main"):
                _check(data, display, level, rc, release, seed=len(name))


@pytest.mark.parametrize("release", RELEASES)
def test_second_pid_with_the_same_layout(release):
    """Widths and (before 4.0.4) totals carry over from the first PID."""
    wide = re.sub(rb"\nPss: +[0-9]+ kB", b"\nPss:            4444444 kB", _plain(start=100))
    assert wide != _plain(start=100)
    for level, rc in LEVELS:
        for display in _displays():
            limited = display.range_low != 0 and Compat(release).range_limits_extended
            assert _check(PLAIN, display, level, rc, release, previous=[wide]) != limited


@pytest.mark.parametrize("release", RELEASES)
def test_second_pid_with_another_layout(release):
    """Columns from an earlier PID that this file does not have: render()
    replays what pmap prints (stale values), the one-pass table steps aside."""
    fewer = _plain(fields=FIELDS[:12])
    for level, rc in LEVELS[:2]:
        for display in _displays():
            assert not _check(PLAIN, display, level, rc, release, previous=[fewer])
            _check(fewer, display, level, rc, release, previous=[PLAIN])


# --- a file that changes between pmap's two readings ---------------------------

SECOND_READINGS = {
    "the same": PLAIN,
    "a wider inode": _replace_in_record(PLAIN, 1, b" 1001 ", b" 100000000001 "),
    "wider flags": _replace_in_record(PLAIN, 30, FLAGS, FLAGS + b"sd mg um uw ht nh "),
    "a long name": _replace_in_record(PLAIN, 28, b"/usr/lib/x86_64-linux-gnu/libc.so.6", b"/" + b"n" * 300),
    "a record with fewer fields": _plain(30) + _record(30, fields=FIELDS[:5]) + _plain(9, start=31),
    "a record with more fields": _plain(30) + _record(30, fields=FIELDS + (b"Extra",)) + _plain(9, start=31),
    "a record without flags": _plain(30) + _record(30, flags=None) + _plain(9, start=31),
    "garbage": _plain(30) + b"garbage\n" + _plain(9, start=31),
    "more records": _plain(60),
    "fewer records": _plain(12),
    "nothing (the process exited)": b"",
    "an unterminated line": _plain(30)[:-1],
}


def _until_error(pieces):
    """The bytes of ``pieces`` and the message of the error that ended them."""
    out = []
    try:
        for piece in pieces:
            out.append(piece)
    except table_layout.SmapsTableError as error:
        return b"".join(out), error.message
    return b"".join(out), None


@pytest.mark.parametrize("second", sorted(SECOND_READINGS))
def test_second_reading_differs(monkeypatch, second):
    """A live process's smaps, read again for the printing pass, differs from
    the first reading: what the one-pass table cannot print as pmap would
    (a column that widens, a layout that changes, an error) goes to the
    Replay of pmap's loop from there, so both print the same bytes."""
    monkeypatch.setattr(table_blocks, "STORE_LIMIT", 0)
    later = SECOND_READINGS[second]
    for level, rc in LEVELS:
        for display in list(_displays())[:4]:
            for release in ("4.0.2", "main"):
                slow = table_layout.TableState(Compat(release))
                fast = table_layout.TableState(Compat(release))
                expected = _until_error(smaps_table.replay(table_layout.pieces_of(PLAIN),
                                                           table_layout.pieces_of(later), display, level, rc, slow))
                actual = _until_error(table_blocks.render_blocks(
                    _blocks(PLAIN, level), display, level, rc, fast, reread=lambda: _blocks(later, 7),
                    engine=lambda: smaps_table.TwoPassTable(display, level, rc, fast)))
                assert actual == expected
                assert _state(fast) == _state(slow)
    if second == "a wider inode":  # pmap widens the column from that row on
        table = smaps_table.render(PLAIN, _displays().__next__(), 1, None, table_layout.TableState(Compat("main")))
        state = table_layout.TableState(Compat("main"))
        view = next(_displays())
        rows = b"".join(table_blocks.render_blocks(
            _blocks(PLAIN, 0), view, 1, None, state, reread=lambda: _blocks(later, 0),
            engine=lambda: smaps_table.TwoPassTable(view, 1, None, state))).split(b"\n")[1:41]
        inode_ends = [re.match(rb"(\s*\S+){5}", row).end() for row in rows]
        before = re.match(rb"(\s*\S+){5}", table.split(b"\n")[1]).end()
        assert inode_ends[0] == before and len(set(inode_ends[1:])) == 1 and inode_ends[1] > before


# --- generated files ----------------------------------------------------------

_HEADERS = st.sampled_from([
    b"%(start)x-%(end)x rw-p 00000000 00:00 0 ",
    b"%(start)x-%(end)x r-xp 00001000 fe:01 4242                       /usr/lib/libz.so.1",
    b"%(start)x-%(end)x r--s 00000000 00:05 7                          /SYSV00000000 (deleted)",
    b"%(start)x-%(end)x rw-p 00000000 00:00 0                          [stack]",
    b"%(start)x-%(end)x rw-p 00000000 00:00 0                          name with spaces  ",
    b"%(start)x-%(end)x rw-p 123456789a 103:02 99999999999             /big/offset",
    b"%(start)x-%(end)x rw-p 00000000 00:00 0  \t/tab",
    b"%(start)x-%(end)x rw-p 00000000 00:00 0 /" + b"x" * 130,
    b"%(short)x-%(end)x rw-p 00000000 00:00 0 ",
])
_FIELD_LINES = st.sampled_from([
    b"%-16s%8d kB\n", b"%-16s%8d kB\n", b"%-16s%8d kB\n", b"%s:%d kB\n", b"%-16s%8d\n", b"%-16s%8d kB x\n",
    b"%-16s%8d MB\n", b"%-16s %019d kB\n",
])


@st.composite
def generated_files(draw):
    fields = FIELDS[:draw(st.integers(8, len(FIELDS)))]
    with_flags = draw(st.booleans())
    records = []
    address = 0x7f0000000000
    for _ in range(draw(st.integers(1, 12))):
        start, address = address, address + draw(st.integers(1, 64)) * 4096
        header = draw(_HEADERS) % {b"start": start, b"end": address, b"short": start >> 28}
        lines = [header + b"\n"]
        regular = draw(st.booleans())
        for field in fields:
            value = draw(st.integers(0, 10 ** 9))
            if regular:
                lines.append(_field(field, value))
            else:
                lines.append(draw(_FIELD_LINES) % (field + b":", value))
        if with_flags:
            lines.append(b"VmFlags: " + draw(st.sampled_from([b"rd wr mr mw me ac ", b"rd ex mr mw me ",
                                                                b"", b"rd  "])) + b"\n")
        records.append(b"".join(lines))
    return b"".join(records)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=generated_files(), level=st.sampled_from(LEVELS), display=st.sampled_from(list(_displays())),
       release=st.sampled_from(RELEASES), seed=st.integers(0, 3))
def test_generated(data, level, display, release, seed):
    _check(data, display, level[0], level[1], release, seed=seed)


# --- the report: one pass, or the whole file -------------------------------------

def _snapshot(tmp_path, smaps):
    """A --proc-root folder: the rich golden's process with ``smaps``."""
    import shutil

    source = glob.glob(os.path.join(GOLDENS, "rich", "proc", "*"))[0]
    target = tmp_path / "proc" / os.path.basename(source)
    shutil.copytree(source, target)
    (target / "smaps").write_bytes(smaps)
    return tmp_path / "proc", os.path.basename(source)


def _run(root, pid, *options):
    from pymap.command.cli import run_captured

    return run_captured([b"pmap", b"--proc-root", os.fsencode(root)] + [option.encode() for option in options]
                        + [pid.encode()], {b"LANG": b"C", b"HOME": os.fsencode(os.path.dirname(root))})


TAILS = {
    "regular": b"",
    "long name at the end": _record(1, name=b"/" + b"n" * 300),
    "garbage at the end": b"garbage\n",
}


@pytest.mark.parametrize("tail", sorted(TAILS))
@pytest.mark.parametrize("options", [["-X"], ["-XX", "-p"], ["-X", "-q"], ["-c"]])
def test_report(tmp_path, monkeypatch, tail, options):
    """A large snapshot goes through the one-pass table (or, broken near its
    end, is read again whole) and prints what the whole-file replay prints."""
    monkeypatch.setattr(table_blocks, "ONE_PASS_MINIMUM", 1 << 16)
    (rich,) = glob.glob(os.path.join(GOLDENS, "rich", "proc", "*", "smaps"))
    with open(rich, "rb") as handle:
        smaps = handle.read()
    root, pid = _snapshot(tmp_path, smaps * (400_000 // len(smaps) + 1) + TAILS[tail])
    # -c reads this rc file (HOME is the snapshot's parent folder)
    (tmp_path / ".pmaprc").write_bytes(b"[Fields Display]\nPerm\nInode\nRss\nSwap\nVmFlags\nMapping\n")
    taken = []
    one_pass = table_blocks.render_blocks

    def spy(*arguments, **keywords):
        try:
            pieces = one_pass(*arguments, **keywords)
        except table_blocks.Declined as fallback:
            taken.append(fallback.data is None and "read again" or "whole")
            raise
        taken.append("one pass")
        return pieces

    monkeypatch.setattr(table_blocks, "render_blocks", spy)
    actual = _run(root, pid, *options)
    assert taken == (["read again"] if TAILS[tail] else ["one pass"])

    def refuse(*arguments, **keywords):
        raise table_blocks.Declined

    monkeypatch.setattr(table_blocks, "render_blocks", refuse)
    assert actual == _run(root, pid, *options)
    if tail == "garbage at the end":
        assert actual[0] == 1 and actual[2] == b"pmap: Unknown format in smaps file!\n"
    else:
        assert actual[0] == 0 and actual[1].count(b"\n") > 400


def test_report_small_file_is_read_once(tmp_path, monkeypatch):
    from pymap.source import ProcRoot

    monkeypatch.setattr(table_blocks, "ONE_PASS_MINIMUM", 1 << 16)
    root, pid = _snapshot(tmp_path, PLAIN)
    whole_reads = []
    line_blocks = ProcRoot.line_blocks
    monkeypatch.setattr(ProcRoot, "line_blocks", lambda self, *arguments, **options: whole_reads.append(arguments[1])
                        or line_blocks(self, *arguments, **options))
    status, stdout, _ = _run(root, pid, "-X")
    assert status == 0 and stdout.count(b"\n") == 2 + 40 + 2  # PID line, heading, rows, rule, totals
    assert whole_reads.count(b"smaps") == 1  # read once, for both passes
