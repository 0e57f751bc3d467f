"""Memory cgroups: what a cgroup's files say of it (CgroupReader), and
--summary --by=cgroup's rows (CgroupTable).

A cgroup is named by its path as /proc/PID/cgroup writes it: the line of
cgroup v1's memory controller, else cgroup v2's "0::" line; inside a
container's cgroup namespace, "/" is the container.  Its figures, in
bytes (the text and JSON show kB):

* ``usage``: the charge, memory.current (v2) or memory.usage_in_bytes (v1);
* ``limit``: the tightest of memory.max (v2) or memory.limit_in_bytes (v1)
  of the cgroup and its ancestors up to the top of the tree this machine
  (or container) shows, ``limit_path`` the cgroup it is of; None when none
  is limited ("max", or v1's PAGE_COUNTER_MAX in bytes: parse.cgroups);
* ``breakdown``: the charge by memory.stat (anon, file, shmem, kernel,
  other, file_mapped: parse.cgroups.charge_breakdown), and ``not_in_rss``:
  the part no process has in its RSS (usage - anon - file_mapped: page
  cache and shmem no process maps, kernel memory);
* ``oom_kills``: memory.events' oom_kill (v2) or memory.oom_control's (v1):
  processes the OOM killer ended in it and below it.

What cannot be read (a file missing or unreadable, a cgroup removed while
it is read, a number that does not parse) leaves that figure None and
adds a note; the command goes on, its status unchanged.

--by=cgroup: one row per memory cgroup that holds processes, with their
count and their Rss, Pss, Uss and Swap sums beside the cgroup's figures,
sorted by usage (unless --sort names a sum: pss, rss, uss, swap; command:
by path), a totals row of
the processes' sums (nested cgroups' usages would count twice: they are
not added).  JSON: one object per cgroup::

    {"schema": 3, "cgroup": "/system.slice/nginx.service", "version": 2,
     "kind": "service", "name": "nginx.service", "pod": null, "processes": 3,
     "Rss": ..., "Pss": ..., "Uss": ..., "Swap": ..., (and the other figures)
     "usage": 93000, "limit": 102400, "limit_cgroup": "/system.slice/nginx.service",
     "used_percent": 90.8, "breakdown": {"anon": ..., "file": ..., "shmem": ...,
     "kernel": ..., "other": ..., "file_mapped": ...}, "not_in_rss": ...,
     "oom_kills": 1, "notes": []}

then the totals' object (not with -q).
"""

from ..errors import CgroupUnreadable
from ..escape import terminal_safe
from ..source.cgroups import CGROUP_DEPTH
from ..parse.cgroups import BREAKDOWN, byte_count, charge_breakdown, flat_keyed, runtime_of
from .json_lines import SCHEMA, text
from .oom import cgroup_scope
from .sinks import Record
from .summary import FIGURES, METRIC_KINDS, SORTED_FIGURE, balance_text, count_families, memory_family, \
    render_table, totals_object

__all__ = ["CgroupInfo", "CgroupReader", "CgroupGroup", "CgroupTable", "group_by_cgroup", "in_cgroup",
           "CGROUP_FIGURES", "runtime_label"]

# the processes' sums the text shows (JSON has every figure)
CGROUP_FIGURES = ("Rss", "Pss", "Uss", "Swap")
# a cgroup's files, by hierarchy version: charge, limit, events (with oom_kill)
_USAGE = {2: b"memory.current", 1: b"memory.usage_in_bytes"}
_LIMIT = {2: b"memory.max", 1: b"memory.limit_in_bytes"}
_EVENTS = {2: b"memory.events", 1: b"memory.oom_control"}


def in_cgroup(path, wanted):
    """Whether cgroup ``path`` is ``wanted`` or below it (a path outside
    this cgroup namespace, "/../...", is below no cgroup of it)."""
    if path.startswith(b"/..") and not wanted.startswith(b"/.."):
        return False
    return wanted == b"/" or path == wanted or path.startswith(wanted.rstrip(b"/") + b"/")


def ancestors(path):
    """PATH, its parent, ... up to "/"."""
    chain = [path]
    while path not in (b"/", b""):
        path = path.rstrip(b"/").rpartition(b"/")[0] or b"/"
        chain.append(path)
    return chain


