"""The OOM killer's arithmetic (mm/oom_kill.c), for --summary --sort=oom
and --reconcile: a process's badness in a scope, the scope's total pages,
and the order in which the kernel would choose.

oom_badness() (6.x; the same since 4.19 but for the per-CPU counters):

    points = rss + swap entries + page-table pages
             (get_mm_rss: MM_ANONPAGES + MM_FILEPAGES + MM_SHMEMPAGES;
              MM_SWAPENTS; mm_pgtables_bytes / PAGE_SIZE)
    adj = oom_score_adj * (totalpages / 1000)      (C: integer division first)
    badness = points + adj

and LONG_MIN ("never") for oom_score_adj -1000, kernel threads and init
(oom_unkillable_task).  /proc/PID/status shows the same counters:
RssAnon, RssFile and RssShmem (their sum is VmRSS), VmSwap and VmPTE
(mm_pgtables_bytes >> 10), so a process's points are read from status.
(Since 6.16 status sums the per-CPU counters exactly; the OOM killer did
not until early 2026, so on a many-CPU machine the kernel's own figure may
differ from status by the counters' per-CPU slack.)

The scope's totalpages: a system-wide OOM uses RAM + swap
(totalram_pages() + total_swap_pages: MemTotal + SwapTotal); a memory
cgroup's OOM, mem_cgroup_get_max() of the cgroup whose limit was reached:
its limit plus the swap it may use (v2: memory.swap.max; v1: the memsw
limit less the limit, at most SwapTotal, and none when its swappiness is
0).

select_bad_process() walks the tasks (for_each_process: in the order they
were created; a cgroup's OOM: each cgroup of the subtree in turn, in the
order its tasks joined it) and keeps a task when its badness is not below
the one chosen so far (oom_evaluate_task: "points < chosen_points" goes to
the next), so of equal badness the last one walked is killed.  pymap walks
in order of start time, then PID.
"""

__all__ = ["Scope", "badness", "machine_scope", "cgroup_scope", "oom_score", "rank_key", "c_div", "NEVER"]

NEVER = None  # the badness of a process the OOM killer never chooses


def c_div(numerator, denominator):
    """C's integer division (truncates toward zero)."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


class Scope:
    """Where an OOM happens: ``kind`` "machine" or "cgroup", ``totalpages``
    (the kernel's), ``page_kb``, and for a cgroup its ``path``, ``limit_kb``
    and the ``swap_kb`` it may use besides; ``note`` says what is not
    known."""

    __slots__ = ("kind", "totalpages", "page_kb", "path", "limit_kb", "swap_kb", "note")

    def __init__(self, kind, totalpages, page_kb, path=None, limit_kb=None, swap_kb=0, note=None):
        self.kind = kind
        self.totalpages = totalpages
        self.page_kb = page_kb
        self.path = path
        self.limit_kb = limit_kb
        self.swap_kb = swap_kb
        self.note = note

    def describe(self):
        """One line (bytes) naming the scope."""
        if self.kind == "machine":
            return b"the machine: MemTotal + SwapTotal = %d pages of %d kB" % (self.totalpages, self.page_kb)
        return b"cgroup %s: limit %d kB + swap %d kB = %d pages of %d kB" % (
            self.path, self.limit_kb, self.swap_kb, self.totalpages, self.page_kb)


def machine_scope(meminfo, page_kb):
    """The Scope of a system-wide OOM from meminfo's {name: kB}, or None
    without MemTotal."""
    total = meminfo.get("MemTotal")
    if total is None or page_kb <= 0:
        return None
    return Scope("machine", max(1, (total + (meminfo.get("SwapTotal") or 0)) // page_kb), page_kb)


def cgroup_scope(path, limit_bytes, swap_bytes, swap_total_kb, page_kb):
    """The Scope of an OOM in the cgroup ``path`` whose limit is
    ``limit_bytes``: mem_cgroup_get_max(), its limit plus the swap it may
    use (``swap_bytes``: None for no swap limit), at most SwapTotal."""
    page = page_kb * 1024
    swap_pages = (swap_total_kb or 0) // page_kb
    if swap_bytes is not None:
        swap_pages = min(swap_pages, max(0, swap_bytes) // page)
    totalpages = limit_bytes // page + swap_pages
    return Scope("cgroup", totalpages or 1, page_kb, path, limit_bytes // 1024, swap_pages * page_kb)


def badness(rss_kb, swap_kb, pte_kb, adj, scope, never=False):
    """oom_badness() in pages, or NEVER (see the module's docstring)."""
    if never or adj == -1000 or scope is None:
        return NEVER
    page_kb = scope.page_kb
    points = rss_kb // page_kb + swap_kb // page_kb + pte_kb // page_kb
    return points + (adj or 0) * (scope.totalpages // 1000)


def oom_score(points, totalpages):
    """/proc/PID/oom_score of a badness (proc_oom_score()): 0 for NEVER."""
    if points is NEVER:
        return 0
    return c_div((1000 + c_div(points * 1000, totalpages)) * 2, 3)


def rank_key(points, start_time, pid):
    """The sort key that puts the kernel's victim first: the highest
    badness, of equal badness the one walked last (started last); NEVER
    after every other."""
    if points is NEVER:
        return (1, pid)
    return (0, -points, -(start_time or 0), -pid)
