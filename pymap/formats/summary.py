"""--summary: who uses the memory, across processes.

One row per process: every process in /proc (or under --proc-root) when no
PID is given, kernel threads (no memory of their own) left out unless
named.  Columns, in kB but for the OOM ones::

    PID User Rss Pss Uss Swap SwapPss RssAnon RssFile RssShmem oom_score oom_score_adj Command

Rss, Pss, Swap and SwapPss come from /proc/PID/smaps_rollup (summed from
smaps where the kernel has no rollup), Uss is Private_Clean + Private_Dirty
(what killing the process alone would free), RssAnon, RssFile and RssShmem
the split of /proc/PID/status, oom_score and oom_score_adj the kernel's
files; User is the effective user (status' Uid), Command the command line
as pmap's header shows it.  Columns are as wide as their widest cell; a
totals row follows (-q leaves out heading and totals).

The OOM killer picks the process with the highest badness: its resident
pages, swap entries and page tables, plus oom_score_adj x (RAM + swap) /
1000 (-1000: never); oom_score shows it as (1000 + badness x 1000 / (RAM +
swap)) x 2 / 3.  ``--sort=oom`` puts the process it would pick now first
(--reconcile shows the sum for one process).

``--sort=KEY``: pss (the default), rss, uss, swap or oom, largest first;
pid or command in their order.  ``--by=program`` groups processes by
program (the name of the command), ``--by=user`` by user, with a count of
processes; ``--by=mapping`` sums per mapped file (or [heap], [stack], [anon]
...) across processes, from smaps, with how many processes map it.
``--bars`` adds a bar of each row's share of the sorted figure's total.

Processes that exit while they are read, or whose memory the caller may
not read, are counted on one line of standard error.  With --json: one
JSON object per row (JSON Lines, schema 3, the kernel's names for the
figures), then a totals object (not with -q).
"""

import os

from .. import procfs
from ..creading import digits_value, scan_int, strtoul
from ..errors import AccessDenied, NoSuchProcess, ProcessError, UnreadableProcess
from ..escape import escape_command_line, terminal_safe
from . import OutputMode

__all__ = ["SummaryMode", "read_process_row", "ProcessRow", "FIGURES", "MAPPING_FIGURES", "group_rows"]

FIGURES = ("Rss", "Pss", "Uss", "Swap", "SwapPss", "RssAnon", "RssFile", "RssShmem")
MAPPING_FIGURES = ("Rss", "Pss", "Uss", "Swap", "SwapPss", "Anonymous")
_SORTED_FIGURE = {"pss": "Pss", "rss": "Rss", "uss": "Uss", "swap": "Swap"}

# the lines of status and smaps_rollup that are read (values saturate as C's do)
_STATUS_KEYS = (b"Uid", b"Tgid", b"State", b"VmSize", b"RssAnon", b"RssFile", b"RssShmem", b"VmSwap")
_ROLLUP_KEYS = (b"Rss", b"Pss", b"Private_Clean", b"Private_Dirty", b"Swap", b"SwapPss")


def _status_value(rest):
    """A status line's value: the text after the colon and its blanks."""
    return rest.lstrip(b" \t")


def _rollup_value(rest):
    """A rollup line's value: its digits when it reads "  <digits> kB"."""
    digits = rest.lstrip(b" \t")
    if digits.endswith(b" kB"):
        digits = digits[:-3]
        if digits.isdigit():
            return digits
    return None


def _last_lines(text, keys, value_of):
    """{key: value} of the last line "KEY:rest" of ``text`` for each of
    ``keys`` whose value_of(rest) is not None.  (A few rfind()s instead of a
    pattern: --summary reads two such files a process, and importing re
    alone would cost more than all of them.)"""
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
            value = value_of(text[start:] if stop < 0 else text[start:stop])
            if value is not None:
                found[key] = value
                break
            end = at
    return found


class ProcessRow:
    """The figures of one process (kB), its identity and OOM standing."""

    __slots__ = ("pid", "uid", "state", "cmdline", "comm", "figures", "oom_score", "oom_score_adj", "source",
                 "mappings")

    def __init__(self, pid, uid, state, cmdline, comm, figures, oom_score, oom_score_adj, source, mappings=None):
        self.pid = pid
        self.uid = uid
        self.state = state
        self.cmdline = cmdline
        self.comm = comm
        self.figures = figures  # {name in FIGURES: kB}
        self.oom_score = oom_score
        self.oom_score_adj = oom_score_adj
        self.source = source  # "smaps_rollup" or "smaps"
        self.mappings = mappings  # --by=mapping: {name: [MAPPING_FIGURES...]}

    @property
    def arguments(self):
        data = self.cmdline[:-1] if self.cmdline.endswith(b"\0") else self.cmdline
        return data.split(b"\0") if data else []


