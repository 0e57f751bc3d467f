"""model.iter_smaps: the pattern that reads the kernel's usual records a
record at a time agrees with the line-by-line _Reader it accelerates, on
kernel-like files, odd lines and any cut into blocks."""

import random

import pytest
from hypothesis import given, settings, strategies as st

from tests.support.goldens import snapshot_files
from pymap.parse import smaps as model

pytestmark = pytest.mark.unit


def _fields(mapping):
    return (mapping.start, mapping.end, mapping.perms, mapping.offset, mapping.dev_major, mapping.dev_minor,
            mapping.inode, mapping.name, list(mapping.fields.items()), mapping.unitless,
            list(mapping.other.items()), mapping.vmflags)


def _blocks(data, seed):
    """Blocks cut anywhere, lines included: iter_smaps takes any cut."""
    rng = random.Random(seed)
    position = 0
    while position < len(data):
        size = rng.choice((1, 7, 100, 3000, 1 << 16))
        yield data[position:position + size]
        position += size


def _line_by_line(data, lenient):
    """What iter_smaps reads with the record pattern taking nothing."""
    def nothing(reader, segment, end):
        return 0
        yield

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model, "usual_records", nothing)
        return _outcome(lambda: model.iter_smaps([data], lenient))


def _outcome(read):
    try:
        return [_fields(mapping) for mapping in read()]
    except model.SmapsFormatError as error:
        return "error", str(error)


def _check(data, seed=0):
    for lenient in (False, True):
        expected = _line_by_line(data, lenient)
        assert _outcome(lambda: model.iter_smaps([data], lenient)) == expected
        assert _outcome(lambda: model.iter_smaps(_blocks(data, seed), lenient)) == expected
    return expected


@pytest.mark.parametrize("path", snapshot_files("smaps"))
def test_goldens(path):
    with open(path, "rb") as handle:
        data = handle.read()
    _check(data)


RECORD = (b"7f0000000000-7f0000002000 rw-p 00000000 fe:01 1234                       /usr/lib/libz.so\n"
          b"Size:                  8 kB\nKernelPageSize:        4 kB\nRss:                   4 kB\n"
          b"THPeligible:           0\nProtectionKey:         0\nVmFlags: rd wr mr mw me ac \n")

ODD_LINES = [
    b"Rss: 7 MB\n", b"Rss:\t4 kB\n", b"Rss: 4 kB junk\n", b"Rss: 99999999999999999999 kB\n", b"Rss: 0007 kB\n",
    b"VmFlags: 12 kB\n", b"VmFlags: RD wr\n", b"VmFlags:\n", b"Rss 4 kB\n", b"Odd: text value\n", b"\n",
    b"Rss: 4 kB\n", b"Name:   some-name\n", b"garbage header\n", b"1000-2000 r--p 0 0:0 0 x\n",
    b"10000-ffffffffffffffffffff rw-p 00000000 00:00 0 \n", b"Z" * 5000 + b": 1 kB\n",
    b"/" * 70000 + b"\n", b"Rss: 4 kB", b"\0\n", b"Rss: 4 kB\nRss: 8 kB\n", b"THPeligible: 1\nTHPeligible: 1\n",
]


HEADERS = [b"7f0000000000-7f0000002000 rw-p 00000000 fe:01 1234                       /usr/lib/libz.so\n",
           b"1000-2000 r--p 0 0:0 0 x\n", b"10000-ffffffffffffffffffff rw-p 00000000 00:00 0 \n",
           b"7f0000000000-7f0000002000 rw-p 00000000 00:00 0 \n", b"garbage header\n"]
FIELD_LINES = [b"Size:                  8 kB\n", b"Rss:                   4 kB\n", b"THPeligible:           0\n",
               b"Rss: 9999999999999999999 kB\n", b"Pss:   18446744073709551616 kB\n"]


@st.composite
def records(draw):
    lines = [draw(st.sampled_from(HEADERS))]
    lines += draw(st.lists(st.sampled_from(FIELD_LINES + ODD_LINES), max_size=6))
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from([b"VmFlags: rd wr mr mw me ac \n", b"VmFlags: \n", b"VmFlags: x 1\n"])))
    return b"".join(lines)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.just(RECORD), records(), st.sampled_from(ODD_LINES)), max_size=12), st.integers(0, 5))
def test_generated(parts, seed):
    _check(b"".join(parts), seed)


def test_the_pattern_takes_the_kernels_records(monkeypatch):
    """The usual records go through the pattern (else this tests nothing)."""
    taken = []
    usual = model.usual_records

    def spy(reader, segment, end):
        position = yield from usual(reader, segment, end)
        taken.append(position)
        return position

    monkeypatch.setattr(model, "usual_records", spy)
    mappings = list(model.iter_smaps([RECORD * 50]))
    assert len(mappings) == 50 and taken == [len(RECORD) * 50]
    assert mappings[0].fields == {"Size": 8, "KernelPageSize": 4, "Rss": 4, "THPeligible": 0, "ProtectionKey": 0}
    assert mappings[0].unitless == ("THPeligible", "ProtectionKey")
    assert mappings[0].vmflags == ["rd", "wr", "mr", "mw", "me", "ac"]
