"""OOM kills in a kernel log: who was killed, in what scope, with which
numbers, and how the kernel ranked the candidates.

``parse(lines)`` reads a kernel log, given as an iterable of lines (bytes),
and returns one OomKill per process the OOM killer killed, in the log's
order.  ``iter_kills(lines)`` does the same as a generator, in bounded
memory.  Pure functions of the lines: reading the log is the source
layer's (source.kernel_log_lines, source.log_file_lines), the words for
people and the JSON Lines the report's (report/oom_report.py, which also
says why the kernel chose the victim).  Nothing here raises on any input:
lines it does not know are skipped, torn ones too.

The log may come from any of the usual tools, with or without the kernel's
``[ seconds.micro]`` timestamp::

    dmesg                  [ 1234.567890] message
    dmesg -T               [Mon Dec  4 15:37:19 2023] message
    dmesg -r               <4>[ 1234.567890] message
    dmesg -x               kern  :warn  : [ 1234.567890] message
    /dev/kmsg              4,1234,1234567890,-;message     (+ " KEY=value" lines)
    journalctl -k          Dec 04 15:37:19 host kernel: message
    journalctl -o short-iso / short-precise / short-monotonic
    kern.log, syslog       Dec  4 15:37:19 host kernel: [ 1234.567890] message

Lines of other programs in a syslog or journal (a tag other than
``kernel``, a /dev/kmsg, ``dmesg -x`` or syslog(2) facility other than
``kern``) are skipped.
Names (the victim's comm, the table's names, cgroup paths) are bytes, as
the log holds them (a comm may be any bytes); /dev/kmsg's own ``\\xNN``
escapes are undone (a record holding newlines is several lines), and
dmesg's (it writes unprintable bytes as ``\\xNN``) are kept as dmesg wrote
them.  Other text (the message, the wall-clock time, gfp flags) is str,
bytes that are not UTF-8 as lone surrogates ("surrogateescape").

Schema: an OomKill's attributes, one object per kill; ``as_json()`` gives
them as a JSON-ready dict with the same keys, bytes decoded as UTF-8 with
"surrogateescape" as pymap's JSON Lines hold them (the report adds
"schema" and "why")::

    time            float | str | null   when the kill was logged: seconds since boot
                                         when the log has them ([ s.us ], /dev/kmsg),
                                         else the wall-clock text, else null
    wall_time       str | null           the wall-clock text when the log also has one
    started         float | str | null   the same for the report's first line
    message         str | null           "Out of memory", "Memory cgroup out of memory",
                                         "Out of memory (oom_kill_allocating_task)" ...
    pid, comm       int, bytes           the victim, as "Killed process PID (comm)" says
    uid             int | null           the victim's UID (5.x line, summary, or its row)
    total_vm, anon_rss, file_rss, shmem_rss, pgtables
                    int | null           kB, from the "Killed process" line
    oom_score_adj   int | null           the victim's (5.4+ line, else its row)
    constraint      str | null           the kernel's CONSTRAINT_NONE, CONSTRAINT_MEMCG,
                                         CONSTRAINT_CPUSET or CONSTRAINT_MEMORY_POLICY,
                                         as the oom-kill: line prints it (4.19+); null
                                         before 4.19, which does not print it
    scope           str | null           the same normalized, and inferred on older
                                         kernels: "system", "memcg", "cpuset",
                                         "mempolicy" (an older kernel's "Out of
                                         memory" kill is "system": it does not say
                                         whether a cpuset or mempolicy limited it)
    cgroup          {"oom_memcg": bytes | null, "task_memcg": bytes | null}
                                         the memory cgroup whose limit was hit and the
                                         victim's (oom-kill: line, or 4.x "Task in X
                                         killed as a result of limit of Y")
    cpuset          bytes | null         the cpuset's name (4.x line, or the summary's)
    mems_allowed, nodemask   str | null
    trigger         {"comm", "pid", "gfp_mask", "gfp_flags", "order",
                     "oom_score_adj", "nodemask"} | null     (a Trigger; comm bytes)
                                         the task that invoked the OOM killer (pid from
                                         the dump_stack "CPU: n PID: p Comm: c" line)
    memcg           {"memory" | "memory+swap" | "kmem" | "swap":
                     {"usage_kb", "limit_kb", "failcnt"}}   a memory cgroup OOM's counters
    memory_stat     {name: int}          "Memory cgroup stats for /path:" (first block)
    memory_stat_cgroup  bytes | null
    memory_stat_unit    "kB" | "memory.stat" | null
                                         4.x prints "name:NKB" pairs (kB); 5.3+ prints
                                         memory.stat's lines (bytes, events as counts)
    page_size       int                  bytes; from the victim's row and line, else 4096
    totalpages      int | null           what oom_score_adj is scaled by (see below)
    totalpages_from str | null           where it came from, and what the log leaves out
    candidates      [{"pid", "uid", "tgid", "total_vm", "rss", "rss_anon", "rss_file",
                      "rss_shmem", "pgtables", "pgtables_unit", "swapents",
                      "oom_score_adj", "name", "points", "badness", "eligible",
                      "victim"}]
                                         the "Tasks state" table, pages as printed
                                         (pgtables in "bytes" or "pages" as the header
                                         says), highest badness first
    candidates_total  int                rows the table had
    candidates_more   int                rows not kept (the table is capped: the
                                         highest-ranked rows are kept)
                                         (Candidate objects; name bytes)
    kernel_score    int | null           4.x "Kill process PID (comm) score N": badness
                                         x 1000 / totalpages, as the kernel computed it
    chosen          {"pid", "comm"} | null   (comm bytes, here and below) 4.x: the task chosen, when a child of it
                                         was killed instead
    group_killed    [{"pid", "comm", "anon_rss", "file_rss", "shmem_rss"}]
                                         the rest of a memory.oom.group cgroup
    reaped          {"pid", "comm", "anon_rss", "file_rss", "shmem_rss"} |
                    {"pid", "comm", "unable": true} | null     the oom_reaper's line
    group_cgroup    bytes | null         the memory.oom.group cgroup
    notes           [str]                what the log lacked

Badness is the kernel's oom_badness(): rss + swapents + page tables in
pages (pgtables_bytes / PAGE_SIZE since 4.15; nr_ptes + nr_pmds before),
plus oom_score_adj x (totalpages / 1000) (both integer divisions, as C's);
a task with oom_score_adj -1000 is never chosen ("eligible" false).
``points`` is the sum without the oom_score_adj term.  totalpages is what
the OOM was short of, and the log only says it sometimes: for a memory
cgroup OOM it is the cgroup's limit (the "memory:" line) plus, when the
cgroup may swap, min(its swap limit, the machine's swap), which the log
does not give unless the swap limit is 0 (v2 "swap: ... limit 0kB", v1
"memory+swap" limit equal to the memory limit); for a system-wide OOM it is
RAM + swap, from the Mem-Info block ("N pages RAM" less "M pages
reserved", which is the kernel's totalram_pages, plus "Total swap = SkB");
for a cpuset or mempolicy OOM, the swap plus the present pages of the
allowed nodes ("Node N ... present:XkB" lines).  When the log does not
give it, candidates whose oom_score_adj is not 0 have no badness (null) and
are ranked by points (the report says so).  Kernels before 5.9 clamped a
badness below 1 to 1, and 4.x took 3% off for CAP_SYS_ADMIN tasks: the log
shows neither, the ranking here ignores both.

The formats, as printk prints them (mm/oom_kill.c, mm/memcontrol.c,
kernel/cgroup/cpuset.c, mm/show_mem.c), by the kernel that first printed
them.  The 4.14, 5.10 and 6.x strings are quoted from those kernels'
sources, 6.8's task table from a 6.8 build's strings and the 6.18 lines
from a live 6.18 kernel (tests/fixtures/oomlog/real-*); the others from
the patches that changed them and from logs those kernels wrote, so the
release named is as near as those tell.  The parser does not depend on
the release: each line is read by its own form.

    dump_header():
      4.4    "%s invoked oom-killer: gfp_mask=0x%x, order=%d, oom_score_adj=%hd\\n"
      4.5    "%s invoked oom-killer: gfp_mask=%#x(%pGg), order=%d, oom_score_adj=%hd\\n"
      4.9    "%s invoked oom-killer: gfp_mask=%#x(%pGg), nodemask=%*pbl, order=%d, ..."
      4.14   "%s invoked oom-killer: gfp_mask=%#x(%pGg), nodemask=" "%*pbl" | "(null)"
             ",  order=%d, oom_score_adj=%hd\\n"
      4.19+  "%s invoked oom-killer: gfp_mask=%#x(%pGg), order=%d, oom_score_adj=%hd\\n"
      dump_stack(): "CPU: %d PID: %d Comm: %.20s %s..." (6.x: "CPU: %d UID: %u PID: %d ...")
      4.x cpuset_print_current_mems_allowed(): "%s cpuset=%s mems_allowed=%*pbl\\n"
    dump_tasks() / dump_task():
      4.4-4.14 "[ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name\\n"
               "[%5d] %5d %5d %8lu %8lu %7ld %7ld %8lu         %5hd %s\\n"
      4.15     "[ pid ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\\n"
               "[%5d] %5d %5d %8lu %8lu %8ld %8lu         %5hd %s\\n"
      4.19-6.7 "Tasks state (memory values in pages):\\n"
               "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\\n"
               "[%7d] %5d %5d %8lu %8lu %8ld %8lu         %5hd %s\\n"
      6.8+     "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes
                swapents oom_score_adj name\\n"
               "[%7d] %5d %5d %8lu %8lu %8lu %8lu %9lu %8ld %8lu         %5hd %s\\n"
      (the columns are taken from the header, so a vendor's extra column is read too)
    dump_oom_summary() (4.19+), one line built from pr_cont()s:
      "oom-kill:constraint=%s,nodemask=%*pbl" ",cpuset=" <name> ",mems_allowed=%*pbl"
      ",oom_memcg=" <path> | ",global_oom"  ",task_memcg=" <path>  ",task=%s,pid=%d,uid=%d\\n"
      (early 4.19 printed ",global_oom..." with pr_info(), so it can be a line of its own:
      it is joined back)
    oom_kill_process() / __oom_kill_process():
      4.x    "%s: Kill process %d (%s) score %u or sacrifice child\\n"
      4.4    "Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB\\n"
      4.5    "Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB\\n"
      5.1    "%s: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB\\n"
      5.3    "... shmem-rss:%lukB, UID:%u\\n"
      5.4+   "%s: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB,
              shmem-rss:%lukB, UID:%u pgtables:%lukB oom_score_adj:%hd\\n"
      where %s is "Out of memory", "Memory cgroup out of memory" or
      "Out of memory (oom_kill_allocating_task)"
      "%s: OOM victim %d (%s) is already exiting. Skip killing the task\\n"  (no kill)
      "Out of memory and no killable processes...\\n"                         (no kill)
      "Tasks in " <path> " are going to be killed due to memory.oom.group set\\n"
    oom_reap_task_mm():
      "oom_reaper: reaped process %d (%s), now anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB\\n"
      "oom_reaper: unable to reap pid:%d (%s)\\n"
    mem_cgroup_print_oom_info() (4.x) / _context() and _meminfo() (4.19+):
      4.x    "Task in " <path> " killed as a result of limit of " <path> "\\n"
      "memory: usage %llukB, limit %llukB, failcnt %lu\\n"
      "memory+swap: usage %llukB, limit %llukB, failcnt %lu\\n"   (cgroup v1)
      "kmem: usage %llukB, limit %llukB, failcnt %lu\\n"          (cgroup v1)
      "swap: usage %llukB, limit %llukB, failcnt %lu\\n"          (cgroup v2)
      4.x-5.2 "Memory cgroup stats for " <path> ":" then " %s:%luKB" for each counter
      5.3+   "Memory cgroup stats for " <path> ":" then memory_stat_format(): "%s %llu\\n" lines
             (cgroup v2's memory.stat; on cgroup v1, 6.x prints v1's memory.stat: "cache", "rss" ...)
    __show_mem() (Mem-Info, system-wide OOMs):
      "%lu pages RAM\\n"  "%lu pages reserved\\n"  "Total swap = %lukB\\n"
      "Node %d %s free:%lukB ... present:%lukB managed:%lukB ..."

Bounds: a line is read up to 16 KiB (the rest is dropped); an event keeps
at most ``max_candidates`` rows of its task table (the highest-ranked),
256 memory.stat counters and 256 group kills, and says how many it left
out; ``iter_kills`` holds back at most a few finished kills, waiting for
the oom_reaper's line.
"""

