"""--diff=BEFORE: what changed in each process since a capture.

BEFORE is a folder written by ``pymap --capture BEFORE PID``; the later
side is the live process, or the snapshot given with --proc-root.  Both
smaps files are read at once, in address order, and matched as they go
(match()), so memory stays flat whatever the number of mappings (only the
changed rows are kept when they are to be sorted).

Two mappings are the same mapping when their address ranges overlap and
their names are equal: a heap that grew, a stack or anonymous region that
was resized or moved within its old range, a file mapping whose protection
changed.  Overlapping mappings of different names are not matched: the one
that ends first went away (before) or appeared (after).

Per process, text::

    PID:   COMMAND LINE                  (pmap's header line, as it is now)
      Address           Kbytes      RSS    Dirty     Anon     Swap Mode  Mapping
    + 00007f3a2c000000  +65536   +65536   +65536   +65536        0 rw---   [ anon ]
    ~ 000055d0b6e52000    +132     +132     +132     +132        0 rw---   [ anon ]  (was 000055d0b6e52000-...)
    - 00007f3a2f000000     -40      -40        0        0        0 r----  libfoo.so
      ---------------- -------- -------- -------- -------- --------
      total kB          +65628   +65628   +65628   +65628        0

``+`` a mapping that appeared, ``-`` one that went away, ``~`` one whose
range, permissions or figures changed (its old range or permissions in
parentheses); unchanged mappings are not shown.  The figures are kB
deltas: Kbytes (the size), RSS, Dirty (shared + private dirty), Anon
(Anonymous) and Swap; pmap's words are in the user's language.  -q leaves
out the heading and the totals, -A keeps the mappings that overlap the
range on either side, -p and -k name mappings as in pmap's listings.
``--sort=KEY`` orders the rows by the delta of kbytes, rss, dirty, anon or
swap, largest growth first (address order by default).

With --json, JSON Lines (schema 3, the names of --json): one object per
changed mapping, then one totals object per process::

    {"schema": 3, "pid": 1234, "tgid": 1234, "change": "appeared" | "gone" | "changed",
     "start": "7f3a2c000000", "end": "7f3a30000000", "offset": "00000000", "inode": "0",
     "perms": "rw-p", "device": "00:00", "name": "", "label": "[ anon ]",
     "before": {"start": ..., "end": ..., "offset": ..., "perms": ...},   (changed only)
     "kb": {"Size": 65536, "Rss": 65536, ...}}                       (deltas, every kB field)
    {"schema": 3, "pid": 1234, "tgid": 1234, "comm": ..., "cmdline": [...],
     "totals": {"Size": 65628, ...}}                                  (deltas of --json's totals)

A "gone" mapping is described as it was.  A process that cannot be
compared gives one object {"schema": 3, "pid": ..., "state": "restarted" |
"gone" | "not captured"} (text: its header and one line saying so): a PID
whose start time (stat) differs between the two sides is another process
that took the number.  Exit status: 0, or 42 when some PID was not on both
sides as the same process, 1 when a process could not be read.
"""

import errno
import os

from .. import procfs
from ..errors import ProcessError
from ..escape import terminal_safe
from . import OutputMode

__all__ = ["DiffMode", "match", "figures_of"]

# the text's figure columns: heading, and how a mapping's figure is found
FIGURES = ("Kbytes", "RSS", "Dirty", "Anon", "Swap")
_WIDTH = 8
_NOT_ADDED = frozenset(("KernelPageSize", "MMUPageSize"))


def figures_of(mapping):
    """(Kbytes, RSS, Dirty, Anon, Swap) of a Mapping, in kB; Kbytes is the
    size of its range, as pmap -x shows it."""
    fields = mapping.fields
    get = fields.get
    return (((mapping.end - mapping.start) & ((1 << 64) - 1)) >> 10, get("Rss", 0),
            get("Shared_Dirty", 0) + get("Private_Dirty", 0), get("Anonymous", 0), get("Swap", 0))


def match(before, after):
    """Pairs (old, new) of two address-ordered iterables of Mapping, in
    address order: (old, None) went away, (None, new) appeared, (old, new)
    the same mapping."""
    before = iter(before)
    after = iter(after)
    old = next(before, None)
    new = next(after, None)
    while old is not None or new is not None:
        if new is None or (old is not None and old.end <= new.start):
            yield old, None
            old = next(before, None)
        elif old is None or new.end <= old.start:
            yield None, new
            new = next(after, None)
        elif old.name == new.name:
            yield old, new
            old = next(before, None)
            new = next(after, None)
        elif old.end <= new.end:  # overlapping under other names: the one that ends first has no partner
            yield old, None
            old = next(before, None)
        else:
            yield None, new
            new = next(after, None)


