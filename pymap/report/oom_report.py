"""--oom-report: the OOM killer's kills read from a kernel log
(parse/oomlog.py), for people and as JSON Lines, and why the kernel chose
each victim.

For each kill, as text (a block; names escaped as in every report of
pymap's own, see escape.report_name)::

    OOM kill at 5718.404593 s after boot (about 2026-12-04 16:53:35), memory cgroup /demo, CONSTRAINT_MEMCG
      killed   PID 10005 (sleep) uid 0, oom_score_adj 500: anon-rss 0 kB + file-rss 1648 kB + shmem-rss 0 kB
               = 1648 kB resident; total-vm 2920 kB, pgtables 44 kB
      trigger  dd (PID 10014) gfp_mask=0xcc0(GFP_KERNEL) order=0 oom_score_adj=0
      cgroup   /demo, limit 65536 kB
      usage    memory 65536 kB of 65536 kB (failcnt 61); ...
      stat     /demo: rss 22248 kB, cache 42912 kB, shmem 42896 kB, ...
      outside  the tasks' RSS adds up to 30916 kB of the cgroup's 65536 kB: at least ...
      why      PID 10005 (sleep) had the highest badness in memory cgroup /demo: ...
       badness      rss  pgtab   swap    adj      pid  name
      ...

(the "killed" line is one line).  As JSON, one object per kill: "schema",
then every key of OomKill.as_json() (parse/oomlog.py's docstring: "pid",
"comm", "cgroup", "constraint", "anon_rss", "file_rss", "shmem_rss" in kB,
"candidates" with each row's badness ...), then "why", the explanation.
After the kills, unless -q: {"schema": 3, "log": NAME, "kills": N}, so that
a log without a kill says so in JSON too (as text: "no OOM kill found in
NAME", also left out by -q).
"""

import time

from ..parse.oomlog import UNLIMITED_KB, json_text
from .json_lines import SCHEMA
from .sinks import Record

__all__ = ["explain", "render_kill", "stat_summary", "outside_rss_kb", "KillRecord", "LogEnd", "STAT_SHOWN",
           "TOP_CANDIDATES"]

TOP_CANDIDATES = 3  # the task table's rows shown in text (the JSON has them all)
# memory.stat's counters the text shows, in this order, where the kernel
# printed them: cgroup v2's names (5.3+ on v2), and v1's (4.x, and 5.3+ on
# v1), whose "rss" is v2's "anon" and "cache" v2's "file"
STAT_SHOWN = {"v2": ("anon", "file", "shmem", "kernel", "slab", "pagetables", "sock", "file_mapped", "file_dirty",
                     "file_writeback", "swapcached"),
              "v1": ("rss", "rss_huge", "cache", "shmem", "mapped_file", "dirty", "writeback", "swap")}


def _name(value):
    """A name of the log (bytes) in a sentence (str, as the JSON holds it)."""
    return json_text(value) if value is not None else "?"


def _kb_text(kb):
    return "unlimited" if kb >= UNLIMITED_KB else "%d kB" % kb


def _task(row):
    return "PID %d (%s)" % (row.pid, _name(row.name))


