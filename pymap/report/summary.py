"""--summary: who uses the memory, across processes (modes/summary.py runs
it: this module reads a process's row, groups rows, and makes the records).

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
pages, swap entries and page tables, plus oom_score_adj x the scope's pages
/ 1000 (-1000: never; report/oom.py); oom_score shows it, machine-wide, as
(1000 + badness x 1000 / (RAM + swap)) x 2 / 3.  ``--sort=oom`` ranks the
processes as the kernel would for an OOM of the machine (or, with
--cgroup, of that cgroup's limit), its victim first, with each row's
badness (--reconcile shows the sum for one process).

``--sort=KEY``: pss (the default), rss, uss, swap or oom, largest first;
pid or command in their order.  ``--by=program`` groups processes by
program (the name of the command), ``--by=user`` by user, with a count of
processes; ``--by=mapping`` sums per mapped file (or [heap], [stack], [anon]
...) across processes, from smaps, with how many processes map it;
``--by=cgroup`` per memory cgroup (report/cgroups.py); ``--by=role`` sums
across processes by what each mapping is for (report/roles.py: heap,
malloc_arena, thread_stack, file, ...), from smaps, with how many processes
have such mappings.  ``--bars`` adds a bar of each row's share of the
sorted figure's total.

Under the totals, where the memory is: the processes against /proc/meminfo,
or under --cgroup against the cgroup's memory.stat (report/balance.py; not
with -q, named PIDs or --by=mapping).

Processes that exit while they are read, or whose memory the caller may
not read, are counted on one line of standard error.  With --json: one
JSON object per row (JSON Lines, schema 3, the kernel's names for the
figures), then a totals object (not with -q).  With --openmetrics or
--textfile: the families of group_families() and process_families()
(metrics, in bytes: report/openmetrics.py).
"""

import os

from ..errors import NoSuchProcess, ProcessError, UnreadableProcess
from ..escape import escape_command_line, terminal_safe
from ..parse.c_rules import digits_value, scan_int
from ..parse.proc_files import arguments, counters, is_kilobytes, number, parse_stat, uid_of
from ..parse.smaps import iter_smaps
from ..parse.cgroups import memory_cgroup
from .json_lines import SCHEMA, text
from .oom import rank_key
from .sinks import Record

__all__ = ["read_process_row", "ProcessRow", "FIGURES", "MAPPING_FIGURES", "ROLE_FIGURES", "SORTED_FIGURE",
           "group_rows", "program_of", "Users", "ProcessTable", "GroupTable", "UnreadableCount", "render_table",
           "optional_number", "process_order", "totals_object", "balance_text", "METRIC_KINDS", "MAPPING_METRIC_KINDS",
           "ROLE_METRIC_KINDS", "memory_family", "count_families", "group_families", "process_families"]

FIGURES = ("Rss", "Pss", "Uss", "Swap", "SwapPss", "RssAnon", "RssFile", "RssShmem")
MAPPING_FIGURES = ("Rss", "Pss", "Uss", "Swap", "SwapPss", "Anonymous")
ROLE_FIGURES = ("Size",) + MAPPING_FIGURES
# the figures of a group summed from smaps, by --by
_SMAPS_FIGURES = {"mapping": MAPPING_FIGURES, "role": ROLE_FIGURES}
SORTED_FIGURE = {"pss": "Pss", "rss": "Rss", "uss": "Uss", "swap": "Swap"}

# the lines of status and smaps_rollup that are read (values saturate as C's do)
_STATUS_KEYS = (b"Uid", b"Tgid", b"State", b"VmSize", b"RssAnon", b"RssFile", b"RssShmem", b"VmSwap", b"VmPTE")
_ROLLUP_KEYS = (b"Rss", b"Pss", b"Private_Clean", b"Private_Dirty", b"Swap", b"SwapPss", b"Pss_File", b"Pss_Shmem")