import heapq
import re
from collections import deque

__all__ = ["OomKill", "Trigger", "Candidate", "parse", "iter_kills", "json_text", "MAX_LINE", "MAX_CANDIDATES",
           "MISSING_HEADER", "UNLIMITED_KB"]

MAX_LINE = 16384  # longer lines are cut: two cgroup paths and a comm fit many times over
MAX_CANDIDATES = 500
MAX_STAT_KEYS = 256
MAX_GROUP = 256
MAX_NOTES = 16
HOLD_KILLS = 4  # finished kills iter_kills keeps waiting for their oom_reaper line
HOLD_LINES = 20000  # ... and for how many lines at most
DEFAULT_PAGE_SIZE = 4096
UNLIMITED_KB = 1 << 50  # PAGE_COUNTER_MAX in kB is 9007199254740988 with 4 KiB pages
OOM_SCORE_ADJ_MIN = -1000

MISSING_HEADER = ("the start of the kernel's report (\"invoked oom-killer\") is not in the log: the kernel "
                  "rate-limits its reports, or the log begins later")

_NAMES = frozenset(("cpuset", "oom_memcg", "task_memcg"))  # the summary's fields that are names (bytes)
_SCOPES = {"CONSTRAINT_NONE": "system", "CONSTRAINT_MEMCG": "memcg", "CONSTRAINT_CPUSET": "cpuset",
           "CONSTRAINT_MEMORY_POLICY": "mempolicy"}

