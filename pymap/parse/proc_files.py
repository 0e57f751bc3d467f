"""What /proc's small files say: stat, status and the other files of
"Name: value" lines (meminfo, smaps_rollup; a cgroup's memory.stat is a
file of "name value" lines), and a command line.

Schema:

* ``parse_stat(bytes) -> StatInfo``: ``comm`` (bytes, the name between the
  first "(" and the last ")"; None when stat does not parse), ``state``
  (one byte), ``ppid``, ``start_time`` (clock ticks after boot),
  ``start_stack``; as procps's stat2proc() reads them.
* ``counters(bytes, keys=None) -> {bytes: bytes}``: each "Key: value" line's
  value (the text after the colon and its blanks); the last line of a key
  wins; with ``keys``, only those are looked for.
* ``number(value) -> int``: a value's first number as C's strtoul() reads it
  (12 of "12 kB", 12 of "12abc"; 0 when it does not start with a digit;
  saturating at 2**64 - 1).
* ``kilobytes(bytes) -> {str: int}``: the lines "Key: digits kB" (or a bare
  number) of a file, as ints; other lines left out.
* ``arguments(cmdline) -> [bytes]``: a command line's arguments.
"""

from .c_rules import STAT_PPID, STAT_START_STACK, STAT_START_TIME, c_string, digits_value, scan_stat_fields, \
    strtoul

__all__ = ["StatInfo", "parse_stat", "counters", "is_kilobytes", "number", "kilobytes", "arguments", "uid_of"]


class StatInfo:
    """The parts of /proc/PID/stat pymap uses."""

    __slots__ = ("comm", "state", "ppid", "start_stack", "start_time")

    def __init__(self, comm=b"", state=b"", ppid=0, start_stack=0, start_time=0):
        self.comm = comm
        self.state = state
        self.ppid = ppid
        self.start_stack = start_stack
        self.start_time = start_time


def parse_stat(data):
    """Parse /proc/PID/stat as procps's stat2proc() does, on the file read
    as a C string: the name runs from the first '(' to the last ')', two
    bytes after which sscanf() reads the state and the numbers
    (c_rules.scan_stat_fields); fields that do not scan leave the rest at
    zero (a kernel thread's start_stack is 0).  Without a '(', a ')' after
    it and a byte after that, stat2proc() gives up: no name (``comm`` None,
    which 4.x's header prints as "(null)"), everything zero."""
    data = c_string(data)
    opening = data.find(b"(")
    if opening < 0:
        return StatInfo(comm=None)
    closing = data.rfind(b")")
    if closing < opening + 1 or closing + 1 >= len(data):
        return StatInfo(comm=None)
    info = StatInfo()
    info.comm = data[opening + 1:closing]
    values = scan_stat_fields(c_string(data[closing + 2:]))
    if values:
        info.state = values[0]
    if len(values) > STAT_PPID:
        info.ppid = values[STAT_PPID]
    if len(values) > STAT_START_TIME:
        info.start_time = values[STAT_START_TIME]
    if len(values) > STAT_START_STACK:
        info.start_stack = values[STAT_START_STACK]
    return info


def counters(text, keys=None, accept=None):
    """{key: value} of the "KEY:value" lines of ``text``: the value is what
    follows the colon and its blanks; the last line of a key wins (with
    ``accept``, the last whose value it accepts).  With ``keys``, only those
    keys are looked for, from the end (a few rfind()s: --summary reads two
    such files a process, and splitting every line, or importing re, would
    cost more than all of them)."""
    if keys is None:
        found = {}
        for line in text.split(b"\n"):
            key, colon, rest = line.partition(b":")
            if colon:
                value = rest.lstrip(b" \t")
                if accept is None or accept(value):
                    found[key] = value
        return found
    text = b"\n" + text
    found = {}
    for key in keys:
        needle = b"\n" + key + b":"
        end = len(text)
        while True:
            at = text.rfind(needle, 0, end)
            if at < 0:
                break
            start = at + len(needle)
            stop = text.find(b"\n", start)
            value = (text[start:] if stop < 0 else text[start:stop]).lstrip(b" \t")
            if accept is None or accept(value):
                found[key] = value
                break
            end = at
    return found


def is_kilobytes(value):
    """Whether a value reads "<digits> kB" (smaps_rollup's lines)."""
    return value.endswith(b" kB") and value[:-3].isdigit()


def number(value):
    """The first number of a value, as C's strtoul would read it (0 when the
    value does not start with a digit)."""
    if not value[:1].isdigit():
        return 0
    word = value.split(None, 1)[0]
    return digits_value(word) if word.isdigit() else strtoul(word, 10)[0]


def kilobytes(text):
    """{name: int} of the lines "Name: digits kB" (or "Name: digits") of
    ``text`` (status, smaps_rollup, meminfo); other lines are left out."""
    result = {}
    for key, value in counters(text).items():
        words = value.split()
        if words and words[0].isdigit() and (len(words) == 1 or words[1:] == [b"kB"]):
            result[key.decode("latin-1")] = digits_value(words[0])
    return result


def uid_of(value):
    """The effective user ID of a status "Uid:" value (real, effective,
    saved, filesystem), or None."""
    words = value.split()
    return digits_value(words[1]) if len(words) > 1 and words[1].isdigit() else None


def arguments(cmdline):
    """The arguments of a command line (NUL-separated bytes)."""
    data = cmdline[:-1] if cmdline.endswith(b"\0") else cmdline
    return data.split(b"\0") if data else []