class ProcessRow:
    """The figures of one process (kB), its identity and OOM standing:
    ``vm_swap`` and ``vm_pte`` are status' VmSwap and VmPTE (kB: the OOM
    killer's swap entries and page tables), ``pss_file`` and ``pss_shmem``
    the rollup's Pss_File and Pss_Shmem (None without them), ``cgroup``
    and ``cgroup_version`` its memory cgroup (parse.cgroups.memory_cgroup;
    None when not read or unknown), ``start_time`` its start (stat's clock
    ticks; None when not read), ``oom_badness`` its badness in pages in
    the scope of the report (None: never chosen, or not computed)."""

    __slots__ = ("pid", "uid", "state", "cmdline", "comm", "figures", "oom_score", "oom_score_adj", "source",
                 "mappings", "vm_swap", "vm_pte", "pss_file", "pss_shmem", "cgroup", "cgroup_version", "start_time",
                 "oom_badness")

    def __init__(self, pid, uid, state, cmdline, comm, figures, oom_score, oom_score_adj, source, mappings=None,
                 vm_swap=0, vm_pte=0, pss_file=None, pss_shmem=None, cgroup=None, cgroup_version=None,
                 start_time=None, oom_badness=None):
        self.pid = pid
        self.uid = uid
        self.state = state
        self.cmdline = cmdline
        self.comm = comm
        self.figures = figures  # {name in FIGURES: kB}
        self.oom_score = oom_score
        self.oom_score_adj = oom_score_adj
        self.source = source  # "smaps_rollup" or "smaps"
        self.mappings = mappings  # --by=mapping: {name: [MAPPING_FIGURES...]}; --by=role: {role: [ROLE_FIGURES...]}
        self.vm_swap = vm_swap
        self.vm_pte = vm_pte
        self.pss_file = pss_file
        self.pss_shmem = pss_shmem
        self.cgroup = cgroup
        self.cgroup_version = cgroup_version
        self.start_time = start_time
        self.oom_badness = oom_badness

    def plain(self):
        """The row as plain values (ProcRoot.read_many sends them through a pipe)."""
        return tuple(getattr(self, name) for name in self.__slots__)

    @property
    def arguments(self):
        return arguments(self.cmdline)


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
        return parse_stat(files.read(b"stat")).comm
    except ProcessError:
        return None


def read_process_row(root, pid, named=False, by_mapping=False, with_comm=False, with_cgroup=False,
                     with_start=False, by_role=False):
    """The ProcessRow of PID in ``root`` (a source.ProcRoot), None for a
    process without memory (a kernel thread, a zombie) or a thread's folder
    (a snapshot's: /proc lists only processes) unless ``named``; raises
    ProcessError when it cannot be read: NoSuchProcess when it does not
    exist or (live) exits while it is read, UnreadableProcess for a
    snapshot whose PID folder misses a file it needs.  Its name (comm) is
    read only ``with_comm`` or when it has no command line, its memory
    cgroup ``with_cgroup``, its start time ``with_start``.  ``by_mapping``,
    ``by_role``: its smaps summed by mapped name, or by role."""
    extra = (with_cgroup, with_start)
    by = "mapping" if by_mapping else "role" if by_role else None
    with root.process(pid) as files:  # (no such folder: the PID is not found)
        try:
            status = counters(files.read(b"status"), _STATUS_KEYS)
            tgid = number(status.get(b"Tgid", b""))
            if tgid in (0, pid):
                return _read_row(files, files, status, pid, named, by, with_comm, extra)
            if not named:
                return None
            with root.process(tgid) as memory:  # a thread shares its process's memory
                return _read_row(files, memory, status, pid, named, by, with_comm, extra)
        except NoSuchProcess as error:
            if not root.snapshot:
                raise
            raise UnreadableProcess(pid, error.path, error.reason) from None


