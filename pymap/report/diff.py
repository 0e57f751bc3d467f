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

The capture's age (captured_at in the capture's PID folder; the later side
is now, or the later capture's own time) turns the totals into growth per
minute: a "per minute" line under the totals (text), "age_seconds" and
"per_minute" (the totals' deltas per minute, rounded to 0.1 kB) in the
totals' object (null when the capture has no time, or was taken less than
MINIMUM_AGE before).  For a process gone
since the capture, the OOM kill count of its memory cgroup (in the capture,
and now) is read: when it grew, the line says so (the OOM killer may have
ended it), and the object carries "cgroup", "oom_kills_before" and
"oom_kills_now".
"""

import errno
import os

from ..emulate.labels import edit_perms, mapping_label_kind
from ..escape import terminal_safe
from .json_lines import SCHEMA, clean_label, error_object, process_head, text
from .sinks import Record

__all__ = ["match", "figures_of", "changed_pair", "DiffHeading", "Change", "DiffTotals", "NotCompared",
           "UnreadableCapture", "UnreadableSide", "SortedLines", "FIGURES", "age_text"]

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


def overlaps(mapping, view):
    """Whether the mapping overlaps -A's [low, high]."""
    return (mapping.end - 1) & ((1 << 64) - 1) >= view.range_low and mapping.start <= view.range_high


def _safe(context, data):
    """pymap's own lines show a name's control characters as '?' on every
    stream (escape.terminal_safe)."""
    return terminal_safe(data, context.charset.is_utf8)


def changed_pair(old, new, before, after, view):
    """The Change of a matched pair (old, new: Mappings or None, of the
    processes ``before`` and ``after``), or None when neither its range,
    its permissions nor a figure of the text changed; ``view`` names it as
    pmap's listings would."""
    if old is None:
        change, mapping, process, deltas = "appeared", new, after, figures_of(new)
    elif new is None:
        change, mapping, process, deltas = "gone", old, before, tuple(-value for value in figures_of(old))
    else:
        change, mapping, process = "changed", new, after
        deltas = tuple(now - then for now, then in zip(figures_of(new), figures_of(old)))
        if (old.start, old.end, old.perms) == (new.start, new.end, new.perms) and not any(deltas):
            return None
    return Change(change, old, new, mapping, process, deltas, mapping_label_kind(mapping, process.start_stack, view))


class DiffHeading(Record):
    """What comes before a process's changes: pmap's header line and (not
    with -q) the column headings; nothing in JSON."""

    def __init__(self, process, header):
        self.process = process
        self.header = header

    def text(self, context):
        out = _safe(context, self.header)
        if not context.view.quiet:
            words = context.view.words.headings
            figures = b"".join(b" %*s" % (_WIDTH, words.get(name, name.encode())) for name in FIGURES)
            out += b"  %-16s%s %-5s %s\n" % (words["Address"], figures, words["Mode"], words["Mapping"])
        return out

    def json_objects(self):
        return []


class Change(Record):
    """One mapping that appeared, went away or changed, with the deltas of
    FIGURES (``deltas``); ``mapping`` is the one described (the old one
    when it went away), ``process`` the side it is of, ``label`` its
    (kind, Mapping column) in pmap's listings."""

    def __init__(self, change, old, new, mapping, process, deltas, label):
        self.change = change
        self.old = old
        self.new = new
        self.mapping = mapping
        self.process = process
        self.deltas = deltas
        self.label = label

    def text(self, context):
        mapping, old, new = self.mapping, self.old, self.new
        change = self.change
        line = b"%s %016x%s %-5s %s" % (b"+" if change == "appeared" else b"-" if change == "gone" else b"~",
                                        mapping.start, b"".join(b" %*s" % (_WIDTH, _signed(delta))
                                                                 for delta in self.deltas), _mode(mapping.perms),
                                        context.report_name(self.label[1]))
        if change == "changed":
            was = []
            if (old.start, old.end) != (new.start, new.end):
                was.append(b"%016x-%016x" % (old.start, old.end))
            if old.perms != new.perms:
                was.append(_mode(old.perms))
            if was:
                line += b"  (was %s)" % b" ".join(was)
        return line + b"\n"

    def json_objects(self):
        mapping, old, new, process = self.mapping, self.old, self.new, self.process
        entry = {"schema": SCHEMA, "pid": process.pid, "tgid": process.tgid, "change": self.change,
                 "start": "%08x" % mapping.start, "end": "%08x" % mapping.end, "offset": "%08x" % mapping.offset,
                 "inode": "%d" % mapping.inode, "perms": text(mapping.perms), "device": mapping.device,
                 "name": text(mapping.name), "label": text(clean_label(*self.label))}
        if self.change == "changed":
            entry["before"] = {"start": "%08x" % old.start, "end": "%08x" % old.end, "offset": "%08x" % old.offset,
                               "perms": text(old.perms)}
        kb = {}
        for side, sign in ((old, -1), (new, 1)):
            if side is not None:
                add_kb(kb, side, sign)
        entry["kb"] = kb
        return [entry]


# below this many seconds between the sides, growth per minute says nothing
MINIMUM_AGE = 1.0


def age_text(seconds):
    """ "1h 02m 03s", "4m 05s", "6.0s"."""
    if seconds < 60:
        return b"%.1fs" % seconds
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    return (b"%dh %02dm %02ds" % (hours, minutes, seconds)) if hours else b"%dm %02ds" % (minutes, seconds)