def _breakdown(row, kill):
    parts = ["rss %d" % (row.rss or 0)]
    pgtables = row.pgtables_pages(kill.page_size)
    parts.append("page tables %d" % pgtables)
    parts.append("swap %d" % (row.swapents or 0))
    if row.oom_score_adj and kill.totalpages is not None:
        parts.append("oom_score_adj %d x %d" % (row.oom_score_adj, kill.totalpages // 1000))
    return " + ".join(parts)


def _scope_text(kill):
    if kill.scope == "memcg":
        name = kill.oom_memcg or kill.memory_stat_cgroup
        return "memory cgroup %s" % _name(name) if name else "a memory cgroup the log does not name"
    if kill.scope == "cpuset":
        return "cpuset %s (nodes %s)" % (_name(kill.cpuset), kill.mems_allowed or "?")
    if kill.scope == "mempolicy":
        return "the mempolicy's nodes (%s)" % (kill.nodemask or "?")
    return "the whole system"


def explain(kill):
    """Why this process (a sentence or a few, str): the highest badness in
    the scope, the runner-up and the margin, whether oom_score_adj decided
    it; what the log lacks to tell."""
    try:
        return _explain(kill)
    except Exception:  # noqa: BLE001 - an explanation never stops a report (the tests hold it never happens)
        return "The log's numbers for this kill could not be explained."


def _explain(kill):
    victim_name = "PID %s (%s)" % (kill.pid, _name(kill.comm))
    scope = _scope_text(kill)
    if kill.message and "oom_kill_allocating_task" in kill.message:
        return ("vm.oom_kill_allocating_task is set: the kernel killed %s, the task that was allocating, without "
                "comparing badness." % victim_name)
    rows = kill.candidates
    eligible = [row for row in rows if row.eligible]
    unkillable = len(rows) - len(eligible)
    tail = []
    if unkillable:
        tail.append("%d task%s with oom_score_adj -1000 could not be chosen." % (
            unkillable, "" if unkillable == 1 else "s"))
    if kill.candidates_more:
        tail.append("(%d more task%s in the table %s not kept here.)" % (
            kill.candidates_more, "" if kill.candidates_more == 1 else "s",
            "is" if kill.candidates_more == 1 else "are"))
    if kill.group_killed or kill.group_more:
        count = len(kill.group_killed) + kill.group_more
        tail.append("memory.oom.group is set on %s: its %d other task%s killed with it." % (
            _name(kill.group_cgroup), count, " was" if count == 1 else "s were"))
    if not rows:
        return " ".join(["The log has no task list for this kill (vm.oom_dump_tasks is 0, or the kernel's report "
                         "was rate-limited or cut off), so the choice cannot be checked: the kernel kills the task "
                         "with the highest badness (resident, swapped and page-table pages, plus oom_score_adj x "
                         "totalpages / 1000) in %s." % scope] + tail)
    victim = kill.victim_row()
    sentences = []
    adj_unknown = kill.totalpages is None and any(row.oom_score_adj for row in eligible)
    if adj_unknown:
        sentences.append("This log does not give totalpages (what oom_score_adj is scaled by), so tasks are ranked "
                         "by their pages alone.")
    chosen_pid = kill.chosen["pid"] if kill.chosen else kill.pid
    top = eligible[0] if eligible else None
    if victim is None and top is not None and top.pid == chosen_pid and chosen_pid != kill.pid:
        victim_like = top
    else:
        victim_like = victim
    if victim_like is None:
        sentences.insert(0, "%s is not in the kernel's task list%s." % (
            victim_name, " as kept here" if kill.candidates_more else ""))
        if top is not None:
            sentences.append("The highest there is %s with %s." % (_task(top), _score_text(top, adj_unknown)))
        return " ".join(sentences + tail)
    if top is victim_like:
        runner = next((row for row in eligible if row is not victim_like), None)
        first = "%s had the highest badness in %s: %s" % (
            _task(victim_like), scope, _score_text(victim_like, adj_unknown))
        if victim_like.badness is not None:
            first += " (%s)" % _breakdown(victim_like, kill)
        if runner is None:
            first += "; it was the only task that could be chosen."
        else:
            first += "; the runner-up, %s, had %s, %d less." % (
                _task(runner), _score_text(runner, adj_unknown), _value(victim_like) - _value(runner))
        sentences.insert(0, first)
        by_points = max(eligible, key=lambda row: (row.points or 0, row.index))
        if by_points is not victim_like and not adj_unknown:
            sentences.append("oom_score_adj decided it: by pages alone %s had more (%d against %d)." % (
                _task(by_points), by_points.points or 0, victim_like.points or 0))
        elif runner is not None and victim_like.oom_score_adj != runner.oom_score_adj and not adj_unknown \
                and victim_like.badness is not None and runner.badness is not None:
            difference = (victim_like.oom_score_adj - runner.oom_score_adj) * (kill.totalpages // 1000)
            if difference > 0:
                sentences.append("oom_score_adj widened the margin by %d." % difference)
        if kill.chosen and kill.chosen["pid"] != kill.pid:
            sentences.append("The kernel chose %s (score %s) and, as kernels before 5.1 did, killed its child %s, "
                             "which has memory of its own, instead." % (
                                 _task(victim_like), kill.kernel_score, victim_name))
        if kill.totalpages_from and not kill.totalpages_exact and any(row.oom_score_adj for row in eligible):
            sentences.append("totalpages %d is %s." % (kill.totalpages, kill.totalpages_from))
        return " ".join(sentences + tail)
    sentences.insert(0, "%s was not the highest by the table's numbers: %s had %s, %s %s." % (
        victim_name, _task(top), _score_text(top, adj_unknown), victim_name, _score_text(victim_like, adj_unknown)))
    if kill.chosen and kill.chosen["pid"] != kill.pid:
        sentences.append("The kernel chose %s (score %s) and killed its child %s instead." % (
            "PID %d (%s)" % (kill.chosen["pid"], _name(kill.chosen["comm"])), kill.kernel_score, victim_name))
    elif adj_unknown:
        sentences.append("oom_score_adj may account for it.")
    else:
        sentences.append("The table is a snapshot taken while the kernel chose; a task marked to die first "
                         "(swapoff, KSM) or already being killed changes the choice.")
    return " ".join(sentences + tail)


def _value(row):
    return row.badness if row.badness is not None else (row.points or 0)


def _score_text(row, by_pages=False):
    """A task's badness, or its pages when tasks are compared by pages
    (``by_pages``: the log does not give totalpages) or it has no badness."""
    if row.badness is not None and not by_pages:
        return "badness %d" % row.badness
    return "%d pages" % (row.points or 0)


# --- for people ---------------------------------------------------------------

def stat_summary(kill):
    """[(name, kB)] of the memory.stat counters STAT_SHOWN names, as the
    kernel printed them (bytes since 5.3, kB before)."""
    stats = kill.memory_stat
    divisor = 1024 if kill.memory_stat_unit == "memory.stat" else 1
    names = STAT_SHOWN["v2" if "anon" in stats or "file" in stats else "v1"]
    return [(name, stats[name] // divisor) for name in names if name in stats]


def outside_rss_kb(kill):
    """(the tasks' RSS summed in kB, the cgroup's charge in kB) for a memory
    cgroup's kill whose whole task table is in the log, else None: what the
    charge holds beyond the tasks' RSS (at least: pages two tasks map count
    twice in the sum) is page cache, shmem and tmpfs files that no task
    maps, and kernel memory."""
    memory = kill.memcg.get("memory")
    if kill.scope != "memcg" or memory is None or not kill.candidates or kill.candidates_more:
        return None
    resident = sum(row.rss or 0 for row in kill.candidates) * kill.page_size // 1024
    return resident, memory["usage_kb"]


def _time_text(value, clock):
    if value is None:
        return "(no time)"
    if isinstance(value, float):
        text = "%.6f s after boot" % value
        if clock is not None:
            text += " (about %s)" % time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(clock + value))
        return text
    return str(value)


def _counter_text(name, counter):
    return "%s %d kB of %s (failcnt %d)" % (name, counter["usage_kb"], _kb_text(counter["limit_kb"]),
                                             counter["failcnt"])


def _cgroup_line(kill):
    memory = kill.memcg.get("memory")
    limit = ", limit %s" % _kb_text(memory["limit_kb"]) if memory is not None else ""
    if kill.oom_memcg and kill.task_memcg and kill.oom_memcg != kill.task_memcg:
        return "limit of %s%s; the victim in %s" % (_name(kill.oom_memcg), limit, _name(kill.task_memcg))
    if kill.oom_memcg:
        return "%s%s" % (_name(kill.oom_memcg), limit)
    if kill.task_memcg:
        return "%s (the victim's)" % _name(kill.task_memcg)
    return None


def _lines(kill, clock, top):
    """The block's lines (str, names as the JSON holds them)."""
    lines = []
    when = _time_text(kill.time, clock)
    if kill.wall_time and kill.wall_time != kill.time:
        when += " (%s)" % kill.wall_time
    lines.append("OOM kill at %s, %s%s" % (when, _scope_text(kill),
                                            ", %s" % kill.constraint if kill.constraint else ""))
    victim = "  killed   PID %s (%s)" % (kill.pid, _name(kill.comm))
    if kill.uid is not None:
        victim += " uid %d" % kill.uid
    if kill.oom_score_adj is not None:
        victim += ", oom_score_adj %d" % kill.oom_score_adj
    split = [("anon-rss", kill.anon_rss), ("file-rss", kill.file_rss), ("shmem-rss", kill.shmem_rss)]
    shown = [(name, value) for name, value in split if value is not None]
    if shown:
        victim += ": " + " + ".join("%s %d kB" % item for item in shown)
        victim += " = %d kB resident" % sum(value for _, value in shown)
    others = ["%s %d kB" % (name, value) for name, value in (("total-vm", kill.total_vm), ("pgtables", kill.pgtables))
              if value is not None]
    if others:
        victim += ("; " if shown else ": ") + ", ".join(others)
    lines.append(victim)
    if kill.trigger is not None:
        trigger = kill.trigger
        text = "  trigger  %s" % _name(trigger.comm)
        if trigger.pid is not None:
            text += " (PID %d)" % trigger.pid
        text += " gfp_mask=%s%s order=%d oom_score_adj=%d" % (
            trigger.gfp_mask, "(%s)" % trigger.gfp_flags if trigger.gfp_flags else "", trigger.order,
            trigger.oom_score_adj)
        lines.append(text)
    cgroup = _cgroup_line(kill)
    if cgroup is not None:
        lines.append("  cgroup   " + cgroup)
    if kill.memcg:
        lines.append("  usage    " + "; ".join(_counter_text(name, counter) for name, counter in kill.memcg.items()))
    counters = stat_summary(kill)
    if counters:
        lines.append("  stat     %s: %s" % (_name(kill.memory_stat_cgroup),
                                             ", ".join("%s %d kB" % item for item in counters)))
    outside = outside_rss_kb(kill)
    if outside is not None and outside[1] > outside[0]:
        resident, usage = outside
        lines.append("  outside  the tasks' RSS adds up to %d kB of the cgroup's %d kB: at least %d kB are in no "
                     "task's RSS (page cache, shmem and tmpfs files not mapped, kernel memory)" % (
                         resident, usage, usage - resident))
    lines.append("  why      " + explain(kill))
    ranked = kill.candidates[:top]
    if ranked:
        lines.append("  %8s %8s %6s %6s %6s %8s  %s" % ("badness", "rss", "pgtab", "swap", "adj", "pid", "name"))
        for row in ranked:
            lines.append("  %8s %8d %6d %6d %6d %8d  %s%s" % (
                row.badness if row.badness is not None else "-", row.rss or 0, row.pgtables_pages(kill.page_size),
                row.swapents or 0, row.oom_score_adj, row.pid, _name(row.name), "  <- killed" if row.victim else ""))
        more = kill.candidates_total - len(ranked)
        if more > 0:
            lines.append("  (%d more task%s)" % (more, "" if more == 1 else "s"))
    if kill.reaped is not None:
        if kill.reaped.get("unable"):
            lines.append("  reaper   unable to reap PID %d" % kill.reaped["pid"])
        else:
            lines.append("  reaper   reaped PID %d: now anon-rss %d kB, file-rss %d kB, shmem-rss %d kB" % (
                kill.reaped["pid"], kill.reaped["anon_rss"], kill.reaped["file_rss"], kill.reaped["shmem_rss"]))
    for note in kill.notes:
        lines.append("  note     " + note)
    return lines


def render_kill(kill, shown, clock=None, top=TOP_CANDIDATES):
    """The text block of one kill (bytes, each line ending with a newline).
    Every line goes through ``shown`` (bytes to bytes: the context's
    report_name), so nothing the log holds reaches a terminal raw;
    ``clock``: the wall-clock time of the log's zero (a live log's boot),
    or None."""
    return b"".join(shown(line.encode("utf-8", "surrogateescape")) + b"\n" for line in _lines(kill, clock, top))


class KillRecord(Record):
    """One kill: its block of text (a blank line before all but the first),
    its JSON object."""

    def __init__(self, kill, first=True, clock=None):
        self.kill = kill
        self.first = first
        self.clock = clock

    def text(self, context):
        block = render_kill(self.kill, context.report_name, self.clock)
        return block if self.first else b"\n" + block

    def json_objects(self):
        return [dict({"schema": SCHEMA}, **self.kill.as_json(), why=explain(self.kill))]


class LogEnd(Record):
    """The end of the log ``name`` (bytes; ``live``: the running kernel's):
    as text, a line when it held no kill; as JSON, an object with the log's
    name and the number of kills; nothing with ``quiet`` (-q)."""

    def __init__(self, name, kills, live, quiet):
        self.name = name
        self.kills = kills
        self.live = live
        self.quiet = quiet

    def text(self, context):
        if self.kills or self.quiet:
            return b""
        name = context.report_name(self.name)
        return b"no OOM kill found in %s\n" % (b"the kernel log (%s)" % name if self.live else name)

    def json_objects(self):
        if self.quiet:
            return []
        return [{"schema": SCHEMA, "log": json_text(self.name), "kills": self.kills}]