# Every number has a bounded length: int() of a longer string raises on
# Python 3.11+ (and would be no kernel's number anyway).
_N = r"\d{1,20}"
_S = r"-?\d{1,20}"

# --- line prefixes ---------------------------------------------------------

_KMSG = re.compile(rb"(\d{1,4}),(\d{1,20}),(-?\d{1,20}),[^;]{0,32};")
_KMSG_DICT = re.compile(r" [A-Z][A-Z0-9_]{0,63}=")
_KMSG_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_SYSLOG = re.compile(
    r"(?P<wall>[A-Z][a-z]{2} [ 0-3]?\d \d\d:\d\d:\d\d(?:\.\d{1,9})?"
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)"
    r" (?:\S{1,255} )?(?P<tag>[^\s:\[]{1,64})(?:\[\d{1,10}\])?: ")
_MONOTONIC_SYSLOG = re.compile(r"\[\s{0,12}(?P<time>\d{1,12}\.\d{1,9})\] \S{1,255} kernel: ")
_ISO_DMESG = re.compile(r"(?P<wall>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[.,]\d{1,9}(?:Z|[+-]\d\d:?\d\d)) ")
_DECODED_LEVEL = re.compile(
    r"(?P<facility>kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local[0-7])\s{0,8}:"
    r"(?:emerg|alert|crit|err|warn|notice|info|debug)\s{0,8}: ")
_PRIORITY = re.compile(r"<(\d{1,4})>")
_WALL_BRACKETS = re.compile(r"\[(?P<wall>[^\]]{0,64}?\d\d:\d\d:\d\d[^\]]{0,40})\] ?")
_TIMESTAMP = re.compile(r"\[\s{0,12}(?P<time>\d{1,12}\.\d{1,9})\] ?")
_CALLER = re.compile(r"\[\s{0,10}[TC]\d{1,10}\] ?")
_GLUED = re.compile(r"(?:<\d{1,4}>)?\[\s{0,12}\d{1,12}\.\d{6}\] ")

# --- the report's lines ----------------------------------------------------

_INVOKED = re.compile(
    r"(?P<comm>.{0,64}?) invoked oom-killer: gfp_mask=(?P<gfp>0x[0-9a-fA-F]{1,16})(?:\((?P<flags>[^)]{0,512})\))?,"
    r"(?: nodemask=(?P<nodemask>[^ ]{0,512}?),)?\s{1,4}order=(?P<order>-?\d{1,6}),"
    r" oom_score_adj=(?P<adj>-?\d{1,6})")
_CPU_LINE = re.compile(r"CPU: \d{1,6} (?:UID: (?P<uid>\d{1,10}) )?PID: (?P<pid>\d{1,10}) Comm: ")
_OLD_CPUSET = re.compile(r"(?P<comm>.{0,64}?) cpuset=(?P<cpuset>.{0,4096}?) mems_allowed=(?P<mems>[\d,-]{0,512})$")
_COUNTER = re.compile(r"(?P<name>memory|memory\+swap|kmem|swap|kmem\.tcp|tcpmem): usage (?P<usage>%s)kB,"
                      r" limit (?P<limit>%s)kB, failcnt (?P<failcnt>%s)" % (_N, _N, _N))
_OLD_STAT_PAIR = re.compile(r" ([A-Za-z_][A-Za-z0-9_]{0,63}):(%s)KB" % _N)
_STAT_LINE = re.compile(r"([a-z_][a-z0-9_.]{0,63}) (%s)$" % _N)
_TABLE_HEADER = re.compile(r"\[ {1,2}pid {1,2}\]\s{1,8}uid\s{1,8}tgid\s")
_ROW_START = re.compile(r"\[\s{0,12}(\d{1,10})\]")
_KILL_PROCESS = re.compile(
    r"(?:(?P<message>.{0,96}?): )?Kill process (?P<pid>\d{1,10}) \((?P<comm>.{0,96})\) score (?P<score>%s)"
    r" or sacrifice child" % _N)
_KILLED = re.compile(
    r"(?:(?P<message>.{0,96}?): )?Killed process (?P<pid>\d{1,10}),? (?:UID (?P<old_uid>\d{1,10}), )?"
    r"\((?P<comm>.{0,96})\) total-vm:(?P<total_vm>%s)kB, anon-rss:(?P<anon>%s)kB, file-rss:(?P<file>%s)kB"
    r"(?:, shmem-rss:(?P<shmem>%s)kB)?(?:, UID:(?P<uid>\d{1,10}))?(?: pgtables:(?P<pgtables>%s)kB)?"
    r"(?: oom_score_adj:(?P<adj>-?\d{1,6}))?" % (_N, _N, _N, _N, _N))
