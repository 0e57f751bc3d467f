"""pymap.parse.oomlog (and report/oom_report's explanation and text) on
kernel logs: every fixture's kills with the kernel's own numbers, the real
report recorded on this kind of machine, and logs that are torn,
interleaved, not UTF-8 or random, which must never make it raise.

The expected numbers are read from the fixture text here, with regular
expressions of this file (not by the parser), and the badness is computed
here from the table's rows as mm/oom_kill.c's oom_badness() does.
"""

import json
import os
import re
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymap.source import kernel_log
from pymap.parse import oomlog
from pymap.report import oom_report

pytestmark = pytest.mark.golden

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "oomlog")
LOGS = sorted(name for name in os.listdir(FIXTURES) if name.endswith(".log"))
REAL = "real-6.18-memcg-v1"
PAGE_KB = 4  # every fixture is from a 4 KiB-page machine

KILLED = re.compile(r"Killed process (\d+) \((.+?)\) total-vm:(\d+)kB, anon-rss:(\d+)kB, file-rss:(\d+)kB"
                    r"(?:, shmem-rss:(\d+)kB)?(?:, UID:(\d+) pgtables:(\d+)kB oom_score_adj:(-?\d+))?")
INVOKED = re.compile(r"(\S+) invoked oom-killer: gfp_mask=(0x[0-9a-f]+)(?:\(([^)]*)\))?,.* order=(\d+), "
                     r"oom_score_adj=(-?\d+)")
CPU = re.compile(r"CPU: \d+ (?:UID: \d+ )?PID: (\d+) Comm:")
HEADER = re.compile(r"\[ {1,2}pid {1,2}\] +(.*) name$")
COUNTER = re.compile(r"(memory|memory\+swap|kmem|swap): usage (\d+)kB, limit (\d+)kB, failcnt (\d+)$")
REAPED = re.compile(r"oom_reaper: reaped process (\d+) \((.+?)\), now anon-rss:(\d+)kB, file-rss:(\d+)kB, "
                    r"shmem-rss:(\d+)kB")
SUMMARY = re.compile(r"oom-kill:constraint=(\w+),.*")
OOM_MEMCG = re.compile(r"oom_memcg=([^,]+)")
TASK_MEMCG = re.compile(r"task_memcg=([^,]+)")
OLD_MEMCG = re.compile(r"Task in (\S+) killed as a result of limit of (\S+)$")
STATS = re.compile(r"Memory cgroup stats for (\S+):(.*)$")
STAT_LINE = re.compile(r"(?:^|[\s\]])([a-z][a-z0-9_]*) (\d+)$")
OLD_STAT = re.compile(r" (\w+):(\d+)KB")
RAM = re.compile(r"(\d+) pages RAM$")
RESERVED = re.compile(r"(\d+) pages reserved$")
TOTAL_SWAP = re.compile(r"Total swap = (\d+)kB$")
PRESENT = re.compile(r"Node \d+ \w+ free:.* present:(\d+)kB")


