"""pmap's classic listings: the default format, -x/--extended, -d/--device.

pmap prints them from one loop (one_proc() in pmap.c): it reads maps (or
smaps for -x) with fgets() into one 1024-byte buffer, takes a line that
starts with A-Z for a field ("Rss:  4 kB"), any other for a mapping's
header, scans headers with sscanf() into variables that keep their values
from line to line, cleans the header in the buffer, and prints a row: at
once for the default and -d formats, at the mapping's "Swap:" line for -x,
whose Mapping column is a pointer into the buffer that the field lines read
since may have overwritten.  A line longer than the buffer arrives in
pieces, each taken for a line of its own.

``Listing`` is that loop, piece by piece, with pmap's state: ``feed()``
takes a block of the file (ending at a line end) and passes it through
listing_blocks.py's accelerator when that can take the block (the kernel's
regular text, read as a table), else piece by piece through ``step()``.
Both produce a block's rows, totals and final state the same way; the
accelerator only declines what it cannot read exactly as ``step()`` would.
"""

from ..creading import MASK64, LineBuffer, MapsHeader, c_string, fgets_pieces, scan_field_value, \
    scan_maps_header
from ..errors import ProcessError
from ..escape import escape_mapping_name
from . import OutputMode

__all__ = ["Listing", "DefaultListing", "ExtendedListing", "DeviceListing", "ListingMode", "label_reference",
           "label_kind", "render_label", "mapping_label", "mapping_label_kind", "edit_perms", "kind_of", "LISTINGS",
           "NAME", "ANON", "STACK", "SHMID"]

_S, _P, _W = ord("s"), ord("p"), ord("w")
# blocks of at least this size go to listing_blocks.py's accelerators (a
# smaller process needs no regular expression, and no re to import)
FAST_MINIMUM = 1 << 16
SHARED, PRIVATE_WRITEABLE, PRIVATE_READONLY, OTHER = range(4)
_SHM_NONE = 0xFFFFFFFF  # pmap's shm_minor when its probe found none (~0u)


def kind_of(perms):
    """Where pmap adds a mapping's size: by the 4th and 2nd byte of its
    perms buffer (as scanned, before pmap edits it)."""
    kind = perms[3] if len(perms) > 3 else 0
    if kind == _S:
        return SHARED
    if kind == _P:
        return PRIVATE_WRITEABLE if perms[1] == _W else PRIVATE_READONLY
    return OTHER


def edit_perms(perms):
    """pmap's edits of its perms buffer (a bytearray of 32) after adding the
    size: 'p' becomes '-', then a fifth flag '-' and the end.  Returns the
    Mode column as printf("%s") shows it."""
    if perms[3] == _P:
        perms[3] = 0x2D
    perms[4] = 0x2D
    perms[5] = 0
    end = perms.find(0)
    return bytes(perms[:end])


# what pmap's Mapping column shows, as a kind: a part of the mapping's
# name, or one of pmap's labels, whose words (in the user's language) are
# rendered last (render_label), so that no logic compares translated text
NAME, ANON, STACK, SHMID = "name", "anon", "stack", "shmid"


def label_kind(text, start, end, major, minor, start_stack, display):
    """pmap's mapping_name() for a cleaned header line ``text`` (a C
    string): (NAME, offset) when the label is the string at ``offset`` of
    pmap's line buffer, else (ANON, None), (STACK, None) or (SHMID, None)."""
    if not major and b"/SYSV" in text:
        shm_minor = display.shm_minor
        if shm_minor is None and display.find_shm_minor is not None:
            shm_minor = display.find_shm_minor()
        if minor == (_SHM_NONE if shm_minor is None else shm_minor):
            return SHMID, None
    slash = text.rfind(b"/")
    if slash >= 0:
        if display.show_path:
            return NAME, text.find(b"/")
        return NAME, (slash + 1 if slash + 1 < len(text) else slash)
    if display.kernel_names and text.endswith(b"]"):
        bracket = text.find(b"[")
        if bracket >= 0:
            return NAME, bracket
    if start <= start_stack <= (start + ((end - start) & MASK64)) & MASK64:
        return STACK, None
    return ANON, None


def render_label(kind, inode, words):
    """The Mapping column of one of pmap's labels, in the user's language."""
    if kind == SHMID:
        return b"  [ shmid=0x%x ]" % inode
    return words.stack if kind == STACK else words.anon


def label_reference(text, start, end, major, minor, inode, start_stack, display):
    """label_kind() as pmap's buffer holds it: (offset, None) when the label
    is the string at ``offset`` of the line buffer, else (None, label)."""
    kind, offset = label_kind(text, start, end, major, minor, start_stack, display)
    if kind == NAME:
        return offset, None
    return None, render_label(kind, inode, display.words)