def _number(text):
    """The first number of a status value, as C's strtoul would read it
    (0 when the value does not start with a digit)."""
    if not text[:1].isdigit():
        return 0
    word = text.split(None, 1)[0]
    return digits_value(word) if word.isdigit() else strtoul(word, 10)[0]


def _optional(files, name):
    try:
        return files.read(name)
    except NoSuchProcess:
        return None


def _comm(files):
    """The process's name as stat has it (the comm file, else stat), None
    when neither can be read."""
    try:
        data = files.read(b"comm")
        return data[:-1] if data.endswith(b"\n") else data
    except ProcessError:
        pass
    try:
        return procfs.parse_stat(files.read(b"stat")).comm
    except ProcessError:
        return None


def read_process_row(folder, pid, named=False, by_mapping=False, with_comm=False, snapshot=False):
    """The ProcessRow of PID (procfs.ProcFolder ``folder``), None for a
    process without memory (a kernel thread, a zombie) unless ``named``;
    raises ProcessError when it cannot be read: NoSuchProcess when it does
    not exist or (live) exits while it is read, UnreadableProcess for a
    ``snapshot`` whose PID folder misses a file it needs.  Its name (comm)
    is read only ``with_comm`` or when it has no command line."""
    with folder.process(pid) as files:  # (no such folder: the PID is not found)
        try:
            status = _last_lines(files.read(b"status"), _STATUS_KEYS, _status_value)
            tgid = _number(status.get(b"Tgid", b""))
            if tgid in (0, pid):
                return _read_row(files, files, status, pid, named, by_mapping, with_comm)
            if not named:
                return None  # a thread's folder (a snapshot's): /proc lists only processes
            with folder.process(tgid) as memory:  # a thread shares its process's memory
                return _read_row(files, memory, status, pid, named, by_mapping, with_comm)
        except NoSuchProcess as error:
            if not snapshot:
                raise
            raise UnreadableProcess(pid, error.path, error.reason) from None


def _read_row(files, memory, status, pid, named, by_mapping, with_comm):
    """The row of a process whose files are ``files`` and whose memory files
    (smaps, smaps_rollup, the OOM figures) are ``memory``'s (its thread
    group leader's, for a thread)."""
    if b"VmSize" not in status and not named:
        return None
    uid_words = status.get(b"Uid", b"").split()
    uid = digits_value(uid_words[1]) if len(uid_words) > 1 and uid_words[1].isdigit() else None
    state = status.get(b"State", b"")[:1]
    figures = dict.fromkeys(FIGURES, 0)
    for key in (b"RssAnon", b"RssFile", b"RssShmem"):
        figures[key.decode()] = _number(status.get(key, b""))
    mappings = None
    rollup = None if by_mapping or b"VmSize" not in status else _optional(memory, b"smaps_rollup")
    if rollup is not None:
        source = "smaps_rollup"
        values = {key.decode(): digits_value(value)
                  for key, value in _last_lines(rollup, _ROLLUP_KEYS, _rollup_value).items()}
        _take_rollup(figures, values)
    elif b"VmSize" in status:
        source = "smaps"
        mappings = _sum_smaps(memory, figures, by_mapping)
    else:
        source = None
    try:
        cmdline = files.read(b"cmdline", procfs.CMDLINE_LIMIT)
    except ProcessError:  # as procps: no command line, the name in brackets
        cmdline = b""
    comm = _comm(files) if with_comm or not cmdline.strip(b"\0") else None
    score = _optional(memory, b"oom_score")
    adj = _optional(memory, b"oom_score_adj")
    return ProcessRow(pid, uid, state, cmdline, comm, figures, None if score is None else scan_int(score),
                      None if adj is None else scan_int(adj), source, mappings)


def _take_rollup(figures, values):
    figures["Rss"] = values.get("Rss", 0)
    figures["Pss"] = values.get("Pss", 0)
    figures["Uss"] = values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)
    figures["Swap"] = values.get("Swap", 0)
    figures["SwapPss"] = values.get("SwapPss", 0)


