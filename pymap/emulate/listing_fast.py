"""Accelerators of listing.py's engine: a block of the kernel's regular text
read as one table.

The kernel writes every maps line in one layout and every smaps record with
the same field lines in the same order, so a large block of them is a
table.  One pattern per block checks every line and captures only what the
listing prints (start, end, perms, the name; for -d the offset and device;
for -x the Rss and dirty numbers); the table is then handled by columns
(map(int, ...), sums over the few distinct texts of a column, one label per
distinct name) and its rows made with one format each: the listing's own
row format, labels from labels.label_reference, sizes added by
labels.size_total_of, the Mode column by labels.edit_perms.

An accelerator takes the block's lines (or records) from a position for as
long as each reads exactly as the engine's step_pieces() would read them,
and leaves the listing the same rows, totals and final state; it leaves the
rest to step_pieces().  What it accepts is narrower than what the kernel can write: plain
digits that cannot overflow, four-letter perms, lines far below pmap's
1024-byte buffer, no NUL in the block, and for -x names that no field line before
"Swap:" reaches in the buffer.
"""

from itertools import compress, count, repeat
from operator import add, and_, ge, le, rshift, sub

from ..parse.c_rules import MASK64, scan_maps_header
from .labels import OTHER, edit_perms, size_total_of, label_reference

__all__ = ["accelerator_for"]
# how often one block is offered to an accelerator again after a line it
# could not read (each offer reads the rest of the block once more)
_OFFERS = 4

# A maps line as the kernel prints it, in the form c_rules.scan_maps_header
# reads it without scanning byte by byte: single spaces, plain lower-case
# digits that cannot overflow, four-letter perms.  Every part is bounded so
# that no line comes near pmap's fgets() buffer (121 + 100 + 700 < 1023).
# Each run is followed by a byte it cannot take, so a line that fails fails
# at once.  (No possessive "+": Python before 3.11 has none, and 3.11 before
# 3.11.5 matches some wrongly, CPython gh-106052.)
_ADDRESSES = rb"([0-9a-f]{1,16})-([0-9a-f]{1,16}) ([r-][w-][x-][sp]) "
_DEVICE = rb"[0-9a-f]{1,16} [0-9a-f]{1,8}:[0-9a-f]{1,8} [0-9]{1,19}"
_DEVICE_SHOWN = rb"([0-9a-f]{1,16}) ([0-9a-f]{1,8}):([0-9a-f]{1,8}) [0-9]{1,19}"  # -d's offset and device
_NAME = rb"(?: {1,100}(\S[^\n]{0,699})| {0,100})"
# a line any pattern does not take, captured (a table row leaves the group
# empty), so that findall() meets every line and a stray one shows
_STRAY = rb"|([^\n]*\n|[^\n]+\Z))"
# the field lines -x reads
_WANTED = (b"Rss", b"Shared_Dirty", b"Private_Dirty", b"Swap")
# -x: a field line before "Swap:" is at most this long, and a header line
# whose label could start within reach of such a line in the buffer (a '/'
# or '[' at one of its first _FIELD_LINE_MAX + 2 bytes) is left to step(),
# whose buffer model shows what a field line wrote over it
_FIELD_LINE_MAX = 70
_SAFE_NAME = rb"(?=[^\n/\[]{%d}|[^\n/\[]*\n)" % (_FIELD_LINE_MAX + 2)