_ALREADY_EXITING = re.compile(r".{0,96}: OOM victim \d{1,10} \(.{0,96}\) is already exiting")
_REAPED = re.compile(
    r"oom_reaper: reaped process :?(?P<pid>\d{1,10}) \((?P<comm>.{0,96})\),? (?:now )?anon-rss:(?P<anon>%s)kB,"
    r" file-rss:(?P<file>%s)kB, shmem-rss:(?P<shmem>%s)[kl]B" % (_N, _N, _N))
_UNABLE_TO_REAP = re.compile(r"oom_reaper: unable to reap pid:(?P<pid>\d{1,10}) \((?P<comm>.{0,96})\)")
_PAGES_RAM = re.compile(r"(%s) pages RAM$" % _N)
_PAGES_RESERVED = re.compile(r"(%s) pages reserved$" % _N)
_TOTAL_SWAP = re.compile(r"Total swap = (%s)kB$" % _N)
_ZONE = re.compile(r"Node (\d{1,4}) [A-Za-z0-9_]{1,16} free:%skB .{0,2048}? present:(%s)kB managed:" % (_N, _N))
_SUMMARY_TAIL = re.compile(r",task=(?P<task>.{0,96}),pid=\s{0,10}(?P<pid>\d{1,10}),uid=\s{0,10}(?P<uid>\d{1,10})$")


def parse(lines, max_candidates=MAX_CANDIDATES):
    """Every OOM kill in ``lines`` (an iterable of bytes, or of str), as a
    list of OomKill in the log's order."""
    return list(iter_kills(lines, max_candidates))


def iter_kills(lines, max_candidates=MAX_CANDIDATES, strict=False):
    """OomKill objects as the log yields them.  A kill is handed on once the
    oom_reaper's line for it has come, or a few more kills or many lines
    later, or at the end.  ``strict`` is for the tests: a line the parser
    fails on raises, where it is otherwise skipped.  When ``lines`` itself
    raises (a log whose reading fails half-way), the kills read until then
    are handed on first, then the error is raised again."""
    parser = _Parser(max(1, int(max_candidates)))
    failure = None
    iterator = iter(lines)
    while True:
        try:
            raw = next(iterator)
        except StopIteration:
            break
        except Exception as error:  # noqa: BLE001 - raised again below, once what was read is handed on
            failure = error
            break
        try:
            parser.feed(raw)
        except Exception:  # noqa: BLE001 - no line may stop the reading of a log
            if strict:
                raise
            parser.lines_failed += 1
        while parser.ready:
            yield parser.ready.popleft()
    try:
        parser.finish()
    except Exception:  # noqa: BLE001
        if strict:
            raise
    while parser.ready:
        yield parser.ready.popleft()
    if failure is not None:
        raise failure


# --- the objects -----------------------------------------------------------

class Trigger:
    """The task that invoked the OOM killer ("X invoked oom-killer: ...")."""

    __slots__ = ("comm", "pid", "gfp_mask", "gfp_flags", "order", "oom_score_adj", "nodemask")

    def __init__(self, comm, gfp_mask, gfp_flags, order, oom_score_adj, nodemask=None):
        self.comm = comm
        self.pid = None
        self.gfp_mask = gfp_mask
        self.gfp_flags = gfp_flags
        self.order = order
        self.oom_score_adj = oom_score_adj
        self.nodemask = nodemask

    def as_json(self):
        return {name: json_text(getattr(self, name)) for name in self.__slots__}