class CgroupInfo:
    """What a memory cgroup's files say (see the module's docstring):
    plain values, bytes but ``oom_kills``; None where a file could not be
    read (``notes`` says why)."""

    __slots__ = ("version", "path", "usage", "limit", "limit_path", "breakdown", "oom_kills", "notes", "runtime")

    def __init__(self, version, path):
        self.version = version
        self.path = path
        self.usage = None
        self.limit = None
        self.limit_path = None
        self.breakdown = None
        self.oom_kills = None
        self.notes = []
        self.runtime = runtime_of(path)  # (kind, name, pod) or None

    @property
    def not_in_rss(self):
        """The charge no process has in its RSS (bytes), or None."""
        if self.usage is None or self.breakdown is None:
            return None
        return max(0, self.usage - self.breakdown["anon"] - self.breakdown["file_mapped"])

    @property
    def used_percent(self):
        if self.usage is None or not self.limit:
            return None
        return round(100.0 * self.usage / self.limit, 1)


class CgroupReader:
    """Reads cgroups through a source.cgroups.CgroupRoot, each file once."""

    def __init__(self, cgroups):
        self.cgroups = cgroups
        self._own_limits = {}
        self._infos = {}

    def _file(self, version, path, name, notes, quiet_missing=False):
        """The file's bytes, or None with a note (none for a file the
        cgroup simply lacks when ``quiet_missing``)."""
        try:
            return self.cgroups.read(version, path, name)
        except CgroupUnreadable as error:
            if error.gone:
                raise
            if not (quiet_missing and error.reason == "No such file or directory"):
                notes.append("%s: %s" % (name.decode("ascii"), error.reason))
            return None

    def _number(self, version, path, name, notes, quiet_missing=False):
        data = self._file(version, path, name, notes, quiet_missing)
        if data is None:
            return None, False
        try:
            return byte_count(data), True
        except ValueError:
            notes.append("%s: not a number" % name.decode("ascii"))
            return None, False

    def own_limit(self, version, path, notes):
        """(the cgroup's own limit or None, whether it was read)."""
        key = (version, path)
        if key not in self._own_limits:
            top = self.cgroups.names_of(version, path) == []
            # (the real root cgroup of v2 has no memory.max: no limit, and nothing to say)
            self._own_limits[key] = self._number(version, path, _LIMIT[version], notes, quiet_missing=top)
        return self._own_limits[key]

    def info(self, version, path):
        """The CgroupInfo of cgroup PATH (read once)."""
        key = (version, path)
        found = self._infos.get(key)
        if found is None:
            found = self._infos[key] = self._read(version, path)
        return found

    def _read(self, version, path):
        info = CgroupInfo(version, path)
        notes = info.notes
        if self.cgroups.names_of(version, path) is None:
            notes.append("outside the cgroup tree seen here (another cgroup namespace's, or deeper than %d levels)"
                         % CGROUP_DEPTH)
            return info
        try:
            top = self.cgroups.names_of(version, path) == []
            stat_data = self._file(version, path, b"memory.stat", notes)
            if stat_data is None and version == 2 and notes == ["memory.stat: No such file or directory"]:
                probe = []
                self._file(version, path, _USAGE[version], probe)
                if probe == ["memory.current: No such file or directory"]:
                    notes[:] = ["no memory controller in this cgroup (cgroup v2 without it)"]
                    return info
            info.usage, read = self._number(version, path, _USAGE[version], notes, quiet_missing=top)
            if not read and top and version == 2:
                notes.append("the root cgroup: its charge is the machine's (/proc/meminfo)")
            self._take_limit(info, notes)
            if stat_data is not None:
                info.breakdown = charge_breakdown(version, flat_keyed(stat_data), info.usage)
                if info.breakdown is None:
                    notes.append("memory.stat: no %s line" % ("anon" if version == 2 else "rss"))
            events = self._file(version, path, _EVENTS[version], notes, quiet_missing=top)
            if events is not None:
                info.oom_kills = flat_keyed(events).get("oom_kill")
        except CgroupUnreadable as error:  # (removed while it was read: what was read stays)
            notes.append(error.reason)
        return info

    def _take_limit(self, info, notes):
        """The tightest limit of the cgroup and its ancestors."""
        version = info.version
        for index, path in enumerate(ancestors(info.path)):
            if self.cgroups.names_of(version, path) is None:
                break  # above what this machine (or container) shows
            limit, _ = self.own_limit(version, path, notes if index == 0 else [])
            if limit is not None and (info.limit is None or limit < info.limit):
                info.limit, info.limit_path = limit, path

    def oom_kills(self, version, path):
        """The cgroup's OOM kills now, or None (a lighter read than info())."""
        try:
            data = self.cgroups.read(version, path, _EVENTS[version])
        except CgroupUnreadable:
            return None
        return flat_keyed(data).get("oom_kill")

    def scope(self, version, path, swap_total_kb, page_kb):
        """The OOM scope of cgroup PATH (report.oom.Scope): that of the
        cgroup whose limit its tightest limit is (it is the one that runs
        out), or None when neither it nor an ancestor is limited."""
        info = self.info(version, path)
        if info.limit is None:
            return None
        where = info.limit_path
        notes = []  # (what cannot be read of these counts as no swap limit)
        if version == 2:
            swap, _ = self._number(version, where, b"memory.swap.max", notes)
        else:
            memsw, _ = self._number(version, where, b"memory.memsw.limit_in_bytes", notes)
            swap = None if memsw is None else max(0, memsw - info.limit)
            swappiness = self._file(version, where, b"memory.swappiness", notes)
            if swappiness is not None and swappiness.strip() == b"0":
                swap = 0
        return cgroup_scope(where, info.limit, swap, swap_total_kb, page_kb)


