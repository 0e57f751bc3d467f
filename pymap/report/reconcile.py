"""--reconcile: why pmap, smaps and /proc/PID/status disagree, and what the
OOM killer makes of a process.

Three sources, side by side in kB:

* pmap's view: the -x totals (Kbytes, RSS, Dirty) and the RSS of the rows
  labelled "[ anon ]" (what ``pmap -x PID | grep anon | awk '{s+=$3}'`` adds);
* smaps summed over the mappings (and smaps_rollup, where the kernel has it);
* the counters of /proc/PID/status (VmSize, VmRSS, RssAnon, RssFile,
  RssShmem, VmSwap, VmPTE, VmHWM).

Each gap between them is printed with its size and the reason for it.  The
split of the [ anon ] sum is exact by construction (it is computed from the
same smaps); the gaps to status are the kernel's counter approximations.

Then what the anonymous memory is, by role (report/roles.py): the heap,
malloc's arenas and their reserves, its large blocks, the stacks of the
threads and their guard pages, in mappings, Size, Rss, Anonymous, Swap and
the Rss of the rows pmap labels [ anon ] (where the one-liner's sum comes
from).

The OOM view reproduces the kernel's oom_badness(): resident pages + swap
entries + page-table pages, plus oom_score_adj x totalpages/1000, where
totalpages = MemTotal + SwapTotal (in pages), and /proc/PID/oom_score =
(1000 + badness x 1000 / totalpages) x 2 / 3.  When the process's memory
cgroup (or an ancestor) has a limit, an OOM there ranks it against that
limit instead (report/oom.py): the badness in the cgroup's scope follows,
and its share of the limit.
"""

from ..errors import ProcessError
from ..parse.c_rules import scan_int
from ..parse.proc_files import kilobytes
from ..parse.roles import is_shmem
from .oom import c_div
from .roles import RoleSums
from .sinks import Record

__all__ = ["reconcile_figures", "render_text", "is_shmem", "Reconciliation"]
# the gaps, by section of the text: the parts of the [ anon ] rows' gap
# (indented under it), memory outside RSS or outside Anonymous, and the
# counters of status and smaps_rollup against summed smaps
_ANON_PARTS = ("anon_under_file_names", "stack_anon", "anon_rows_not_anonymous")
_OUTSIDE = ("shmem", "swap", "hugetlb", "transparent_huge_pages")
_SECTION_TITLES = (
    (_OUTSIDE, b"  Memory that Anonymous or RSS leaves out, or splits differently:\n"),
    (None, b"  Counters against summed smaps:\n"),
)
_FILES_SHOWN = 8  # the files named under anon_under_file_names




class _Files:
    """The optional files of a process (and meminfo) from ``root`` (a
    source.ProcRoot), noting what is missing."""

    def __init__(self, root, tgid):
        self.root = root
        self.tgid = tgid
        self.missing = []

    def read(self, name):
        try:
            return self.root.read(self.tgid, name)
        except ProcessError:
            self.missing.append(name.decode("latin-1"))
            return None

    def read_quietly(self, name):
        """A file whose absence is not worth a word (None)."""
        try:
            return self.root.read(self.tgid, name)
        except ProcessError:
            return None

    def meminfo(self):
        try:
            return self.root.machine_file(b"meminfo")
        except ProcessError:
            self.missing.append("meminfo")
            return None


