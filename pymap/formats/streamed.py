"""The default listing and -x, streamed: the same bytes as classic.py's
default_listing and extended_listing, from /proc/PID/maps or smaps read block
by block, so a process with 30,000 mappings costs neither the whole file nor
30,000 Mapping objects.

Two representations of a block, chosen per block:

* the fast path (no -A range, blocks of 64 KiB or more): the kernel writes
  every smaps record with the same fields in the same order, so a block of
  whole records is a table.  One pattern per block (_record_pattern, or
  _HEADER for maps) checks every line and captures only the header parts
  and the numbers the mode prints; the table is then handled by columns
  (zip, map(int, ...), sums over the few distinct texts of a column, one
  label per distinct name) and its rows made with one format each.  A
  block with any line the pattern does not take, whose layout lacks a field
  -x needs or repeats one, or that names SysV memory (its label waits for
  the shm minor) goes the general way.
* the general path: the model itself, one Mapping at a time
  (model.parse_maps_line and model._add_field, read leniently as report.py
  reads -x), stepped through exactly the loop of classic.py.

Output is kept until the whole file was read: a read error half-way still
leaves the header line alone (and status 1), as when the whole file was
read first.  Rows whose label needs the SysV minor are filled in at the end,
when report's ``prepare_labels`` has seen every candidate mapping.
"""

from itertools import compress, count, repeat
from operator import add, and_, ge, le, rshift, sub

from ..model import SmapsFormatError, _add_field, parse_maps_line
from . import MASK64
from .classic import EXTENDED_HEADER, EXTENDED_RULE, mapping_label, mode_text

__all__ = ["default_listing_blocks", "extended_listing_blocks", "LongLine"]

# A maps line as the kernel prints it, in a form parse_maps_line reads the
# same way: groups are start, end, perms and the name (what
# split(None, 5) leaves as the sixth word).  Lines it does not match take the
# general path, so it may be stricter than parse_maps_line, never looser.
# Every part is bounded so that no match is as long as pmap's fgets()
# buffer (121 + 100 + 700 + 100 < 1023): such lines need longlines.py.
# Runs are possessive ("+"), which saves a fifth of the time: a shorter run
# would only leave a byte that the next part refuses (but after a name of
# more than 700 bytes, whose line now takes the general path).
_HEADER_CORE = (rb"([0-9a-f]{1,16}+)-([0-9a-f]{1,16}+) (\S{1,31}+) [0-9a-f]{1,16}+ [0-9a-f]{1,8}+:[0-9a-f]{1,8}+ "
                rb"[0-9]{1,20}+(?: {1,100}+(\S[^\n]{0,699}+)| {0,100}+)")
_HEADER = None  # compiled by _compile(): a small process never needs re
_UPPER = frozenset(bytes([c]) for c in range(ord("A"), ord("Z") + 1))

_STACK = b"  [ stack ]"
_ANON = b"  [ anon ]"
_SHARED, _PRIVATE_WRITEABLE, _PRIVATE_READONLY, _OTHER = 0, 1, 2, 3


def _kind(perms):
    """classic._Totals.add's bucket for these permissions."""
    kind = perms[3] if len(perms) > 3 else 0
    if kind == 0x73:
        return _SHARED
    if kind == 0x70:
        return _PRIVATE_WRITEABLE if perms[1] == 0x77 else _PRIVATE_READONLY
    return _OTHER


# pmap reads with fgets() into 1024 bytes: a longer line arrives in pieces,
# which longlines.py replays on the whole file; the stream gives up on it
_LONGEST = 1022


class LongLine(Exception):
    """The file has a line pmap's fgets() splits: read it whole instead."""


class _Fallback(Exception):
    """This block is not for the fast path."""


