"""The accelerators of the classic listings (emulate/listing_fast.py) give
exactly what the engine's own step_pieces() gives for the same file,
whatever the blocks: the same rows, totals and final state."""

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.support.goldens import snapshot_files
from pymap.escape import Charset
from pymap.emulate import listing
from pymap.emulate.words import ViewOptions
from pymap.modes import listing as listing_mode
from pymap.parse.c_rules import MASK64

pytestmark = pytest.mark.golden


@pytest.fixture(autouse=True, params=["accelerated from any size", "accelerated from FAST_MINIMUM"])
def fast_minimum(request, monkeypatch):
    """Snapshots are small: offer them to the accelerators too, in blocks
    small enough that records go on from one block into the next."""
    if request.param == "accelerated from any size":
        monkeypatch.setattr(listing_mode, "FAST_MINIMUM", 0)


def _files(name):
    return snapshot_files(name)


def _record(index, fields, name=b""):
    start = 0x10000 + index * 0x2000
    lines = [b"%x-%x %s 00000000 00:00 0 %s" % (start, start + 0x1000, b"rw-p" if index % 2 else b"r--s", name)]
    lines += [b"%s:%s" % (key, value) for key, value in fields]
    return b"\n".join(lines) + b"\n"


_KERNEL = [(b"Size", b"  4 kB"), (b"Rss", b"  4 kB"), (b"Shared_Dirty", b" 1 kB"), (b"Private_Dirty", b"  2 kB"),
           (b"Swap", b"  0 kB"), (b"THPeligible", b"  0"), (b"VmFlags", b" rd wr mr")]


def _synthetic():
    """smaps texts that break the fixed layout in one place or another."""
    plain = b"".join(_record(index, _KERNEL, b"/lib/x%d.so" % (index % 3) if index % 4 else b"") for index in range(400))
    yield plain
    yield plain + b"garbage line\n" + plain
    yield plain.replace(b"Rss:  4 kB", b"Rss:  4 MB", 1)
    yield plain.replace(b"Shared_Dirty: 1 kB", b"Shared_Dirty: 99999999999999999999999 kB", 3)
    swapped = list(_KERNEL)
    swapped[1], swapped[4] = swapped[4], swapped[1]
    yield plain + b"".join(_record(500 + index, swapped) for index in range(50)) + plain
    yield plain + _record(900, _KERNEL[:2] + _KERNEL[1:]) + plain  # Rss twice
    yield plain + _record(901, [field for field in _KERNEL if field[0] != b"Swap"]) + plain
    yield plain + _record(902, _KERNEL, b"/SYSV00000000 (deleted)") + plain
    yield b"Rss: 4 kB\n" + plain + b"\n\n" + plain.replace(b"00:00 0 /lib", b"00:00 0\t/lib", 7)
    yield plain + b"zz-11 rw-p 0 0:0 0\nRss: 7 kB\nSwap: 0 kB\n" + plain
    yield plain[:-1]
    # leading zeros: both read them in base 10 (step() as %llu, the table with int())
    yield plain.replace(b"Rss:  4 kB", b"Rss:  04 kB", 5) + plain.replace(b"Private_Dirty:  2 kB", b"Private_Dirty:  002 kB")


def _blocks(data, seed):
    """Line-aligned blocks of random sizes, as ProcRoot.line_blocks yields;
    with an odd seed, cut before header lines where it can, as it does with
    whole_records=True."""
    rng = random.Random(seed)
    position = 0
    while position < len(data):
        cut = data.rfind(b"\n", position, position + rng.choice((50, 700, 4096, 65536))) + 1
        if seed % 2:
            while position < cut < len(data) and data[cut:cut + 1].isupper():
                cut = data.rfind(b"\n", position, cut - 1) + 1
        if cut <= position:
            cut = data.find(b"\n", position) + 1 or len(data)
        yield data[position:cut]
        position = cut


def _displays():
    for method in ("isprint", "mblen"):
        for charset in (Charset("ascii"), Charset("utf8")):
            yield ViewOptions(charset, method)
    yield ViewOptions(Charset("utf8"), "mblen", quiet=True, show_path=True)
    yield ViewOptions(Charset("utf8"), "mblen", kernel_names=True)
    yield ViewOptions(Charset("utf8"), "mblen", range_low=0x20000, range_high=0x7fffffffffff)
    yield ViewOptions(Charset("utf8"), "mblen", range_low=0, range_high=0x40000)
    yield ViewOptions(Charset("utf8"), "mblen", sysv_minor=lambda: 0)


def _run(listing_class, data, display, blocks, start_stack):
    """(printed bytes, final state) of a listing fed ``blocks`` (or, None,
    the whole file piece by piece through step())."""
    out = []
    shown = listing_class(start_stack, display, out.append)
    shown.start()
    if blocks is None:
        shown.step_pieces(data)
    else:
        for block in blocks:
            listing_mode.feed(shown, block)
            if shown.stopped:
                break
    shown.finish()
    header = shown.header
    state = (header.start, header.end, bytes(header.perms), header.offset, header.major, header.minor,
             header.inode, shown.size, shown.totals, shown.total_rss, shown.total_shared_dirty,
             shown.total_private_dirty, shown.label, shown.rss, shown.stopped)
    return b"".join(out), state


