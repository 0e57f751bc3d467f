"""Pieces of the classic listings: Mode column, Mapping column, -A."""

import pytest

from pymap.escape import Charset
from pymap.emulate.labels import edit_perms, mapping_label
from pymap.emulate.listing import DefaultListing, ExtendedListing
from pymap.emulate.words import ViewOptions
from pymap.modes.listing import feed
from pymap.parse.smaps import Mapping

pytestmark = pytest.mark.unit


def mode_text(perms):
    """The Mode column pmap makes of a perms word in its 32-byte buffer."""
    return edit_perms(bytearray(perms) + bytes(32 - len(perms)))


def _listing(listing_class, start_stack, mappings, display):
    """What a listing prints for these mappings, written as the kernel
    writes maps (and smaps, with their fields)."""
    lines = []
    for mapping in mappings:
        lines.append(b"%x-%x %s %08x %02x:%02x %d %s\n" % (
            mapping.start, mapping.end, mapping.perms, mapping.offset, mapping.dev_major, mapping.dev_minor,
            mapping.inode, mapping.name))
        lines += [b"%s: %d kB\n" % (key.encode(), value) for key, value in mapping.fields.items()]
    out = []
    listing = listing_class(start_stack, display, out.append)
    listing.start()
    feed(listing, b"".join(lines))
    listing.finish()
    return b"".join(out)


def default_listing(start_stack, mappings, display):
    return _listing(DefaultListing, start_stack, mappings, display)


def extended_listing(start_stack, mappings, display):
    return _listing(ExtendedListing, start_stack, mappings, display)


def display(**options):
    return ViewOptions(Charset("ascii"), "isprint", **options)


def test_mode_text():
    assert mode_text(b"rw-p") == b"rw---"
    assert mode_text(b"r-xs") == b"r-xs-"
    assert mode_text(b"rw") == b"rw"          # C: a NUL where the fourth letter would be
    assert mode_text(b"rwxpq") == b"rwx--"


def test_mapping_label():
    def label(name, start=0x1000, **options):
        return mapping_label(Mapping(start, start + 0x1000, b"rw-p", 0, 8, 1, 7, name), 0x1800, display(**options))

    assert label(b"/usr/lib/libc.so.6") == b"libc.so.6"
    assert label(b"/usr/lib/libc.so.6", show_path=True) == b"/usr/lib/libc.so.6"
    assert label(b"/dir/") == b"/"
    assert label(b"") == b"  [ stack ]"
    assert label(b"", start=0x5000) == b"  [ anon ]"
    assert label(b"[heap]", start=0x5000) == b"  [ anon ]"
    assert label(b"[heap]", start=0x5000, kernel_names=True) == b"[heap]"
    assert label(b"/a\tb") == b"a?b"


def _mappings():
    result = []
    for index, start in enumerate((0x1000, 0x3000, 0x5000)):
        mapping = Mapping(start, start + 0x1000, b"rw-p", 0, 0, 0, 0, b"")
        mapping.fields = {"Rss": 4 * (index + 1), "Shared_Dirty": 0, "Private_Dirty": index, "Swap": 0}
        result.append(mapping)
    return result


def test_range_filters_and_stops():
    out = default_listing(0, _mappings(), display(range_low=0x3000, range_high=0x3fff))
    assert out.splitlines() == [b"0000000000003000      4K rw---   [ anon ]", b" total                4K"]
    # one value gives both bounds; a mapping is shown when it overlaps them
    out = default_listing(0, _mappings(), display(range_low=0x5800, range_high=0x5800))
    assert out.splitlines()[0].startswith(b"0000000000005000")


def test_extended_totals_count_rss_below_the_range():
    """pmap's quirk: -x adds up Rss and Dirty of mappings -A skips below the
    range (but stops adding at the first mapping above it)."""
    out = extended_listing(0, _mappings(), display(range_low=0x3000, range_high=0x3fff))
    lines = out.splitlines()
    assert lines[1] == b"0000000000003000       4       8       1 rw---   [ anon ]"
    assert lines[-1] == b"total kB               4      12       1"