class CgroupGroup:
    """The processes of one memory cgroup: ``count`` and their
    ``figures`` sums (FIGURES, kB), with the cgroup's CgroupInfo."""

    __slots__ = ("version", "path", "count", "figures", "info")

    def __init__(self, version, path):
        self.version = version
        self.path = path
        self.count = 0
        self.figures = dict.fromkeys(FIGURES, 0)
        self.info = None


def group_by_cgroup(rows):
    """The CgroupGroups of the rows that know their cgroup, in the order
    met, and the rows that do not."""
    groups = {}
    unknown = []
    for row in rows:
        if row.cgroup is None:
            unknown.append(row)
            continue
        key = (row.cgroup_version, row.cgroup)
        group = groups.get(key)
        if group is None:
            group = groups[key] = CgroupGroup(*key)
        group.count += 1
        figures = group.figures
        for name in FIGURES:
            figures[name] += row.figures[name]
    return list(groups.values()), unknown


def runtime_label(runtime):
    """"docker 0123456789ab", "service nginx.service", "pod UID": the
    container, unit or pod of a cgroup (bytes), b"" for none."""
    if runtime is None:
        return b""
    kind, name, pod = runtime
    if kind not in ("service", "scope", "slice", "pod", "lxc") and len(name) > 12:
        name = name[:12]
    label = b"%s %s" % (kind.encode(), name)
    if pod is not None and kind != "pod":
        label += b" in pod %s" % pod
    return label


def _kb(value):
    """Bytes in kB (truncated toward zero, as a negative "other" too)."""
    if value is None:
        return None
    return value // 1024 if value >= 0 else -(-value // 1024)


def _cell(value):
    return b"-" if value is None else b"%d" % value