def _sum_smaps(files, figures, by_mapping):
    """Sum smaps into ``figures`` (a kernel without smaps_rollup, or
    --by=mapping); the per-name sums when ``by_mapping``."""
    from ..model import iter_smaps

    sums = {"Rss": 0, "Pss": 0, "Private_Clean": 0, "Private_Dirty": 0, "Swap": 0, "SwapPss": 0}
    names = {} if by_mapping else None
    for mapping in iter_smaps(files.blocks(b"smaps"), lenient=True):
        fields = mapping.fields
        get = fields.get
        for key in sums:
            sums[key] += get(key, 0)
        if names is not None:
            name = mapping.name or b"[anon]"
            entry = names.get(name)
            if entry is None:
                entry = names[name] = [0] * len(MAPPING_FIGURES)
            for index, value in enumerate((get("Rss", 0), get("Pss", 0),
                                           get("Private_Clean", 0) + get("Private_Dirty", 0), get("Swap", 0),
                                           get("SwapPss", 0), get("Anonymous", 0))):
                entry[index] += value
    _take_rollup(figures, sums)
    return names


class Group:
    """Rows summed under one key (a program, a user, a mapped name)."""

    __slots__ = ("key", "count", "figures")

    def __init__(self, key, names):
        self.key = key
        self.count = 0
        self.figures = dict.fromkeys(names, 0)


def program_of(row):
    """The program a process runs: the base name of its first argument (up
    to a ':' that a daemon adds, as in "sshd: user"), else its name."""
    arguments = row.arguments
    first = arguments[0] if arguments else b""
    name = first.rsplit(b"/", 1)[-1].split(b":", 1)[0].split(b" ", 1)[0] if first else b""
    return name or (row.comm or b"?")


def group_rows(rows, by, user_name):
    """The Groups of ``rows`` by "program", "user" or "mapping"."""
    groups = {}
    names = MAPPING_FIGURES if by == "mapping" else FIGURES
    for row in rows:
        if by == "mapping":
            for name, values in (row.mappings or {}).items():
                group = groups.get(name)
                if group is None:
                    group = groups[name] = Group(name, names)
                group.count += 1
                for figure, value in zip(names, values):
                    group.figures[figure] += value
            continue
        key = program_of(row) if by == "program" else user_name(row.uid)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, names)
        group.count += 1
        for figure in names:
            group.figures[figure] += row.figures[figure]
    return list(groups.values())