class _Listing:
    """What both listings share: rows so far, totals by kind, labels."""

    def __init__(self, start_stack, display, prepare_labels):
        self.start_stack = start_stack
        self.display = display
        self.prepare_labels = prepare_labels
        self.full_range = display.range_low == 0 and display.range_high == MASK64
        self.out = []
        self.totals = [0, 0, 0, 0]
        self.stopped = False
        self.candidates = []  # Mappings that may be SysV memory
        self.deferred = []  # (index in out, prefix, Mapping)
        self.modes = {}  # perms -> (mode text, kind)
        self.labels = {}  # name -> label, for names whose label is the name's alone

    def mode(self, perms):
        entry = self.modes.get(perms)
        if entry is None:
            entry = self.modes[perms] = (mode_text(perms), _kind(perms))
        return entry

    def note(self, mapping):
        """Every mapping read goes by here, printed or not: report's
        prepare_labels saw all of them when the file was read whole."""
        if mapping.dev_major == 0 and b"/SYSV" in mapping.name:
            self.candidates.append(mapping)

    def skip(self, block):
        """A block after the range's end: only SysV candidates matter."""
        lines = _lines(block)  # a long line anywhere still decides how the file is read
        if b"/SYSV" in block:
            self.note_block(lines)

    def note_block(self, lines):
        """note() for the maps lines of a block nothing else reads."""
        for line in lines:
            if b"/SYSV" in line and line[:1] not in _UPPER:
                mapping = parse_maps_line(line)
                if mapping is not None:
                    self.note(mapping)

    def label_of(self, mapping):
        """The label, or None when it must wait for the SysV minor."""
        if mapping.dev_major == 0 and b"/SYSV" in mapping.name:
            return None
        return mapping_label(mapping, self.start_stack, self.display)

    def columns(self, starts_text, ends_text, perms):
        """(starts, ends, sizes, mode texts, totals by kind) of a fast-path
        table."""
        starts = list(map(int, starts_text, repeat(16)))
        ends = list(map(int, ends_text, repeat(16)))
        sizes = list(map(sub, ends, starts))
        if min(sizes) < 0:
            sizes = [size & MASK64 for size in sizes]
        by_perms = dict.fromkeys(perms, 0)
        for one, size in zip(perms, sizes):  # (a pass per distinct perms costs more)
            by_perms[one] += size
        texts = {}
        totals = [0, 0, 0, 0]
        for one, size in by_perms.items():
            texts[one], kind = self.mode(one)
            totals[kind] += size
        return starts, ends, sizes, list(map(texts.__getitem__, perms)), totals

    def add_totals(self, totals):
        for kind, total in enumerate(totals):
            self.totals[kind] += total

    def fast_labels(self, names, starts, ends):
        """Labels of a fast-path table; raises _Fallback for SysV candidates."""
        from ..model import Mapping

        by_name = {}
        ranged = set()  # names labelled [ stack ] or [ anon ] by where they lie
        for name in set(names):
            label = self.labels.get(name)
            if label is None:
                if b"/SYSV" in name:
                    raise _Fallback
                outside = mapping_label(Mapping(1, 0, b"", 0, 1, 0, 0, name), self.start_stack, self.display)
                inside = mapping_label(Mapping(0, MASK64, b"", 0, 1, 0, 0, name), self.start_stack, self.display)
                if outside == inside:
                    label = self.labels[name] = outside
                else:
                    label = outside
                    ranged.add(name)
            by_name[name] = label
        labels = list(map(by_name.__getitem__, names))
        if ranged and min(starts) <= self.start_stack <= max(ends):
            start_stack = repeat(self.start_stack)
            holding = map(and_, map(le, starts, start_stack), map(ge, ends, start_stack))
            for index in compress(count(), holding):
                if names[index] in ranged:
                    labels[index] = _STACK
        return labels

    def row(self, prefix, mapping):
        label = self.label_of(mapping)
        if label is None:
            self.deferred.append((len(self.out), prefix, mapping))
            self.out.append(b"")
        else:
            self.out.append(prefix + label + b"\n")

    def finish_labels(self):
        if not self.candidates:
            return
        self.prepare_labels(self.candidates)
        for index, prefix, mapping in self.deferred:
            self.out[index] = prefix + mapping_label(mapping, self.start_stack, self.display) + b"\n"

    def in_range(self, mapping):
        display = self.display
        if (mapping.end - 1) & MASK64 < display.range_low:
            return False
        if display.range_high < mapping.start:
            return None
        return True

    def mapped_kb(self):
        totals = self.totals
        return ((totals[0] + totals[1] + totals[2]) & MASK64) >> 10