def data_of(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def text_lines(name):
    """The fixture's lines as text; /dev/kmsg's \\xNN escapes undone (its
    records hold no newline in these fixtures)."""
    data = data_of(name)
    if ".kmsg." in name:
        data = re.sub(rb"\\x([0-9a-f]{2})", lambda match: bytes((int(match.group(1), 16),)), data)
        data = re.sub(rb"(?m)^\d+,\d+,\d+,[^;]*;", b"", data)  # the record's header
    return data.decode("utf-8").splitlines()


def kills_of(data, **options):
    return list(oomlog.iter_kills(data.splitlines(keepends=True), strict=True, **options))


def why(kill):
    return oom_report.explain(kill)


def text_of(kill):
    """The report's text block, names unescaped (as str, for searching)."""
    return oom_report.render_kill(kill, lambda line: line).decode("utf-8", "surrogateescape")


def raw(text):
    return None if text is None else text.encode("utf-8")


def reports(name):
    """What the fixture's text says of each kill, read here: one dict per
    "Killed process" line that is not a memory.oom.group member, with the
    report's lines before it."""
    found = []
    current = None
    group = False
    for line in text_lines(name):
        if INVOKED.search(line):
            current = {"invoked": INVOKED.search(line), "cpu": None, "table": None, "columns": None,
                       "summary": None, "counters": {}, "old_memcg": None, "stats": None, "stat_lines": {},
                       "in_stats": False, "ram": None, "reserved": None, "swap": None, "present": 0}
            group = False
            continue
        if "going to be killed due to memory.oom.group" in line:
            group = True
            continue
        killed = KILLED.search(line)
        if killed:
            if group:
                found[-1]["group"].append(killed)
            else:
                report = current or {"invoked": None, "table": None, "summary": None, "counters": {},
                                     "old_memcg": None, "stats": None, "stat_lines": {}, "ram": None,
                                     "cpu": None}
                report.update(killed=killed, group=[], reaped=None, line=line)
                found.append(report)
            current = None
            continue
        reaped = REAPED.search(line)
        if reaped:
            for report in found:
                if report["killed"].group(1) == reaped.group(1):
                    report["reaped"] = reaped
            continue
        if current is None:
            continue
        if current["cpu"] is None and CPU.search(line):
            current["cpu"] = CPU.search(line)
        header = HEADER.search(line)
        if header:
            current["columns"] = header.group(1).split()
            current["table"] = []
            current["in_stats"] = False
            continue
        if current["table"] is not None:
            row = re.search(r"\[\s*(\d+)\]" + r"\s+(-?\d+)" * len(current["columns"]) + r" (.+)$", line)
            if row:
                values = dict(zip(current["columns"], map(int, row.groups()[1:-1])))
                values.update(pid=int(row.group(1)), name=row.groups()[-1])
                current["table"].append(values)
                continue
        if SUMMARY.search(line):
            current["summary"] = line[line.index("oom-kill:"):]
            current["in_stats"] = False
            continue
        if ",global_oom" in line:  # early 4.19's summary in two lines
            current["summary"] += line[line.index(",global_oom"):]
            continue
        counter = COUNTER.search(line)
        if counter:
            current["counters"][counter.group(1)] = tuple(map(int, counter.groups()[1:]))
            continue
        old = OLD_MEMCG.search(line)
        if old:
            current["old_memcg"] = old
            continue
        stats = STATS.search(line)
        if stats:
            if current["stats"] is None:
                current["stats"] = stats
                current["in_stats"] = not stats.group(2)
            continue
        if "Tasks state" in line:
            current["in_stats"] = False
            continue
        if current["in_stats"] and STAT_LINE.search(line):
            current["stat_lines"][STAT_LINE.search(line).group(1)] = int(STAT_LINE.search(line).group(2))
            continue
        for key, pattern in (("ram", RAM), ("reserved", RESERVED), ("swap", TOTAL_SWAP)):
            match = pattern.search(line)
            if match:
                current[key] = int(match.group(1))
        present = PRESENT.search(line)
        if present:
            current["present"] += int(present.group(1))
    return found


def expected_totalpages(report):
    """What oom_badness() scales oom_score_adj by, from the report's lines
    (memcg: its limit; cpuset: the allowed nodes' present memory and swap;
    else RAM less reserved, and swap)."""
    summary = report["summary"] or ""
    if "memory" in report["counters"]:
        return report["counters"]["memory"][1] // PAGE_KB
    if "CONSTRAINT_CPUSET" in summary:
        return (report["present"] + report["swap"]) // PAGE_KB
    if report["ram"] is not None:
        return report["ram"] - report["reserved"] + report["swap"] // PAGE_KB
    return None


def expected_badness(row, totalpages):
    """oom_badness() of one row: None for oom_score_adj -1000."""
    if row["oom_score_adj"] == -1000:
        return None
    if "pgtables_bytes" in row:
        pgtables = row["pgtables_bytes"] // (PAGE_KB * 1024)
    else:
        pgtables = row.get("nr_ptes", 0) + row.get("nr_pmds", 0)
    return row["rss"] + row["swapents"] + pgtables + row["oom_score_adj"] * (totalpages // 1000)


# --- every fixture -------------------------------------------------------------

@pytest.mark.parametrize("name", LOGS)
def test_victims_are_the_killed_process_lines(name):
    kills = kills_of(data_of(name))
    expected = reports(name)
    assert [kill.pid for kill in kills] == [int(report["killed"].group(1)) for report in expected]
    for kill, report in zip(kills, expected):
        pid, comm, total_vm, anon, file, shmem, uid, pgtables, adj = report["killed"].groups()
        assert kill.comm == raw(comm)
        assert (kill.total_vm, kill.anon_rss, kill.file_rss) == (int(total_vm), int(anon), int(file))
        assert kill.shmem_rss == (int(shmem) if shmem is not None else None)
        if uid is not None:
            assert (kill.uid, kill.pgtables, kill.oom_score_adj) == (int(uid), int(pgtables), int(adj))
        assert [member["pid"] for member in kill.group_killed] == [int(match.group(1)) for match in report["group"]]
        assert [member["anon_rss"] for member in kill.group_killed] == [
            int(match.group(4)) for match in report["group"]]


@pytest.mark.parametrize("name", LOGS)
def test_trigger_constraint_cgroup_and_counters(name):
    for kill, report in zip(kills_of(data_of(name)), reports(name)):
        invoked = report["invoked"]
        if invoked is None:
            assert kill.trigger is None
        else:
            comm, gfp, flags, order, adj = invoked.groups()
            trigger = kill.trigger
            assert (trigger.comm, trigger.gfp_mask, trigger.gfp_flags, trigger.order, trigger.oom_score_adj) == (
                raw(comm), gfp, flags, int(order), int(adj))
            assert trigger.pid == int(report["cpu"].group(1))
        summary = report["summary"]
        if summary is not None:
            assert kill.constraint == SUMMARY.search(summary).group(1)
            oom_memcg = OOM_MEMCG.search(summary)
            assert kill.cgroup["oom_memcg"] == (raw(oom_memcg.group(1)) if oom_memcg else None)
            assert kill.cgroup["task_memcg"] == raw(TASK_MEMCG.search(summary).group(1))
        else:
            assert kill.constraint is None  # before 4.19 the kernel does not print it
        if report["old_memcg"] is not None:
            assert kill.cgroup == {"task_memcg": raw(report["old_memcg"].group(1)),
                                   "oom_memcg": raw(report["old_memcg"].group(2))}
        assert {key: (value["usage_kb"], value["limit_kb"], value["failcnt"]) for key, value in kill.memcg.items()} \
            == report["counters"]
        if report["counters"] or report["old_memcg"] or "MEMCG" in (summary or ""):
            assert kill.scope == "memcg"
        reaped = report["reaped"]
        if reaped is None:
            assert kill.reaped is None
        else:
            assert kill.reaped == {"pid": int(reaped.group(1)), "comm": raw(reaped.group(2)),
                                   "anon_rss": int(reaped.group(3)), "file_rss": int(reaped.group(4)),
                                   "shmem_rss": int(reaped.group(5))}


@pytest.mark.parametrize("name", LOGS)
def test_candidates_are_the_table_with_the_kernels_badness(name):
    for kill, report in zip(kills_of(data_of(name)), reports(name)):
        table = report["table"]
        if table is None:
            assert kill.candidates == [] and kill.candidates_total == 0
            continue
        totalpages = expected_totalpages(report)
        assert kill.totalpages == totalpages
        assert kill.candidates_total == len(table) and kill.candidates_more == 0
        by_pid = {row.pid: row for row in kill.candidates}
        assert sorted(by_pid) == sorted(row["pid"] for row in table)
        for row in table:
            candidate = by_pid[row["pid"]]
            assert (candidate.name, candidate.uid, candidate.tgid, candidate.total_vm, candidate.rss,
                    candidate.swapents, candidate.oom_score_adj) == (
                raw(row["name"]), row["uid"], row["tgid"], row["total_vm"], row["rss"], row["swapents"],
                row["oom_score_adj"])
            assert candidate.badness == expected_badness(row, totalpages)
            assert candidate.victim == (row["pid"] == kill.pid)
        ranked = [row.badness for row in kill.candidates if row.badness is not None]
        assert ranked == sorted(ranked, reverse=True)
        victim = kill.victim_row()
        assert victim is not None and victim.pid == kill.pid
        highest = max(ranked)
        if kill.chosen is None and "allocating" not in (kill.message or ""):
            assert victim.badness == highest  # the kernel's choice, the highest badness
            row = next(row for row in table if row["pid"] == kill.pid)
            pgtables = (row["pgtables_bytes"] // (PAGE_KB * 1024) if "pgtables_bytes" in row
                        else row.get("nr_ptes", 0) + row.get("nr_pmds", 0))
            assert "badness %d (rss %d + page tables %d + swap %d" % (
                expected_badness(row, totalpages), row["rss"], pgtables, row["swapents"]) in why(kill)
            # and its row in the text's table: badness, rss, page tables, swap, oom_score_adj, pid, name
            shown = next(line for line in text_of(kill).splitlines() if line.endswith("  <- killed"))
            assert shown.split()[:6] == [str(value) for value in (
                expected_badness(row, totalpages), row["rss"], pgtables, row["swapents"], row["oom_score_adj"],
                row["pid"])]
        assert str(victim.pid) in why(kill)


@pytest.mark.parametrize("name", LOGS)
def test_memory_stat_block(name):
    for kill, report in zip(kills_of(data_of(name)), reports(name)):
        stats = report["stats"]
        if stats is None:
            assert kill.memory_stat == {} and kill.memory_stat_cgroup is None
            continue
        assert kill.memory_stat_cgroup == raw(stats.group(1))
        if stats.group(2):  # 4.x: "name:NKB" pairs on the line
            assert kill.memory_stat_unit == "kB"
            assert kill.memory_stat == {key: int(value) for key, value in OLD_STAT.findall(stats.group(2))}
        else:
            assert kill.memory_stat_unit == "memory.stat"
            assert kill.memory_stat == report["stat_lines"] and len(kill.memory_stat) > 20


@pytest.mark.parametrize("name", LOGS)
def test_json_and_text(name):
    kills = kills_of(data_of(name))
    for index, kill in enumerate(kills):
        [record] = oom_report.KillRecord(kill).json_objects()
        assert list(record)[:1] == ["schema"] and record["schema"] == 3
        for key in ("pid", "comm", "cgroup", "constraint", "anon_rss", "file_rss", "shmem_rss", "candidates",
                    "time", "trigger", "why", "reaped", "memory_stat", "totalpages"):
            assert key in record
        assert json.loads(json.dumps(record)) == record
        assert record["comm"] == kill.comm.decode("utf-8", "surrogateescape") and record["why"] == why(kill)
        assert all(isinstance(row, dict) and "badness" in row for row in record["candidates"])
        block = text_of(kill)
        assert block.startswith("OOM kill at ") and "PID %d (%s)" % (kill.pid, kill.comm.decode()) in block
        for name_, value in (("anon-rss", kill.anon_rss), ("file-rss", kill.file_rss), ("shmem-rss", kill.shmem_rss)):
            if value is not None:
                assert "%s %d kB" % (name_, value) in block.splitlines()[1]


def test_text_lines_read_as_bytes_are():
    data = data_of("6.1-system-adj.journal-iso.log")
    as_text = [kill.as_json() for kill in oomlog.parse(data.decode("utf-8").splitlines())]
    assert as_text == [kill.as_json() for kill in kills_of(data)]
    log = kernel_log.log_file(os.path.join(FIXTURES, "6.1-system-adj.journal-iso.log").encode())
    assert [kill.pid for kill in oomlog.parse(log)] == [2210]


def test_a_log_that_fails_half_way_hands_on_its_kills_then_the_error():
    class Broken(Exception):
        pass

    def failing(lines):
        yield from lines
        raise Broken()

    lines = data_of(REAL + ".dmesg.log").splitlines(keepends=True)
    found = []
    with pytest.raises(Broken):
        for kill in oomlog.iter_kills(failing(lines), strict=True):
            found.append(kill.pid)
    assert found == [10005, 10006, 10014]  # (held for the oom_reaper's lines, still handed on)


def test_oom_score_adj_that_widened_the_margin():
    """The real report with the Python's oom_score_adj made 100: it still
    loses to the sleep (500), and then beats the dd by 1600 more pages."""
    data = data_of(REAL + ".dmesg.log").replace(b"        0             0 python\n", b"        0           100 python\n")
    first, second = kills_of(data)[:2]
    assert "oom_score_adj decided it" in why(first)
    assert "oom_score_adj widened the margin by %d." % (100 * (65536 // PAGE_KB // 1000)) in why(second)


def test_a_log_without_times_or_totalpages():
    # no time stamp at all: the kill has no time
    bare = re.sub(rb"(?m)^\[[ \d.]+\] ", b"", data_of(REAL + ".dmesg.log"))
    kill = kills_of(bare)[0]
    assert kill.time is None and text_of(kill).startswith("OOM kill at (no time), memory cgroup /pymap-oomlog-fixture")
    # a system OOM whose Mem-Info lines are lost: no totalpages, so only tasks with oom_score_adj 0 have a badness
    lost = b"".join(line for line in data_of("6.1-system-adj.journal-iso.log").splitlines(keepends=True)
                    if b"pages RAM" not in line)
    kill = kills_of(lost)[0]
    assert kill.totalpages is None
    assert all(row.badness == (row.points if row.oom_score_adj == 0 else None) for row in kill.candidates)
    assert any(row.oom_score_adj for row in kill.candidates) and any(not row.oom_score_adj for row in kill.candidates)
    assert "does not give totalpages" in why(kill)
    victim, top = kill.victim_row(), kill.candidates[0]
    assert victim.oom_score_adj and top.points > victim.points  # by pages alone, java comes first
    assert "PID %d (Web Content) was not the highest by the table's numbers: PID %d (java) had %d pages, PID %d " \
           "(Web Content) %d pages." % (victim.pid, top.pid, top.points, victim.pid, victim.points) in why(kill)
    assert "oom_score_adj may account for it" in why(kill)
    # the victim's "Killed process" total-vm against its row's (in pages) tells the page size
    wide = data_of(REAL + ".dmesg.log").replace(b"(sleep) total-vm:2920kB", b"(sleep) total-vm:%dkB" % (730 * 64))
    kill = kills_of(wide)[0]
    assert kill.page_size == 65536 and kill.victim_row().pgtables_pages(kill.page_size) == 45056 // 65536


def test_no_oom_gives_no_kill():
    assert kills_of(data_of("no-oom.dmesg.log")) == []
    assert oomlog.parse([]) == []


# --- the real report -------------------------------------------------------------

def test_real_report_victims_are_the_pids_the_kernel_named():
    with open(os.path.join(FIXTURES, REAL + ".json")) as handle:
        started = json.load(handle)
    renderings = {}
    for style in ("dmesg", "dmesg-T", "dmesg-r", "kmsg"):
        data = data_of("%s.%s.log" % (REAL, style))
        kills = kills_of(data)
        named = [int(pid) for pid in re.findall(rb"Killed process (\d+) ", data)]
        assert [kill.pid for kill in kills] == named
        renderings[style] = [kill.as_json() for kill in kills]
    first = renderings["dmesg"][0]
    # the sleep had oom_score_adj 500: it was killed first, though the Python held more
    assert first["pid"] == started["sleeper_adj_500"]
    assert renderings["dmesg"][1]["pid"] == started["holder_16mib"]
    assert renderings["dmesg"][2]["pid"] == started["writer_dd"]
    assert first["constraint"] == "CONSTRAINT_MEMCG" and first["cgroup"]["oom_memcg"] == "/pymap-oomlog-fixture"
    assert first["comm"] == "sleep"
    rows = {row["pid"]: row for row in first["candidates"]}
    sleeper, holder = rows[started["sleeper_adj_500"]], rows[started["holder_16mib"]]
    assert sleeper["badness"] == sleeper["rss"] + sleeper["pgtables"] // 4096 + 500 * (65536 // PAGE_KB // 1000)
    assert holder["badness"] < sleeper["badness"] and holder["points"] > sleeper["points"]
    first_why = why(kills_of(data_of(REAL + ".dmesg.log"))[0])
    assert "oom_score_adj decided it" in first_why
    assert "%d less" % (sleeper["badness"] - holder["badness"]) in first_why
    # the sum term by term, from the table's row as this file reads it (65536 kB of 4 kB pages / 1000)
    row = next(row for row in reports(REAL + ".dmesg.log")[0]["table"] if row["pid"] == started["sleeper_adj_500"])
    assert "had the highest badness in memory cgroup /pymap-oomlog-fixture: badness %d (rss %d + page tables %d " \
           "+ swap %d + oom_score_adj 500 x %d)" % (sleeper["badness"], row["rss"], row["pgtables_bytes"] // 4096,
                                                   row["swapents"], 65536 // PAGE_KB // 1000) in first_why
    # a table cut to two rows says one is left out, and still ranks the two kept
    cut = kills_of(data_of(REAL + ".dmesg.log"), max_candidates=2)[0]
    assert "(1 more task in the table is not kept here.)" in why(cut)
    assert [row.pid for row in cut.candidates] == [started["sleeper_adj_500"], started["holder_16mib"]]
    assert (holder["rss_anon"], holder["rss_file"], holder["rss_shmem"]) == (5248, 1390, 0)
    # every rendering says the same, but for the time (-T has the wall clock)
    for style, kills in renderings.items():
        for kill, reference in zip(kills, renderings["dmesg"]):
            assert {key: value for key, value in kill.items() if key not in ("time", "started", "wall_time")} == {
                key: value for key, value in reference.items() if key not in ("time", "started", "wall_time")}
    assert renderings["kmsg"][0]["time"] == renderings["dmesg"][0]["time"] == 5718.404593
    assert renderings["dmesg-T"][0]["time"] == "Fri Dec  4 16:53:35 2026"


# --- what each generation's fixture shows ---------------------------------------

def test_4_x_sacrificed_child_and_kernel_score():
    child = kills_of(data_of("4.9-memcg-v1-child.dmesg.log"))[0]
    assert child.chosen == {"pid": 30401, "comm": b"python3"} and child.pid == 30412
    assert "killed its child PID 30412" in why(child)
    parent = next(row for row in child.candidates if row.pid == 30401)
    assert child.kernel_score == parent.badness * 1000 // child.totalpages
    assert child.totalpages_from.endswith("its memory+swap limit is the same")
    java = kills_of(data_of("4.4-system.kern.log"))[0]
    assert java.kernel_score == java.victim_row().badness * 1000 // java.totalpages
    assert java.time == 812345.123852 and java.wall_time == "Mar 16 12:39:05"
    assert java.pgtables is None and java.shmem_rss is None  # 4.4 prints neither


def test_4_14_rate_limited_kill_and_hierarchy():
    first, second = kills_of(data_of("4.14-memcg-v1-ratelimited.dmesg-T.log"))
    assert first.cgroup == {"oom_memcg": b"/kubepods/burstable/pod7c1e44f2",
                            "task_memcg": b"/kubepods/burstable/pod7c1e44f2/9b1c2f0e3a44"}
    assert first.memory_stat_cgroup == b"/kubepods/burstable/pod7c1e44f2"  # the first of the hierarchy's lines
    assert not first.totalpages_exact and "without swap" in first.totalpages_from
    assert second.pid == 18003 and second.candidates == [] and oomlog.MISSING_HEADER in second.notes
    assert "no task list" in why(second)


def test_4_19_split_summary_is_joined():
    kill = kills_of(data_of("4.19-system-split-summary.journal.log"))[0]
    assert kill.constraint == "CONSTRAINT_NONE" and kill.scope == "system"
    assert kill.cgroup == {"oom_memcg": None, "task_memcg": b"/system.slice/postgresql@11-main.service"}
    assert kill.uid == 112 and kill.wall_time == "Dec 04 15:37:19" and kill.time == "Dec 04 15:37:19"
    assert kill.totalpages_exact
    lines = text_of(kill).splitlines()
    assert lines[0] == "OOM kill at Dec 04 15:37:19, the whole system, CONSTRAINT_NONE"  # the journal's clock
    assert "  cgroup   /system.slice/postgresql@11-main.service (the victim's)" in lines


def test_oom_score_adj_scaled_by_totalpages_in_the_explanation():
    name = "6.1-system-adj.journal-iso.log"
    kill, report = kills_of(data_of(name))[0], reports(name)[0]
    victim = kill.victim_row()
    assert "oom_score_adj %d x %d)" % (victim.oom_score_adj, expected_totalpages(report) // 1000) in why(kill)


def test_5_10_kmsg_escapes_and_allocating_task():
    first, second = kills_of(data_of("5.10-system-allocating-task.kmsg.log"))
    assert first.comm == "pythön".encode() and first.trigger.comm == "pythön".encode()
    assert second.message == "Out of memory (oom_kill_allocating_task)"
    assert "oom_kill_allocating_task" in why(second)
    assert second.candidates[0].name == b"java" and not second.candidates[0].victim


def test_5_15_no_killable_report_and_group():
    kills = kills_of(data_of("5.15-memcg-v2-group.dmesg-x.log"))
    assert len(kills) == 1  # "Out of memory and no killable processes..." killed nothing
    assert kills[0].group_cgroup.endswith(b"cri-containerd-7c9e1b2a3d4f.scope")
    assert "3 other tasks" in why(kills[0])


def test_6_1_oom_score_adj_decided():
    kill = kills_of(data_of("6.1-system-adj.journal-iso.log"))[0]
    victim, runner = kill.victim_row(), kill.runner_up()
    assert (victim.name, runner.name) == (b"Web Content", b"java")
    assert runner.points > victim.points and victim.badness > runner.badness
    assert "oom_score_adj decided it" in why(kill) and "%d less" % (victim.badness - runner.badness) in why(kill)


def test_6_6_cpuset_totalpages_from_the_allowed_node():
    kill = kills_of(data_of("6.6-cpuset.dmesg-r.log"))[0]
    assert kill.scope == "cpuset" and kill.mems_allowed == "1" and kill.cpuset == b"batch"
    assert kill.totalpages == 16777216 // PAGE_KB


def test_6_12_split_rss_columns_and_unkillable():
    kill = kills_of(data_of("6.12-system-rss-split.rsyslog-iso.log"))[0]
    postgres = next(row for row in kill.candidates if row.name == b"postgres")
    assert not postgres.eligible and postgres.badness is None and postgres.points > kill.victim_row().points
    assert (kill.victim_row().rss_anon, kill.victim_row().rss_shmem) == (2650111, 11002)
    assert "1 task with oom_score_adj -1000" in why(kill)


def test_lines_around_the_kill():
    lines = data_of(REAL + ".dmesg.log").splitlines(keepends=True)[:100]  # the first report
    killed_line = lines[-1]
    # the "Killed process" line torn: the summary still names the victim
    torn = kills_of(b"".join(lines[:-1] + [killed_line[:60] + b"\n"]))
    assert [kill.pid for kill in torn] == [10005] and torn[0].anon_rss is None and torn[0].notes
    # the victim already exiting: no kill
    exiting = lines[:-1] + [b"[ 5718.404593] Memory cgroup out of memory: OOM victim 10005 (sleep) is already "
                            b"exiting. Skip killing the task\n"]
    assert kills_of(b"".join(exiting)) == []
    # another program's line that looks like the kernel's is not the kernel's
    assert kills_of(b"Dec 04 15:37:19 host myapp[12]: " + killed_line[15:]) == []
    assert kills_of(b"14,5,6,-;" + killed_line[15:]) == []  # /dev/kmsg, facility user
    # two lines glued into one by a torn write are read as two
    glued = b"".join(lines[:-2]) + lines[-2].rstrip(b"\n") + killed_line
    assert [kill.pid for kill in kills_of(glued)] == [10005]
    # the oom_reaper could not reap; the group kill that reaches the victim again is not counted twice
    unable = kills_of(b"".join(lines) + b"[ 5720.0] oom_reaper: unable to reap pid:10005 (sleep)\n")
    assert unable[0].reaped == {"pid": 10005, "comm": b"sleep", "unable": True}
    group = kills_of(b"".join(lines) + b"[ 5718.5] Tasks in /pymap-oomlog-fixture are going to be killed due to "
                     b"memory.oom.group set\n" + killed_line + killed_line.replace(b"10005 (sleep)", b"10007 (sh)"))
    assert len(group) == 1 and [member["pid"] for member in group[0].group_killed] == [10007]


# --- bounds ---------------------------------------------------------------------

def swapped(pid):
    return pid * 7919 % 3001  # (swap entries that reorder the rows: the kept ones are the highest in rss + swap)


def huge_report(rows):
    yield b"[  100.000000] big invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n"
    yield b"[  100.000001] Tasks state (memory values in pages):\n"
    yield b"[  100.000002] [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\n"
    for pid in range(1000, 1000 + rows):
        yield b"[  100.000003] [%7d] %5d %5d %8d %8d %8d %8d         %5d %s\n" % (
            pid, 1000, pid, 20000, pid % 5003, 65536, swapped(pid), 0, b"worker-%d" % pid)
    yield (b"[  100.000004] Out of memory: Killed process 500 (big) total-vm:4000000kB, anon-rss:3990000kB, "
           b"file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:8000kB oom_score_adj:0\n")


def peak_memory(rows):
    tracemalloc.start()
    try:
        kills = list(oomlog.iter_kills(huge_report(rows), strict=True))
        return kills, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_huge_table_is_capped_in_bounded_memory():
    rows = 5000
    kills, peak = peak_memory(rows)
    small_peak = peak_memory(oomlog.MAX_CANDIDATES + 100)[1]
    assert peak < small_peak + (64 << 10) and peak < 1 << 20  # ten times the rows, no more memory
    kill = kills[0]
    assert len(kill.candidates) == oomlog.MAX_CANDIDATES and kill.candidates_total == rows
    assert kill.candidates_more == rows - oomlog.MAX_CANDIDATES
    kept = sorted((pid % 5003 + swapped(pid) for pid in range(1000, 1000 + rows)), reverse=True)
    assert sorted((row.rss + row.swapents for row in kill.candidates), reverse=True) == kept[:oomlog.MAX_CANDIDATES]
    assert "%d more task" % kill.candidates_more in why(kill)
    assert "(%d more tasks)" % (rows - 3) in text_of(kill)


def chunks_of(data, size):
    return (data[start:start + size] for start in range(0, len(data), size))


def test_huge_lines_are_cut():
    data = b"a" * 300000 + b"\n" + b"[ 1.0] ok\n" + b"b" * 70000
    lines = list(kernel_log.bounded_lines(chunks_of(data, 4096), max_line=1000))
    assert lines == [b"a" * 1000, b"[ 1.0] ok", b"b" * 1000]
    assert kills_of(b"x" * 5000000 + b"\n" + data_of("4.9-memcg-v1-child.dmesg.log"))[0].pid == 30412


@given(st.binary(max_size=3000), st.integers(1, 64), st.integers(1, 300))
@settings(max_examples=60, deadline=None)
def test_bounded_lines_split_as_bytes_do(data, chunk, limit):
    expected = [line[:limit] for line in data.split(b"\n")]
    if expected and expected[-1] == b"":
        expected.pop()
    assert list(kernel_log.bounded_lines(chunks_of(data, chunk), max_line=limit)) == expected


# --- hostile logs: never an exception --------------------------------------------

ALL_LINES = [line for name in LOGS for line in data_of(name).splitlines(keepends=True)]
NOISE = [b"usb 1-1: new high-speed USB device number 2 using xhci_hcd\n",
         b"[ 9999.000001] e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex\n",
         b"Dec 04 15:37:19 host systemd[1]: Started Session 4 of user root.\n",
         b"audit: type=1400 audit(1.2:3): apparmor=\"DENIED\" operation=\"open\" name=\"/proc/oom_score_adj\"\n",
         b"[ 9999.000002] EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro\n"]


@given(st.lists(st.binary(max_size=300), max_size=60))
@settings(max_examples=150, deadline=None)
def test_random_bytes_never_raise(lines):
    for kill in oomlog.iter_kills(lines, strict=True):
        json.dumps(oom_report.KillRecord(kill).json_objects())
        text_of(kill)


@given(st.lists(st.tuples(st.sampled_from(ALL_LINES), st.integers(0, 400), st.binary(max_size=8)), max_size=120))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_torn_and_garbled_fixture_lines_never_raise(pieces):
    lines = [line[:cut] + junk for line, cut, junk in pieces]  # cut anywhere, invalid UTF-8 glued on
    for kill in oomlog.iter_kills(lines, strict=True):
        json.dumps(oom_report.KillRecord(kill).json_objects())
        text_of(kill)


@given(st.sampled_from(LOGS), st.data())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_other_messages_between_the_lines_change_nothing(name, data):
    lines = data_of(name).splitlines(keepends=True)
    mixed = []
    for line in lines:
        mixed.extend(data.draw(st.lists(st.sampled_from(NOISE), max_size=2)))
        mixed.append(line)
    expected = [kill.as_json() for kill in kills_of(data_of(name))]
    assert [kill.as_json() for kill in oomlog.iter_kills(mixed, strict=True)] == expected


@given(st.sampled_from(LOGS), st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_dropped_and_torn_lines_never_raise(name, data):
    lines = data_of(name).splitlines(keepends=True)
    kept = [line[:data.draw(st.integers(0, len(line)))] if data.draw(st.booleans()) else line
            for line in lines if data.draw(st.integers(0, 9))]
    kills = list(oomlog.iter_kills(kept, strict=True))
    assert len(kills) <= len(lines)
    for kill in kills:
        assert "could not be explained" not in why(kill)


# pieces of every line the parser knows, put together at random
FRAGMENTS = [b"[ 12.345678] ", b"<4>", b"4,1,2,-;", b"12,1,2,-;", b"kern  :warn  : ", b"user  :info  : ",
             b"Dec  4 15:37:19 host kernel: ", b"Dec 04 15:37:19 host sshd[1]: ", b"[Mon Dec  4 15:37:19 2023] ",
             b"2023-12-04T15:37:19,123456+00:00 ", b"[  T42] ", b" SUBSYSTEM=pci",
             b"x invoked oom-killer: gfp_mask=0x1(GFP_KERNEL), nodemask=0-1,3,  order=0, oom_score_adj=-1000",
             b"CPU: 1 UID: 0 PID: 2 Comm: x Not tainted", b"x cpuset=/ mems_allowed=0-",
             b"Out of memory: ", b"Memory cgroup out of memory: ", b"Kill process 2 (b) score 3 or sacrifice child",
             b"Killed process 1 (a) total-vm:0kB, anon-rss:1kB, file-rss:1kB", b", shmem-rss:1kB",
             b", UID:0 pgtables:1kB oom_score_adj:-5", b"oom-kill:constraint=CONSTRAINT_CPUSET,nodemask=(null)",
             b",cpuset=/,mems_allowed=0-1", b",global_oom", b",oom_memcg=/a,b", b",task_memcg=/",
             b",task=x,pid=1,uid=0",
             b"[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
             b"[ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name",
             b"[      1]", b"[ 2]", b"     0", b"    -1000", b" 99999999999999999999", b" 0 a", b" name",
             b"memory: usage 1kB, limit 0kB, failcnt 0", b"swap: usage 0kB, limit 0kB, failcnt 0",
             b"memory+swap: usage 9kB, limit 9007199254740988kB, failcnt 0", b"Memory cgroup stats for /x:",
             b" cache:1KB", b"anon 5", b"Tasks state (memory values in pages):",
             b"Task in /a killed as a result of limit of /b",
             b"oom_reaper: reaped process 1 (a), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
             b"oom_reaper: unable to reap pid:1 (a)", b"Tasks in /x are going to be killed due to memory.oom.group set",
             b"Out of memory and no killable processes...", b"x: OOM victim 1 (a) is already exiting.", b"\\x0a",
             b"\xff\xfe", b"\n", b"Node 1 Normal free:1kB present:9kB managed:1kB", b"7 pages RAM", b"9 pages reserved",
             b"Total swap = 4kB", b"Mem-Info:", b"(", b")", b",", b" ", b"0", b"-"]


@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=8).map(b"".join), max_size=80))
@settings(max_examples=300, deadline=None)
def test_pieces_of_known_lines_never_raise(lines):
    for kill in oomlog.iter_kills(lines, max_candidates=3, strict=True):
        json.dumps(oom_report.KillRecord(kill).json_objects())
        text_of(kill)
        assert "could not be explained" not in why(kill)