class _Accelerator:
    """Shared by the three: compiling, the offer loop, columns and labels."""

    records_of = 1  # lines per record

    def __init__(self):
        self.pattern = None

    def feed(self, listing, block):
        """Take ``block`` for ``listing``: regular stretches as tables, the
        rest through listing.step_pieces().  (A NUL, which ends a C string
        early, never comes from the kernel: such a block is all step()'s.)"""
        if b"\0" in block:
            listing.step_pieces(block)
            return
        position = 0
        for _ in range(_OFFERS):
            position = self.read_table(listing, block, position)
            if position >= len(block) or listing.stopped:
                return
            resume = self.resume_point(block, position)
            listing.step_pieces(block[position:resume])
            position = resume
            if position >= len(block) or listing.stopped:
                return
        listing.step_pieces(block[position:])

    def resume_point(self, block, position):
        """Where the accelerator may read again after ``position``: the
        next line (maps)."""
        newline = block.find(b"\n", position)
        return len(block) if newline < 0 else newline + 1

    @staticmethod
    def rows_taken(found, names_at):
        """How many of findall()'s items are table rows before the first
        stray line or SysV name (whose label waits for the SysV minor, which
        step() asks for)."""
        rows = len(found)
        strays = [item[-1] for item in found]
        if strays.count(b"") != rows:
            rows = next(index for index, stray in enumerate(strays) if stray)
        names = [item[names_at] for item in found[:rows]]
        if any(b"/SYSV" in name for name in set(names)):
            rows = next(index for index, name in enumerate(names) if b"/SYSV" in name)
        return rows

    @staticmethod
    def end_of_lines(block, position, lines, found_all):
        """The offset after ``lines`` more lines from ``position`` (the end
        of the block when the table was all there was)."""
        if found_all:
            return len(block)
        find = block.find
        for _ in range(lines):
            position = find(b"\n", position) + 1
            if position == 0:
                return len(block)
        return position

    def columns(self, listing, starts_text, ends_text, perms):
        """(starts, ends, sizes, Mode texts) of a table, its sizes added to
        the listing's totals by kind."""
        starts = list(map(int, starts_text, repeat(16)))
        ends = list(map(int, ends_text, repeat(16)))
        sizes = list(map(sub, ends, starts))
        if min(sizes) < 0:
            sizes = [size & MASK64 for size in sizes]
        by_perms = dict.fromkeys(perms, 0)
        for one, size in zip(perms, sizes):  # (a pass per distinct perms costs more)
            by_perms[one] += size
        modes = {}
        totals = listing.totals
        for one, size in by_perms.items():
            modes[one] = edit_perms(bytearray(one) + bytes(28))
            kind = size_total_of(one)
            if kind != OTHER:
                totals[kind] = (totals[kind] + size) & MASK64
        return starts, ends, sizes, list(map(modes.__getitem__, perms))

    def table_labels(self, listing, names, starts, ends):
        """The Mapping column: listing.label_reference() of each distinct
        name, at each row's place where the name alone does not decide."""
        view = listing.view
        by_name = {}
        placed = set()  # names labelled [ stack ] or [ anon ] by where they lie
        cache = listing.labels
        for name in set(names):
            label = cache.get(name)
            if label is None:
                from ..escape import escape_mapping_name

                text = escape_mapping_name(name, view.charset, view.name_method)
                outside = self._label(text, 1, 0, listing, view)
                inside = self._label(text, 0, MASK64, listing, view)
                if outside == inside:
                    label = cache[name] = outside
                else:
                    label = outside
                    placed.add(name)
            by_name[name] = label
        labels = list(map(by_name.__getitem__, names))
        start_stack = listing.start_stack
        if placed and min(starts) <= start_stack <= max(ends):
            holding = map(and_, map(le, starts, repeat(start_stack)), map(ge, ends, repeat(start_stack)))
            for index in compress(count(), holding):
                if names[index] in placed:
                    labels[index] = view.words.stack
        return labels

    @staticmethod
    def _label(text, start, end, listing, view):
        offset, label = label_reference(text, start, end, 1, 0, 0, listing.start_stack, view)
        return text[offset:] if label is None else label

    @staticmethod
    def take_last_header(listing, block, end, lines):
        """The scan variables as a table's last header leaves them: that line
        (``lines`` lines before ``end``) read by the listing's own scanner."""
        start = end
        for _ in range(lines):
            start = block.rfind(b"\n", 0, start - 1) + 1
        line_end = block.find(b"\n", start, end)
        header = listing.header
        scan_maps_header(block[start:end if line_end < 0 else line_end], header)
        edit_perms(header.perms)
        listing.size = (header.end - header.start) & MASK64


def _compile(source):
    import re

    return re.compile(source)


class _MapsAccelerator(_Accelerator):
    """The default listing and -d: one maps line a row."""

    device = _DEVICE
    names_at = 3

    def read_table(self, listing, block, position):
        if self.pattern is None:
            self.pattern = _compile(rb"(?m)^(?:" + _ADDRESSES + self.device + _NAME + rb"(?:\n|\Z)" + _STRAY)
        found = self.pattern.findall(block, position)
        rows = self.rows_taken(found, self.names_at)
        if not rows:
            return position
        columns = list(zip(*found[:rows]))
        starts, ends, sizes, modes = self.columns(listing, *columns[:3])
        labels = self.table_labels(listing, columns[self.names_at], starts, ends)
        listing.out(self.rows(listing, starts, sizes, modes, columns, labels))
        end = self.end_of_lines(block, position, rows, rows == len(found))
        self.take_last_header(listing, block, end, 1)
        return end


class _DefaultAccelerator(_MapsAccelerator):

    @staticmethod
    def rows(listing, starts, sizes, modes, columns, labels):
        return b"".join(map((listing.row_format + b"%s\n").__mod__,
                            zip(starts, map(rshift, sizes, repeat(10)), modes, labels)))


class _DeviceAccelerator(_MapsAccelerator):

    device = _DEVICE_SHOWN
    names_at = 6

    @staticmethod
    def rows(listing, starts, sizes, modes, columns, labels):
        offsets, majors, minors = columns[3:6]
        row = listing.row_format + b"%s\n"
        return b"".join(map(row.__mod__, zip(starts, map(rshift, sizes, repeat(10)), modes,
                                             map(int, offsets, repeat(16)), map(int, majors, repeat(16)),
                                             map(int, minors, repeat(16)), labels)))