def reconcile_figures(root, process, classified, view, facts):
    """Every figure of the reconciliation as a dict (the --json object),
    from the (mapping, role, certain) of each mapping (report/roles.py's
    roles_of) and the process's roles.Facts."""
    files = _Files(root, process.tgid)
    roles = RoleSums()
    pmap_view, smaps, parts, page_kb = _from_smaps(process, classified, view, roles)
    rollup_data = files.read(b"smaps_rollup")
    rollup = None
    if rollup_data is not None:
        fields = kilobytes(rollup_data)
        rollup = {name: fields.get(name) for name in
                  ("Rss", "Pss", "Anonymous", "Swap", "Locked", "AnonHugePages")}
        if "Shared_Dirty" in fields or "Private_Dirty" in fields:
            rollup["Dirty"] = fields.get("Shared_Dirty", 0) + fields.get("Private_Dirty", 0)
        if "Shared_Hugetlb" in fields or "Private_Hugetlb" in fields:
            rollup["Hugetlb"] = fields.get("Shared_Hugetlb", 0) + fields.get("Private_Hugetlb", 0)
    status_data = files.read(b"status")
    status = None
    if status_data is not None:
        fields = kilobytes(status_data)
        status = {name: fields.get(name) for name in
                  ("VmSize", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmSwap", "VmPTE", "VmHWM",
                   "VmLck", "HugetlbPages")}
    oom = _oom(files, status, page_kb)
    oom["cgroup"] = _cgroup_oom(files, status, oom)
    result = {
        "pid": process.pid,
        "tgid": process.tgid,
        "pmap": pmap_view,
        "smaps": smaps,
        "smaps_rollup": rollup,
        "status": status,
        "anon_split": parts,
        "roles": roles.as_dict(),
        "threads": {"count": facts.threads, "stack_pointers": len(facts.stack_pointers)},
        "oom": oom,
        "missing": files.missing,
    }
    result["gaps"] = _gaps(result)
    return result


def _page_kb(size):
    """The page size in kB: the first KernelPageSize of smaps, else the system's."""
    if size:
        return size
    import os

    return os.sysconf("SC_PAGE_SIZE") // 1024


def _from_smaps(process, classified, view, roles):
    from ..emulate.labels import ANON, STACK, mapping_label_kind

    kbytes = rss = dirty = anon_rows = 0
    sums = dict.fromkeys(("Size", "Rss", "Anonymous", "Shmem", "File", "Swap", "Pss", "Locked", "Dirty",
                          "Hugetlb", "AnonHugePages"), 0)
    named_anon = stack_anon = anon_rows_not_anon = gate = 0
    named_anon_mappings = {}
    page_kb = 0
    for mapping, role, certain in classified:
        fields = mapping.fields
        page_kb = page_kb or fields.get("KernelPageSize", 0)
        size = mapping.end - mapping.start
        if mapping.perms[3:4] in (b"s", b"p"):
            kbytes += size
        m_rss = fields.get("Rss", 0)
        m_anon = fields.get("Anonymous", 0)
        m_dirty = fields.get("Shared_Dirty", 0) + fields.get("Private_Dirty", 0)
        rss += m_rss
        dirty += m_dirty
        sums["Size"] += fields.get("Size", size >> 10)
        sums["Rss"] += m_rss
        sums["Anonymous"] += m_anon
        sums["Dirty"] += m_dirty
        for name in ("Swap", "Pss", "Locked", "AnonHugePages"):
            sums[name] += fields.get(name, 0)
        sums["Hugetlb"] += fields.get("Shared_Hugetlb", 0) + fields.get("Private_Hugetlb", 0)
        if is_shmem(mapping):
            sums["Shmem"] += m_rss - m_anon
        kind = mapping_label_kind(mapping, process.start_stack, view)[0]
        roles.add(mapping, role, certain, kind == ANON)
        if kind == ANON:
            anon_rows += m_rss
            anon_rows_not_anon += m_rss - m_anon
        elif kind == STACK:
            stack_anon += m_anon
        else:
            named_anon += m_anon
            if m_anon:
                name = mapping.name.decode("utf-8", "surrogateescape")
                named_anon_mappings[name] = named_anon_mappings.get(name, 0) + m_anon
        if mapping.name == b"[vsyscall]":
            gate += size >> 10
    sums["File"] = sums["Rss"] - sums["Anonymous"] - sums["Shmem"]
    pmap_view = {"Kbytes": kbytes >> 10, "RSS": rss, "Dirty": dirty, "anon_rows_RSS": anon_rows}
    parts = {"named_anon": named_anon, "stack_anon": stack_anon, "anon_rows_not_anon": anon_rows_not_anon,
             "named_anon_mappings": sorted(([name, kb] for name, kb in named_anon_mappings.items()),
                                           key=lambda item: -item[1]),
             "vsyscall_kb": gate}
    return pmap_view, sums, parts, _page_kb(page_kb)


