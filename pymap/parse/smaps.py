"""What pymap knows about a process: plain objects parsed from /proc bytes.

A Mapping carries the header fields of its maps line and, when it came from
smaps, every field the kernel printed in the kernel's own order: kernels add
and drop fields, so nothing here lists them.
"""

__all__ = ["Mapping", "parse_maps_line", "parse_smaps", "iter_smaps", "parse_maps", "SmapsFormatError",
           "usual_records"]

from .c_rules import MapsHeader, digits_value, is_field_line, record_segments, scan_maps_header

_SPACE = b" \t\n\v\f\r"


class Mapping:
    """One line of /proc/PID/maps, with its smaps record when there was one.

    ``perms`` is the four-letter bytes string ("r-xp"), ``name`` the name as
    the kernel printed it (bytes, b"" for none), ``fields`` maps each
    numeric smaps field name to its value, in the kernel's order: values in
    kB except the names listed in ``unitless`` (THPeligible, ProtectionKey:
    lines with a bare number).  ``other`` holds lines whose value is not a
    number, as raw bytes, and ``vmflags`` the VmFlags as a list of str (None
    when the kernel printed no VmFlags line).
    """

    __slots__ = ("start", "end", "perms", "offset", "dev_major", "dev_minor", "inode", "name",
                 "fields", "unitless", "other", "vmflags")

    start: int
    end: int
    perms: bytes
    offset: int
    dev_major: int
    dev_minor: int
    inode: int
    name: bytes
    fields: "dict[str, int]"
    unitless: "tuple[str, ...]"
    other: "dict[str, bytes]"
    vmflags: "list[str] | None"

    def __init__(self, start, end, perms, offset, dev_major, dev_minor, inode, name=b"",
                 fields=None, unitless=(), other=None, vmflags=None):
        self.start = start
        self.end = end
        self.perms = perms
        self.offset = offset
        self.dev_major = dev_major
        self.dev_minor = dev_minor
        self.inode = inode
        self.name = name
        self.fields = {} if fields is None else fields
        self.unitless = unitless
        self.other = {} if other is None else other
        self.vmflags = vmflags

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def kb_fields(self):
        """The fields measured in kB, in the kernel's order."""
        if not self.unitless:
            return self.fields
        return {name: value for name, value in self.fields.items() if name not in self.unitless}

    @property
    def device(self) -> str:
        return "%02x:%02x" % (self.dev_major, self.dev_minor)

    def __repr__(self):
        return "Mapping(%x-%x %s %r)" % (self.start, self.end, self.perms.decode("latin-1"), self.name)


def parse_maps_line(line: bytes) -> "Mapping | None":
    """Parse one maps line (without its newline) into a Mapping, or None when
    it is not one: its seven numbers and words are read as pmap's sscanf()
    reads them (c_rules.scan_maps_header: a number too large saturates), the
    name is what follows, white space before it left out."""
    header = MapsHeader()
    if scan_maps_header(line, header) != 7:
        return None
    name = line[header.consumed:].lstrip(_SPACE)
    return Mapping(header.start, header.end, header.perms_text(), header.offset, header.major, header.minor,
                   header.inode, name)


def parse_maps(data: bytes) -> "list[Mapping]":
    """Mappings of a whole /proc/PID/maps file (bytes).  Lines that are not
    maps lines are skipped."""
    mappings = []
    for line in data.split(b"\n"):
        if line:
            mapping = parse_maps_line(line)
            if mapping is not None:
                mappings.append(mapping)
    return mappings


class SmapsFormatError(ValueError):
    """A smaps file that does not look like one."""


def parse_smaps(data: bytes, lenient: bool = False) -> "list[Mapping]":
    """Mappings of a whole /proc/PID/smaps file (bytes), each with its fields.

    A line that starts with A-Z is a field of the mapping above it (pmap's
    rule, c_rules.is_field_line), any other a mapping's header.  Raises
    SmapsFormatError for a field line before any mapping, a header line that
    is not a maps line or a field line without a colon; ``lenient`` skips
    such lines instead (as pmap's -x reading skips what it does not
    recognise).
    """
    return list(iter_smaps((data,), lenient))


# a line longer than this is cut (the kernel's lines are at most a path of
# 4 KiB long; a damaged or hostile file must not make one line unbounded)
LINE_LIMIT = 1 << 16


def iter_smaps(blocks, lenient=False):
    """parse_smaps() of a smaps file given in blocks (source.ProcRoot.line_blocks):
    each Mapping as soon as its record is read whole.

    Records in the kernel's usual text (a header, then "Name: digits kB"
    or "Name: digits" lines, then a VmFlags line) are read a record at a
    time by one pattern (usual_records); from the first line it does not
    take to the end of the segment, lines go one by one through _Reader,
    the reading that says what a line means (the pattern agrees with it)."""
    reader = _Reader(lenient)
    for segment, end in record_segments(blocks):
        position = 0
        if reader.at_line_start():
            position = yield from usual_records(reader, segment, end)
        yield from reader.feed(segment[position:end] if position or end < len(segment) else segment)
    yield from reader.finish()


