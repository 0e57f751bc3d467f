"""Where the memory is: --summary's processes against /proc/meminfo (or,
under --cgroup, against the cgroup's memory.stat) -- why the processes'
summed RSS is far from what free(1) calls used.

The machine (kB), each page in one line (MachineBalance):

* the processes' own pages, ``uss`` (Private_Clean + Private_Dirty), and
  the pages they share, counted once, ``shared`` (Pss - Uss: a page mapped
  by N processes adds 1/N to each one's Pss);
* ``page_cache_unmapped``: file data the kernel keeps that no process maps,
  Cached + Buffers - Shmem - the processes' Pss_File (reclaimable);
* ``shmem_unmapped``: tmpfs and /dev/shm files, SysV and shared anonymous
  memory no process maps, Shmem - their Pss_Shmem (in RAM or swap until
  removed);
* ``kernel``: slab (SReclaimable + SUnreclaim), page tables (PageTables +
  SecPageTables), kernel stacks (KernelStack), per-CPU memory (Percpu);
* ``free``: MemFree;
* ``rest``: MemTotal less all of these: vmalloc, the swap cache, the huge
  page pool, drivers' memory, processes that could not be read.

Beside them ``used`` (MemTotal - MemAvailable, what free(1) of procps 4
calls used: everything but free memory and what the kernel can reclaim at
once) and ``rss_sum``, the processes' Rss summed, where a page mapped by N
processes counts N times.  Without the rollups' Pss_File and Pss_Shmem (a
kernel before 5.7, smaps summed), ``page_cache_unmapped`` is Cached +
Buffers - Mapped and holds the unmapped shmem too (``shmem_unmapped``
None).

A cgroup (bytes of memory.stat, shown in kB; CgroupBalance): its
``usage``; ``anon``; ``file_mapped``, page cache and shmem its processes
map; ``unmapped``, page cache and shmem none maps (file + shmem -
file_mapped), of which ``shmem``; ``kernel``; ``other``; ``not_in_rss``,
usage - anon - file_mapped; and the processes' ``rss_sum`` with
``rss_above_charge``, Rss sum - (anon + file_mapped): shared pages counted
once per process, and pages charged to other cgroups (a library first read
by a process elsewhere).

The tables of --summary carry a balance (not with -q, nor for named PIDs
or --by=mapping): its text follows the totals row, and in JSON the totals'
object holds it as "balance": {"of": "meminfo" | "cgroup", "cgroup": path
(a cgroup's), and the figures above by those names, kB; "kernel" as
{"slab", "page_tables", "kernel_stack", "percpu"} for the machine}.
"""

from .json_lines import text

__all__ = ["MachineBalance", "CgroupBalance"]


def _sum(rows, name):
    return sum(row.figures[name] for row in rows)