_BLOCK = 1 << 18


def _coalesced(blocks):
    """Line-aligned blocks of at least _BLOCK bytes: the kernel hands out
    smaps about a page per read, and the fast path pays per block."""
    pending = []
    size = 0
    for block in blocks:
        pending.append(block)
        size += len(block)
        if size >= _BLOCK:
            yield b"".join(pending)
            pending = []
            size = 0
    if pending:
        yield b"".join(pending)


def starts_record(block):
    """Whether ``block`` starts with a header line, so that what came before
    it ended with a whole record (an empty line would not end one: the
    model reads on past it)."""
    return block[:1] not in _UPPER and block[:1] not in (b"", b"\n")


def _last_header(block, first):
    """Where the last header line of ``block`` starts (``first``, the first
    one's offset, when there is no later one)."""
    end = len(block) - 1 if block.endswith(b"\n") else len(block)
    while True:
        start = block.rfind(b"\n", 0, end) + 1
        if start <= first:
            return first
        if start < end and block[start:start + 1] not in _UPPER:
            return start
        end = start - 1


def _lines(block):
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if len(block) > _LONGEST and max(map(len, lines)) > _LONGEST:
        raise LongLine
    return lines


def _column_total(texts):
    """The sum of a column of digit strings (the kernel's values: few
    distinct ones, most often all b"0"); _Fallback when one has a leading
    zero, which would not print as its value."""
    if texts.count(b"0") == len(texts):
        return 0
    from collections import Counter

    counted = Counter(texts)
    if any(text[:1] == b"0" and len(text) > 1 for text in counted):
        raise _Fallback
    return sum(int(text) * times for text, times in counted.items())


# --- the default listing (maps) --------------------------------------------


class _DefaultListing(_Listing):

    def feed(self, block):
        if self.stopped:
            self.skip(block)
            return
        if self.full_range and len(block) >= FAST_MINIMUM:
            if _HEADER is None:
                _compile()
            found = _HEADER.findall(block)
            if len(found) == block.count(b"\n") + (not block.endswith(b"\n")):
                try:
                    self._fast(found)
                    return
                except _Fallback:
                    pass
        for line in _lines(block):
            if line:
                mapping = parse_maps_line(line)
                if mapping is not None:
                    self.note(mapping)
                    if not self.stopped:
                        self.step(mapping)

    def _fast(self, found):
        starts_text, ends_text, perms, names = zip(*found)
        starts, ends, sizes, modes, totals = self.columns(starts_text, ends_text, perms)
        labels = self.fast_labels(names, starts, ends)
        self.out.append(b"".join(map(b"%016x %6dK %s %s\n".__mod__,
                                     zip(starts, map(rshift, sizes, repeat(10)), modes, labels))))
        self.add_totals(totals)

    def step(self, mapping):
        shown = self.in_range(mapping)
        if shown is None:
            self.stopped = True
            return
        if not shown:
            return
        size = (mapping.end - mapping.start) & MASK64
        self.totals[_kind(mapping.perms)] += size
        self.row(b"%016x %6dK %s " % (mapping.start, size >> 10, mode_text(mapping.perms)), mapping)

    def finish(self):
        self.finish_labels()
        if not self.display.quiet:
            self.out.append(b" total %16dK\n" % self.mapped_kb())
        return b"".join(self.out)


def default_listing_blocks(start_stack, blocks, display, prepare_labels):
    """classic.default_listing's bytes from the blocks of a maps file.
    ``prepare_labels(candidates)`` is called before SysV labels are made."""
    listing = _DefaultListing(start_stack, display, prepare_labels)
    for block in _coalesced(blocks):
        listing.feed(block)
    return listing.finish()


# --- -x (smaps) ---------------------------------------------------------------

_WANTED = (b"Rss", b"Shared_Dirty", b"Private_Dirty", b"Swap")
_FIRST_HEADER = None
# the fast path pays for itself from blocks of this size (about 80 smaps
# records): a smaller process takes the general path, which needs no re
# (some 6 ms to import where nothing else did) and no compiled patterns
FAST_MINIMUM = 1 << 16