class SummaryMode(OutputMode):
    """--summary [PID...]: one row per process (or per group), sorted."""

    def __init__(self, session):
        super().__init__(session)
        invocation = session.invocation
        self.json = invocation.json
        self.by = invocation.group_by or "process"
        self.sort = invocation.sort or "pss"
        self.bars = invocation.bars
        self.utf8 = session.charset.kind == "utf8"
        self._users = {}

    def user_name(self, uid):
        """The user's name (this machine's), or the number."""
        if uid is None:
            return b"?"
        name = self._users.get(uid)
        if name is None:
            import pwd

            try:
                name = pwd.getpwuid(uid).pw_name.encode("utf-8", "surrogateescape")
            except (KeyError, OverflowError):
                name = b"%d" % uid
            self._users[uid] = name
        return name

    def run(self, pids):
        session = self.session
        named = bool(pids)
        rows = []
        missing = 0
        status = 0
        try:
            folder = procfs.ProcFolder(session.root)
            with folder:
                results = self._read_rows(folder, list(pids) or folder.pids(), named)
        except ProcessError as error:  # the root itself cannot be read
            session.snapshot_error(error)
            return 1
        exited = []  # live processes that went away while they were read
        denied = []
        damaged = []  # any other failure (a snapshot's missing or odd file)
        for row in results:
            if isinstance(row, NoSuchProcess):
                if named:
                    missing += 1
                else:
                    exited.append(row)
            elif isinstance(row, ProcessError):
                (denied if isinstance(row, AccessDenied) else damaged).append(row)
                if named:
                    status |= 1
            elif row is not None:
                rows.append(row)
        unreadable = len(exited) + len(denied) + len(damaged)
        if self.by == "process":
            self._show_processes(rows, unreadable)
        else:
            self._show_groups(group_rows(rows, self.by, self.user_name), len(rows), unreadable)
        if unreadable:
            session.console.message(terminal_safe(self._unreadable_line(exited, denied, damaged), self.utf8))
        return status | (42 if missing else 0)

    def _unreadable_line(self, exited, denied, damaged):
        """One line for every process that could not be read, by cause, each
        cause with its PIDs (the first _PIDS_SHOWN of them)."""
        count = len(exited) + len(denied) + len(damaged)
        head = b"%d process%s could not be read" % (count, b"" if count == 1 else b"es")
        live_user = os.geteuid() != 0 and not self.session.snapshot
        if damaged and count == 1:
            error = damaged[0]
            return b"%s: %s: %s" % (head, os.fsencode(error.path or ""), os.fsencode(error.reason or ""))
        advice = bool(denied) and live_user  # what to do, rather than what happened
        causes = []
        if denied:
            causes.append((denied, b"run as root to see them" if advice else b"access denied"))
        if exited:
            causes.append((exited, b"exited while being read"))
        if damaged:
            causes.append((damaged, b"files missing or damaged" if self.session.snapshot else b"unreadable"))
        if len(causes) == 1:
            errors, reason = causes[0]
            return head + (b": %s (%s)" % (reason, _pid_list(errors)) if advice
                           else b" (%s: %s)" % (reason, _pid_list(errors)))
        if advice:
            causes[0] = (denied, b"access denied")
        line = head + b": " + b", ".join(b"%d %s (%s)" % (len(errors), reason, _pid_list(errors))
                                         for errors, reason in causes)
        return line + (b"; run as root to see them" if advice else b"")

    def _read_rows(self, folder, pids, named):
        """The ProcessRow (None, or the ProcessError) of each PID, in order.

        Most of the time is the kernel's, walking each process's mappings
        for smaps_rollup, on one CPU at a time per reader: with many PIDs
        and several CPUs, forked readers take a share each and send their
        rows back through a pipe (marshal), while this process reads its
        own share.  A reader that fails leaves its share to this process."""
        by_mapping = self.by == "mapping"
        with_comm = self.json
        snapshot = self.session.snapshot

        def read(index):
            try:
                return read_process_row(folder, pids[index], named, by_mapping, with_comm, snapshot)
            except ProcessError as error:
                return error

        readers = min(_READERS, os.cpu_count() or 1) if len(pids) >= _FORKED_MINIMUM else 1
        helpers = []
        for share in range(1, readers):
            helper = _start_reader(lambda share=share: [read(index) for index in range(share, len(pids), readers)])
            if helper is not None:
                helpers.append((share, helper))
        taken = {share for share, _ in helpers}
        results = [None] * len(pids)
        for index in range(len(pids)):
            if index % readers not in taken:
                results[index] = read(index)
        for share, helper in helpers:
            rows = _finish_reader(helper)
            indices = range(share, len(pids), readers)
            if rows is None or len(rows) != len(indices):
                rows = [read(index) for index in indices]  # the reader failed: read its share here
            for index, row in zip(indices, rows):
                results[index] = row
        return results

    # --- processes ---

    def _process_key(self):
        sort = self.sort
        if sort == "pid":
            return lambda row: row.pid
        if sort == "command":
            return lambda row: (row.cmdline or b"[" + (row.comm or b"") + b"]", row.pid)
        if sort == "oom":
            return lambda row: (-(row.oom_score if row.oom_score is not None else -1), row.pid)
        figure = _SORTED_FIGURE[sort]
        return lambda row: (-row.figures[figure], row.pid)

    def _command(self, row):
        compat = self.session.compat
        return escape_command_line(row.cmdline, row.comm, row.state, self.session.charset, compat.cmdline_escaping,
                                   compat.empty_cmdline)

    def _show_processes(self, rows, unreadable):
        from .json_lines import SCHEMA, dumps, text

        rows.sort(key=self._process_key())
        totals = dict.fromkeys(FIGURES, 0)
        for row in rows:
            for figure in FIGURES:
                totals[figure] += row.figures[figure]
        console = self.session.console
        quiet = self.session.display.quiet
        if self.json:
            for row in rows:
                entry = {"schema": SCHEMA, "pid": row.pid, "user": text(self.user_name(row.uid)), "uid": row.uid,
                         "comm": text(row.comm or b""), "cmdline": [text(argument) for argument in row.arguments]}
                entry.update(row.figures)
                entry.update({"oom_score": row.oom_score, "oom_score_adj": row.oom_score_adj,
                              "source": row.source})
                console.write(dumps(entry))
            if not quiet:
                console.write(dumps({"schema": SCHEMA, "totals": totals, "processes": len(rows),
                                     "unreadable": unreadable}))
            return
        headings = (b"PID", b"User") + tuple(name.encode() for name in FIGURES) + (b"oom_score", b"oom_score_adj")
        cells = []
        for row in rows:
            cells.append([b"%d" % row.pid, self.user_name(row.uid)] + [b"%d" % row.figures[figure]
                                                                        for figure in FIGURES]
                         + [_optional_number(row.oom_score), _optional_number(row.oom_score_adj)])
        commands = [self._command(row) for row in rows]
        sorted_figure = _SORTED_FIGURE.get(self.sort, "Pss")
        shares = [row.figures[sorted_figure] for row in rows]
        total_cells = [b"", self.session.display.words.total_kb] + [b"%d" % totals[figure] for figure in FIGURES] \
            + [b"", b""]
        self._table(headings, cells, commands, shares, totals[sorted_figure], total_cells,
                    b"(%d process%s)" % (len(rows), b"" if len(rows) == 1 else b"es"))

    # --- groups ---

    def _show_groups(self, groups, processes, unreadable):
        from .json_lines import SCHEMA, dumps, text

        by = self.by
        names = MAPPING_FIGURES if by == "mapping" else FIGURES
        sort = self.sort
        if sort in ("command", "pid"):
            groups.sort(key=lambda group: group.key)
        else:
            figure = _SORTED_FIGURE[sort]
            groups.sort(key=lambda group: (-group.figures[figure], group.key))
        console = self.session.console
        quiet = self.session.display.quiet
        count_name = "processes"
        if self.json:
            for group in groups:
                entry = {"schema": SCHEMA, by: text(group.key), count_name: group.count}
                entry.update(group.figures)
                console.write(dumps(entry))
            if not quiet and by != "mapping":
                totals = {name: sum(group.figures[name] for group in groups) for name in names}
                console.write(dumps({"schema": SCHEMA, "totals": totals, "processes": processes,
                                     "unreadable": unreadable}))
            return
        headings = (b"Processes",) + tuple(name.encode() for name in names)
        cells = [[b"%d" % group.count] + [b"%d" % group.figures[name] for name in names] for group in groups]
        keys = [self.session.report_name(group.key) for group in groups]
        sorted_figure = _SORTED_FIGURE.get(sort, "Pss")
        shares = [group.figures[sorted_figure] for group in groups]
        total = sum(shares)
        if by == "mapping":  # a page mapped by several processes is in several rows: no totals
            total_cells = None
        else:
            total_cells = [b"%d" % processes] + [b"%d" % sum(group.figures[name] for group in groups)
                                                 for name in names]
        self._table(headings, cells, keys, shares, total, total_cells, self.session.display.words.total_kb,
                    last_heading={"program": b"Program", "user": b"User", "mapping": b"Mapping"}[by])

    # --- the table ---

    def _table(self, headings, cells, names, shares, total, total_cells, total_name, last_heading=b"Command"):
        """Right-justified figure columns as wide as their widest cell, the
        (optional) bar, then the name column; a totals row unless -q."""
        console = self.session.console
        quiet = self.session.display.quiet
        widths = [0 if quiet else len(heading) for heading in headings]
        for row in cells + ([total_cells] if total_cells and not quiet else []):
            for index, cell in enumerate(row):
                if len(cell) > widths[index]:
                    widths[index] = len(cell)
        # the User column reads better left-justified
        left = {1} if headings[:2] == (b"PID", b"User") else set()

        columns = self._terminal_columns()

        def line(row, name, bar):
            parts = [(b"%-*s" if index in left else b"%*s") % (width, cell)
                     for index, (width, cell) in enumerate(zip(widths, row))]
            if self.bars:
                parts.append(bar)
            parts.append(terminal_safe(name, self.utf8))
            text = b" ".join(parts).rstrip(b" ")
            return (text if columns is None else self._cut(text, columns)) + b"\n"

        out = []
        if not quiet:
            out.append(line(headings, last_heading, b"%-*s" % (_BAR_WIDTH + 7, b"Share")))
        for row, name, share in zip(cells, names, shares):
            out.append(line(row, name, self._bar(share, total)))
            if len(out) >= 512:
                console.write(b"".join(out))
                out = []
        if not quiet and total_cells is not None:
            out.append(line(total_cells, total_name, b" " * (_BAR_WIDTH + 7)))
        console.write(b"".join(out))

    def _terminal_columns(self):
        """The width rows are cut to, as ps cuts them: on a terminal unless
        --wide, COLUMNS when it is a number, else the terminal's own width;
        None (whole rows) to a pipe or a file."""
        session = self.session
        if session.invocation.wide or session.console.terminal is None:
            return None
        value = session.invocation.environ.get(b"COLUMNS", b"")
        if value.isdigit() and 0 < int(value) < 1 << 20:
            return int(value)
        try:
            return os.get_terminal_size(1).columns or None
        except (OSError, ValueError):
            return None

    def _cut(self, text, columns):
        """``text`` cut to ``columns`` characters (a UTF-8 character is one,
        as the bars' blocks are)."""
        if len(text) <= columns:
            return text
        if not self.utf8:
            return text[:columns]
        characters = text.decode("utf-8", "surrogateescape")
        return characters[:columns].encode("utf-8", "surrogateescape")

    def _bar(self, share, total):
        """A bar of share/total, _BAR_WIDTH characters, and the percentage."""
        fraction = share / total if total > 0 else 0.0
        eighths = int(round(fraction * _BAR_WIDTH * 8))
        if self.utf8:
            full, part = divmod(eighths, 8)
            bar = "\u2588" * full + ("" if not part else chr(0x2590 - part))
            bar = bar.encode("utf-8") + b" " * (_BAR_WIDTH - full - (1 if part else 0))
        else:
            full = (eighths + 4) // 8
            bar = b"#" * full + b" " * (_BAR_WIDTH - full)
        return bar + b" %5.1f%%" % (fraction * 100)