class DiffTotals(Record):
    """A process's totals: the deltas of FIGURES' columns (``totals``) in
    text (not with -q), of every kB field that adds up (``kb``) in JSON;
    ``age``: the seconds between the two sides (None: unknown), which makes
    them growth per minute."""

    def __init__(self, process, totals, kb, age=None):
        self.process = process
        self.totals = totals
        self.kb = kb
        self.age = age if age is not None and age >= MINIMUM_AGE else None

    def text(self, context):
        if context.view.quiet:
            return b""
        out = b"  %s%s\n  %-16s%s\n" % (b"-" * 16, b" --------" * len(FIGURES), context.view.words.total_kb,
                                        b"".join(b" %*s" % (_WIDTH, _signed(total)) for total in self.totals))
        if self.age is not None:
            minutes = self.age / 60.0
            out += b"  %-16s%s  (captured %s before)\n" % (
                b"per minute", b"".join(b" %*s" % (_WIDTH, b"%+.1f" % (total / minutes) if total else b"0")
                                        for total in self.totals), age_text(self.age))
        return out

    def json_objects(self):
        head = process_head(self.process)
        head["totals"] = self.kb
        head["age_seconds"] = None if self.age is None else round(self.age, 3)
        head["per_minute"] = None if self.age is None else {
            name: round(value * 60.0 / self.age, 1) for name, value in self.kb.items()}
        return [head]


class NotCompared(Record):
    """A PID that is not the same process on both sides (status 42):
    ``state`` "restarted", "gone" or "not captured", ``line`` what the text
    says under its header."""

    def __init__(self, pid, state, process, header, line, oom=None):
        self.pid = pid
        self.state = state
        self.process = process
        self.header = header
        self.line = line
        self.oom = oom  # a gone process's cgroup: (path, OOM kills then, now or None)

    def text(self, context):
        line = self.line
        if self.oom is not None:
            path, before, now = self.oom
            if now is None:
                line += b"; its memory cgroup %s is gone too" % context.report_name(path)
            elif before is not None and now > before:
                count = now - before
                line += (b"; its memory cgroup %s had %d OOM kill%s since (oom_kill %d then, %d now): the OOM "
                         b"killer may have ended it (pymap --oom-report says whom it ended)" % (
                             context.report_name(path), count, b"" if count == 1 else b"s", before, now))
        return _safe(context, self.header) + b"  %s\n" % _safe(context, line)

    def json_objects(self):
        entry = {"schema": SCHEMA, "pid": self.pid, "state": self.state}
        if self.oom is not None:
            path, before, now = self.oom
            entry.update({"cgroup": text(path), "oom_kills_before": before, "oom_kills_now": now})
        return [entry]


class UnreadableCapture(Record):
    """A PID whose folder in the capture cannot be read (another user's, a
    link, a damaged stat): said, not compared (status 1)."""

    def __init__(self, pid, header, error):
        self.pid = pid
        self.header = header  # (None: the live process is not there either)
        self.error = error
        self.message = terminal_safe(b"%s: %s" % (os.fsencode(error.path or ""), os.fsencode(error.reason or "")),
                                     False)

    def text(self, context):
        return b"" if self.header is None else _safe(context, self.header)

    def json_objects(self):
        return [{"schema": SCHEMA, "pid": self.pid, "state": "unreadable", "error": str(self.error)}]


class UnreadableSide(Record):
    """A side whose smaps could not be read while it was compared: its
    header (or error object) and the file that failed (status 1)."""

    def __init__(self, process, header, error):
        self.process = process
        self.header = header
        self.error = error
        self.message = terminal_safe(b"%s: %s" % (os.fsencode(error.path or "process %d" % process.pid),
                                                   os.fsencode(error.reason or "cannot be read")), False)

    def text(self, context):
        return _safe(context, self.header)

    def json_objects(self):
        return [error_object(self.process, self.error)]


class SortedLines:
    """Lines ordered by (key, address), in the order they came when both are
    equal, in bounded memory whatever their number: up to RUN_BYTES of them
    are held (each as one bytes object whose first _PREFIX bytes sort as key,
    address and arrival do), then sorted and written to an unnamed temporary
    file as a run; lines() merges the runs."""

    RUN_BYTES = 16 << 20  # lines held before a sorted run goes to the temporary file
    MERGE_BYTES = 8 << 20  # read buffers of the merge, shared among the runs

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
        if self.held_bytes >= self.RUN_BYTES:
            self.spill_run()

    def spill_run(self):
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
            self.spill_run()
        try:
            chunk = max(4096, self.MERGE_BYTES // len(self.runs))
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

    from ..errors import Failure

    return Failure(b"--sort: a temporary file in %s: %s" % (os.fsencode(tempfile.gettempdir()),
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


def add_kb(totals, mapping, sign):
    """Add (sign 1) or take away (-1) the mapping's kB fields that add up."""
    unitless = mapping.unitless
    for name, value in mapping.fields.items():
        if name not in unitless and name not in _NOT_ADDED:
            totals[name] = totals.get(name, 0) + sign * value


def _mode(perms):
    """pmap -x's Mode column of a maps permission word."""
    buffer = bytearray(32)
    buffer[:len(perms[:31])] = perms[:31]
    return edit_perms(buffer)