def _oom(files, status, page_kb):
    score_data = files.read(b"oom_score")
    adj_data = files.read(b"oom_score_adj")
    meminfo_data = files.meminfo()
    oom = {"oom_score": None, "oom_score_adj": None, "MemTotal": None, "SwapTotal": None,
           "badness_kb": None, "share_percent": None, "predicted_oom_score": None, "page_kb": page_kb}
    for key, data in (("oom_score", score_data), ("oom_score_adj", adj_data)):
        if data is not None:
            oom[key] = scan_int(data)
    if meminfo_data is not None:
        fields = kilobytes(meminfo_data)
        oom["MemTotal"] = fields.get("MemTotal")
        oom["SwapTotal"] = fields.get("SwapTotal")
    if status is None or oom["MemTotal"] is None or not page_kb:
        return oom
    if None in (status.get("VmRSS"), status.get("VmPTE")):
        return oom
    adj = oom["oom_score_adj"] or 0
    totalpages = (oom["MemTotal"] + (oom["SwapTotal"] or 0)) // page_kb
    if totalpages <= 0:
        return oom
    rss_pages = status["VmRSS"] // page_kb
    swap_pages = (status.get("VmSwap") or 0) // page_kb
    pte_pages = status["VmPTE"] // page_kb
    adj_pages = adj * (totalpages // 1000)
    badness = rss_pages + swap_pages + pte_pages + adj_pages
    oom.update({
        "rss_pages": rss_pages, "swap_pages": swap_pages, "page_table_pages": pte_pages,
        "adj_pages": adj_pages, "badness_pages": badness, "totalpages": totalpages,
        "badness_kb": badness * page_kb,
        "share_percent": round(100.0 * badness / totalpages, 3),
        "predicted_oom_score": 0 if adj == -1000 else c_div((1000 + c_div(badness * 1000, totalpages)) * 2, 3),
    })
    return oom


def _cgroup_oom(files, status, oom):
    """The OOM figures in the process's memory cgroup's scope, when that
    cgroup (or an ancestor) is limited; None otherwise (or when unknown)."""
    from ..parse.cgroups import memory_cgroup
    from ..source.cgroups import cgroups_beside
    from .cgroups import CgroupReader
    from .oom import badness

    data = files.read_quietly(b"cgroup")
    found = memory_cgroup(data) if data is not None else None
    if found is None or status is None or oom.get("badness_pages") is None:
        return None
    version, path = found
    scope = CgroupReader(cgroups_beside(files.root)).scope(version, path, oom["SwapTotal"] or 0, oom["page_kb"])
    if scope is None:
        return None
    points = badness((status.get("VmRSS") or 0), status.get("VmSwap") or 0, status.get("VmPTE") or 0,
                     oom["oom_score_adj"] or 0, scope)
    return {"cgroup": path.decode("utf-8", "surrogateescape"),
            "limit_cgroup": scope.path.decode("utf-8", "surrogateescape"), "limit_kb": scope.limit_kb,
            "swap_kb": scope.swap_kb, "totalpages": scope.totalpages,
            "adj_pages": None if points is None else (oom["oom_score_adj"] or 0) * (scope.totalpages // 1000),
            "badness_pages": points,
            "share_percent": None if points is None else round(100.0 * points / scope.totalpages, 3)}


def _gaps(data):
    """[{"name", "kb", "reason"}] for each gap that is there."""
    gaps = []

    def add(name, kb, reason):
        if kb:
            gaps.append({"name": name, "kb": kb, "reason": reason})

    pmap_view, smaps, parts, status = data["pmap"], data["smaps"], data["anon_split"], data["status"]
    add("anon_rows_vs_Anonymous", pmap_view["anon_rows_RSS"] - smaps["Anonymous"],
        "pmap's [ anon ] rows RSS - smaps Anonymous, the sum of the next lines:")
    add("anon_under_file_names", -parts["named_anon"],
        "anonymous pages listed under a file's name: copy-on-write pages written in MAP_PRIVATE file "
        "mappings (data segments, relocations) are anonymous, but pmap shows the file's name")
    add("stack_anon", -parts["stack_anon"],
        "the stack is anonymous memory, but pmap labels it [ stack ], not [ anon ]")
    add("anon_rows_not_anonymous", parts["anon_rows_not_anon"],
        "resident pages in [ anon ] rows that are not anonymous: [vdso]/[vvar] pages, or shared "
        "anonymous memory shown without a name")
    add("shmem", smaps["Shmem"],
        "shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, SysV, memfd, tmpfs) is shmem: counted in "
        "RssShmem, not in RssAnon or Anonymous")
    add("swap", smaps["Swap"],
        "swapped-out pages are in no RSS figure (pmap's, smaps Rss or VmRSS), but the OOM killer counts them")
    add("hugetlb", smaps["Hugetlb"],
        "hugetlbfs pages are in no Rss figure (smaps shows them as Shared_/Private_Hugetlb)")
    add("transparent_huge_pages", smaps["AnonHugePages"],
        "part of Anonymous is in transparent huge pages (AnonHugePages)")
    if status is not None:
        approximate = (" (status counters are per-CPU split counters, an approximation: proc(5); "
                       "smaps walks the page tables)")
        for counter, figure in (("VmRSS", "Rss"), ("RssAnon", "Anonymous"), ("RssFile", "File"),
                                ("RssShmem", "Shmem"), ("VmSwap", "Swap")):
            if status.get(counter) is not None:
                add("status_%s_minus_smaps_%s" % (counter, figure), status[counter] - smaps[figure],
                    "status %s - smaps %s%s" % (counter, figure, approximate))
        if status.get("VmSize") is not None:
            size_gap = status["VmSize"] - pmap_view["Kbytes"]
            if size_gap == -parts["vsyscall_kb"]:
                reason = ("status VmSize - pmap Kbytes: [vsyscall] is listed in maps but is the kernel's "
                          "gate page, not part of the address space VmSize counts")
            else:
                reason = "status VmSize - pmap Kbytes: the mappings changed between the reads"
            add("status_VmSize_minus_pmap_Kbytes", size_gap, reason)
        if status.get("VmHWM") is not None and status.get("VmRSS") is not None:
            add("peak_above_current", status["VmHWM"] - status["VmRSS"],
                "VmHWM is the peak resident size; the process has used this much more before")
    rollup = data["smaps_rollup"]
    if rollup is not None:
        for name in ("Rss", "Pss", "Anonymous", "Swap"):
            if rollup.get(name) is not None:
                if name == "Pss":
                    reason = ("smaps_rollup Pss - summed smaps: Pss divides each shared page by the "
                              "processes mapping it at the moment of reading, and other processes (this "
                              "one included) mapped or unmapped shared pages between the two reads; smaps "
                              "also rounds down per mapping")
                else:
                    reason = "smaps_rollup %s - summed smaps: the process changed between the two reads" % name
                add("rollup_%s_minus_smaps" % name, rollup[name] - smaps[name], reason)
    return gaps


def _cell(value):
    return b"%10s" % (b"-" if value is None else b"%d" % value)


def render_text(header, data, name_of):
    """The readable table (bytes) under pmap's header line; ``name_of``
    shows a mapping's name (bytes) as pymap's reports do (Context.report_name;
    --json keeps the bytes)."""
    pmap_view, smaps, status = data["pmap"], data["smaps"], data["status"] or {}
    rollup = data["smaps_rollup"] or {}
    out = [header]
    out.append(b"%-26s%s%s%s%s  %s\n" % (b"kB", b"      pmap", b"     smaps", b"    rollup", b"    status",
                                          b"status-smaps"))
    rows = (
        (b"Size / VmSize", pmap_view["Kbytes"], smaps["Size"], None, "VmSize", "Size"),
        (b"Rss / VmRSS", pmap_view["RSS"], smaps["Rss"], rollup.get("Rss"), "VmRSS", "Rss"),
        (b"Anonymous / RssAnon", pmap_view["anon_rows_RSS"], smaps["Anonymous"], rollup.get("Anonymous"),
         "RssAnon", "Anonymous"),
        (b"shmem part / RssShmem", None, smaps["Shmem"], None, "RssShmem", "Shmem"),
        (b"file part / RssFile", None, smaps["File"], None, "RssFile", "File"),
        (b"Swap / VmSwap", None, smaps["Swap"], rollup.get("Swap"), "VmSwap", "Swap"),
        (b"Dirty", pmap_view["Dirty"], smaps["Dirty"], rollup.get("Dirty"), None, None),
        (b"Pss", None, smaps["Pss"], rollup.get("Pss"), None, None),
        (b"Locked / VmLck", None, smaps["Locked"], rollup.get("Locked"), "VmLck", "Locked"),
        (b"Hugetlb / HugetlbPages", None, smaps["Hugetlb"], rollup.get("Hugetlb"), "HugetlbPages", "Hugetlb"),
        (b"VmPTE (page tables)", None, None, None, "VmPTE", None),
        (b"VmHWM (peak RSS)", None, None, None, "VmHWM", None),
    )
    for title, pmap_value, smaps_value, rollup_value, counter, figure in rows:
        status_value = status.get(counter) if counter else None
        difference = b""
        if status_value is not None and figure is not None:
            difference = b"  %+d" % (status_value - smaps[figure])
        out.append(b"%-26s%s%s%s%s%s\n" % (title, _cell(pmap_value), _cell(smaps_value), _cell(rollup_value),
                                           _cell(status_value), difference))
    out.append(b"(pmap: -x totals; its Anonymous cell is the RSS of the [ anon ] rows)\n")
    out.append(b"Gaps:\n")
    if not data["gaps"]:
        out.append(b"  none\n")
    section = None
    for gap in data["gaps"]:
        name = gap["name"]
        if name != "anon_rows_vs_Anonymous" and name not in _ANON_PARTS:
            title = next(title for names, title in _SECTION_TITLES if names is None or name in names)
            if title is not section:
                out.append(title)
                section = title
        indent = b"      " if name in _ANON_PARTS else b"    " if section is not None else b"  "
        out.append(b"%s%+8d kB  %s\n" % (indent, gap["kb"], gap["reason"].encode("utf-8", "replace")))
        if name == "anon_under_file_names":
            out += _named_anon_lines(data["anon_split"]["named_anon_mappings"], name_of)
    out.append(_render_roles(data["roles"], data["threads"]))
    out.append(_render_oom(data["oom"]))
    if data["missing"]:
        out.append(b"Missing files: %s\n" % ", ".join(data["missing"]).encode("utf-8", "replace"))
    return b"".join(out)


def _named_anon_lines(mappings, name_of):
    """The files that hold anonymous pages, largest first, with the sign of
    their gap (they add up to it): the first _FILES_SHOWN, then the rest."""
    lines = [b"          %+8d kB  in %s\n" % (-kb, name_of(name.encode("utf-8", "surrogateescape")))
             for name, kb in mappings[:_FILES_SHOWN]]
    rest = mappings[_FILES_SHOWN:]
    if rest:
        lines.append(b"          %+8d kB  in %d more file%s\n" % (-sum(kb for _, kb in rest), len(rest),
                                                                 b"" if len(rest) == 1 else b"s"))
    return lines


# what each role is, in the user's words (see parse/roles.py)
_ROLE_WORDS = {
    "heap": b"the brk heap: malloc's main arena",
    "malloc_arena": b"heaps of malloc's arenas (threads' malloc)",
    "malloc_arena_reserve": b"the arenas' reserved rest: address space, no memory",
    "malloc_mmap": b"large blocks malloc mapped on their own",
    "stack": b"the main thread's stack",
    "thread_stack": b"threads' stacks",
    "guard": b"guard pages below thread stacks",
    "anon": b"anonymous memory of no known role",
    "shmem": b"shared memory (shmem, not RssAnon)",
    "file": b"files (written private pages are anonymous)",
    "vdso": b"the kernel's vDSO",
    "vvar": b"the kernel's vDSO data",
    "vsyscall": b"the kernel's vsyscall page",
}


def _render_roles(roles, threads):
    """What the memory is, a line per role: mappings and kB, and a word on
    what the role is (the arenas' reserve, the threads counted)."""
    out = [b"What the memory is, by role (kB; the last column is the [ anon ] rows' RSS, the one-liner's sum):\n",
           b"  %-21s%9s%11s%11s%11s%11s%13s\n" % (b"role", b"mappings", b"Size", b"Rss", b"Anonymous", b"Swap",
                                                 b"[ anon ] RSS")]
    totals = dict.fromkeys(("mappings", "Size", "Rss", "Anonymous", "Swap", "anon_rows_Rss"), 0)
    guessed = []
    count = 0
    for role, sums in roles.items():
        for name in totals:
            totals[name] += sums[name]
        words = _ROLE_WORDS.get(role, b"")
        if role == "malloc_arena":
            reserve = roles.get("malloc_arena_reserve", {}).get("Size", 0)
            words += b": %d kB resident of %d kB reserved" % (sums["Rss"], sums["Size"] + reserve)
        elif role == "thread_stack":
            words += b": %d threads, %d stack pointers read" % (threads["count"], threads["stack_pointers"])
        out.append(b"  %-21s%9d%11d%11d%11d%11d%13d  %s\n" % (
            role.encode(), sums["mappings"], sums["Size"], sums["Rss"], sums["Anonymous"], sums["Swap"],
            sums["anon_rows_Rss"], words))
        if sums["guessed"]:
            guessed.append(b"%s %d" % (role.encode(), sums["guessed"]))
            count += sums["guessed"]
    out.append(b"  %-21s%9d%11d%11d%11d%11d%13d\n" % (b"total", totals["mappings"], totals["Size"], totals["Rss"],
                                                     totals["Anonymous"], totals["Swap"], totals["anon_rows_Rss"]))
    if guessed:
        out.append(b"  not certain (the layout's guess, or a malloc block merged with memory beside it): %s "
                   b"mapping%s\n" % (b", ".join(guessed), b"" if count == 1 else b"s"))
    return b"".join(out)


def _render_oom(oom):
    out = [b"OOM killer:\n"]
    out.append(b"  oom_score_adj %s, oom_score %s (kernel)\n" % (
        b"-" if oom["oom_score_adj"] is None else b"%d" % oom["oom_score_adj"],
        b"-" if oom["oom_score"] is None else b"%d" % oom["oom_score"]))
    if oom.get("badness_pages") is None:
        out.append(b"  badness: cannot be computed (needs status and meminfo)\n")
        return b"".join(out)
    page_kb = oom["page_kb"]
    out.append(b"  badness = rss %d + swap %d + page tables %d + adj %d pages = %d pages (%d kB)\n" % (
        oom["rss_pages"], oom["swap_pages"], oom["page_table_pages"], oom["adj_pages"], oom["badness_pages"],
        oom["badness_kb"]))
    out.append(b"  = %.3f%% of MemTotal + SwapTotal (%d kB); predicted oom_score %d\n" % (
        oom["share_percent"], oom["totalpages"] * page_kb, oom["predicted_oom_score"]))
    adj = oom["oom_score_adj"] or 0
    if adj == -1000:
        why = b"oom_score_adj -1000: the OOM killer never chooses this process"
    elif oom["badness_pages"] <= 0:
        why = b"badness <= 0: chosen only if nothing else is left (oom_score_adj %d lowers it)" % adj
    else:
        why = (b"the OOM killer chooses the process with the highest badness; this one holds %.3f%% of "
               b"memory%s" % (oom["share_percent"],
                              b" after oom_score_adj %+d (%+d pages)" % (adj, oom["adj_pages"]) if adj else b""))
    out.append(b"  %s\n" % why)
    cgroup = oom.get("cgroup")
    if cgroup is not None:
        out.append(b"  in its memory cgroup %s, limited to %d kB + swap %d kB (the limit of %s): %d pages\n" % (
            cgroup["cgroup"].encode("utf-8", "surrogateescape"), cgroup["limit_kb"], cgroup["swap_kb"],
            cgroup["limit_cgroup"].encode("utf-8", "surrogateescape"), cgroup["totalpages"]))
        if cgroup["badness_pages"] is None:
            out.append(b"  an OOM of that cgroup never chooses it either\n")
        else:
            out.append(b"  an OOM of that cgroup ranks it by badness = rss %d + swap %d + page tables %d + adj %d = "
                       b"%d pages, %.3f%% of the cgroup's limit\n" % (
                           oom["rss_pages"], oom["swap_pages"], oom["page_table_pages"], cgroup["adj_pages"],
                           cgroup["badness_pages"], cgroup["share_percent"]))
    return b"".join(out)


class Reconciliation(Record):
    """The reconciliation of one process: its header and figures."""

    def __init__(self, process, header, figures):
        self.process = process
        self.header = header
        self.figures = figures

    def text(self, context):
        return render_text(self.header, self.figures, context.report_name)

    def json_objects(self):
        from .json_lines import SCHEMA

        return [dict({"schema": SCHEMA}, **self.figures)]