_BAR_WIDTH = 20
# processes that read (this one and forked helpers), when there are at
# least _FORKED_MINIMUM PIDs to read
_READERS = 2
_FORKED_MINIMUM = 128


def _start_reader(read_share):
    """Fork a helper that runs ``read_share()`` and writes its rows to a
    pipe; (pid, read end), or None when it cannot be forked."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the helper: nothing of the parent's output is ever flushed here
        status = 1
        try:
            os.close(read_end)
            data = _marshal_rows(read_share())
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view):]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _finish_reader(helper):
    """The rows a helper sent, or None when it failed."""
    pid, read_end = helper
    parts = []
    try:
        while True:
            part = os.read(read_end, 1 << 20)
            if not part:
                break
            parts.append(part)
    except OSError:
        parts = None
    finally:
        os.close(read_end)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = 1
    if parts is None or status != 0:
        return None
    try:
        return _unmarshal_rows(b"".join(parts))
    except (ValueError, EOFError, TypeError):
        return None


_ERRORS = {"NoSuchProcess": NoSuchProcess, "AccessDenied": AccessDenied}


def _marshal_rows(rows):
    import marshal

    plain = []
    for row in rows:
        if row is None:
            plain.append(None)
        elif isinstance(row, ProcessError):
            plain.append((type(row).__name__, row.pid, row.path, row.reason))
        else:
            plain.append(tuple(getattr(row, name) for name in ProcessRow.__slots__))
    return marshal.dumps(plain)


def _unmarshal_rows(data):
    import marshal

    rows = []
    for item in marshal.loads(data):
        if item is None:
            rows.append(None)
        elif isinstance(item[0], str):
            kind, pid, path, reason = item
            rows.append(_ERRORS.get(kind, UnreadableProcess)(pid, path, reason))
        else:
            rows.append(ProcessRow(*item))
    return rows


_PIDS_SHOWN = 10


def _pid_list(errors):
    """ "PID 12" or "PIDs 12, 40, ..." of the processes that failed, the
    first _PIDS_SHOWN in numeric order and how many more."""
    pids = sorted(error.pid for error in errors)
    shown = b", ".join(b"%d" % pid for pid in pids[:_PIDS_SHOWN])
    if len(pids) > _PIDS_SHOWN:
        shown += b" and %d more" % (len(pids) - _PIDS_SHOWN)
    return (b"PID " if len(pids) == 1 else b"PIDs ") + shown


def _optional_number(value):
    return b"-" if value is None else b"%d" % value