def _read_row(files, memory, status, pid, named, by, with_comm, extra=(False, False)):
    """The row of a process whose files are ``files`` and whose memory files
    (smaps, smaps_rollup, the OOM figures; its threads and memory for the
    roles) are ``memory``'s (its thread group leader's, for a thread);
    ``by`` "mapping" or "role" sums its smaps so (else None)."""
    if b"VmSize" not in status and not named:
        return None
    figures = dict.fromkeys(FIGURES, 0)
    for key in (b"RssAnon", b"RssFile", b"RssShmem"):
        figures[key.decode()] = number(status.get(key, b""))
    mappings = None
    pss_file = pss_shmem = None
    rollup = None if by or b"VmSize" not in status else _optional(memory, b"smaps_rollup")
    if rollup is not None:
        source = "smaps_rollup"
        values = {key.decode(): digits_value(value[:-3])
                  for key, value in counters(rollup, _ROLLUP_KEYS, is_kilobytes).items()}
        _take_rollup(figures, values)
        pss_file, pss_shmem = values.get("Pss_File"), values.get("Pss_Shmem")
    elif b"VmSize" in status:
        source = "smaps"
        mappings = _sum_smaps(memory, figures, by)
    else:
        source = None
    try:
        cmdline = files.read(b"cmdline")
    except ProcessError:  # as procps: no command line, the name in brackets
        cmdline = b""
    comm = _comm(files) if with_comm or not cmdline.strip(b"\0") else None
    score = _optional(memory, b"oom_score")
    adj = _optional(memory, b"oom_score_adj")
    with_cgroup, with_start = extra
    cgroup = version = start_time = None
    if with_cgroup:
        try:
            found = memory_cgroup(files.read(b"cgroup"))
        except ProcessError:  # (a snapshot of an older pymap has none)
            found = None
        if found is not None:
            version, cgroup = found
    if with_start:
        try:
            start_time = parse_stat(files.read(b"stat")).start_time
        except ProcessError:
            start_time = None
    return ProcessRow(pid, uid_of(status.get(b"Uid", b"")), status.get(b"State", b"")[:1], cmdline, comm, figures,
                      None if score is None else scan_int(score), None if adj is None else scan_int(adj), source,
                      mappings, number(status.get(b"VmSwap", b"")), number(status.get(b"VmPTE", b"")), pss_file,
                      pss_shmem, cgroup, version, start_time)


def _take_rollup(figures, values):
    figures["Rss"] = values.get("Rss", 0)
    figures["Pss"] = values.get("Pss", 0)
    figures["Uss"] = values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)
    figures["Swap"] = values.get("Swap", 0)
    figures["SwapPss"] = values.get("SwapPss", 0)


def _sum_smaps(files, figures, by):
    """Sum smaps into ``figures`` (a kernel without smaps_rollup, or --by
    mapping or role); the sums per name or role for ``by``."""
    sums = {"Rss": 0, "Pss": 0, "Private_Clean": 0, "Private_Dirty": 0, "Swap": 0, "SwapPss": 0}
    names = {} if by else None
    mappings = iter_smaps(files.blocks(b"smaps"), lenient=True)
    if by == "role":
        from .roles import roles_of, thread_facts

        facts = thread_facts(files, parse_stat(files.read(b"stat")).start_stack)
        keyed = ((mapping, role.encode()) for mapping, role, _ in roles_of(mappings, files, facts))
    else:
        keyed = ((mapping, mapping.name or b"[anon]") for mapping in mappings)
    with_size = by == "role"
    for mapping, key in keyed:
        fields = mapping.fields
        get = fields.get
        for name in sums:
            sums[name] += get(name, 0)
        if names is not None:
            entry = names.get(key)
            if entry is None:
                entry = names[key] = [0] * len(_SMAPS_FIGURES[by])
            values = (get("Rss", 0), get("Pss", 0), get("Private_Clean", 0) + get("Private_Dirty", 0),
                      get("Swap", 0), get("SwapPss", 0), get("Anonymous", 0))
            if with_size:
                values = (get("Size", (mapping.end - mapping.start) >> 10),) + values
            for index, value in enumerate(values):
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
    """The Groups of ``rows`` by "program", "user", "mapping" or "role"."""
    groups = {}
    names = _SMAPS_FIGURES.get(by, FIGURES)
    for row in rows:
        if by in _SMAPS_FIGURES:
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


class Users:
    """User names of this machine by uid (the number when it has none), looked up once each."""

    def __init__(self):
        self._names = {}

    def name(self, uid):
        if uid is None:
            return b"?"
        name = self._names.get(uid)
        if name is None:
            import pwd

            try:
                name = pwd.getpwuid(uid).pw_name.encode("utf-8", "surrogateescape")
            except (KeyError, OverflowError):
                name = b"%d" % uid
            self._names[uid] = name
        return name