def mapping_label_kind(mapping, start_stack, display):
    """(kind, Mapping column) of a model Mapping (--json, --reconcile)."""
    text = escape_mapping_name(mapping.name, display.charset, display.name_method)
    kind, offset = label_kind(text, mapping.start, mapping.end, mapping.dev_major, mapping.dev_minor, start_stack,
                              display)
    return kind, text[offset:] if kind == NAME else render_label(kind, mapping.inode, display.words)


def mapping_label(mapping, start_stack, display):
    """The Mapping column of a model Mapping (--json, --diff)."""
    return mapping_label_kind(mapping, start_stack, display)[1]


class Listing:
    """one_proc()'s loop and state for one process.  Subclasses say what a
    header does (``row``), how a row is printed and what the listing starts
    and ends with; ``out`` collects the bytes printed."""

    reads = b"maps"

    def __init__(self, start_stack, display, out):
        self.start_stack = start_stack
        self.display = display
        self.out = out
        self.header = MapsHeader()
        self.header_piece = self.header_text = b""
        self.since_header = []  # the pieces read since the last header line in range
        self.totals = [0, 0, 0, 0]  # by kind_of(), unsigned long
        self.rss = self.shared_dirty = self.private_dirty = 0
        self.total_rss = self.total_shared_dirty = self.total_private_dirty = 0
        self.diff = 0
        self.label = None  # -x's cp2: None, a label, or an offset into the buffer
        self.stopped = False  # -A: a mapping above the range ended the loop
        self.labels = {}  # the accelerator's labels of names whose label is the name's alone
        self.full_range = display.range_low == 0 and display.range_high == MASK64
        self.widths = display.words.widths(self.columns, display.quiet)
        self.row_format = self.row_format_of(self.widths)

    columns = ()

    def start(self):
        """What pmap prints before the loop (after the process header)."""

    def feed(self, block):
        """Take ``block``, a part of the file that ends at a line end (or at
        the end of the file): through listing_blocks.py's accelerator when
        it is large, else piece by piece."""
        if self.stopped:
            return
        if self.full_range and len(block) >= FAST_MINIMUM:
            from .listing_blocks import accelerator_for

            accelerator_for(type(self)).feed(self, block)
        else:
            self.step_all(block)

    def step_all(self, data):
        """``data`` piece by piece, each piece one turn of pmap's loop."""
        since_header = self.since_header
        keys = _KEYS
        starts = _KEY_STARTS
        for piece in fgets_pieces(data):
            if 65 <= piece[0] <= 90:  # creading.is_field_line
                # only -x's four keys count (pmap takes them in every mode,
                # it prints only in -x); a NUL before the colon would make
                # the key one of none of them, as it makes C's key shorter
                since_header.append(piece)
                if piece[:4] in starts:
                    colon = piece.find(b":", 0, 21)  # creading.field_key
                    if colon > 0 and piece[:colon] in keys:
                        self.field(piece[:colon], piece)
            else:
                self.header_line(piece)
                since_header = self.since_header
                if self.stopped:
                    return

    def field(self, key, piece):
        """One of -x's field lines (a NUL in it ends the number, as it ends
        C's string)."""
        value = scan_field_value(piece, len(key) + 1)
        if value is None:
            return
        if key == b"Rss":
            self.rss = value
            self.total_rss = (self.total_rss + value) & MASK64
        elif key == b"Shared_Dirty":
            self.shared_dirty = value
            self.total_shared_dirty = (self.total_shared_dirty + value) & MASK64
        elif key == b"Private_Dirty":
            self.private_dirty = value
            self.total_private_dirty = (self.total_private_dirty + value) & MASK64
        else:  # Swap: -x prints the row of the mapping read last
            if self.label is not None:
                label = self.label
                name = self.string_at(label) if isinstance(label, int) else label
                self.out(self.row_format % (self.header.start, self.diff >> 10, self.rss,
                                            (self.private_dirty + self.shared_dirty) & MASK64,
                                            self.header.perms_text()) + name + b"\n")
            self.after_swap()

    def after_swap(self):
        """pmap's resets after a Swap line (printed or not)."""
        self.rss = self.shared_dirty = self.private_dirty = 0
        self.diff = 0
        self.header.end = 0
        self.header.perms[0] = 0
        self.label = None

    def string_at(self, offset):
        """The C string at ``offset`` of pmap's line buffer now: the header
        line as cleaned, unless a line read since reached that far."""
        pieces = self.since_header
        if not pieces or max(map(len, pieces)) < offset:
            return self.header_text[offset:]
        buffer = LineBuffer()
        buffer.load(self.header_piece)
        buffer.load(self.header_text)
        for piece in pieces:
            buffer.load(piece)
        return buffer.string_at(offset)

    def header_line(self, piece):
        header = self.header
        text = c_string(piece)
        count = scan_maps_header(text, header)
        display = self.display
        if count != 7 and display.skip_partial_headers:
            # (3.3) the line is skipped, but what the scan assigned stays,
            # and the line stays in the buffer as read
            self.since_header.append(piece)
            return
        if (header.end - 1) & MASK64 < display.range_low:
            self.since_header.append(piece)  # in the buffer as read, uncleaned
            return
        if display.range_high < header.start:
            self.stopped = True
            return
        newline = text.find(b"\n")
        if newline >= 0:
            text = text[:newline]
        text = escape_mapping_name(text, display.charset, display.name_method)
        # the cleaned line, in place in pmap's buffer and ended by a NUL; the
        # lines read after it are kept until the next header, for
        # string_at(): bytes the buffer held before this line are never read
        self.header_piece = piece
        self.header_text = text
        self.since_header = []
        self.diff = diff = (header.end - header.start) & MASK64
        perms = header.perms
        kind = kind_of(perms)
        if kind != OTHER:
            self.totals[kind] = (self.totals[kind] + diff) & MASK64
        mode = edit_perms(perms)
        offset, label = label_reference(text, header.start, header.end, header.major, header.minor, header.inode,
                                        self.start_stack, display)
        self.row(mode, offset, label, text)

    def row(self, mode, offset, label, text):
        """What a header in range does: print, or (-x) keep the label."""

    def mapped_kb(self):
        return ((self.totals[SHARED] + self.totals[PRIVATE_WRITEABLE] + self.totals[PRIVATE_READONLY]) & MASK64) >> 10

    def finish(self):
        """What pmap prints after the loop."""

    @staticmethod
    def row_format_of(widths):
        return b""