class CgroupTable(Record):
    """--by=cgroup (see the module's docstring): ``groups`` (CgroupGroup,
    their ``info`` read), sorted by ``sort`` (usage, pss, rss, uss, swap;
    pid and command: by path)."""

    def __init__(self, groups, sort, processes, unreadable, quiet, bars, wide, balance=None):
        self.balance = balance
        if sort in ("usage", None):
            groups.sort(key=lambda group: (group.info.usage is None, -(group.info.usage or 0), group.path))
        elif sort in SORTED_FIGURE:
            figure = SORTED_FIGURE[sort]
            groups.sort(key=lambda group: (-group.figures[figure], group.path))
        else:
            groups.sort(key=lambda group: group.path)
        self.groups = groups
        self.sort = sort or "usage"
        self.processes = processes
        self.unreadable = unreadable
        self.quiet = quiet
        self.bars = bars
        self.wide = wide

    def metrics(self):
        return cgroup_families(self)

    def json_objects(self):
        for group in self.groups:
            info = group.info
            kind, name, pod = info.runtime or (None, None, None)
            entry = {"schema": SCHEMA, "cgroup": text(group.path), "version": group.version, "kind": kind,
                     "name": None if name is None else text(name), "pod": None if pod is None else text(pod),
                     "processes": group.count}
            entry.update(group.figures)
            entry.update({
                "usage": _kb(info.usage), "limit": _kb(info.limit),
                "limit_cgroup": None if info.limit_path is None else text(info.limit_path),
                "used_percent": info.used_percent,
                "breakdown": None if info.breakdown is None else {key: _kb(info.breakdown[key])
                                                                  for key in BREAKDOWN},
                "not_in_rss": _kb(info.not_in_rss), "oom_kills": info.oom_kills, "notes": list(info.notes)})
            yield entry
        if not self.quiet:
            totals = {name: sum(group.figures[name] for group in self.groups) for name in FIGURES}
            entry = totals_object(totals, self.processes, self.unreadable, self.balance)
            entry["cgroups"] = len(self.groups)
            yield entry

    def text(self, context):
        headings = (b"Procs",) + tuple(name.encode() for name in CGROUP_FIGURES) + (
            b"Usage", b"Limit", b"Use%", b"Anon", b"File", b"Shmem", b"Kernel", b"NotInRss", b"OOMkills")
        cells = []
        names = []
        for group in self.groups:
            info = group.info
            parts = info.breakdown or {}
            percent = info.used_percent
            cells.append([b"%d" % group.count] + [b"%d" % group.figures[name] for name in CGROUP_FIGURES] + [
                _cell(_kb(info.usage)), _cell(_kb(info.limit)), b"-" if percent is None else b"%.1f" % percent]
                + [_cell(_kb(parts.get(key))) for key in ("anon", "file", "shmem", "kernel")]
                + [_cell(_kb(info.not_in_rss)), _cell(info.oom_kills)])
            names.append(self._name(context, group))
        figure = SORTED_FIGURE.get(self.sort)
        if figure is None:
            shares = [group.info.usage or 0 for group in self.groups]
        else:
            shares = [group.figures[figure] for group in self.groups]
        total_cells = [b"%d" % self.processes] + [b"%d" % sum(group.figures[name] for group in self.groups)
                                                  for name in CGROUP_FIGURES] + [b""] * 9
        count = len(self.groups)
        return render_table(context, self, headings, cells, names, shares, sum(shares), total_cells,
                            context.view.words.total_kb + b" (%d cgroup%s)" % (count, b"" if count == 1 else b"s"),
                            last_heading=b"Cgroup") + balance_text(context, self)

    @staticmethod
    def _name(context, group):
        """The path, what it is (container, unit, pod), where its limit
        comes from when an ancestor's, and its notes."""
        info = group.info
        name = context.report_name(group.path)
        label = runtime_label(info.runtime)
        if label:
            name += b"  (%s)" % context.report_name(label)
        if info.limit_path is not None and info.limit_path != group.path:
            name += b"  [limit of %s]" % context.report_name(info.limit_path)
        if info.notes:
            name += b"  [%s]" % terminal_safe("; ".join(info.notes).encode("utf-8", "replace"),
                                             context.charset.is_utf8)
        return name


# the cgroup's own figures (bytes) as kinds of pymap_cgroup_memory_bytes, beside
# its processes' sums (METRIC_KINDS): the charge, the tightest limit, the
# charge no process has in its RSS, and the charge by memory.stat
_CGROUP_KINDS_HELP = (
    "rss, pss, uss, swap, anon, file and shmem summed over the cgroup's processes as for programs; usage the "
    "cgroup's charge (memory.current, memory.usage_in_bytes), limit the tightest limit of it and its ancestors "
    "(no sample when unlimited), not_in_rss the charge in no process's RSS (page cache, unmapped shmem, kernel), "
    "charge_anon, charge_file, charge_shmem and charge_kernel the charge by memory.stat")
_CHARGE_KINDS = ("anon", "file", "shmem", "kernel")


def cgroup_families(table):
    """The families of a CgroupTable: pymap_cgroup_memory_bytes{cgroup,kind}
    (the cgroup's path as /proc/PID/cgroup writes it), pymap_cgroup_oom_kills
    (a counter: memory.events' or memory.oom_control's oom_kill), the
    processes of each cgroup (pymap_processes{cgroup}) and of those that could
    not be read.  A figure that could not be read has no sample."""
    from .openmetrics import COUNTER, MetricFamily

    memory = memory_family("pymap_cgroup_memory_bytes", "each memory cgroup", _CGROUP_KINDS_HELP)
    kills = MetricFamily("pymap_cgroup_oom_kills", COUNTER,
                         "Processes the OOM killer ended in each memory cgroup and below it since it was made "
                         "(memory.events oom_kill, memory.oom_control oom_kill).")
    count, lost = count_families("cgroup", table.unreadable)
    for group in table.groups:
        labels = (("cgroup", group.path),)
        figures, info = group.figures, group.info
        pairs = [(kind, figures[figure] * 1024) for kind, figure in METRIC_KINDS]
        own = [("usage", info.usage), ("limit", info.limit), ("not_in_rss", info.not_in_rss)]
        if info.breakdown is not None:
            own += [("charge_" + kind, info.breakdown[kind]) for kind in _CHARGE_KINDS]
        pairs += [(kind, value) for kind, value in own if value is not None]
        memory.add_each(labels, "kind", pairs)
        if info.oom_kills is not None:
            kills.add(labels, info.oom_kills)
        count.add(labels, group.count)
    return [memory, kills, count, lost]