def _signed(value):
    return b"%+d" % value if value else b"0"


def _overlaps(mapping, display):
    return (mapping.end - 1) & ((1 << 64) - 1) >= display.range_low and mapping.start <= display.range_high


class _Row:
    """One changed mapping, kept small (rows are held when sorted)."""

    __slots__ = ("start", "deltas", "line")

    def __init__(self, start, deltas, line):
        self.start = start
        self.deltas = deltas
        self.line = line  # its text line or JSON object, made as it is read


class DiffMode(OutputMode):
    """--diff=BEFORE: per PID, the changed mappings and the totals' deltas."""

    def __init__(self, session):
        super().__init__(session)
        invocation = session.invocation
        self.before_root = invocation.diff_before
        self.json = invocation.json
        from ..modes import mode_named

        # 0: address order, else 1 + the index of the figure
        self.sort = mode_named("diff").sort_keys.index(invocation.sort or "address")
        self.utf8 = session.charset.kind == "utf8"

    def safe(self, data):
        """pymap's own lines show a name's control characters as '?' on
        every stream (escape.terminal_safe)."""
        return terminal_safe(data, self.utf8)

    def run(self, pids):
        session = self.session
        status = 0
        for pid in pids:
            after = session.select(pid)
            before = procfs.select_process(self.before_root, pid)
            if before is None:
                problem = procfs.why_not_selected(self.before_root, pid)
                if problem is not None:  # captured, but the capture cannot be read
                    status |= self.unreadable_capture(pid, after, problem)
                    continue
            if before is None or after is None or before.start_time != after.start_time:
                status |= self.not_compared(pid, before, after)
                continue
            status |= self.show(before, after)
        return status

    def not_compared(self, pid, before, after):
        """A PID that is not the same process on both sides: 42."""
        if before is not None and after is not None:
            state, line = "restarted", (b"restarted since the capture (start time %d, now %d): another process, "
                                        b"not compared" % (before.start_time, after.start_time))
        elif after is not None:
            state, line = "not captured", b"not in %s: nothing to compare with" % self.before_root
        elif before is not None:
            state, line = "gone", b"gone since the capture"
        else:
            return 42  # as pmap says nothing of a PID that does not exist
        console = self.session.console
        if self.json:
            from .json_lines import SCHEMA, dumps

            console.write(dumps({"schema": SCHEMA, "pid": pid, "state": state}))
        else:
            console.write(self.safe(self.session.header(after or before)))
            console.write(b"  %s\n" % self.safe(line))
        return 42

    def unreadable_capture(self, pid, after, error):
        """A PID whose folder in the capture cannot be read (another user's,
        a link, a damaged stat): said, not compared, status 1."""
        console = self.session.console
        if self.json:
            from .json_lines import SCHEMA, dumps

            console.write(dumps({"schema": SCHEMA, "pid": pid, "state": "unreadable", "error": str(error)}))
        elif after is not None:
            console.write(self.safe(self.session.header(after)))
        console.message(self.safe(b"%s: %s" % (os.fsencode(error.path or ""), os.fsencode(error.reason or ""))))
        return 1

    def _smaps(self, root, process):
        from ..model import iter_smaps

        if root is self.before_root:
            blocks = procfs.read_line_blocks(root, process.tgid, b"smaps", whole_records=True)
        else:
            blocks = self.session.blocks(process, b"smaps")
        return iter_smaps(blocks, lenient=True)

    def show(self, before, after):
        session = self.session
        console = session.console
        display = session.display
        rows = _SortedLines() if self.sort else None  # held only to be sorted
        totals = [0] * len(FIGURES)
        kb_totals = {}  # after - before of every kB field that adds up
        console.hold()
        if not self.json:
            console.write(self.safe(session.header(after)))
            if not display.quiet:
                console.write(self._heading())
        try:
            for old, new in match(self._smaps(self.before_root, before), self._smaps(session.root, after)):
                if not (old is not None and _overlaps(old, display) or new is not None and _overlaps(new, display)):
                    continue
                for mapping, sign in ((old, -1), (new, 1)):
                    if mapping is not None:
                        _add_kb(kb_totals, mapping, sign)
                row = self._row(old, new, before, after)
                if row is None:
                    continue
                for index, delta in enumerate(row.deltas):
                    totals[index] += delta
                if rows is None:
                    console.write(row.line)
                else:
                    rows.add(-row.deltas[self.sort - 1], row.start, row.line)
        except ProcessError as error:
            return self._unreadable(before, after, error)
        if rows is not None:
            for line in rows.lines():
                console.write(line)
        if self.json:
            from .json_lines import dumps, process_head

            head = process_head(after)
            head["totals"] = kb_totals
            console.write(dumps(head))
        elif not display.quiet:
            console.write(b"  %s%s\n" % (b"-" * 16, b" --------" * len(FIGURES)))
            console.write(b"  %-16s%s\n" % (display.words.total_kb, b"".join(b" %*s" % (_WIDTH, _signed(total))
                                                                             for total in totals)))
        console.release()
        return 0

    def _unreadable(self, before, after, error):
        """A side that could not be read: what was held is dropped, the
        process's header (or error object) and the file that failed are
        said; status 1."""
        session = self.session
        console = session.console
        if console.discard():
            if self.json:
                from .json_lines import dumps, error_object

                console.write(dumps(error_object(after, error)))
            else:
                console.write(self.safe(session.header(after)))
        console.message(self.safe(b"%s: %s" % (os.fsencode(error.path or "process %d" % after.pid),
                                                os.fsencode(error.reason or "cannot be read"))))
        return 1

    def _heading(self):
        words = self.session.display.words.headings
        figures = b"".join(b" %*s" % (_WIDTH, words.get(name, name.encode())) for name in FIGURES)
        return b"  %-16s%s %-5s %s\n" % (words["Address"], figures, words["Mode"], words["Mapping"])

    def _row(self, old, new, before, after):
        """The _Row of a matched pair, or None when neither its range, its
        permissions nor a figure of the text changed."""
        if old is None:
            change, mapping, process = "appeared", new, after
            deltas = figures_of(new)
        elif new is None:
            change, mapping, process = "gone", old, before
            deltas = tuple(-value for value in figures_of(old))
        else:
            change, mapping, process = "changed", new, after
            deltas = tuple(now - then for now, then in zip(figures_of(new), figures_of(old)))
            if (old.start, old.end, old.perms) == (new.start, new.end, new.perms) and not any(deltas):
                return None
        if self.json:
            return _Row(mapping.start, deltas, self._json_line(change, old, new, mapping, process))
        return _Row(mapping.start, deltas, self._text_line(change, old, new, mapping, process, deltas))

    def _label(self, mapping, process):
        """(kind, Mapping column) of the mapping, as pmap's listings show it."""
        from .listing import mapping_label_kind

        return mapping_label_kind(mapping, process.start_stack, self.session.display)

    def _text_line(self, change, old, new, mapping, process, deltas):
        line = b"%s %016x%s %-5s %s" % (b"+" if change == "appeared" else b"-" if change == "gone" else b"~",
                                        mapping.start, b"".join(b" %*s" % (_WIDTH, _signed(delta))
                                                                 for delta in deltas), _mode(mapping.perms),
                                        self.session.report_name(self._label(mapping, process)[1]))
        if change == "changed":
            was = []
            if (old.start, old.end) != (new.start, new.end):
                was.append(b"%016x-%016x" % (old.start, old.end))
            if old.perms != new.perms:
                was.append(_mode(old.perms))
            if was:
                line += b"  (was %s)" % b" ".join(was)
        return line + b"\n"

    def _json_line(self, change, old, new, mapping, process):
        from .json_lines import SCHEMA, clean_label, dumps, text

        entry = {"schema": SCHEMA, "pid": process.pid, "tgid": process.tgid, "change": change,
                 "start": "%08x" % mapping.start, "end": "%08x" % mapping.end, "offset": "%08x" % mapping.offset,
                 "inode": "%d" % mapping.inode, "perms": text(mapping.perms), "device": mapping.device,
                 "name": text(mapping.name), "label": text(clean_label(*self._label(mapping, process)))}
        if change == "changed":
            entry["before"] = {"start": "%08x" % old.start, "end": "%08x" % old.end, "offset": "%08x" % old.offset,
                               "perms": text(old.perms)}
        kb = {}
        for side, sign in ((old, -1), (new, 1)):
            if side is not None:
                _add_kb(kb, side, sign)
        entry["kb"] = kb
        return dumps(entry)