def _compile():
    global _HEADER, _FIRST_HEADER
    import re

    _HEADER = re.compile(rb"(?m)^" + _HEADER_CORE + rb"$")
    _FIRST_HEADER = re.compile(rb"(?m)^[^A-Z\n]")
_HEADER_BODY = _HEADER_CORE + b"\n"
_record_patterns = {}


# A record pattern ends with this second choice: any other line, captured
# (a record leaves the group empty), so that findall() over a block meets
# every line and a stray one shows without counting the block's lines.
_STRAY = rb"|([^\n]*\n))"


def _record_pattern(layout):
    """The compiled pattern of one whole smaps record whose field lines are
    named ``layout`` (in order), capturing the header's start, end, perms
    and name and the Rss, Shared_Dirty and Private_Dirty numbers; or
    None when -x cannot be read off such records with one pattern.  Lines
    of pmap's fgets() limit or longer never match."""
    if layout in _record_patterns:
        return _record_patterns[layout]
    import re

    pattern = None
    if len(set(layout)) == len(layout) and all(name in layout for name in _WANTED):
        where = [layout.index(name) for name in _WANTED]
        if where[3] > max(where[:3]):
            parts = [rb"(?m)^(?:", _HEADER_BODY]
            for name in layout:
                if name in _WANTED:
                    # model._add_field's number (_column_total refuses leading
                    # zeros, so that the text prints as its value would)
                    digits = rb"[0-9]{1,18}+" if name == b"Swap" else rb"([0-9]{1,18}+)"
                    parts.append(rb"%s:[ ]{1,40}+%s kB\n" % (re.escape(name), digits))
                else:
                    parts.append(rb"%s:[^\n]{0,%d}+\n" % (re.escape(name), _LONGEST - len(name) - 1))
            pattern = re.compile(b"".join(parts) + _STRAY)
    _record_patterns[layout] = pattern
    return pattern