_KEYS = frozenset((b"Rss", b"Shared_Dirty", b"Private_Dirty", b"Swap"))
_KEY_STARTS = frozenset(key[:3] + b":" if len(key) == 3 else key[:4] for key in _KEYS)  # a quick first look


class DefaultListing(Listing):
    """pmap PID: address, size, mode, mapping, and the total."""

    @staticmethod
    def row_format_of(widths):
        return b"%016x %6dK %s "

    def row(self, mode, offset, label, text):
        self.out(self.row_format % (self.header.start, self.diff >> 10, mode)
                 + (text[offset:] if label is None else label) + b"\n")

    def finish(self):
        if not self.display.quiet:
            self.out(self.display.words.total_line(self.mapped_kb()))


class DeviceListing(Listing):
    """pmap -d: offsets and devices, and the mapped/writeable/shared line."""

    columns = ("Address", "Kbytes", "Mode", "Offset", "Device")

    @staticmethod
    def row_format_of(widths):
        address, kbytes, mode, offset, device = widths
        return b"%%0%dx %%%dd %%%ds %%0%dx %s%%03x:%%05x " % (address, kbytes, mode, offset, b" " * (device - 9))

    def start(self):
        if not self.display.quiet:
            self.out(self.display.words.heading(self.columns, self.widths))

    def row(self, mode, offset, label, text):
        header = self.header
        self.out(self.row_format % (header.start, self.diff >> 10, mode, header.offset, header.major, header.minor)
                 + (text[offset:] if label is None else label) + b"\n")

    def finish(self):
        if not self.display.quiet:
            totals = self.totals
            self.out(self.display.words.device_totals(self.mapped_kb(), totals[PRIVATE_WRITEABLE] >> 10,
                                                      totals[SHARED] >> 10))


class ExtendedListing(Listing):
    """pmap -x: RSS and dirty kilobytes from smaps, printed at each mapping's
    Swap line; the totals add every Rss and Dirty line pmap reads."""

    reads = b"smaps"
    columns = ("Address", "Kbytes", "RSS", "Dirty", "Mode")

    @staticmethod
    def row_format_of(widths):
        address, kbytes, rss, dirty, mode = widths
        return b"%%0%dx %%%dd %%%dd %%%dd %%%ds " % (address, kbytes, rss, dirty, mode)

    def start(self):
        if not self.display.quiet:
            self.out(self.display.words.heading(self.columns, self.widths))

    def row(self, mode, offset, label, text):
        self.label = offset if label is None else label

    def finish(self):
        if not self.display.quiet:
            self.out(self.display.words.extended_totals(self.widths, self.mapped_kb(), self.total_rss,
                                                        (self.total_shared_dirty + self.total_private_dirty) & MASK64))


LISTINGS = {"default": DefaultListing, "device": DeviceListing, "extended": ExtendedListing}


class ListingMode(OutputMode):
    """The default listing, -x and -d as an output mode: each process's
    header line, then its listing, held back until its map was read to the
    end (a process that exits while it is read shows its header alone)."""

    def __init__(self, session):
        super().__init__(session)
        self.listing_class = LISTINGS[session.invocation.mode]

    def show(self, process):
        session = self.session
        console = session.console
        console.write(session.header(process))
        listing = self.listing_class(process.start_stack, session.display, console.write)
        console.hold()
        try:
            blocks = session.blocks(process, listing.reads)
            listing.start()
            try:
                for block in blocks:
                    listing.feed(block)
                    if listing.stopped:
                        break  # pmap reads no further either
            finally:
                blocks.close()
        except ProcessError as error:
            return session.unreadable(error)
        listing.finish()
        console.release()
        return 0