_USUAL_RECORD = _USUAL_FIELD = None


def usual_records(reader, segment, end):
    """Read the records of segment[:end] that the pattern takes, from its
    start; the last one stays the reader's current mapping (field lines
    that follow may still be its own).  Returns where the pattern stopped."""
    global _USUAL_RECORD, _USUAL_FIELD
    if _USUAL_RECORD is None:
        import re

        # a header line, field lines of digits with or without " kB", and a
        # VmFlags line of letters and spaces
        _USUAL_RECORD = re.compile(rb"([^A-Z\n][^\n]{0,4095})\n"
                                   rb"((?:(?!VmFlags:)[A-Z][^:\n]{0,63}:[ ]{0,63}[0-9]{1,19}(?: kB)?\n)*)"
                                   rb"(?:VmFlags:([a-z ]{0,511})\n)?")
        _USUAL_FIELD = re.compile(rb"([^:\n]+):[ ]*([0-9]+)( kB)?\n")
    match = _USUAL_RECORD.match
    findall = _USUAL_FIELD.findall
    layouts = _FIELD_LAYOUTS
    position = 0
    while position < end:
        found = match(segment, position, end)
        if found is None:
            break
        mapping = parse_maps_line(found.group(1))
        if mapping is None:  # _Reader says what that means
            break
        lines = findall(found.group(2))
        if lines:
            keys, values, units = zip(*lines)
            layout = layouts.get((keys, units))
            if layout is None:
                layout = _field_layout(keys, units)
            mapping.fields = dict(zip(layout[0], map(int, values)))
            mapping.unitless = layout[1]
        flags = found.group(3)
        if flags is not None:
            mapping.vmflags = [flag.decode("latin-1") for flag in flags.split()]
        if reader.current is not None:
            yield reader.current
        reader.current = mapping
        position = found.end()
    return position


class _Reader:
    """smaps read line by line: a line that starts with A-Z is a field of
    the mapping above it (pmap's rule, c_rules.is_field_line), any other a
    mapping's header; lines are cut at LINE_LIMIT bytes."""

    def __init__(self, lenient):
        self.lenient = lenient
        self.current = None  # the mapping whose field lines are being read
        self.carry = b""  # the start of a line whose end is to come
        self.cutting = False  # the rest of a line already cut

    def at_line_start(self):
        return not self.carry and not self.cutting

    def feed(self, block):
        """The Mappings that the lines of ``block`` finish."""
        for line in self._lines(block):
            if line:
                yield from self._line(line)

    def finish(self):
        if self.carry and not self.cutting:
            yield from self._line(self.carry)
        self.carry = b""
        if self.current is not None:
            yield self.current
            self.current = None

    def _lines(self, block):
        lines = block.split(b"\n")
        last = lines.pop()
        for line in lines:
            if self.cutting:
                self.cutting = False
                continue
            if self.carry:
                line, self.carry = self.carry + line, b""
            yield line[:LINE_LIMIT]
        if self.cutting:
            return
        self.carry += last
        if len(self.carry) > LINE_LIMIT:
            yield self.carry[:LINE_LIMIT]
            self.carry = b""
            self.cutting = True

    def _line(self, line):
        lenient = self.lenient
        if not is_field_line(line):
            if self.current is not None:
                yield self.current
            self.current = parse_maps_line(line)
            if self.current is None and not lenient:
                raise SmapsFormatError("not a mapping line: %r" % line[:80])
            return
        if self.current is None:
            if lenient:
                return
            raise SmapsFormatError("field before the first mapping: %r" % line[:80])
        if not _add_field(self.current, line) and not lenient:
            raise SmapsFormatError("not a field line: %r" % line[:80])


# field names decoded once each (a bounded cache: a hostile file may have
# any number of distinct names)
_FIELD_NAMES = {}


def _field_name(key):
    name = key.decode("latin-1")
    if len(_FIELD_NAMES) < 256:
        _FIELD_NAMES[key] = name
    return name


# (names, unitless names) of the field lines of a usual record, by (keys,
# units): records of one file almost all share one layout
_FIELD_LAYOUTS = {}


def _field_layout(keys, units):
    names = tuple(_FIELD_NAMES.get(key) or _field_name(key) for key in keys)
    layout = (names, tuple(name for name, unit in zip(names, units) if not unit))
    if len(_FIELD_LAYOUTS) < 64:
        _FIELD_LAYOUTS[(keys, units)] = layout
    return layout


def _add_field(mapping, line):
    """Add one field line to ``mapping``; False when it has no colon."""
    key, sep, rest = line.partition(b":")
    if not sep:
        return False
    name = _FIELD_NAMES.get(key) or _field_name(key)
    words = rest.split()
    if name == "VmFlags":
        mapping.vmflags = [flag.decode("latin-1") for flag in words]
    elif words and words[0].isdigit() and (len(words) == 1 or words[1:] == [b"kB"]):
        mapping.fields[name] = digits_value(words[0])
        if len(words) == 1:
            mapping.unitless += (name,)
    else:
        mapping.other[name] = rest.strip()
    return True