class Candidate:
    """One row of the "Tasks state" table, in pages as the kernel prints it,
    with the badness computed from it (None: not computable, see the module
    docstring)."""

    __slots__ = ("pid", "uid", "tgid", "total_vm", "rss", "rss_anon", "rss_file", "rss_shmem", "pgtables",
                 "pgtables_unit", "swapents", "oom_score_adj", "name", "index", "points", "badness", "victim")

    def __init__(self, pid, index):
        self.pid = pid
        self.index = index  # the table's order: among equal badness the kernel keeps the later task
        self.uid = self.tgid = self.total_vm = self.rss = None
        self.rss_anon = self.rss_file = self.rss_shmem = None
        self.pgtables = None
        self.pgtables_unit = None
        self.swapents = 0
        self.oom_score_adj = 0
        self.name = b""
        self.points = None
        self.badness = None
        self.victim = False

    @property
    def eligible(self):
        return self.oom_score_adj != OOM_SCORE_ADJ_MIN

    def pgtables_pages(self, page_size):
        if self.pgtables is None:
            return 0
        if self.pgtables_unit == "bytes":
            return self.pgtables // page_size
        return self.pgtables

    def compute(self, page_size, totalpages):
        """points and badness as oom_badness() computes them."""
        self.points = (self.rss or 0) + (self.swapents or 0) + self.pgtables_pages(page_size)
        if not self.eligible:
            self.badness = None
        elif self.oom_score_adj == 0:
            self.badness = self.points
        elif totalpages is None:
            self.badness = None
        else:
            self.badness = self.points + self.oom_score_adj * (totalpages // 1000)

    def rank(self):
        """Ranking key, highest first: badness, else points (totalpages
        unknown), ineligible last; ties to the later row."""
        if not self.eligible:
            return (0, 0, self.index)
        value = self.badness if self.badness is not None else self.points
        return (1, value if value is not None else 0, self.index)

    def as_json(self):
        result = {name: json_text(getattr(self, name)) for name in self.__slots__ if name != "index"}
        result["eligible"] = self.eligible
        return result


class OomKill:
    """One process the OOM killer killed, with the report around it.  The
    attributes are the keys of as_json() (module docstring)."""

    _JSON = ("time", "wall_time", "started", "message", "pid", "comm", "uid", "total_vm", "anon_rss", "file_rss",
             "shmem_rss", "pgtables", "oom_score_adj", "constraint", "scope", "cgroup", "cpuset", "mems_allowed",
             "nodemask", "trigger", "memcg", "memory_stat", "memory_stat_cgroup", "memory_stat_unit", "page_size",
             "totalpages", "totalpages_from", "candidates", "candidates_total", "candidates_more", "kernel_score",
             "chosen", "group_cgroup", "group_killed", "reaped", "notes")

    def __init__(self):
        self.time = self.wall_time = self.started = None
        self.message = None
        self.pid = None
        self.comm = None
        self.uid = None
        self.total_vm = self.anon_rss = self.file_rss = self.shmem_rss = self.pgtables = None
        self.oom_score_adj = None
        self.constraint = None
        self.scope = None
        self.oom_memcg = None
        self.task_memcg = None
        self.cpuset = self.mems_allowed = self.nodemask = None
        self.trigger = None
        self.memcg = {}
        self.memory_stat = {}
        self.memory_stat_cgroup = None
        self.memory_stat_unit = None
        self.memory_stat_more = 0
        self.page_size = DEFAULT_PAGE_SIZE
        self.totalpages = None
        self.totalpages_from = None
        self.totalpages_exact = False
        self.candidates = []
        self.candidates_total = 0
        self.candidates_more = 0
        self.kernel_score = None
        self.chosen = None
        self.group_cgroup = None
        self.group_killed = []
        self.group_more = 0
        self.reaped = None
        self.notes = []
        # what the Mem-Info block told (system-wide OOMs)
        self.ram_pages = None
        self.reserved_pages = None
        self.total_swap_kb = None
        self.node_present_kb = {}

    @property
    def cgroup(self):
        return {"oom_memcg": self.oom_memcg, "task_memcg": self.task_memcg}

    def victim_row(self):
        for row in self.candidates:
            if row.victim:
                return row
        return None

    def runner_up(self):
        """The eligible candidate ranked after the victim (None if none)."""
        victim = self.victim_row()
        for row in self.candidates:
            if row is not victim and row.eligible:
                return row
        return None

    def note(self, text):
        if text not in self.notes and len(self.notes) < MAX_NOTES:
            self.notes.append(text)

    def as_json(self):
        result = {}
        for key in self._JSON:
            value = getattr(self, key)
            if key == "trigger":
                value = value.as_json() if value is not None else None
            elif key == "candidates":
                value = [row.as_json() for row in value]
            elif key in ("memcg", "memory_stat", "cgroup"):
                value = {name: _json_item(item) for name, item in value.items()}
            elif key in ("group_killed", "notes"):
                value = [_json_item(item) for item in value]
            else:
                value = _json_item(value)
            result[key] = value
        return result

    def __repr__(self):
        return "OomKill(pid=%r, comm=%r, time=%r)" % (self.pid, self.comm, self.time)


def _json_item(item):
    if isinstance(item, dict):
        return {name: json_text(value) for name, value in item.items()}
    return json_text(item)


# --- reading lines -----------------------------------------------------------

def _decode(data):
    return data.decode("utf-8", "surrogateescape")


def _raw(text):
    """A name read from the log as the bytes the log held."""
    return None if text is None else text.encode("utf-8", "surrogateescape")


def json_text(value):
    """Bytes as pymap's JSON holds them (UTF-8, other bytes as lone
    surrogates); anything else as it is."""
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def _messages(raw):
    """[(time, wall_time, message)] of one line of a log: its prefixes off;
    [] for a line that is not the kernel's."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    elif not isinstance(raw, (bytes, bytearray, memoryview)):
        return []
    raw = bytes(raw[:MAX_LINE]).rstrip(b"\r\n")
    match = _KMSG.match(raw)
    if match:
        if int(match.group(1)) >> 3:  # a facility other than the kernel's
            return []
        seconds, micro = divmod(abs(int(match.group(3))), 1000000)
        time = float("%d.%06d" % (seconds, micro))  # the very float dmesg's "[ s.us]" gives
        body = _KMSG_ESCAPE.sub(lambda escape: bytes((int(escape.group(1), 16),)), raw[match.end():])
        return [(time, None, _decode(part)) for part in body.split(b"\n")]
    text = _decode(raw)
    if text.startswith(" ") and _KMSG_DICT.match(text):
        return []  # /dev/kmsg's dictionary lines (SUBSYSTEM=, DEVICE=)
    found = []
    for _ in range(64):  # a line glued to the next (a torn write) is two messages
        one = _strip_prefixes(text)
        if one is None:
            break
        time, wall, message = one
        glued = _GLUED.search(message, 1) if "." in message else None
        if glued is None:
            found.append((time, wall, message))
            break
        found.append((time, wall, message[:glued.start()]))
        text = message[glued.start():]
    return found


def _strip_prefixes(text):
    """(time, wall_time, message) of one line, or None if it is another
    program's."""
    time = wall = None
    match = _SYSLOG.match(text)
    if match:
        if match.group("tag") != "kernel":
            return None
        wall = match.group("wall")
        text = text[match.end():]
    else:
        match = _MONOTONIC_SYSLOG.match(text)
        if match:
            time = float(match.group("time"))
            text = text[match.end():]
        else:
            match = _ISO_DMESG.match(text)
            if match:
                wall = match.group("wall")
                text = text[match.end():]
    match = _DECODED_LEVEL.match(text)
    if match:
        if match.group("facility") != "kern":
            return None
        text = text[match.end():]
    match = _PRIORITY.match(text)
    if match:
        if int(match.group(1)) >> 3:  # facility << 3 | level: a facility other than the kernel's
            return None
        text = text[match.end():]
    match = _WALL_BRACKETS.match(text)
    if match:
        wall = match.group("wall")
        text = text[match.end():]
    match = _TIMESTAMP.match(text)
    if match:
        time = float(match.group("time"))
        text = text[match.end():]
    match = _CALLER.match(text)
    if match:
        text = text[match.end():]
    return time, wall, text


def _node_list(text, limit=4096):
    """The nodes of a "%*pbl" list ("0-1,3"), or None."""
    nodes = set()
    if not text or text == "(null)":
        return None
    for part in text.split(","):
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()) or len(low) > 6 or len(high) > 6:
            return None
        first = int(low)
        last = int(high) if dash else first
        if last < first or last - first > limit:
            return None
        nodes.update(range(first, last + 1))
        if len(nodes) > limit:
            return None
    return nodes