class _SortedLines:
    """Lines ordered by (key, address), in the order they came when both are
    equal, in bounded memory whatever their number: up to _RUN_BYTES of them
    are held (each as one bytes object whose first _PREFIX bytes sort as key,
    address and arrival do), then sorted and written to an unnamed temporary
    file as a run; lines() merges the runs."""

    def __init__(self):
        self.held = []
        self.held_bytes = 0
        self.count = 0
        self.spill = None  # the temporary file
        self.runs = []  # (offset, length) of each sorted run in it

    def add(self, key, address, line):
        record = b"%s%s%s%s" % ((key + _KEY_BIAS).to_bytes(16, "big"), address.to_bytes(8, "big"),
                                self.count.to_bytes(8, "big"), line)
        self.count += 1
        self.held.append(record)
        self.held_bytes += len(record) + _RECORD_OVERHEAD
        if self.held_bytes >= _RUN_BYTES:
            self._write_run()

    def _write_run(self):
        import tempfile

        self.held.sort()
        try:
            if self.spill is None:
                self.spill = tempfile.TemporaryFile(prefix="pymap-diff-")
            start = self.spill.tell()
            for record in self.held:
                self.spill.write(len(record).to_bytes(4, "big") + record)
            self.spill.flush()
        except OSError as error:
            raise _spill_error(error) from None
        self.runs.append((start, self.spill.tell() - start))
        self.held = []
        self.held_bytes = 0

    def lines(self):
        """The lines in order (the temporary file is closed at the end)."""
        if self.spill is None:
            self.held.sort()
            for record in self.held:
                yield record[_PREFIX:]
            return
        import heapq

        if self.held:
            self._write_run()
        try:
            chunk = max(4096, _MERGE_BYTES // len(self.runs))
            readers = [_run_records(self.spill.fileno(), offset, length, chunk) for offset, length in self.runs]
            for record in heapq.merge(*readers):
                yield record[_PREFIX:]
        except OSError as error:
            raise _spill_error(error) from None
        finally:
            self.spill.close()


def _spill_error(error):
    """pymap's own temporary file failed (a full TMPDIR): one line, status 1."""
    import tempfile

    from ..report import ReportError

    return ReportError(b"--sort: a temporary file in %s: %s" % (os.fsencode(tempfile.gettempdir()),
                                                               os.fsencode(error.strerror or str(error))))


def _run_records(fd, offset, length, chunk):
    """The records of one run of _SortedLines' file, read ``chunk`` bytes at
    a time with pread (the runs share one descriptor)."""
    end = offset + length
    buffer = b""
    position = 0
    while True:
        if len(buffer) - position >= 4:
            size = int.from_bytes(buffer[position:position + 4], "big")
            if len(buffer) - position >= 4 + size:
                yield buffer[position + 4:position + 4 + size]
                position += 4 + size
                continue
        if offset >= end:
            if position < len(buffer):
                raise OSError(errno.EIO, "cut short")
            return
        data = os.pread(fd, min(max(chunk, len(buffer) - position + 4096), end - offset), offset)
        if not data:
            raise OSError(errno.EIO, "cut short")
        offset += len(data)
        buffer = buffer[position:] + data
        position = 0


_KEY_BIAS = 1 << 127  # a signed key as an unsigned 16-byte number (deltas are far smaller)
_PREFIX = 32  # key, address, arrival
_RECORD_OVERHEAD = 41  # a bytes object's and its list slot's own bytes
_RUN_BYTES = 16 << 20  # lines held before a sorted run goes to the temporary file
_MERGE_BYTES = 8 << 20  # read buffers of the merge, shared among the runs


def _add_kb(totals, mapping, sign):
    """Add (sign 1) or take away (-1) the mapping's kB fields that add up."""
    unitless = mapping.unitless
    for name, value in mapping.fields.items():
        if name not in unitless and name not in _NOT_ADDED:
            totals[name] = totals.get(name, 0) + sign * value


def _mode(perms):
    """pmap -x's Mode column of a maps permission word."""
    from .listing import edit_perms

    buffer = bytearray(32)
    buffer[:len(perms[:31])] = perms[:31]
    return edit_perms(buffer)