class _ExtendedAccelerator(_Accelerator):
    """-x: one smaps record a row, printed at its Swap line."""

    def __init__(self):
        super().__init__()
        self.patterns = {}  # field layout -> compiled record pattern, or None
        self.first_header = None

    def read_table(self, listing, block, position):
        if self.first_header is None:
            self.first_header = _compile(rb"(?m)^[^A-Z\n]")
        if position >= len(block) or _is_field(block, position):
            return position  # a record is under way: step() goes on with it
        layout = self.layout_at(block, position)
        pattern = self.pattern_of(layout)
        if pattern is None:
            return position
        found = pattern.findall(block, position)
        rows = self.rows_taken(found, 3)
        if not rows:
            return position
        end = self.end_of_lines(block, position, rows * (len(layout) + 1), rows == len(found))
        self.print_rows(listing, found[:rows])
        self.take_last_header(listing, block, end, len(layout) + 1)
        listing.after_swap()  # every record ended with its Swap line
        return end

    def resume_point(self, block, position):
        """After the record under way: the next header line."""
        found = self.first_header.search(block, position + 1) if position + 1 < len(block) else None
        return found.start() if found else len(block)

    def layout_at(self, block, position):
        """The field names of the record at ``position``."""
        following = self.first_header.search(block, position + 1)
        end = following.start() if following else len(block)
        return tuple(line.partition(b":")[0] for line in block[position:end].split(b"\n")[1:] if line)

    def pattern_of(self, layout):
        """The compiled pattern of one whole record with these field lines,
        or None when -x cannot be read off such records with one pattern."""
        if layout in self.patterns:
            return self.patterns[layout]
        pattern = None
        import re

        where = [layout.index(name) for name in _WANTED if name in layout]
        if (len(set(layout)) == len(layout) and len(where) == 4 and where[3] > max(where[:3])
                and all(0 < len(name) <= 20 and b":" not in name for name in layout)):
            parts = [rb"(?m)^(?:", _SAFE_NAME, _ADDRESSES, _DEVICE, _NAME, rb"\n"]
            before_swap = True
            for name in layout:
                if name in _WANTED:
                    # c_rules.scan_field_value's number: no sign, base 10
                    # (a leading zero changes nothing), never saturated
                    digits = rb"[0-9]{1,18}" if name == b"Swap" else rb"([0-9]{1,18})"
                    parts.append(rb"%s:[ ]{1,40}%s kB\n" % (re.escape(name), digits))
                else:
                    limit = _FIELD_LINE_MAX if before_swap else 1000
                    parts.append(rb"%s:[^\n]{0,%d}\n" % (re.escape(name), limit - len(name) - 1))
                if name == b"Swap":
                    before_swap = False
            pattern = re.compile(b"".join(parts) + _STRAY)
        self.patterns[layout] = pattern
        return pattern

    def print_rows(self, listing, table):
        starts_text, ends_text, perms, names, rss, shared, private, _ = zip(*table)
        rss_total = _column_total(rss)
        shared_total = _column_total(shared)
        private_total = _column_total(private)
        starts, ends, sizes, modes = self.columns(listing, starts_text, ends_text, perms)
        labels = self.table_labels(listing, names, starts, ends)
        # the dirty column is a sum, unless one of its two parts is all zero
        if shared_total == 0 and shared.count(b"0") == len(shared):
            dirty = list(map(int, private))
        elif private_total == 0 and private.count(b"0") == len(private):
            dirty = list(map(int, shared))
        else:
            dirty = list(map(add, map(int, shared), map(int, private)))
        row = listing.row_format + b"%s\n"
        listing.out(b"".join(map(row.__mod__, zip(starts, map(rshift, sizes, repeat(10)), map(int, rss), dirty,
                                                  modes, labels))))
        listing.total_rss = (listing.total_rss + rss_total) & MASK64
        listing.total_shared_dirty = (listing.total_shared_dirty + shared_total) & MASK64
        listing.total_private_dirty = (listing.total_private_dirty + private_total) & MASK64


def _is_field(block, position):
    return 65 <= block[position] <= 90


def _column_total(texts):
    """The sum of a column of digit strings (the kernel's values: few
    distinct ones, most often all b"0"; a leading zero counts for nothing,
    as in step()'s base-10 %llu)."""
    if texts.count(b"0") == len(texts):
        return 0
    from collections import Counter

    return sum(int(text) * times for text, times in Counter(texts).items())


_ACCELERATORS = {"default": _DefaultAccelerator, "device": _DeviceAccelerator, "extended": _ExtendedAccelerator}
_made = {}


def accelerator_for(listing_format):
    """The accelerator of a listing format ("default", "device",
    "extended"; one per run: it keeps compiled patterns and labels)."""
    accelerator = _made.get(listing_format)
    if accelerator is None:
        accelerator = _made[listing_format] = _ACCELERATORS[listing_format]()
    return accelerator