class _Parser:
    """The state between lines: the report being read (an OomKill not yet
    killed), its table, and the finished kills not yet handed on."""

    def __init__(self, max_candidates):
        self.max_candidates = max_candidates
        self.report = None  # OomKill being filled: its kill line has not come
        self.reset_sections()
        self.finished = deque()  # (kill, line number) waiting for the oom_reaper
        self.ready = deque()
        self.last = None  # the last kill: memory.oom.group kills join it
        self.line_number = 0
        self.lines_failed = 0
        self.reports_without_kill = 0

    # -- lines in

    def feed(self, raw):
        self.line_number += 1
        for time, wall, message in _messages(raw):
            self.message(time, wall, message)
        self.release()

    def finish(self):
        self.close_report()
        while self.finished:
            self.ready.append(self.finished.popleft()[0])

    def release(self):
        while self.finished:
            kill, number = self.finished[0]
            if (kill.reaped is not None or len(self.finished) > HOLD_KILLS
                    or self.line_number - number > HOLD_LINES):
                self.ready.append(self.finished.popleft()[0])
            else:
                break

    def open_report(self, time, wall):
        """The report a section line belongs to: the open one, or a new one
        (a log cut before "invoked oom-killer")."""
        if self.report is None:
            self.report = OomKill()
            self.report.started = time if time is not None else wall
            self.report.note(MISSING_HEADER)
            self.reset_sections()
        return self.report

    def reset_sections(self):
        self.heap = []  # (rank key, Candidate): the highest rows of the table
        self.table_totalpages = None
        self.columns = None  # the table's column names, after "[ pid ]"
        self.row_pattern = None
        self.in_stats = False  # in memory.stat's lines
        self.summary_head = None  # an oom-kill: line waiting for its ",task=..." half

    def close_report(self):
        """The open report ends without a "Killed process" line: a kill
        only if the summary or 4.x's "Kill process" named the victim (the
        line itself lost, as in a torn log)."""
        report = self.report
        self.report = None
        if report is None:
            return
        if report.pid is None or report.message == "skipped":
            self.reports_without_kill += 1
            self.reset_sections()
            return
        report.note("the \"Killed process\" line is not in the log: the victim is the one the report named")
        self.kill_done(report)

    def message(self, time, wall, text):
        if self.in_stats and self.stat_line(text):
            return
        if self.summary_head is not None and text.startswith(","):
            self.summary(time, wall, self.summary_head + text)
            return
        if "invoked oom-killer:" in text:
            self.invoked(time, wall, text)
            return
        if "Killed process " in text:
            match = _KILLED.match(text)
            if match:
                self.killed(time, wall, match)
            return
        report = self.report
        if text.startswith("oom-kill:"):
            self.summary(time, wall, text)
        elif text.startswith("[") and self.row_pattern is not None and report is not None and _ROW_START.match(text):
            self.row(text)
        elif text.startswith("[") and _TABLE_HEADER.match(text):
            self.table_header(self.open_report(time, wall), text)
        elif text.startswith("Tasks state (memory values in pages)"):
            self.open_report(time, wall)
            self.in_stats = False
        elif text.startswith("CPU: "):
            match = _CPU_LINE.match(text)
            if match and report is not None and report.trigger is not None and report.trigger.pid is None:
                report.trigger.pid = int(match.group("pid"))
        elif ": usage " in text and ", failcnt " in text:
            match = _COUNTER.match(text)
            if match:
                self.open_report(time, wall).memcg[match.group("name")] = {
                    "usage_kb": int(match.group("usage")), "limit_kb": int(match.group("limit")),
                    "failcnt": int(match.group("failcnt"))}
                self.report.scope = self.report.scope or "memcg"
        elif text.startswith("Memory cgroup stats"):
            self.stats_start(self.open_report(time, wall), text)
        elif text.startswith("Task in ") and " killed as a result of limit of " in text:
            report = self.open_report(time, wall)
            task, _, limit = text[8:].partition(" killed as a result of limit of ")
            report.task_memcg, report.oom_memcg = _raw(task), _raw(limit)
            report.scope = "memcg"
        elif "Kill process " in text:
            match = _KILL_PROCESS.match(text)
            if match:
                self.kill_process(time, wall, match)
        elif text.startswith("oom_reaper: "):
            self.reaper(text)
        elif text.startswith("Tasks in ") and text.endswith(" are going to be killed due to memory.oom.group set"):
            if self.last is not None:
                self.last.group_cgroup = _raw(text[9:-len(" are going to be killed due to memory.oom.group set")])
        elif text.startswith("Out of memory and no killable processes"):
            if report is not None:
                report.message = "skipped"
                self.close_report()
        elif " is already exiting" in text and _ALREADY_EXITING.match(text):
            if report is not None:
                report.message = "skipped"
                self.close_report()
        elif report is not None:
            self.meminfo(report, text)

    # -- the report's sections

    def invoked(self, time, wall, text):
        match = _INVOKED.match(text)
        if not match:
            return
        self.close_report()
        report = self.report = OomKill()
        self.reset_sections()
        self.last = None
        report.started = time if time is not None else wall
        report.trigger = Trigger(_raw(match.group("comm")), match.group("gfp"), match.group("flags"),
                                 int(match.group("order")), int(match.group("adj")), match.group("nodemask"))
        if match.group("nodemask") not in (None, "(null)"):
            report.nodemask = match.group("nodemask")

    def meminfo(self, report, text):
        """Mem-Info's totals, 4.x's cpuset line."""
        if text.endswith(" pages RAM"):
            match = _PAGES_RAM.match(text)
            if match:
                report.ram_pages = int(match.group(1))
        elif text.endswith(" pages reserved"):
            match = _PAGES_RESERVED.match(text)
            if match:
                report.reserved_pages = int(match.group(1))
        elif text.startswith("Total swap = "):
            match = _TOTAL_SWAP.match(text)
            if match:
                report.total_swap_kb = int(match.group(1))
        elif text.startswith("Node ") and " present:" in text:
            match = _ZONE.match(text)
            if match and len(report.node_present_kb) < 4096:
                node = int(match.group(1))
                report.node_present_kb[node] = report.node_present_kb.get(node, 0) + int(match.group(2))
        elif " mems_allowed=" in text and " cpuset=" in text:
            match = _OLD_CPUSET.match(text)
            if match:
                report.cpuset = _raw(match.group("cpuset"))
                report.mems_allowed = match.group("mems")

    def stats_start(self, report, text):
        """"Memory cgroup stats for /path:" and, before 5.3, its pairs."""
        rest = text[len("Memory cgroup stats"):]
        if rest.startswith(" for "):
            rest = rest[5:]
        elif not rest.startswith(":"):
            return
        first = report.memory_stat_unit is None  # (set when a block begins)
        if rest.endswith(":"):  # 5.3+: memory.stat's lines follow
            if first:
                report.memory_stat_cgroup = _raw(rest[:-1]) or None
                report.memory_stat_unit = "memory.stat"
                self.in_stats = True
            return
        pair = _OLD_STAT_PAIR.search(rest)
        if pair is None or not first:
            return  # 4.x prints a line for every cgroup under the one at its limit: the first is that one
        report.memory_stat_cgroup = _raw(rest[:max(0, pair.start() - 1)]) or None
        report.memory_stat_unit = "kB"
        for name, value in _OLD_STAT_PAIR.findall(rest[pair.start():]):
            self.add_stat(report, name, int(value))

    def stat_line(self, text):
        """One of memory.stat's "name value" lines.  Any other line is read
        as usual and does not end the block (another CPU's line can come
        between two of them): the report's next section does."""
        match = _STAT_LINE.match(text.strip())
        if not match or self.report is None:
            return False
        self.add_stat(self.report, match.group(1), int(match.group(2)))
        return True

    @staticmethod
    def add_stat(report, name, value):
        if name in report.memory_stat or len(report.memory_stat) < MAX_STAT_KEYS:
            report.memory_stat[name] = value
        else:
            report.memory_stat_more += 1

    def table_header(self, report, text):
        """The column names after "[ pid ]"; rows are read with them."""
        names = text[text.index("]") + 1:].split()
        if (len(names) < 4 or names[-1] != "name" or len(names) > 32 or "rss" not in names
                or not all(name.replace("_", "").isalnum() for name in names)):
            self.row_pattern = None
            return
        self.columns = names[:-1]
        self.row_pattern = re.compile(r"\[\s{0,12}(\d{1,10})\]" + r"\s{1,24}(-?\d{1,20})" * len(self.columns)
                                      + r" (.{0,256})$")
        self.heap = []
        self.table_totalpages = _totalpages(report)[0]
        report.candidates_total = 0
        report.candidates_more = 0
        self.in_stats = False

    def row(self, text):
        match = self.row_pattern.match(text)
        if match is None:
            return
        report = self.report
        index = report.candidates_total
        report.candidates_total += 1
        values = dict(zip(self.columns, map(int, match.groups()[1:-1])))
        key = self.rank_key(values, index)
        if len(self.heap) >= self.max_candidates:
            report.candidates_more += 1
            if key <= self.heap[0][0]:
                return  # lower than every row kept: not even made into a Candidate
            heapq.heappop(self.heap)
        row = Candidate(int(match.group(1)), index)
        row.uid = values.get("uid")
        row.tgid = values.get("tgid")
        row.total_vm = values.get("total_vm")
        row.rss = values.get("rss")
        row.rss_anon = values.get("rss_anon")
        row.rss_file = values.get("rss_file")
        row.rss_shmem = values.get("rss_shmem")
        row.swapents = values.get("swapents", 0)
        row.oom_score_adj = values.get("oom_score_adj", 0)
        row.name = _raw(match.group(match.lastindex))
        if "pgtables_bytes" in values:
            row.pgtables, row.pgtables_unit = values["pgtables_bytes"], "bytes"
        elif "nr_ptes" in values:
            row.pgtables, row.pgtables_unit = values["nr_ptes"] + values.get("nr_pmds", 0), "pages"
        heapq.heappush(self.heap, (key, row))

    def rank_key(self, values, index):
        """Candidate.rank() of a row, with what the report knew when its
        table began (the limits and Mem-Info come before it)."""
        adj = values.get("oom_score_adj", 0)
        if adj == OOM_SCORE_ADJ_MIN:
            return (0, 0, index)
        points = values.get("rss", 0) + values.get("swapents", 0)
        if "pgtables_bytes" in values:
            points += values["pgtables_bytes"] // DEFAULT_PAGE_SIZE
        else:
            points += values.get("nr_ptes", 0) + values.get("nr_pmds", 0)
        if adj and self.table_totalpages is not None:
            points += adj * (self.table_totalpages // 1000)
        return (1, points, index)

    def summary(self, time, wall, text):
        """The one-line oom-kill: summary (4.19+)."""
        report = self.open_report(time, wall)
        self.in_stats = False
        tail = _SUMMARY_TAIL.search(text[-400:])
        if tail is None:
            self.summary_head = text if len(text) < MAX_LINE else None  # early 4.19: the rest comes as a line
            return
        self.summary_head = None
        head = text[:len(text) - (len(text[-400:]) - tail.start())]
        fields = _summary_fields(head)
        constraint = fields.get("constraint")
        if constraint:
            report.constraint = constraint
            report.scope = _SCOPES.get(constraint, report.scope)
        for key in ("nodemask", "cpuset", "mems_allowed", "oom_memcg", "task_memcg"):
            value = fields.get(key)
            if value is not None and value != "(null)":
                setattr(report, key, _raw(value) if key in _NAMES else value)
        if report.pid is None:
            report.pid = int(tail.group("pid"))
            report.comm = _raw(tail.group("task"))
        report.uid = int(tail.group("uid"))

    def kill_process(self, time, wall, match):
        """4.x: "Kill process PID (comm) score N or sacrifice child"."""
        report = self.open_report(time, wall)
        report.kernel_score = int(match.group("score"))
        report.chosen = {"pid": int(match.group("pid")), "comm": _raw(match.group("comm"))}
        report.message = match.group("message")
        if match.group("message") and "cgroup" in match.group("message"):
            report.scope = "memcg"
        if report.pid is None:
            report.pid, report.comm = report.chosen["pid"], report.chosen["comm"]

    def killed(self, time, wall, match):
        pid = int(match.group("pid"))
        victim = {"pid": pid, "comm": _raw(match.group("comm")), "anon_rss": int(match.group("anon")),
                  "file_rss": int(match.group("file")),
                  "shmem_rss": int(match.group("shmem")) if match.group("shmem") is not None else None}
        last = self.last
        if self.report is None and last is not None and last.group_cgroup is not None:
            if pid == last.pid or any(member["pid"] == pid for member in last.group_killed):
                return  # the group's kill reaches the victim again
            if len(last.group_killed) < MAX_GROUP:
                last.group_killed.append(victim)
            else:
                last.group_more += 1
            return
        report = self.report
        if report is None:  # the header was rate-limited (or cut off): the kill line alone
            report = OomKill()
            report.note(MISSING_HEADER)
        self.report = None
        report.time = time if time is not None else wall
        if time is not None and wall is not None:
            report.wall_time = wall
        elif time is None:
            report.wall_time = wall
        if match.group("message") is not None:
            report.message = match.group("message")
        if report.message and "cgroup" in report.message:
            report.scope = report.scope or "memcg"
        report.pid = pid
        report.comm = victim["comm"]
        report.total_vm = int(match.group("total_vm"))
        report.anon_rss, report.file_rss, report.shmem_rss = victim["anon_rss"], victim["file_rss"], victim["shmem_rss"]
        if match.group("uid") is not None:
            report.uid = int(match.group("uid"))
        elif match.group("old_uid") is not None:
            report.uid = int(match.group("old_uid"))
        if match.group("pgtables") is not None:
            report.pgtables = int(match.group("pgtables"))
        if match.group("adj") is not None:
            report.oom_score_adj = int(match.group("adj"))
        self.kill_done(report)

    def kill_done(self, report):
        """The report is a kill: its table ranked, its numbers derived."""
        rows = [entry[1] for entry in self.heap]
        self.reset_sections()
        report.candidates = rows
        _finish(report)
        self.last = report
        self.finished.append((report, self.line_number))
        self.release()

    def reaper(self, text):
        match = _REAPED.match(text)
        unable = False
        if match is None:
            match = _UNABLE_TO_REAP.match(text)
            unable = match is not None
        if match is None:
            return
        pid = int(match.group("pid"))
        for kill, _ in self.finished:
            if kill.pid == pid and kill.reaped is None:
                if unable:
                    kill.reaped = {"pid": pid, "comm": _raw(match.group("comm")), "unable": True}
                else:
                    kill.reaped = {"pid": pid, "comm": _raw(match.group("comm")), "anon_rss": int(match.group("anon")),
                                   "file_rss": int(match.group("file")), "shmem_rss": int(match.group("shmem"))}
                return


def _summary_fields(head):
    """The fields of "oom-kill:constraint=...,nodemask=...,cpuset=...,
    mems_allowed=...,oom_memcg=...|global_oom,task_memcg=..." (its ",task=
    ...,pid=...,uid=..." end cut off).  Paths may hold commas, so the
    fields are found by their names, in the kernel's order."""
    fields = {}
    if not head.startswith("oom-kill:constraint="):
        return fields
    markers = ((",nodemask=", "nodemask"), (",cpuset=", "cpuset"), (",mems_allowed=", "mems_allowed"),
               (",global_oom", None), (",oom_memcg=", "oom_memcg"), (",task_memcg=", "task_memcg"))
    position = len("oom-kill:constraint=")
    key = "constraint"
    for marker, name in markers:
        found = head.find(marker, position)
        if found < 0:
            continue
        if key is not None:
            fields[key] = head[position:found]
        position = found + len(marker)
        key = name
    if key is not None:
        fields[key] = head[position:]
    return fields


# --- what the numbers say ---------------------------------------------------

def _totalpages(kill):
    """(totalpages or None, where it comes from, exact) for what the report
    knows so far (module docstring)."""
    page_kb = max(1, kill.page_size // 1024)
    if kill.scope == "memcg":
        memory = kill.memcg.get("memory")
        if memory is None:
            return None, None, False
        limit = memory["limit_kb"]
        pages = limit // page_kb
        origin = "the memory cgroup's limit (%d kB)" % limit
        swap = kill.memcg.get("swap")
        memsw = kill.memcg.get("memory+swap")
        if swap is not None:
            if swap["limit_kb"] == 0:
                return pages, origin + "; its swap limit is 0", True
            return pages, origin + (", without swap: the cgroup may swap%s, and the log does not say how much "
                                    "swap the machine has" % _swap_room(swap["limit_kb"])), False
        if memsw is not None:
            extra = memsw["limit_kb"] - limit
            if extra <= 0:
                return pages, origin + "; its memory+swap limit is the same", True
            return pages, origin + (", without swap: the cgroup may swap%s, and the log does not say how much "
                                    "swap the machine has" % _swap_room(extra)), False
        return pages, origin, False
    swap_pages = kill.total_swap_kb // page_kb if kill.total_swap_kb is not None else None
    if kill.scope in ("cpuset", "mempolicy"):
        nodes = _node_list(kill.mems_allowed if kill.scope == "cpuset" else kill.nodemask)
        if nodes and kill.node_present_kb and swap_pages is not None and nodes <= set(kill.node_present_kb):
            present = sum(kill.node_present_kb[node] for node in nodes)
            return (present // page_kb + swap_pages,
                    "the present memory of nodes %s (%d kB) and swap (%d kB)" % (
                        kill.mems_allowed if kill.scope == "cpuset" else kill.nodemask, present,
                        kill.total_swap_kb), True)
        return None, None, False
    if kill.ram_pages is not None and kill.reserved_pages is not None and swap_pages is not None:
        ram = kill.ram_pages - kill.reserved_pages
        return (ram + swap_pages, "RAM (%d pages, less %d reserved) and swap (%d kB), from Mem-Info" % (
            kill.ram_pages, kill.reserved_pages, kill.total_swap_kb), True)
    return None, None, False


def _finish(kill):
    """Page size, totalpages, every candidate's badness, the ranking."""
    rows = kill.candidates
    victim = None
    for row in rows:
        if row.pid == kill.pid:
            victim = row
    if victim is None:
        for row in rows:
            if row.tgid == kill.pid:
                victim = row
    if victim is not None and kill.total_vm and victim.total_vm:
        ratio, remainder = divmod(kill.total_vm, victim.total_vm)
        if not remainder and ratio in (4, 8, 16, 64):
            kill.page_size = ratio * 1024
    if victim is not None:
        victim.victim = True
        if kill.uid is None:
            kill.uid = victim.uid
        if kill.oom_score_adj is None:
            kill.oom_score_adj = victim.oom_score_adj
    kill.totalpages, kill.totalpages_from, kill.totalpages_exact = _totalpages(kill)
    for row in rows:
        row.compute(kill.page_size, kill.totalpages)
    rows.sort(key=Candidate.rank, reverse=True)
    if kill.scope is None and kill.message is not None and kill.message.startswith("Out of memory"):
        kill.scope = "system"


def _swap_room(kb):
    return " without limit" if kb >= UNLIMITED_KB else " up to %d kB" % kb
