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

``Listing`` is that loop with pmap's state, stepped one fgets() piece at a
time (``step_pieces()``, over a block of the file that ends at a line end).
listing_fast.py's accelerators read a large block of the kernel's regular
text as a table instead and leave the same rows, totals and state; the
mode (modes/listing.py) offers each block to the accelerator first.  What
an accelerator may use of a Listing is its state below (the attributes
documented in __init__), ``out``, ``row_format``, ``step_pieces()`` and
``after_swap()``.
"""

from ..escape import escape_mapping_name
from ..parse.c_rules import MASK64, LineBuffer, MapsHeader, c_string, fgets_pieces, scan_field_value, \
    scan_maps_header
from .labels import OTHER, PRIVATE_READONLY, PRIVATE_WRITEABLE, SHARED, edit_perms, size_total_of, label_reference

__all__ = ["Listing", "DefaultListing", "ExtendedListing", "DeviceListing", "LISTINGS"]


class Listing:
    """one_proc()'s loop and state for one process.  Subclasses say what a
    header does (``row``), how a row is printed and what the listing starts
    and ends with; ``out`` collects the bytes printed.  ``format`` names the
    listing ("default", "device", "extended"), ``reads`` the file it reads.

    The state, as pmap's variables: ``header`` (the scan's MapsHeader),
    ``size`` (pmap's diff: the size of the mapping read last), ``totals``
    (sizes by labels.size_total_of), ``rss``, ``shared_dirty``, ``private_dirty``
    and their ``total_*``, ``label`` (-x's cp2), ``stopped`` (-A's end), and
    the buffer's history (``header_piece``, ``header_text``,
    ``since_header``); ``labels`` caches the accelerator's labels."""

    reads = b"maps"
    format = None

    def __init__(self, start_stack, view, out):
        self.start_stack = start_stack
        self.view = view
        self.out = out
        self.header = MapsHeader()
        self.header_piece = self.header_text = b""
        self.since_header = []  # the pieces read since the last header line in range
        self.totals = [0, 0, 0, 0]  # by size_total_of(), unsigned long
        self.rss = self.shared_dirty = self.private_dirty = 0
        self.total_rss = self.total_shared_dirty = self.total_private_dirty = 0
        self.size = 0
        self.label = None  # -x's cp2: None, a label, or an offset into the buffer
        self.stopped = False  # -A: a mapping above the range ended the loop
        self.labels = {}  # the accelerator's labels of names whose label is the name's alone
        self.full_range = view.range_low == 0 and view.range_high == MASK64
        self.widths = view.words.widths(self.columns, view.quiet)
        self.row_format = self.row_format_of(self.widths)

    columns = ()

    def start(self):
        """What pmap prints before the loop (after the process header)."""

    def step_pieces(self, data):
        """``data`` piece by piece, each piece one turn of pmap's loop."""
        since_header = self.since_header
        keys = _KEYS
        starts = _KEY_STARTS
        for piece in fgets_pieces(data):
            if 65 <= piece[0] <= 90:  # c_rules.is_field_line
                # only -x's four keys count (pmap takes them in every mode,
                # it prints only in -x); a NUL before the colon would make
                # the key one of none of them, as it makes C's key shorter
                since_header.append(piece)
                if piece[:4] in starts:
                    colon = piece.find(b":", 0, 21)  # c_rules.field_key
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
                self.out(self.row_format % (self.header.start, self.size >> 10, self.rss,
                                            (self.private_dirty + self.shared_dirty) & MASK64,
                                            self.header.perms_text()) + name + b"\n")
            self.after_swap()

    def after_swap(self):
        """pmap's resets after a Swap line (printed or not)."""
        self.rss = self.shared_dirty = self.private_dirty = 0
        self.size = 0
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
        view = self.view
        if count != 7 and view.skip_partial_headers:
            # (3.3) the line is skipped, but what the scan assigned stays,
            # and the line stays in the buffer as read
            self.since_header.append(piece)
            return
        if (header.end - 1) & MASK64 < view.range_low:
            self.since_header.append(piece)  # in the buffer as read, uncleaned
            return
        if view.range_high < header.start:
            self.stopped = True
            return
        newline = text.find(b"\n")
        if newline >= 0:
            text = text[:newline]
        text = escape_mapping_name(text, view.charset, view.name_method)
        # the cleaned line, in place in pmap's buffer and ended by a NUL; the
        # lines read after it are kept until the next header, for
        # string_at(): bytes the buffer held before this line are never read
        self.header_piece = piece
        self.header_text = text
        self.since_header = []
        self.size = size = (header.end - header.start) & MASK64
        perms = header.perms
        kind = size_total_of(perms)
        if kind != OTHER:
            self.totals[kind] = (self.totals[kind] + size) & MASK64
        mode = edit_perms(perms)
        offset, label = label_reference(text, header.start, header.end, header.major, header.minor, header.inode,
                                        self.start_stack, view)
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

    format = "default"

    @staticmethod
    def row_format_of(widths):
        return b"%016x %6dK %s "

    def row(self, mode, offset, label, text):
        self.out(self.row_format % (self.header.start, self.size >> 10, mode)
                 + (text[offset:] if label is None else label) + b"\n")

    def finish(self):
        if not self.view.quiet:
            self.out(self.view.words.total_line(self.mapped_kb()))


class DeviceListing(Listing):
    """pmap -d: offsets and devices, and the mapped/writeable/shared line."""

    format = "device"

    columns = ("Address", "Kbytes", "Mode", "Offset", "Device")

    @staticmethod
    def row_format_of(widths):
        address, kbytes, mode, offset, device = widths
        return b"%%0%dx %%%dd %%%ds %%0%dx %s%%03x:%%05x " % (address, kbytes, mode, offset, b" " * (device - 9))

    def start(self):
        if not self.view.quiet:
            self.out(self.view.words.heading(self.columns, self.widths))

    def row(self, mode, offset, label, text):
        header = self.header
        self.out(self.row_format % (header.start, self.size >> 10, mode, header.offset, header.major, header.minor)
                 + (text[offset:] if label is None else label) + b"\n")

    def finish(self):
        if not self.view.quiet:
            totals = self.totals
            self.out(self.view.words.device_totals(self.mapped_kb(), totals[PRIVATE_WRITEABLE] >> 10,
                                                      totals[SHARED] >> 10))


class ExtendedListing(Listing):
    """pmap -x: RSS and dirty kilobytes from smaps, printed at each mapping's
    Swap line; the totals add every Rss and Dirty line pmap reads."""

    reads = b"smaps"
    format = "extended"
    columns = ("Address", "Kbytes", "RSS", "Dirty", "Mode")

    @staticmethod
    def row_format_of(widths):
        address, kbytes, rss, dirty, mode = widths
        return b"%%0%dx %%%dd %%%dd %%%dd %%%ds " % (address, kbytes, rss, dirty, mode)

    def start(self):
        if not self.view.quiet:
            self.out(self.view.words.heading(self.columns, self.widths))

    def row(self, mode, offset, label, text):
        self.label = offset if label is None else label

    def finish(self):
        if not self.view.quiet:
            self.out(self.view.words.extended_totals(self.widths, self.mapped_kb(), self.total_rss,
                                                        (self.total_shared_dirty + self.total_private_dirty) & MASK64))


LISTINGS = {"default": DefaultListing, "device": DeviceListing, "extended": ExtendedListing}