def _compare(data, smaps, display, start_stack=0x11000):
    classes = [listing.ExtendedListing] if smaps else [listing.DefaultListing, listing.DeviceListing]
    for listing_class in classes:
        expected = _run(listing_class, data, display, None, start_stack)
        for seed in range(3):
            assert _run(listing_class, data, display, _blocks(data, seed), start_stack) == expected


@pytest.mark.parametrize("path", _files("smaps") + _files("maps"))
def test_goldens(path):
    with open(path, "rb") as handle:
        data = handle.read()
    for display in _displays():
        _compare(data, path.endswith("smaps"), display)


@pytest.mark.parametrize("index", range(len(list(_synthetic()))))
def test_synthetic(index):
    data = list(_synthetic())[index]
    maps = b"".join(line + b"\n" for line in data.split(b"\n") if line and line[:1].islower() or line[:1].isdigit())
    for display in _displays():
        _compare(data, True, display)
        _compare(maps, False, display)
        _compare(data, False, display)  # smaps read as maps: every field line is skipped


def test_masks():
    assert MASK64 == (1 << 64) - 1


@pytest.mark.parametrize("length", [1021, 1022, 1023, 1500])
def test_long_lines_are_left_to_step(length):
    """A line pmap's fgets() splits is read piece by piece, the rest of the
    file still by the accelerator."""
    plain = b"".join(_record(index, _KERNEL, b"/lib/x.so") for index in range(300))
    head = b"%x-%x rw-p 00000000 00:00 0 " % (0x900000, 0x901000)
    record = _record(950, _KERNEL).split(b"\n", 1)[1]
    data = plain + head + b"/" + b"n" * (length - len(head) - 1) + b"\n" + record + plain
    maps = b"".join(line + b"\n" for line in data.split(b"\n") if line[:1].islower() or line[:1].isdigit())
    display = ViewOptions(Charset("utf8"), "mblen")
    _compare(data, True, display)
    _compare(maps, False, display)


@pytest.mark.parametrize("whole_records", [False, True], ids=["lines", "whole records"])
@pytest.mark.parametrize("block_size", [1, 100, 20000, 1 << 18])
@pytest.mark.parametrize("ending", [b"", b"7f-8f rw-p 0 00:00 0 no newline"], ids=["newline", "no newline"])
def test_read_line_blocks(tmp_path, whole_records, block_size, ending):
    from pymap.source import ProcRoot, is_field_line

    def starts_record(block):
        return block[:1] not in (b"", b"\n") and not is_field_line(block)

    data = list(_synthetic())[0] * 30 + ending
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "smaps").write_bytes(data)
    blocks = list(ProcRoot(os.fsencode(tmp_path)).line_blocks(7, b"smaps", block_size, whole_records))
    assert b"".join(blocks) == data
    assert len(blocks) > 1
    assert all(block.endswith(b"\n") for block in blocks[:-1])
    # a snapshot is read 64 KiB at a time: record cuts apply below 4 blocks' worth
    records = whole_records and 4 * block_size > (1 << 16)
    assert all(starts_record(block) for block in blocks) == records


# --- generated files --------------------------------------------------------------
_GENERATED_NAMES = st.sampled_from([
    b"", b"/usr/lib/libz.so.1", b"[stack]", b"[heap]", b"[anon:named]", b"name with spaces  ", b"\ttab",
    b"/SYSV00000000 (deleted)", b"/" + b"n" * 698, b"/" + b"n" * 699 + b"   ", b"/" + b"n" * 960, b"/ends/",
])
_GENERATED_FIELDS = st.sampled_from([
    b"%-16s%8d kB\n", b"%-16s%8d kB\n", b"%-16s%8d kB\n", b"%s:%d kB\n", b"%-16s%8d\n", b"%-16s %08d kB\n",
    b"%-16s%8d MB\n",
])
_LAYOUT = (b"Size", b"KernelPageSize", b"Rss", b"Pss", b"Shared_Clean", b"Shared_Dirty", b"Private_Dirty",
           b"Swap", b"Locked")


@st.composite
def _generated_smaps(draw):
    records = []
    address = 0x10000
    for _ in range(draw(st.integers(1, 40))):
        start = address
        address += draw(st.integers(1, 8)) * 4096
        name = draw(_GENERATED_NAMES)
        line = b"%x-%x %s %08x 00:00 0" % (start, address, draw(st.sampled_from([b"rw-p", b"r--s", b"r-xp"])),
                                          draw(st.integers(0, 1 << 40)))
        line += (b" " * draw(st.integers(1, 30)) + name) if name else b" " * draw(st.integers(0, 2))
        lines = [line + b"\n"]
        regular = draw(st.integers(0, 3)) > 0
        for field in _LAYOUT:
            value = draw(st.integers(0, 10 ** 7))
            pattern = b"%-16s%8d kB\n" if regular else draw(_GENERATED_FIELDS)
            lines.append(pattern % (field + b":", value))
        if draw(st.booleans()):
            lines.append(b"VmFlags: rd wr mr mw me \n")
        records.append(b"".join(lines))
    return b"".join(records)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=_generated_smaps(), which=st.integers(0, len(list(_displays())) - 1))
def test_generated(data, which):
    """Generated smaps (and the maps lines in them) read both ways."""
    display = list(_displays())[which]
    maps = b"".join(line + b"\n" for line in data.split(b"\n") if line[:1].islower() or line[:1].isdigit())
    for text, smaps in ((data, True), (maps, False)):
        _compare(text, smaps, display)