class _ExtendedListing(_Listing):

    def __init__(self, start_stack, display, prepare_labels):
        super().__init__(start_stack, display, prepare_labels)
        self.out = [] if display.quiet else [EXTENDED_HEADER]
        self.total_rss = self.total_shared_dirty = self.total_private_dirty = 0
        # classic.extended_listing's state between Swap lines
        self.rss = self.shared_dirty = self.private_dirty = 0
        self.start = self.size = 0
        self.mode_shown = b""
        self.pending = None  # set once a mapping was shown since the last Swap line
        self.shown_mapping = None
        self.current = None  # the Mapping being read on the general path
        self.held = None  # the block read last, not yet taken

    def feed(self, block):
        """Blocks are read one behind: a block's last record is known to be
        whole once the next block starts with a header line (as
        procfs.read_line_blocks(whole_records=True) cuts them); otherwise
        it is carried into the next block."""
        held, self.held = self.held, block
        if held is not None:
            self.take(held, starts_record(block))

    def take(self, block, whole):
        if self.stopped:
            self.skip(block)
            return
        if not self.full_range or len(block) < FAST_MINIMUM:
            self.general(_lines(block))
            return
        if _FIRST_HEADER is None:
            _compile()
        first = _FIRST_HEADER.search(block)
        if first is None:
            self.general(_lines(block))
            return
        first = first.start()
        if first:
            self.general(_lines(block[:first]))
        last = len(block) if whole and block.endswith(b"\n") else _last_header(block, first)
        if last > first:
            try:
                self.flush()
                self.fast(block, first, last)
            except _Fallback:
                self.general(_lines(block[first:last]))
        if last < len(block):
            if whole:  # the file's last line has no newline
                self.general(_lines(block[last:]))
            else:  # the block's last record may go on in the next block
                self.held = block[last:] + self.held

    def fast(self, block, first, last):
        """The complete records of block[first:last] (``first`` and ``last``
        start header lines) as one table, or _Fallback."""
        following = _FIRST_HEADER.search(block, first + 1, last)
        following = following.start() if following else last
        layout = tuple(line.partition(b":")[0] for line in block[first:following - 1].split(b"\n")[1:])
        pattern = _record_pattern(layout)
        if pattern is None:
            raise _Fallback
        starts_text, ends_text, perms, names, rss, shared, private, strays = zip(
            *pattern.findall(block, first, last))
        if strays.count(b"") != len(strays):
            raise _Fallback  # some record is not like the first
        starts, ends, sizes, modes, totals = self.columns(starts_text, ends_text, perms)
        labels = self.fast_labels(names, starts, ends)
        rss_total = _column_total(rss)
        shared_total = _column_total(shared)
        private_total = _column_total(private)
        # the dirty column is a sum, unless one of its two parts is all zero
        if shared_total == 0 and shared.count(b"0") == len(shared):
            dirty, row = private, b"%016x %7d %7s %7s %5s %s\n"
        elif private_total == 0 and private.count(b"0") == len(private):
            dirty, row = shared, b"%016x %7d %7s %7s %5s %s\n"
        else:
            dirty, row = map(add, map(int, shared), map(int, private)), b"%016x %7d %7s %7d %5s %s\n"
        self.out.append(b"".join(map(row.__mod__, zip(starts, map(rshift, sizes, repeat(10)), rss, dirty, modes,
                                                         labels))))
        self.add_totals(totals)
        self.total_rss += rss_total
        self.total_shared_dirty += shared_total
        self.total_private_dirty += private_total
        # every record ended with its Swap line: the state is as after one
        self.start = starts[-1]
        self.rss = self.shared_dirty = self.private_dirty = 0
        self.size = 0
        self.mode_shown = b""
        self.pending = None
        self.shown_mapping = None

    def general(self, lines):
        for line in lines:
            if not line:
                continue
            if line[:1] not in _UPPER:
                self.flush()
                self.current = parse_maps_line(line)
                if self.current is not None:
                    self.note(self.current)
            elif self.current is not None:
                try:
                    _add_field(self.current, line)
                except SmapsFormatError:
                    pass

    def flush(self):
        mapping = self.current
        if mapping is not None:
            self.current = None
            if not self.stopped:
                self.step(mapping)

    def step(self, mapping):
        """One turn of classic.extended_listing's loop."""
        if self.stopped:
            return
        self.start = mapping.start
        self.mode_shown = mapping.perms
        shown = self.in_range(mapping)
        if shown is None:
            self.stopped = True
            return
        if shown:
            self.size = (mapping.end - mapping.start) & MASK64
            self.totals[_kind(mapping.perms)] += self.size
            self.mode_shown = mode_text(mapping.perms)
            self.pending = True
            self.shown_mapping = mapping
        for key, value in mapping.fields.items():
            if key == "Rss":
                self.rss = value
                self.total_rss += value
            elif key == "Shared_Dirty":
                self.shared_dirty = value
                self.total_shared_dirty += value
            elif key == "Private_Dirty":
                self.private_dirty = value
                self.total_private_dirty += value
            elif key == "Swap":
                if self.pending is not None:
                    self.row(b"%016x %7d %7d %7d %5s " % (
                        self.start, self.size >> 10, self.rss & MASK64,
                        (self.private_dirty + self.shared_dirty) & MASK64, self.mode_shown), self.shown_mapping)
                self.rss = self.shared_dirty = self.private_dirty = 0
                self.size = 0
                self.mode_shown = b""
                self.pending = None

    def finish(self):
        held, self.held = self.held, None
        if held is not None:
            self.take(held, True)
        self.flush()
        self.finish_labels()
        if not self.display.quiet:
            self.out.append(EXTENDED_RULE)
            self.out.append(b"total kB         %7d %7d %7d\n" % (
                self.mapped_kb(), self.total_rss & MASK64,
                (self.total_shared_dirty + self.total_private_dirty) & MASK64))
        return b"".join(self.out)


def extended_listing_blocks(start_stack, blocks, display, prepare_labels):
    """classic.extended_listing's bytes from the blocks of a smaps file."""
    listing = _ExtendedListing(start_stack, display, prepare_labels)
    for block in _coalesced(blocks):
        listing.feed(block)
    return listing.finish()