class MachineBalance:
    """The machine's memory, line by line (see the module's docstring)."""

    def __init__(self, meminfo, rows):
        get = meminfo.get
        self.total = get("MemTotal", 0)
        uss, pss = _sum(rows, "Uss"), _sum(rows, "Pss")
        self.figures = figures = {"MemTotal": self.total, "uss": uss, "shared": max(0, pss - uss)}
        cache = get("Cached", 0) + get("Buffers", 0)
        shmem = get("Shmem", 0)
        known = all(row.pss_file is not None and row.pss_shmem is not None for row in rows)
        if known:
            figures["page_cache_unmapped"] = max(0, cache - shmem - sum(row.pss_file for row in rows))
            figures["shmem_unmapped"] = max(0, shmem - sum(row.pss_shmem for row in rows))
        else:
            figures["page_cache_unmapped"] = max(0, cache - get("Mapped", 0))
            figures["shmem_unmapped"] = None
        slab = get("SReclaimable", 0) + get("SUnreclaim", 0) if "SUnreclaim" in meminfo else get("Slab", 0)
        figures["kernel"] = {"slab": slab, "page_tables": get("PageTables", 0) + get("SecPageTables", 0),
                             "kernel_stack": get("KernelStack", 0), "percpu": get("Percpu", 0)}
        figures["free"] = get("MemFree", 0)
        accounted = (uss + figures["shared"] + figures["page_cache_unmapped"] + (figures["shmem_unmapped"] or 0)
                     + sum(figures["kernel"].values()) + figures["free"])
        figures["rest"] = self.total - accounted
        figures["used"] = self.total - get("MemAvailable", get("MemFree", 0))
        figures["rss_sum"] = _sum(rows, "Rss")

    def json(self):
        return dict({"of": "meminfo"}, **self.figures)

    def text(self, context):
        f = self.figures
        kernel = f["kernel"]
        lines = [
            (f["MemTotal"], b"MemTotal"),
            (f["uss"], b"the processes' own pages (Uss)"),
            (f["shared"], b"pages they share, counted once (Pss - Uss)"),
            (f["page_cache_unmapped"], b"page cache no process maps (Cached + Buffers - Shmem - Pss_File)"
             if f["shmem_unmapped"] is not None else
             b"page cache and shmem no process maps (Cached + Buffers - Mapped)"),
        ]
        if f["shmem_unmapped"] is not None:
            lines.append((f["shmem_unmapped"], b"shmem no process maps: tmpfs, /dev/shm, shared memory "
                                               b"(Shmem - Pss_Shmem)"))
        lines += [
            (sum(kernel.values()), b"kernel: slab %d, page tables %d, kernel stacks %d, per-CPU %d" % (
                kernel["slab"], kernel["page_tables"], kernel["kernel_stack"], kernel["percpu"])),
            (f["free"], b"free (MemFree)"),
            (f["rest"], b"the rest: vmalloc, swap cache, huge page pool, drivers, processes not read"),
            (f["used"], b"used, as free(1) counts it (MemTotal - MemAvailable): all but free memory and what the "
                        b"kernel can reclaim at once"),
            (f["rss_sum"], b"the processes' Rss summed: a page that N processes map counts N times"),
        ]
        return _block(b"Where the memory is (/proc/meminfo and the processes above, kB):\n", lines)


class CgroupBalance:
    """A cgroup's charge, line by line (see the module's docstring);
    ``info`` is its report.cgroups.CgroupInfo."""

    def __init__(self, info, rows):
        self.path = info.path
        self.usage_file = b"memory.current" if info.version == 2 else b"memory.usage_in_bytes"
        parts = info.breakdown
        self.figures = figures = {"usage": _kb(info.usage)}
        if parts is not None:
            figures.update({"anon": _kb(parts["anon"]), "file_mapped": _kb(parts["file_mapped"]),
                            "unmapped": _kb(max(0, parts["file"] + parts["shmem"] - parts["file_mapped"])),
                            "shmem": _kb(parts["shmem"]), "kernel": _kb(parts["kernel"]), "other": _kb(parts["other"]),
                            "not_in_rss": _kb(info.not_in_rss)})
        rss = _sum(rows, "Rss")
        figures["rss_sum"] = rss
        figures["rss_above_charge"] = None if parts is None else rss - _kb(parts["anon"] + parts["file_mapped"])

    def json(self):
        return dict({"of": "cgroup", "cgroup": text(self.path)}, **self.figures)

    def text(self, context):
        f = self.figures
        heading = b"Where the charge of cgroup %s is (its memory.stat, kB):\n" % context.report_name(self.path)
        lines = [(f["usage"], b"usage (%s)" % self.usage_file)]
        if "anon" in f:
            lines += [
                (f["anon"], b"anon: the processes' anonymous memory"),
                (f["file_mapped"], b"page cache and shmem the processes map"),
                (f["unmapped"], b"page cache and shmem no process maps (of it shmem, tmpfs files: %d)" % f["shmem"]),
                (f["kernel"], b"kernel: slab, page tables, kernel stacks"),
                (f["other"], b"other: sockets, counters not yet summed"),
                (f["not_in_rss"], b"in no process's RSS: usage - anon - mapped"),
            ]
        lines.append((f["rss_sum"], b"the processes' Rss summed" + (
            b"" if f["rss_above_charge"] is None else
            b": %+d kB against anon + mapped, the pages several processes map (once per process) and pages "
            b"charged to other cgroups" % f["rss_above_charge"])))
        return _block(heading, lines)


def _kb(value):
    if value is None:
        return None
    return value // 1024 if value >= 0 else -(-value // 1024)


def _block(heading, lines):
    width = max((len(b"%d" % value) for value, _ in lines if value is not None), default=1)
    return heading + b"".join(b"  %*s  %s\n" % (width, b"-" if value is None else b"%d" % value, words)
                              for value, words in lines)