def process_order(sort):
    """The sort key of ProcessRows for --sort=SORT."""
    if sort == "pid":
        return lambda row: row.pid
    if sort == "command":
        return lambda row: (row.cmdline or b"[" + (row.comm or b"") + b"]", row.pid)
    if sort == "oom":  # the kernel's victim first (report/oom.py)
        return lambda row: rank_key(row.oom_badness, row.start_time, row.pid)
    figure = SORTED_FIGURE[sort]
    return lambda row: (-row.figures[figure], row.pid)


class ProcessTable(Record):
    """The rows of every process read (sorted), their totals, and how many
    could not be read: a table in text, an object a row then the totals'
    in JSON (the totals not with -q).  ``scope``: the OOM scope the rows'
    badness is of (report.oom.Scope, or None); with --sort=oom the text
    shows each row's badness and names the scope under the totals."""

    def __init__(self, rows, sort, users, unreadable, quiet, bars, wide, scope=None, with_cgroup=False,
                 balance=None):
        rows.sort(key=process_order(sort))
        self.scope = scope
        self.with_cgroup = with_cgroup
        self.balance = balance  # report.balance's, or None
        self.rows = rows
        self.sort = sort
        self.users = users
        self.unreadable = unreadable
        self.quiet = quiet
        self.bars = bars
        self.wide = wide
        self.totals = dict.fromkeys(FIGURES, 0)
        for row in rows:
            for figure in FIGURES:
                self.totals[figure] += row.figures[figure]

    def json_objects(self):
        name = self.users.name
        for row in self.rows:
            entry = {"schema": SCHEMA, "pid": row.pid, "user": text(name(row.uid)), "uid": row.uid,
                     "comm": text(row.comm or b""), "cmdline": [text(argument) for argument in row.arguments]}
            entry.update(row.figures)
            entry.update({"oom_score": row.oom_score, "oom_score_adj": row.oom_score_adj,
                          "oom_badness": row.oom_badness, "source": row.source})
            if self.with_cgroup:
                entry["cgroup"] = None if row.cgroup is None else text(row.cgroup)
            yield entry
        if not self.quiet:
            yield totals_object(self.totals, len(self.rows), self.unreadable, self.balance)

    def metrics(self):
        return process_families(self)

    def text(self, context):
        headings = (b"PID", b"User") + tuple(name.encode() for name in FIGURES) + (b"oom_score", b"oom_score_adj")
        name = self.users.name
        cells = [[b"%d" % row.pid, name(row.uid)] + [b"%d" % row.figures[figure] for figure in FIGURES]
                 + [optional_number(row.oom_score), optional_number(row.oom_score_adj)] for row in self.rows]
        by_oom = self.sort == "oom"
        if by_oom:  # each row's points, and "never" where the kernel never chooses
            headings += (b"Badness",)
            for row, cells_of_row in zip(self.rows, cells):
                cells_of_row.append(b"never" if row.oom_badness is None else b"%d" % row.oom_badness)
        compat = context.compat
        commands = [escape_command_line(row.cmdline, row.comm, row.state, context.charset, compat.cmdline_escaping,
                                        compat.empty_cmdline) for row in self.rows]
        sorted_figure = SORTED_FIGURE.get(self.sort, "Pss")
        shares = [row.figures[sorted_figure] for row in self.rows]
        total_cells = [b"", context.view.words.total_kb] + [b"%d" % self.totals[figure] for figure in FIGURES] \
            + [b"", b""] + ([b""] if by_oom else [])
        count = len(self.rows)
        table = render_table(context, self, headings, cells, commands, shares, self.totals[sorted_figure],
                             total_cells, b"(%d process%s)" % (count, b"" if count == 1 else b"es"))
        if by_oom and not self.quiet and self.scope is not None:
            table += b"OOM scope: %s; badness in pages, the first row is the process the kernel would kill\n" % (
                self.scope.describe())
        return table + balance_text(context, self)


