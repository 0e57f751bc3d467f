"""pmap's classic modes: the default listing, -d/--device and -x/--extended.

Each formatter takes the tgid's stack start, an iterable of Mapping in file
order and a Display, and returns the bytes pmap prints after the header
line.  -A filtering works as pmap's does: a mapping ending below LOW is
skipped, the first mapping starting above HIGH ends the listing.
"""

from ..escape import escape_mapping_name
from . import MASK64

__all__ = ["default_listing", "device_listing", "extended_listing", "mapping_label", "mode_text"]

_P, _S, _W = ord("p"), ord("s"), ord("w")


def mode_text(perms):
    """The Mode column: the permissions with 'p' shown as '-', and a fifth
    flag ('R', Solaris's swap reservation) that Linux always shows as '-'."""
    if len(perms) == 4:
        return perms[:3] + (b"-" if perms[3] == _P else perms[3:4]) + b"-"
    # what C makes of a shorter or longer word in a 32-byte buffer
    buffer = bytearray(perms[:31]) + bytes(6)
    if buffer[3] == _P:
        buffer[3] = ord("-")
    buffer[4] = ord("-")
    buffer[5] = 0
    return bytes(buffer).split(b"\0", 1)[0]


def mapping_label(mapping, start_stack, display):
    """The Mapping column of the classic modes."""
    name = escape_mapping_name(mapping.name, display.charset, display.name_method)
    if mapping.dev_major == 0 and mapping.dev_minor == display.shm_minor and b"/SYSV" in name:
        return b"  [ shmid=0x%x ]" % mapping.inode
    last_slash = name.rfind(b"/")
    if last_slash >= 0:
        if display.show_path:
            return name[name.find(b"/"):]
        return name[last_slash + 1:] if last_slash + 1 < len(name) else b"/"
    if display.kernel_names and name.endswith(b"]"):
        bracket = name.find(b"[")
        if bracket >= 0:
            return name[bracket:]
    if mapping.start <= start_stack <= mapping.end:
        return b"  [ stack ]"
    return b"  [ anon ]"


class _Totals:
    """Sizes by kind, as pmap adds them up (unsigned 64-bit)."""

    __slots__ = ("shared", "private_writeable", "private_readonly")

    def __init__(self):
        self.shared = self.private_writeable = self.private_readonly = 0

    def add(self, perms, size):
        kind = perms[3] if len(perms) > 3 else 0
        if kind == _S:
            self.shared += size
        elif kind == _P:
            if perms[1] == _W:
                self.private_writeable += size
            else:
                self.private_readonly += size

    @property
    def mapped_kb(self):
        return ((self.shared + self.private_writeable + self.private_readonly) & MASK64) >> 10


def _in_range(mapping, display):
    """True to show, False to skip, None to stop (pmap's -A logic)."""
    if (mapping.end - 1) & MASK64 < display.range_low:
        return False
    if display.range_high < mapping.start:
        return None
    return True


def default_listing(start_stack, mappings, display):
    out = []
    totals = _Totals()
    for mapping in mappings:
        shown = _in_range(mapping, display)
        if shown is None:
            break
        if not shown:
            continue
        size = (mapping.end - mapping.start) & MASK64
        totals.add(mapping.perms, size)
        out.append(b"%016x %6dK %s %s\n" % (
            mapping.start, size >> 10, mode_text(mapping.perms), mapping_label(mapping, start_stack, display)))
    if not display.quiet:
        out.append(b" total %16dK\n" % totals.mapped_kb)
    return b"".join(out)


DEVICE_HEADER = b"Address           Kbytes Mode  Offset           Device    Mapping\n"


def device_listing(start_stack, mappings, display):
    out = [] if display.quiet else [DEVICE_HEADER]
    totals = _Totals()
    for mapping in mappings:
        shown = _in_range(mapping, display)
        if shown is None:
            break
        if not shown:
            continue
        size = (mapping.end - mapping.start) & MASK64
        totals.add(mapping.perms, size)
        out.append(b"%016x %7d %5s %016x %03x:%05x %s\n" % (
            mapping.start, size >> 10, mode_text(mapping.perms), mapping.offset,
            mapping.dev_major, mapping.dev_minor, mapping_label(mapping, start_stack, display)))
    if not display.quiet:
        out.append(b"mapped: %dK    writeable/private: %dK    shared: %dK\n" % (
            totals.mapped_kb, (totals.private_writeable & MASK64) >> 10, (totals.shared & MASK64) >> 10))
    return b"".join(out)


EXTENDED_HEADER = b"Address           Kbytes     RSS   Dirty Mode  Mapping\n"
EXTENDED_RULE = b"---------------- ------- ------- ------- \n"


def extended_listing(start_stack, mappings, display):
    """-x.  pmap prints a row when it reads a mapping's Swap line, with the
    Rss and Dirty values read since the previous Swap line, and adds every
    Rss and Dirty value to the totals, including those of mappings -A skips
    (until the first mapping above the range ends the listing)."""
    out = [] if display.quiet else [EXTENDED_HEADER]
    totals = _Totals()
    total_rss = total_shared_dirty = total_private_dirty = 0
    rss = shared_dirty = private_dirty = 0
    start = size = 0
    mode = b""
    label = None
    for mapping in mappings:
        start = mapping.start
        mode = mapping.perms
        shown = _in_range(mapping, display)
        if shown is None:
            break
        if shown:
            size = (mapping.end - mapping.start) & MASK64
            totals.add(mapping.perms, size)
            mode = mode_text(mapping.perms)
            label = mapping_label(mapping, start_stack, display)
        for key, value in mapping.fields.items():
            if key == "Rss":
                rss = value
                total_rss += value
            elif key == "Shared_Dirty":
                shared_dirty = value
                total_shared_dirty += value
            elif key == "Private_Dirty":
                private_dirty = value
                total_private_dirty += value
            elif key == "Swap":
                if label is not None:
                    out.append(b"%016x %7d %7d %7d %5s %s\n" % (
                        start, size >> 10, rss & MASK64, (private_dirty + shared_dirty) & MASK64, mode, label))
                rss = shared_dirty = private_dirty = 0
                size = 0
                mode = b""
                label = None
    if not display.quiet:
        out.append(EXTENDED_RULE)
        out.append(b"total kB         %7d %7d %7d\n" % (
            totals.mapped_kb, total_rss & MASK64, (total_shared_dirty + total_private_dirty) & MASK64))
    return b"".join(out)