class GroupTable(Record):
    """The rows of the processes read, grouped ``by`` program, user or
    mapping (sorted), with a count of processes each: a table in text, an
    object a group then the totals' in JSON (no totals with -q, nor for
    mappings, where a page mapped by several processes is in several rows),
    the families of group_families() as metrics."""

    def __init__(self, rows, by, sort, users, unreadable, quiet, bars, wide, balance=None):
        self.balance = balance
        self.groups = group_rows(rows, by, users.name)
        if sort in ("command", "pid"):
            self.groups.sort(key=lambda group: group.key)
        else:
            figure = SORTED_FIGURE[sort]
            self.groups.sort(key=lambda group: (-group.figures[figure], group.key))
        self.by = by
        self.sort = sort
        self.processes = len(rows)
        self.unreadable = unreadable
        self.quiet = quiet
        self.bars = bars
        self.wide = wide
        self.names = _SMAPS_FIGURES.get(by, FIGURES)

    def json_objects(self):
        for group in self.groups:
            entry = {"schema": SCHEMA, self.by: text(group.key), "processes": group.count}
            entry.update(group.figures)
            yield entry
        if not self.quiet and self.by != "mapping":
            totals = {name: sum(group.figures[name] for group in self.groups) for name in self.names}
            yield totals_object(totals, self.processes, self.unreadable, self.balance)

    def metrics(self):
        return group_families(self)

    def text(self, context):
        names = self.names
        groups = self.groups
        headings = (b"Processes",) + tuple(name.encode() for name in names)
        cells = [[b"%d" % group.count] + [b"%d" % group.figures[name] for name in names] for group in groups]
        keys = [context.report_name(group.key) for group in groups]
        sorted_figure = SORTED_FIGURE.get(self.sort, "Pss")
        shares = [group.figures[sorted_figure] for group in groups]
        if self.by == "mapping":  # a page mapped by several processes is in several rows: no totals
            total_cells = None
        else:
            total_cells = [b"%d" % self.processes] + [b"%d" % sum(group.figures[name] for group in groups)
                                                      for name in names]
        return render_table(context, self, headings, cells, keys, shares, sum(shares), total_cells,
                            context.view.words.total_kb,
                            last_heading={"program": b"Program", "user": b"User", "mapping": b"Mapping",
                                          "role": b"Role"}[self.by]) \
            + balance_text(context, self)


def totals_object(totals, processes, unreadable, balance=None):
    """The totals' JSON object of a table (with its balance, when it has one)."""
    entry = {"schema": SCHEMA, "totals": totals, "processes": processes, "unreadable": unreadable}
    if balance is not None:
        entry["balance"] = balance.json()
    return entry


def balance_text(context, table):
    """A table's balance (report/balance.py) under its totals, but with -q."""
    return b"" if table.quiet or table.balance is None else table.balance.text(context)


# --- metrics (--openmetrics, --textfile; report/openmetrics.py renders them) ---

# each metric kind and the figure (kB) it is; for --by=mapping, summed from smaps
METRIC_KINDS = (("rss", "Rss"), ("pss", "Pss"), ("uss", "Uss"), ("swap", "Swap"), ("anon", "RssAnon"),
                ("file", "RssFile"), ("shmem", "RssShmem"))
MAPPING_METRIC_KINDS = (("rss", "Rss"), ("pss", "Pss"), ("uss", "Uss"), ("swap", "Swap"), ("anon", "Anonymous"))
ROLE_METRIC_KINDS = (("size", "Size"),) + MAPPING_METRIC_KINDS

_KINDS_HELP = ("rss resident, pss resident with each shared page divided among the processes that map it, uss "
               "private, swap swapped out, and rss split into anon, file and shmem")
# --by: the label, what a series is of, the kinds' help
_GROUPS = {
    "program": ("program", "each program (the base name of its command)", _KINDS_HELP),
    "user": ("user", "each user (the effective one)", _KINDS_HELP),
    "mapping": ("mapping", "each mapped file (or [heap], [stack], [anon] ...) summed across processes from smaps "
                           "(a page several processes map is in several series)",
                "rss, pss, uss and swap as for processes, anon anonymous"),
    "role": ("role", "each role of mappings (heap, stack, thread_stack, malloc_arena, file, anon ...: what the memory "
                     "is for) summed across processes from smaps",
             "size mapped, rss, pss, uss and swap as for processes, anon anonymous"),
}


def memory_family(name, what, kinds_help=_KINDS_HELP):
    from .openmetrics import GAUGE, MetricFamily

    return MetricFamily(name, GAUGE, "Memory in bytes of %s, by kind: %s." % (what, kinds_help), unit="bytes")


def count_families(by, unreadable):
    """pymap_processes (its samples added by the caller) and
    pymap_unreadable_processes{by}.  Their help and labels are alike for
    every grouping: node_exporter serves the files of several groupings
    from one folder only when no two say otherwise of one family or give
    one series twice."""
    from .openmetrics import GAUGE, MetricFamily

    count = MetricFamily("pymap_processes", GAUGE,
                         "Processes in each group, named by its label (program, user, mapping: the processes that "
                         "map it, cgroup); without a label, every process read (--by=process).")
    lost = MetricFamily("pymap_unreadable_processes", GAUGE,
                        "Processes that could not be read (gone meanwhile, access denied, damaged files), in no "
                        "other series; by: the grouping of the run that met them.")
    lost.add((("by", by),), unreadable)
    return count, lost


def group_families(table):
    """The families of a GroupTable: pymap_<group>_memory_bytes{<group>,kind}
    (the group's name as its bytes: openmetrics.encode_label_value), the
    number of processes of each group (pymap_processes{<group>}) and of those
    that could not be read."""
    by = table.by
    label, what, kinds_help = _GROUPS[by]
    kinds = {"mapping": MAPPING_METRIC_KINDS, "role": ROLE_METRIC_KINDS}.get(by, METRIC_KINDS)
    memory = memory_family("pymap_%s_memory_bytes" % label, what, kinds_help)
    count, lost = count_families(by, table.unreadable)
    add_each = memory.add_each
    for group in table.groups:
        figures = group.figures
        add_each(((label, group.key),), "kind",
                 [(kind, figures[figure] * 1024) for kind, figure in kinds if figure in figures])
        count.add(((label, group.key),), group.count)
    return [memory, count, lost]


def process_families(table):
    """The families of a ProcessTable: pymap_process_memory_bytes{pid,
    program,kind}, pymap_process_oom_badness{pid,program} (program_of():
    the command's name, never its command line), pymap_processes (how many)
    and pymap_unreadable_processes."""
    from .openmetrics import GAUGE, LabelSet, MetricFamily

    memory = memory_family("pymap_process_memory_bytes", "each process")
    badness = MetricFamily(
        "pymap_process_oom_badness", GAUGE,
        "The kernel's oom_badness() of each process, in pages, for an OOM of the whole machine (or of --cgroup's "
        "cgroup when it is limited): resident + swap + page-table pages + oom_score_adj x the scope's pages / 1000; "
        "the highest is killed first. No sample for a process never killed (oom_score_adj -1000, init).")
    count, lost = count_families("process", table.unreadable)
    count.add((), len(table.rows))
    add_each = memory.add_each
    for row in table.rows:
        labels = LabelSet((("pid", b"%d" % row.pid), ("program", program_of(row))))
        figures = row.figures
        add_each(labels, "kind", [(kind, figures[figure] * 1024) for kind, figure in METRIC_KINDS])
        if row.oom_badness is not None:
            badness.add(labels, row.oom_badness)
    return [memory, badness, count, lost]


class UnreadableCount(Record):
    """The processes that could not be read, by cause: one line of standard
    error (nothing else)."""

    def __init__(self, exited, denied, damaged, snapshot, charset):
        self.message = terminal_safe(_unreadable_line(exited, denied, damaged, snapshot), charset.is_utf8)

    def text(self, context):
        return b""

    def json_objects(self):
        return []


def _unreadable_line(exited, denied, damaged, snapshot):
    """One line for every process that could not be read, by cause, each
    cause with its PIDs (the first _PIDS_SHOWN of them)."""
    count = len(exited) + len(denied) + len(damaged)
    head = b"%d process%s could not be read" % (count, b"" if count == 1 else b"es")
    live_user = os.geteuid() != 0 and not snapshot
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
        causes.append((damaged, b"files missing or damaged" if snapshot else b"unreadable"))
    if len(causes) == 1:
        errors, reason = causes[0]
        return head + (b": %s (%s)" % (reason, _pid_list(errors)) if advice
                       else b" (%s: %s)" % (reason, _pid_list(errors)))
    if advice:
        causes[0] = (denied, b"access denied")
    line = head + b": " + b", ".join(b"%d %s (%s)" % (len(errors), reason, _pid_list(errors))
                                     for errors, reason in causes)
    return line + (b"; run as root to see them" if advice else b"")


# --- the table ---

_BAR_WIDTH = 20


def render_table(context, table, headings, cells, names, shares, total, total_cells, total_name,
           last_heading=b"Command"):
    """Right-justified figure columns as wide as their widest cell, the
    (optional) bar, then the name column; a totals row unless -q."""
    quiet = table.quiet
    utf8 = context.charset.is_utf8
    widths = [0 if quiet else len(heading) for heading in headings]
    for row in cells + ([total_cells] if total_cells and not quiet else []):
        for index, cell in enumerate(row):
            if len(cell) > widths[index]:
                widths[index] = len(cell)
    # the User column reads better left-justified
    left = {1} if headings[:2] == (b"PID", b"User") else set()
    columns = None if table.wide else _terminal_columns(context)

    def line(row, name, bar):
        parts = [(b"%-*s" if index in left else b"%*s") % (width, cell)
                 for index, (width, cell) in enumerate(zip(widths, row))]
        if table.bars:
            parts.append(bar)
        parts.append(terminal_safe(name, utf8))
        text = b" ".join(parts).rstrip(b" ")
        return (text if columns is None else _cut(text, columns, utf8)) + b"\n"

    out = []
    if not quiet:
        out.append(line(headings, last_heading, b"%-*s" % (_BAR_WIDTH + 7, b"Share")))
    for row, name, share in zip(cells, names, shares):
        out.append(line(row, name, _bar(share, total, utf8)))
    if not quiet and total_cells is not None:
        out.append(line(total_cells, total_name, b" " * (_BAR_WIDTH + 7)))
    return b"".join(out)


def _terminal_columns(context):
    """The width rows are cut to, as ps cuts them: on a terminal, COLUMNS
    when it is a number, else the terminal's own width; None (whole rows)
    to a pipe or a file."""
    if context.console.terminal is None:
        return None
    value = context.request.environ.get(b"COLUMNS", b"")
    if value.isdigit() and 0 < int(value) < 1 << 20:
        return int(value)
    try:
        return os.get_terminal_size(1).columns or None
    except (OSError, ValueError):
        return None


def _cut(text, columns, utf8):
    """``text`` cut to ``columns`` characters (a UTF-8 character is one, as
    the bars' blocks are)."""
    if len(text) <= columns:
        return text
    if not utf8:
        return text[:columns]
    characters = text.decode("utf-8", "surrogateescape")
    return characters[:columns].encode("utf-8", "surrogateescape")


def _bar(share, total, utf8):
    """A bar of share/total, _BAR_WIDTH characters, and the percentage."""
    fraction = share / total if total > 0 else 0.0
    eighths = int(round(fraction * _BAR_WIDTH * 8))
    if utf8:
        full, part = divmod(eighths, 8)
        bar = "\u2588" * full + ("" if not part else chr(0x2590 - part))
        bar = bar.encode("utf-8") + b" " * (_BAR_WIDTH - full - (1 if part else 0))
    else:
        full = (eighths + 4) // 8
        bar = b"#" * full + b" " * (_BAR_WIDTH - full)
    return bar + b" %5.1f%%" % (fraction * 100)


_PIDS_SHOWN = 10


def _pid_list(errors):
    """ "PID 12" or "PIDs 12, 40, ..." of the processes that failed, the
    first _PIDS_SHOWN in numeric order and how many more."""
    pids = sorted(error.pid for error in errors)
    shown = b", ".join(b"%d" % pid for pid in pids[:_PIDS_SHOWN])
    if len(pids) > _PIDS_SHOWN:
        shown += b" and %d more" % (len(pids) - _PIDS_SHOWN)
    return (b"PID " if len(pids) == 1 else b"PIDs ") + shown


def optional_number(value):
    return b"-" if value is None else b"%d" % value
