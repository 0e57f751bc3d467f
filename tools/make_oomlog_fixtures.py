"""Write the synthetic fixtures of tests/fixtures/oomlog: OOM reports built
from each kernel generation's printk format strings, with made-up but
consistent numbers, rendered as each tool prints the kernel log.

    python tools/make_oomlog_fixtures.py

Each scenario is a list of (level, message) as printk would store them
(``report()`` below follows dump_header(), dump_tasks(), dump_oom_summary()
and oom_kill_process() of that kernel, the format strings quoted in
pymap/parse/oomlog.py); a renderer adds the prefixes of one tool:

    dmesg            [%5lu.%06lu] message
    dmesg -T         [%a %b %e %H:%M:%S %Y] message
    dmesg -r         <level>[%5lu.%06lu] message
    dmesg -x         facility:level : [%5lu.%06lu] message (a record's later lines bare)
    /dev/kmsg        level,seq,usec,-;message (\\xNN escapes, " KEY=value" lines)
    kern.log         %b %e %H:%M:%S host kernel: [%5lu.%06lu] message
    journalctl -k    %b %d %H:%M:%S host kernel: message (short, short-precise, short-iso)

The numbers agree with each other as the kernel's would: kB in a "Killed
process" line are the victim's pages x 4, the 4.x "score" is badness x 1000
/ totalpages, Mem-Info's "pages RAM" is the zones' present memory.  The
real report, recorded on a live kernel, is tools/record_oomlog_fixture.py's.
Standard library only; nothing of it runs in the test suite.
"""

import datetime
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "oomlog")

WARN, ERR, INFO, NOTICE = 4, 3, 6, 5


class Log:
    """Messages with the time the kernel stamped them (microseconds since
    boot); a message may hold newlines (one record, several lines)."""

    def __init__(self, boot, start_us):
        self.boot = boot  # wall clock at boot, for -T and syslog
        self.now = start_us
        self.records = []  # (usec, level, text, dictionary lines, facility)

    def add(self, level, text, step=7, dictionary=(), facility=0):
        self.now += step
        self.records.append((self.now, level, text, tuple(dictionary), facility))

    def skip(self, usec):
        self.now += usec


def stamp(usec):
    return "[%5d.%06d]" % divmod(usec, 1000000)


def wall(log, usec):
    return log.boot + datetime.timedelta(microseconds=usec)


def render(log, style, host="host"):
    lines = []
    for usec, level, text, dictionary, facility in log.records:
        moment = wall(log, usec)
        if facility:  # another program's line: only in syslog and journal styles
            if style in ("kern.log", "journal", "journal-precise", "journal-iso", "rsyslog-iso"):
                lines.append(syslog_prefix(style, moment, host, text))
            continue
        parts = text.split("\n")
        if style == "kmsg":
            escaped = "".join(c if 32 <= ord(c) < 127 and c != "\\" else "".join(
                "\\x%02x" % b for b in c.encode()) for c in text)
            lines.append("%d,%d,%d,-;%s" % (facility << 3 | level, len(lines) + 4100, usec, escaped))
            lines.extend(" " + entry for entry in dictionary)
            continue
        for index, part in enumerate(parts):
            if style == "dmesg":
                lines.append("%s %s" % (stamp(usec), part))
            elif style == "dmesg-T":
                lines.append("[%s] %s" % (moment.strftime("%a %b ") + "%2d" % moment.day
                                          + moment.strftime(" %H:%M:%S %Y"), part))
            elif style == "dmesg-r":
                lines.append("<%d>%s %s" % (level, stamp(usec), part))
            elif style == "dmesg-x":
                if index:  # util-linux prints a record's later lines as they are
                    lines.append(part)
                else:
                    name = {3: "err", 4: "warn", 5: "notice", 6: "info"}[level]
                    lines.append("kern  :%-6s: %s %s" % (name, stamp(usec), part))
            elif style in ("kern.log", "rsyslog-iso"):
                # syslog(2) text: "[time][caller] message" when the kernel has printk caller IDs
                separator = "" if part.startswith("[  T") else " "
                lines.append(syslog_prefix(style, moment, host, stamp(usec) + separator + part))
            elif style in ("journal", "journal-precise", "journal-iso"):
                if index:  # journalctl indents a message's later lines under the first
                    lines.append(" " * len(syslog_prefix(style, moment, host, "")) + part)
                else:
                    lines.append(syslog_prefix(style, moment, host, part))
            else:
                raise ValueError(style)
    return "".join(line + "\n" for line in lines)


def syslog_prefix(style, moment, host, text, tag="kernel"):
    if isinstance(text, tuple):
        tag, text = text
    if style == "kern.log":
        when = moment.strftime("%b ") + "%2d" % moment.day + moment.strftime(" %H:%M:%S")
    elif style == "journal":
        when = moment.strftime("%b %d %H:%M:%S")
    elif style == "journal-precise":
        when = moment.strftime("%b %d %H:%M:%S.%f")
    elif style == "journal-iso":
        when = moment.strftime("%Y-%m-%dT%H:%M:%S") + "+0200"
    else:  # rsyslog's RFC 3339 high-precision format
        when = moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"
    return "%s %s %s: %s" % (when, host, tag, text)


def other(log, tag, text, step=40):
    """A line of another program (syslog and journal styles only)."""
    log.add(INFO, (tag, text), step=step, facility=3)


# --- the kernel's lines -------------------------------------------------------

def row_4_4(pid, uid, tgid, total_vm, rss, nr_ptes, nr_pmds, swapents, adj, name):
    # "[%5d] %5d %5d %8lu %8lu %7ld %7ld %8lu         %5hd %s\n"
    return "[%5d] %5d %5d %8d %8d %7d %7d %8d         %5d %s" % (
        pid, uid, tgid, total_vm, rss, nr_ptes, nr_pmds, swapents, adj, name)


def row_4_19(pid, uid, tgid, total_vm, rss, pgtables_bytes, swapents, adj, name):
    # "[%7d] %5d %5d %8lu %8lu %8ld %8lu         %5hd %s\n"
    return "[%7d] %5d %5d %8d %8d %8d %8d         %5d %s" % (
        pid, uid, tgid, total_vm, rss, pgtables_bytes, swapents, adj, name)


def row_6_8(pid, uid, tgid, total_vm, rss_anon, rss_file, rss_shmem, pgtables_bytes, swapents, adj, name):
    # "[%7d] %5d %5d %8lu %8lu %8lu %8lu %9lu %8ld %8lu         %5hd %s\n"
    return "[%7d] %5d %5d %8d %8d %8d %8d %9d %8d %8d         %5d %s" % (
        pid, uid, tgid, total_vm, rss_anon + rss_file + rss_shmem, rss_anon, rss_file, rss_shmem, pgtables_bytes,
        swapents, adj, name)


HEADER_4_4 = "[ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name"
HEADER_4_19 = "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"
HEADER_6_8 = ("[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents "
              "oom_score_adj name")


def counter(name, usage, limit, failcnt):
    # "memory: usage %llukB, limit %llukB, failcnt %lu\n" (and memory+swap:, kmem:, swap:)
    return "%s: usage %dkB, limit %dkB, failcnt %d" % (name, usage, limit, failcnt)


def killed(message, pid, comm, total_vm_pages, anon_kb, file_kb, shmem_kb=None, uid=None, pgtables_kb=None,
           adj=None):
    # 4.4:  "Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB\n"
    # 4.5:  ... ", shmem-rss:%lukB\n"
    # 5.4+: "%s: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB,
    #        UID:%u pgtables:%lukB oom_score_adj:%hd\n"
    text = "Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB" % (
        pid, comm, total_vm_pages * 4, anon_kb, file_kb)
    if shmem_kb is not None:
        text += ", shmem-rss:%dkB" % shmem_kb
    if uid is not None:
        text += ", UID:%d pgtables:%dkB oom_score_adj:%d" % (uid, pgtables_kb, adj)
    return (message + ": " + text) if message else text


def reaped(pid, comm):
    # "oom_reaper: reaped process %d (%s), now anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB\n"
    return "oom_reaper: reaped process %d (%s), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB" % (pid, comm)


def stack(log, frames, style="6"):
    if style == "4.4":
        log.add(WARN, " 0000000000000286 00000000e7e3b5a3 ffff8800e9c37a90 ffffffff813f7583")
        for address, frame in frames:
            log.add(WARN, " [<%s>] %s" % (address, frame))
        return
    log.add(WARN, "Call Trace:")
    if style != "5":
        log.add(WARN, " <TASK>")
    for _, frame in frames:
        log.add(WARN, " " + frame)
    if style != "5":
        log.add(WARN, " </TASK>")


def mem_info(log, zones, ram_pages, reserved_pages, swap_kb, free_swap_kb, hwpoisoned=True):
    """show_mem(): the lines oomlog reads (pages RAM, reserved, Total swap,
    the zones' present:) among the others."""
    log.add(WARN, "Mem-Info:")
    log.add(WARN, "active_anon:1823 inactive_anon:%d isolated_anon:0\n active_file:171 inactive_file:98 "
                  "isolated_file:0\n unevictable:0 dirty:0 writeback:0\n slab_reclaimable:10311 "
                  "slab_unreclaimable:22054\n mapped:341 shmem:1129 pagetables:6210\n free:%d free_pcp:312 "
                  "free_cma:0" % (ram_pages - reserved_pages - 40000, 21000))
    for node, zone, present_kb, managed_kb in zones:
        log.add(WARN, "Node %d %s free:%dkB boost:0kB min:%dkB low:%dkB high:%dkB reserved_highatomic:0KB "
                      "active_anon:0kB inactive_anon:%dkB active_file:0kB inactive_file:0kB unevictable:0kB "
                      "writepending:0kB present:%dkB managed:%dkB mlocked:0kB bounce:0kB free_pcp:0kB "
                      "local_pcp:0kB free_cma:0kB" % (
                          node, zone, managed_kb // 200, managed_kb // 400, managed_kb // 320, managed_kb // 267,
                          managed_kb - managed_kb // 150, present_kb, managed_kb))
        log.add(WARN, "lowmem_reserve[]: 0 0 0 0 0")
    for node, zone, _, managed_kb in zones:
        log.add(INFO, "Node %d %s: 12*4kB (UM) 8*8kB (UM) 4*16kB (M) 3*32kB (UM) 2*64kB (U) 1*128kB (U) 0*256kB "
                      "1*512kB (U) 1*1024kB (M) 1*2048kB (M) %d*4096kB (M) = %dkB" % (
                          node, zone, managed_kb // 200 // 4096, managed_kb // 200))
    log.add(INFO, "Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=2048kB")
    log.add(INFO, "2204 total pagecache pages")
    log.add(INFO, "%d pages in swap cache" % (0 if not swap_kb else 1203))
    log.add(INFO, "Free swap  = %dkB" % free_swap_kb)
    log.add(INFO, "Total swap = %dkB" % swap_kb)
    log.add(INFO, "%d pages RAM" % ram_pages)
    log.add(INFO, "0 pages HighMem/MovableOnly")
    log.add(INFO, "%d pages reserved" % reserved_pages)
    log.add(INFO, "0 pages cma reserved")
    if hwpoisoned:
        log.add(INFO, "0 pages hwpoisoned")


def zones_for(zones):
    """(pages RAM, pages reserved) as __show_mem() sums the zones."""
    present = sum(zone[2] for zone in zones)
    managed = sum(zone[3] for zone in zones)
    return present // 4, (present - managed) // 4


ALLOC_FRAMES = [("ffffffff813f7583", "dump_stack+0x63/0x90"), ("ffffffff8120b0ee", "dump_header+0x5a/0x1c5"),
                ("ffffffff81192722", "oom_kill_process+0x202/0x3c0"), ("ffffffff81192b49", "out_of_memory+0x219/0x460"),
                ("ffffffff81198abd", "__alloc_pages_slowpath+0x8fd/0xa70"),
                ("ffffffff81198eb6", "__alloc_pages_nodemask+0x286/0x2a0"),
                ("ffffffff811e2c6c", "alloc_pages_vma+0xbc/0x200"),
                ("ffffffff811c1abd", "handle_mm_fault+0xf8d/0x1820"),
                ("ffffffff8106b577", "__do_page_fault+0x197/0x400"), ("ffffffff81838e78", "page_fault+0x28/0x30")]
MEMCG_FRAMES = [("ffffffff81330c3e", "dump_stack+0x5c/0x7e"), ("ffffffff811ff6f1", "dump_header+0x82/0x218"),
                ("ffffffff81185d6c", "oom_kill_process+0x21c/0x430"), ("ffffffff811863ee", "out_of_memory+0x2ae/0x4f0"),
                ("ffffffff811f5d35", "mem_cgroup_out_of_memory+0x45/0x60"),
                ("ffffffff811fad1b", "mem_cgroup_oom_synchronize+0x2fb/0x320"),
                ("ffffffff81186a4d", "pagefault_out_of_memory+0x2d/0x80"),
                ("ffffffff81061a37", "mm_fault_error+0x8f/0x190"),
                ("ffffffff816150c8", "page_fault+0x28/0x30")]


# --- the scenarios -----------------------------------------------------------

def linux_4_4_system():
    """4.4: a system-wide OOM on a 4 GiB machine without swap; java is the
    largest; kern.log with other programs' lines and kernel lines among the
    report's."""
    log = Log(datetime.datetime(2019, 3, 7, 3, 0, 0), 812345123456)
    zones = [(0, "DMA", 15992, 15908), (0, "DMA32", 3129216, 3063680), (0, "Normal", 1048576, 1011028)]
    ram, reserved = zones_for(zones)
    other(log, "CRON[3031]", "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)")
    # "%s invoked oom-killer: gfp_mask=0x%x, order=%d, oom_score_adj=%hd\n"
    log.add(WARN, "java invoked oom-killer: gfp_mask=0x24201ca, order=0, oom_score_adj=0")
    # cpuset_print_current_mems_allowed(): "%s cpuset=%s mems_allowed=%*pbl\n"
    log.add(INFO, "java cpuset=/ mems_allowed=0")
    log.add(WARN, "CPU: 3 PID: 21870 Comm: java Not tainted 4.4.0-142-generic #168-Ubuntu")
    log.add(WARN, "Hardware name: Xen HVM domU, BIOS 4.2.amazon 08/24/2006")
    stack(log, ALLOC_FRAMES, "4.4")
    mem_info(log, zones, ram, reserved, 0, 0)
    log.add(INFO, "TCP: request_sock_TCP: Possible SYN flooding on port 8080. Sending cookies.  Check SNMP counters.",
            step=31)
    rows = [(412, 0, 412, 8832, 1203, 21, 3, 0, 0, "systemd-journal"),
            (441, 0, 441, 10737, 189, 22, 3, 0, -1000, "systemd-udevd"),
            (803, 104, 803, 64668, 412, 28, 3, 0, 0, "rsyslogd"),
            (1011, 0, 1011, 16380, 241, 36, 3, 0, -1000, "sshd"),
            (1130, 111, 1130, 419651, 96211, 270, 5, 0, 0, "mysqld"),
            (2210, 1000, 2210, 5626, 1034, 16, 3, 0, 0, "bash"),
            (21844, 1001, 21844, 3128021, 893344, 1841, 14, 0, 0, "java")]
    log.add(INFO, HEADER_4_4)
    for row in rows:
        log.add(INFO, row_4_4(*row))
        if row[0] == 1011:
            other(log, "sshd[9921]", "Connection closed by 203.0.113.9 port 51122 [preauth]", step=3)
    totalpages = ram - reserved
    java = rows[-1]
    badness = java[4] + java[5] + java[6] + java[7]
    log.add(ERR, "Out of memory: Kill process %d (%s) score %d or sacrifice child" % (
        java[0], java[9], badness * 1000 // totalpages))
    log.add(ERR, killed(None, 21844, "java", 3128021, 3571280, 2096))
    other(log, "systemd[1]", "tomcat.service: Main process exited, code=killed, status=9/KILL", step=900)
    return log


def linux_4_9_memcg_child():
    """4.9: a container at its 1 GiB limit (memory+swap limited the same,
    so totalpages is exact); the kernel chose the parent and killed its
    largest child."""
    log = Log(datetime.datetime(2019, 1, 20, 8, 0, 0), 53210987654)
    log.add(WARN, "python3 invoked oom-killer: gfp_mask=0x24000c0(GFP_KERNEL), nodemask=0, order=0, "
                  "oom_score_adj=0")
    log.add(INFO, "python3 cpuset=4f2b8e1c9a7d mems_allowed=0")
    log.add(WARN, "CPU: 0 PID: 30412 Comm: python3 Not tainted 4.9.0-8-amd64 #1 Debian 4.9.144-3")
    log.add(WARN, "Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.10.2-1 04/01/2014")
    log.add(WARN, " 0000000000000000 ffffffff81330c3e ffffc90000d4fcd8 ffff88003a6d0000")
    for address, frame in MEMCG_FRAMES:
        log.add(WARN, " [<%s>] ? %s" % (address, frame))
    # mem_cgroup_print_oom_info()
    log.add(INFO, "Task in /docker/4f2b8e1c9a7d killed as a result of limit of /docker/4f2b8e1c9a7d")
    log.add(INFO, counter("memory", 1048576, 1048576, 3812))
    log.add(INFO, counter("memory+swap", 1048576, 1048576, 0))
    log.add(INFO, counter("kmem", 9844, 9007199254740988, 0))
    # "Memory cgroup stats for " <path> ":" then " %s:%luKB" per counter
    log.add(INFO, "Memory cgroup stats for /docker/4f2b8e1c9a7d: cache:352KB rss:1038368KB rss_huge:0KB "
                  "mapped_file:12KB dirty:0KB writeback:0KB swap:0KB inactive_anon:0KB active_anon:1038340KB "
                  "inactive_file:160KB active_file:188KB unevictable:0KB")
    log.add(INFO, HEADER_4_4)
    rows = [(30388, 0, 30388, 1059, 5, 7, 3, 0, 0, "tini"),
            (30401, 1000, 30401, 231532, 112003, 291, 4, 0, 0, "python3"),
            (30412, 1000, 30412, 231532, 71240, 210, 4, 0, 0, "python3"),
            (30413, 1000, 30413, 231532, 68310, 204, 4, 0, 0, "python3")]
    for row in rows:
        log.add(INFO, row_4_4(*row))
    parent = rows[1]
    log.add(ERR, "Memory cgroup out of memory: Kill process %d (%s) score %d or sacrifice child" % (
        parent[0], parent[9], (parent[4] + parent[5] + parent[6]) * 1000 // 262144))
    log.add(ERR, killed(None, 30412, "python3", 231532, 283776, 1184, 0))
    log.add(INFO, "docker0: port 2(veth3c1d2e7) entered disabled state", step=2100)
    log.add(INFO, reaped(30412, "python3"), step=1500)
    return log


def linux_4_14_memcg_ratelimited():
    """4.14: a Kubernetes pod at its 512 MiB limit (the victim's cgroup is
    a container under it, memory+swap unlimited); then, 3 s later, a kill
    whose report was rate-limited: only its kill lines."""
    log = Log(datetime.datetime(2019, 6, 11, 13, 0, 0), 3751004513)
    log.add(WARN, "node invoked oom-killer: gfp_mask=0x14000c0(GFP_KERNEL), nodemask=(null),  order=0, "
                  "oom_score_adj=936")
    log.add(INFO, "node cpuset=9b1c2f0e3a44 mems_allowed=0")
    log.add(WARN, "CPU: 2 PID: 17713 Comm: node Not tainted 4.14.114-105.126.amzn2.x86_64 #1")
    log.add(WARN, "Hardware name: Amazon EC2 m5.large/, BIOS 1.0 10/16/2017")
    stack(log, MEMCG_FRAMES, "5")
    log.add(INFO, "Task in /kubepods/burstable/pod7c1e44f2/9b1c2f0e3a44 killed as a result of limit of "
                  "/kubepods/burstable/pod7c1e44f2")
    log.add(INFO, counter("memory", 524288, 524288, 1541))
    log.add(INFO, counter("memory+swap", 524288, 9007199254740988, 0))
    log.add(INFO, counter("kmem", 6012, 9007199254740988, 0))
    log.add(INFO, "Memory cgroup stats for /kubepods/burstable/pod7c1e44f2: cache:0KB rss:0KB rss_huge:0KB "
                  "shmem:0KB mapped_file:0KB dirty:0KB writeback:0KB swap:0KB inactive_anon:0KB active_anon:0KB "
                  "inactive_file:0KB active_file:0KB unevictable:0KB")
    log.add(INFO, "Memory cgroup stats for /kubepods/burstable/pod7c1e44f2/5a2d77e1c0b9: cache:0KB rss:40KB "
                  "rss_huge:0KB shmem:0KB mapped_file:0KB dirty:0KB writeback:0KB swap:0KB inactive_anon:0KB "
                  "active_anon:40KB inactive_file:0KB active_file:0KB unevictable:0KB")
    log.add(INFO, "Memory cgroup stats for /kubepods/burstable/pod7c1e44f2/9b1c2f0e3a44: cache:12KB "
                  "rss:518200KB rss_huge:0KB shmem:0KB mapped_file:0KB dirty:0KB writeback:0KB swap:0KB "
                  "inactive_anon:0KB active_anon:518180KB inactive_file:4KB active_file:8KB unevictable:0KB")
    log.add(INFO, HEADER_4_4)
    rows = [(17690, 0, 17690, 256, 1, 4, 3, 0, -998, "pause"),
            (17713, 1000, 17713, 298912, 124104, 402, 5, 0, 936, "node"),
            (17801, 65534, 17801, 24012, 3020, 48, 3, 0, 936, "node_exporter")]
    for row in rows:
        log.add(INFO, row_4_4(*row))
    node = rows[1]
    badness = node[4] + node[5] + node[6] + node[8] * (131072 // 1000)
    log.add(ERR, "Memory cgroup out of memory: Kill process 17713 (node) score %d or sacrifice child" % (
        badness * 1000 // 131072))
    log.add(ERR, killed(None, 17713, "node", 298912, 494356, 2060, 0))
    log.add(INFO, reaped(17713, "node"), step=35000)
    log.skip(3000000)
    log.add(ERR, "Memory cgroup out of memory: Kill process 18003 (node) score %d or sacrifice child" % (
        (124290 + 402 + 5 + 936 * 131) * 1000 // 131072))
    log.add(ERR, killed(None, 18003, "node", 299168, 495100, 2060, 0))
    return log


def linux_4_19_system():
    """4.19: system-wide, 8 GiB RAM and 2 GiB swap; a runaway PostgreSQL
    backend; the early 4.19 summary line split in two (",global_oom..."
    was printed with pr_info()); journalctl -k with other units' lines."""
    log = Log(datetime.datetime(2021, 12, 4, 15, 0, 0), 2239118822)
    zones = [(0, "DMA", 15992, 15908), (0, "DMA32", 3129216, 3050016), (0, "Normal", 5242864, 5110488)]
    ram, reserved = zones_for(zones)
    log.add(WARN, "postgres invoked oom-killer: gfp_mask=0x6280ca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO), order=0, "
                  "oom_score_adj=0")
    log.add(WARN, "CPU: 1 PID: 8812 Comm: postgres Not tainted 4.19.0-16-amd64 #1 Debian 4.19.181-1")
    log.add(WARN, "Hardware name: VMware, Inc. VMware Virtual Platform/440BX Desktop Reference Platform, BIOS "
                  "6.00 12/12/2018")
    stack(log, ALLOC_FRAMES, "5")
    log.add(INFO, "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0")
    log.add(INFO, ",global_oom,task_memcg=/system.slice/postgresql@11-main.service,task=postgres,pid=8812,uid=112")
    mem_info(log, zones, ram, reserved, 2097148, 0)
    log.add(INFO, "Tasks state (memory values in pages):")
    log.add(INFO, HEADER_4_19)
    rows = [(352, 0, 352, 12104, 2101, 110592, 31, 0, "systemd-journal"),
            (371, 0, 371, 5773, 201, 65536, 210, -1000, "systemd-udevd"),
            (602, 0, 602, 3164, 0, 65536, 231, -1000, "sshd"),
            (1207, 0, 1207, 42001, 9011, 270336, 1022, 0, "td-agent"),
            (8790, 112, 8790, 1105310, 21033, 704512, 2204, -900, "postgres"),
            (8812, 112, 8812, 2400000, 1720411, 14024704, 509301, 0, "postgres"),
            (9120, 112, 9120, 1106020, 10233, 380928, 803, 0, "postgres")]
    for row in rows:
        log.add(INFO, row_4_19(*row))
    victim = rows[5]
    totalpages = ram - reserved + 2097148 // 4
    badness = victim[4] + victim[6] + victim[5] // 4096
    log.add(ERR, "Out of memory: Kill process 8812 (postgres) score %d or sacrifice child" % (
        badness * 1000 // totalpages))
    log.add(ERR, killed(None, 8812, "postgres", 2400000, 6880116, 1528, 0))
    log.add(INFO, reaped(8812, "postgres"), step=60000)
    other(log, "postgres[8790]", "2021-12-04 15:37:21.101 UTC [8790] LOG:  server process (PID 8812) was "
                                 "terminated by signal 9: Killed", step=1000)
    other(log, "systemd[1]", "postgresql@11-main.service: A process of this unit has been killed by the OOM "
                             "killer.", step=100)
    return log


MEMORY_STAT_5_4 = """anon 2125230080
file 4096000
kernel_stack 1179648
slab 12288000
sock 0
shmem 0
file_mapped 135168
file_dirty 0
file_writeback 0
anon_thp 0
inactive_anon 0
active_anon 2125000704
inactive_file 2048000
active_file 2048000
unevictable 0
slab_reclaimable 5734400
slab_unreclaimable 6553600
pgfault 1301321
pgmajfault 0
workingset_refault 0
workingset_activate 0
workingset_nodereclaim 0
pgrefill 0
pgscan 1222
pgsteal 1041
pgactivate 0
pgdeactivate 0
pglazyfree 0
pglazyfreed 0
thp_fault_alloc 0
thp_collapse_alloc 0"""


def linux_5_4_memcg_v2():
    """5.4: a systemd unit with MemoryMax=2G and MemorySwapMax=0 (cgroup
    v2); memory.stat as one record of many lines (journalctl indents them)."""
    log = Log(datetime.datetime(2023, 1, 15, 9, 0, 0), 1802123456)
    unit = "/user.slice/user-1000.slice/user@1000.service/app.slice/run-u42.service"
    log.add(WARN, "cc1plus invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0")
    log.add(WARN, "CPU: 6 PID: 48211 Comm: cc1plus Not tainted 5.4.0-150-generic #167-Ubuntu")
    log.add(WARN, "Hardware name: LENOVO 20QD000LGE/20QD000LGE, BIOS N2HET63W (1.46 ) 06/01/2021")
    stack(log, [(None, "dump_stack+0x6d/0x8b"), (None, "dump_header+0x4f/0x1eb"),
                (None, "oom_kill_process.cold+0xb/0x10"), (None, "out_of_memory+0x1cf/0x500"),
                (None, "mem_cgroup_out_of_memory+0xbd/0xe0"), (None, "try_charge+0x77c/0x810"),
                (None, "mem_cgroup_try_charge+0x71/0x190"), (None, "__add_to_page_cache_locked+0x2ff/0x3f0"),
                (None, "handle_mm_fault+0xca/0x200"), (None, "page_fault+0x34/0x40")], "5")
    log.add(INFO, counter("memory", 2097152, 2097152, 18203))
    log.add(INFO, counter("swap", 0, 0, 0))
    log.add(INFO, "Memory cgroup stats for %s:" % unit)
    log.add(INFO, MEMORY_STAT_5_4)
    log.add(INFO, "Tasks state (memory values in pages):")
    log.add(INFO, HEADER_4_19)
    rows = [(48102, 1000, 48102, 4455, 1322, 69632, 0, 0, "make"),
            (48199, 1000, 48199, 12004, 3011, 110592, 0, 0, "ld"),
            (48211, 1000, 48211, 250120, 180203, 1540096, 0, 0, "cc1plus"),
            (48230, 1000, 48230, 249300, 171044, 1462272, 0, 0, "cc1plus"),
            (48244, 1000, 48244, 238112, 160288, 1376256, 0, 0, "cc1plus")]
    for row in rows:
        log.add(INFO, row_4_19(*row))
    log.add(INFO, "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=%s,"
                  "task_memcg=%s,task=cc1plus,pid=48211,uid=1000" % (unit, unit))
    log.add(ERR, killed("Memory cgroup out of memory", 48211, "cc1plus", 250120, 718588, 2224, 0, 1000, 1504, 0))
    log.add(INFO, reaped(48211, "cc1plus"), step=20000)
    return log


def linux_5_10_system():
    """5.10, read from /dev/kmsg: a global OOM whose victim's comm is not
    ASCII (escaped by /dev/kmsg), a device message with its dictionary
    lines in between; then, with vm.oom_kill_allocating_task, a kill of
    the allocating task that is not the largest."""
    log = Log(datetime.datetime(2022, 2, 8, 10, 0, 0), 96412300000)
    zones = [(0, "DMA", 15992, 15360), (0, "DMA32", 2080640, 1997724), (0, "Normal", 6291456, 6101492)]
    ram, reserved = zones_for(zones)
    log.add(WARN, "pythön invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0")
    log.add(WARN, "CPU: 2 PID: 3310 Comm: pythön Not tainted 5.10.0-21-amd64 #1 Debian 5.10.162-1")
    log.add(WARN, "Hardware name: Dell Inc. OptiPlex 7070/0YNVJG, BIOS 1.18.0 09/15/2022")
    stack(log, [(None, "dump_stack+0x6b/0x83"), (None, "dump_header+0x4a/0x1f4"),
                (None, "oom_kill_process.cold+0xb/0x10"), (None, "out_of_memory+0x1bd/0x4e0"),
                (None, "__alloc_pages_slowpath.constprop.0+0xbcc/0xc90"), (None, "__alloc_pages_nodemask+0x2de/0x310"),
                (None, "handle_mm_fault+0x1125/0x1c00"), (None, "exc_page_fault+0x78/0x160"),
                (None, "asm_exc_page_fault+0x1e/0x30")], "5")
    mem_info(log, zones, ram, reserved, 0, 0)
    log.add(INFO, "e1000e 0000:00:1f.6 eno1: NIC Link is Down",
            dictionary=("SUBSYSTEM=pci", "DEVICE=+pci:0000:00:1f.6"))
    log.add(INFO, "Tasks state (memory values in pages):")
    log.add(INFO, HEADER_4_19)
    rows = [(1, 0, 1, 41312, 2310, 98304, 0, 0, "systemd"),
            (488, 0, 488, 19832, 4102, 172032, 0, -250, "systemd-journal"),
            (912, 101, 912, 23144, 1923, 86016, 0, 0, "systemd-resolve"),
            (3310, 1000, 3310, 1900442, 1821304, 15048704, 0, 0, "pythön"),
            (3402, 1000, 3402, 620103, 120011, 1155072, 0, 200, "chrome")]
    for row in rows:
        log.add(INFO, row_4_19(*row))
    log.add(INFO, "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
                  "task_memcg=/user.slice/user-1000.slice/session-2.scope,task=pythön,pid=3310,uid=1000")
    log.add(ERR, killed("Out of memory", 3310, "pythön", 1900442, 7283016, 2200, 0, 1000, 14696, 0))
    log.add(INFO, reaped(3310, "pythön"), step=180000)
    log.skip(61000000)
    log.add(WARN, "stress-ng-vm invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, "
                  "oom_score_adj=0")
    log.add(WARN, "CPU: 0 PID: 5120 Comm: stress-ng-vm Not tainted 5.10.0-21-amd64 #1 Debian 5.10.162-1")
    mem_info(log, zones, ram, reserved, 0, 0)
    log.add(INFO, "Tasks state (memory values in pages):")
    log.add(INFO, HEADER_4_19)
    rows = [(1, 0, 1, 41312, 2310, 98304, 0, 0, "systemd"),
            (4410, 1000, 4410, 2512000, 1500100, 12288000, 0, 0, "java"),
            (5120, 0, 5120, 600100, 420000, 3440640, 0, 0, "stress-ng-vm")]
    for row in rows:
        log.add(INFO, row_4_19(*row))
    log.add(INFO, "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
                  "task_memcg=/user.slice/user-0.slice/session-4.scope,task=stress-ng-vm,pid=5120,uid=0")
    log.add(ERR, killed("Out of memory (oom_kill_allocating_task)", 5120, "stress-ng-vm", 600100, 1679200, 800, 0,
                        0, 3360, 0))
    return log


def memory_stat_5_15(anon):
    names = ["anon", "file", "kernel_stack", "pagetables", "percpu", "sock", "shmem", "file_mapped", "file_dirty",
             "file_writeback", "swapcached", "anon_thp", "file_thp", "shmem_thp", "inactive_anon", "active_anon",
             "inactive_file", "active_file", "unevictable", "slab_reclaimable", "slab_unreclaimable", "slab",
             "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
             "workingset_activate_file", "workingset_restore_anon", "workingset_restore_file",
             "workingset_nodereclaim", "pgfault", "pgmajfault", "pgrefill", "pgscan", "pgsteal", "pgactivate",
             "pgdeactivate", "pglazyfree", "pglazyfreed", "thp_fault_alloc", "thp_collapse_alloc"]
    values = {"anon": anon, "file": 1105920, "kernel_stack": 212992, "pagetables": 3862528, "percpu": 4320,
              "inactive_anon": anon - 4096, "active_anon": 4096, "inactive_file": 552960, "active_file": 552960,
              "slab_reclaimable": 409600, "slab_unreclaimable": 1056768, "slab": 1466368, "pgfault": 881203,
              "pgscan": 3301, "pgsteal": 1203}
    return "\n".join("%s %d" % (name, values.get(name, 0)) for name in names)


def linux_5_15_memcg_group():
    """5.15, dmesg -x: a unit whose only task has oom_score_adj -1000 ("no
    killable processes": no kill), then a Kubernetes container with
    memory.oom.group set: the victim and the rest of its cgroup."""
    log = Log(datetime.datetime(2023, 9, 2, 22, 0, 0), 3301203004)
    log.add(WARN, "sshd invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=-1000")
    log.add(WARN, "CPU: 3 PID: 911 Comm: sshd Not tainted 5.15.0-84-generic #93-Ubuntu")
    stack(log, [(None, "dump_stack_lvl+0x4a/0x63"), (None, "dump_header+0x4a/0x1f4"),
                (None, "out_of_memory.cold+0x3a/0x7e"), (None, "mem_cgroup_out_of_memory+0x13f/0x160")], "5")
    log.add(INFO, counter("memory", 65536, 65536, 12))
    log.add(INFO, counter("swap", 0, 0, 0))
    log.add(INFO, "Memory cgroup stats for /system.slice/ssh.service:")
    log.add(INFO, memory_stat_5_15(61440000))
    log.add(INFO, "Tasks state (memory values in pages):")
    log.add(INFO, HEADER_4_19)
    log.add(INFO, row_4_19(911, 0, 911, 3872, 15001, 77824, 0, -1000, "sshd"))
    log.add(WARN, "Out of memory and no killable processes...")
    log.skip(1200000)
    scope = ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1d2e3f40_5a6b_4c7d_8e9f_0a1b2c3d4e5f"
             ".slice/cri-containerd-7c9e1b2a3d4f.scope")
    log.add(WARN, "gunicorn invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=979")
    log.add(WARN, "CPU: 1 PID: 120377 Comm: gunicorn Not tainted 5.15.0-84-generic #93-Ubuntu")
    stack(log, [(None, "dump_stack_lvl+0x4a/0x63"), (None, "dump_header+0x4a/0x1f4"),
                (None, "oom_kill_process.cold+0xb/0x10"), (None, "out_of_memory+0x106/0x2e0"),
                (None, "mem_cgroup_out_of_memory+0x13f/0x160"), (None, "try_charge_memcg+0x687/0x740")], "5")
    log.add(INFO, counter("memory", 1048576, 1048576, 402))
    log.add(INFO, counter("swap", 0, 0, 0))
    log.add(INFO, "Memory cgroup stats for %s:" % scope)
    log.add(INFO, memory_stat_5_15(1060352000))
    log.add(INFO, "Tasks state (memory values in pages):")
    log.add(INFO, HEADER_4_19)
    rows = [(120301, 1000, 120301, 30310, 9101, 184320, 0, 979, "gunicorn"),
            (120377, 1000, 120377, 160102, 121330, 1073152, 0, 979, "gunicorn"),
            (120378, 1000, 120378, 150012, 71001, 647168, 0, 979, "gunicorn"),
            (120379, 1000, 120379, 148000, 54003, 491520, 0, 979, "gunicorn")]
    for row in rows:
        log.add(INFO, row_4_19(*row))
    log.add(INFO, "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-7c9e1b2a3d4f.scope,"
                  "mems_allowed=0,oom_memcg=%s,task_memcg=%s,task=gunicorn,pid=120377,uid=1000" % (scope, scope))
    log.add(ERR, killed("Memory cgroup out of memory", 120377, "gunicorn", 160102, 483200, 2120, 0, 1000, 1048,
                        979))
    # mem_cgroup_print_oom_group(): "Tasks in " <path> " are going to be killed due to memory.oom.group set\n"
    log.add(INFO, "Tasks in %s are going to be killed due to memory.oom.group set" % scope)
    log.add(ERR, killed("Memory cgroup out of memory", 120301, "gunicorn", 30310, 34300, 2104, 0, 1000, 180, 979))
    log.add(ERR, killed("Memory cgroup out of memory", 120378, "gunicorn", 150012, 281900, 2104, 0, 1000, 632,
                        979))
    log.add(ERR, killed("Memory cgroup out of memory", 120379, "gunicorn", 148000, 213908, 2104, 0, 1000, 480,
                        979))
    log.add(INFO, reaped(120377, "gunicorn"), step=40000)
    return log


def linux_6_1_system():
    """6.1, journalctl -o short-iso: a laptop with 4 GiB and 8 GiB of zram
    swap; Firefox's content process (oom_score_adj 267) is killed although
    java holds more memory: oom_score_adj decided it."""
    log = Log(datetime.datetime(2024, 5, 2, 9, 0, 0), 8433020111)
    zones = [(0, "DMA", 15992, 15360), (0, "DMA32", 3129216, 3040932), (0, "Normal", 1048576, 1009620)]
    ram, reserved = zones_for(zones)
    log.add(WARN, "java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, "
                  "oom_score_adj=0")
    log.add(WARN, "CPU: 3 PID: 1452 Comm: java Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1")
    log.add(WARN, "Hardware name: LENOVO 20XW0055GE/20XW0055GE, BIOS N32ET86W (1.62 ) 02/05/2024")
    stack(log, [(None, "dump_stack_lvl+0x44/0x5c"), (None, "dump_header+0x4a/0x211"),
                (None, "oom_kill_process.cold+0xb/0x10"), (None, "out_of_memory+0x1fd/0x4c0"),
                (None, "__alloc_pages_slowpath.constprop.0+0xcb6/0xe00"), (None, "__alloc_pages+0x305/0x330"),
                (None, "__folio_alloc+0x16/0x50"), (None, "vma_alloc_folio+0x8f/0x350"),
                (None, "__handle_mm_fault+0x9c8/0xfd0"), (None, "handle_mm_fault+0xdb/0x2d0"),
                (None, "do_user_addr_fault+0x191/0x550"), (None, "exc_page_fault+0x70/0x170"),
                (None, "asm_exc_page_fault+0x22/0x30")])
    other(log, "kded5[1611]", "org.kde.plasma.notifications: Failed to get notification server", step=5)
    mem_info(log, zones, ram, reserved, 8388604, 0)
    log.add(INFO, "Tasks state (memory values in pages):")
    log.add(INFO, HEADER_4_19)
    rows = [(1, 0, 1, 42511, 3120, 106496, 812, 0, "systemd"),
            (731, 0, 731, 8890, 1200, 81920, 211, -1000, "systemd-udevd"),
            (1450, 1000, 1450, 2503120, 901233, 8392704, 412000, 0, "java"),
            (2210, 1000, 2210, 1020300, 430122, 3911680, 120003, 267, "Web Content"),
            (2211, 1000, 2211, 700120, 212000, 1900544, 30000, 267, "Web Content"),
            (2401, 1000, 2401, 1302000, 60000, 700416, 8000, 0, "gnome-shell")]
    for row in rows:
        log.add(INFO, row_4_19(*row))
    log.add(INFO, "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
                  "task_memcg=/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox.scope,"
                  "task=Web Content,pid=2210,uid=1000")
    log.add(ERR, killed("Out of memory", 2210, "Web Content", 1020300, 1690400, 30088, 0, 1000, 3820, 267))
    other(log, "systemd[1224]", "app-firefox.scope: A process of this unit has been killed by the OOM killer.",
          step=30000)
    log.add(INFO, reaped(2210, "Web Content"), step=120000)
    return log


def linux_6_6_cpuset():
    """6.6, dmesg -r: a two-node machine; a batch job's cpuset allows node 1
    only, so the OOM is CONSTRAINT_CPUSET and totalpages is node 1's memory
    (Mem-Info shows only the allowed node's zones)."""
    log = Log(datetime.datetime(2024, 11, 20, 2, 0, 0), 604803221000)
    log.add(WARN, "solver invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, "
                  "oom_score_adj=0")
    log.add(WARN, "CPU: 41 PID: 77120 Comm: solver Not tainted 6.6.0-28.el10.x86_64 #1")
    log.add(WARN, "Hardware name: Supermicro SYS-2029U-TR4/X11DPU, BIOS 3.4 10/30/2020")
    stack(log, [(None, "dump_stack_lvl+0x47/0x60"), (None, "dump_header+0x4a/0x240"),
                (None, "oom_kill_process+0x10d/0x1b0"), (None, "out_of_memory+0x103/0x340"),
                (None, "__alloc_pages_slowpath.constprop.0+0xa54/0xcc0"), (None, "__alloc_pages+0x2d4/0x300"),
                (None, "handle_mm_fault+0xa2/0x360"), (None, "exc_page_fault+0x77/0x170"),
                (None, "asm_exc_page_fault+0x26/0x30")])
    node1 = [(1, "Normal", 16777216, 16512000)]
    everything = [(0, "DMA", 15992, 15360), (0, "DMA32", 3129216, 3040932), (0, "Normal", 13631488, 13412000)] + node1
    ram, reserved = zones_for(everything)
    mem_info(log, node1, ram, reserved, 0, 0)
    log.add(INFO, "Tasks state (memory values in pages):")
    log.add(INFO, HEADER_4_19)
    rows = [(77001, 2001, 77001, 30000, 2000, 200704, 0, 0, "slurmstepd"),
            (77120, 2001, 77120, 5200000, 4100000, 33554432, 0, 0, "solver"),
            (77150, 2001, 77150, 20000, 900, 126976, 0, 500, "monitor")]
    for row in rows:
        log.add(INFO, row_4_19(*row))
    log.add(INFO, "oom-kill:constraint=CONSTRAINT_CPUSET,nodemask=(null),cpuset=batch,mems_allowed=1,global_oom,"
                  "task_memcg=/batch.slice/solver-17.scope,task=solver,pid=77120,uid=2001")
    log.add(ERR, killed("Out of memory", 77120, "solver", 5200000, 16396000, 4000, 0, 2001, 32768, 0))
    log.add(INFO, reaped(77120, "solver"), step=400000)
    return log


def linux_6_12_system():
    """6.12 (the 6.8+ task table with rss_anon/rss_file/rss_shmem), kern.log
    in rsyslog's RFC 3339 format, with printk caller IDs: a shared-memory
    heavy task is killed; a task with oom_score_adj -1000 has more."""
    log = Log(datetime.datetime(2025, 3, 1, 10, 0, 0), 77012033441)
    zones = [(0, "DMA", 15992, 15360), (0, "DMA32", 3129216, 3040932), (0, "Normal", 13631488, 13412000)]
    ram, reserved = zones_for(zones)
    log.add(WARN, "[  T4242] ollama invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), "
                  "order=0, oom_score_adj=0")
    log.add(WARN, "[  T4242] CPU: 5 UID: 996 PID: 4242 Comm: ollama Not tainted 6.12.8-200.fc41.x86_64 #1")
    log.add(WARN, "[  T4242] Hardware name: ASUS System Product Name/PRIME B650M-A II, BIOS 3201 10/09/2024")
    log.add(WARN, "[  T4242] Call Trace:")
    log.add(WARN, "[  T4242]  <TASK>")
    log.add(WARN, "[  T4242]  dump_stack_lvl+0x5d/0x80")
    log.add(WARN, "[  T4242]  dump_header+0x43/0x1aa")
    log.add(WARN, "[  T4242]  oom_kill_process+0xfe/0x200")
    log.add(WARN, "[  T4242]  out_of_memory+0x101/0x2f0")
    log.add(WARN, "[  T4242]  </TASK>")
    mem_info(log, zones, ram, reserved, 0, 0)
    log.add(INFO, "[  T4242] Tasks state (memory values in pages):")
    log.add(INFO, "[  T4242] " + HEADER_6_8)
    rows = [(1, 0, 1, 56001, 1503, 2210, 0, 114688, 0, 0, "systemd"),
            (802, 0, 802, 40022, 1202, 3010, 0, 143360, 0, -250, "systemd-oomd"),
            (1320, 70, 1320, 3390120, 1100030, 4012, 2011000, 7766016, 0, -1000, "postgres"),
            (4242, 996, 4242, 4120300, 2650111, 120003, 11002, 9109504, 0, 0, "ollama"),
            (5101, 1000, 5101, 301200, 80120, 20011, 3001, 962560, 0, 100, "code")]
    for row in rows:
        log.add(INFO, "[  T4242] " + row_6_8(*row))
    log.add(INFO, "[  T4242] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
                  "task_memcg=/system.slice/ollama.service,task=ollama,pid=4242,uid=996")
    log.add(ERR, "[  T4242] " + killed("Out of memory", 4242, "ollama", 4120300, 10600444, 480012, 44008, 996, 8896,
                                       0))
    return log


def no_oom():
    """A boot and a day's kernel messages, none of them an OOM kill (one
    mentions memory running out, in a driver)."""
    log = Log(datetime.datetime(2024, 2, 1, 8, 0, 0), 0)
    for text in ["Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) "
                 "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
                 "Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=0f1e2d3c ro quiet",
                 "Memory: 16231820K/16671160K available (14342K kernel code, 2331K rwdata, 9072K rodata, 2796K init, "
                 "17436K bss, 439080K reserved, 0K cma-reserved)",
                 "Freeing unused kernel image (initmem) memory: 2796K",
                 "EXT4-fs (nvme0n1p2): mounted filesystem with ordered data mode. Quota mode: none.",
                 "e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
                 "nouveau 0000:01:00.0: DRM: Out of memory in channel 2 (allocating pushbuf)",
                 "audit: type=1400 audit(1706774400.123:42): apparmor=\"DENIED\" operation=\"open\" "
                 "profile=\"snap.firefox\" name=\"/proc/oom_score_adj\" pid=2210 comm=\"firefox\"",
                 "systemd-journald[312]: Time spent on flushing to /var/log/journal is 31.401ms for 1203 entries.",
                 "usb 1-4: new high-speed USB device number 5 using xhci_hcd"]:
        log.add(INFO, text, step=1500000)
    return log


FIXTURES_MADE = [
    ("4.4-system.kern.log", linux_4_4_system, "kern.log", "web01"),
    ("4.9-memcg-v1-child.dmesg.log", linux_4_9_memcg_child, "dmesg", None),
    ("4.14-memcg-v1-ratelimited.dmesg-T.log", linux_4_14_memcg_ratelimited, "dmesg-T", None),
    ("4.19-system-split-summary.journal.log", linux_4_19_system, "journal", "db02"),
    ("5.4-memcg-v2.journal-precise.log", linux_5_4_memcg_v2, "journal-precise", "build01"),
    ("5.10-system-allocating-task.kmsg.log", linux_5_10_system, "kmsg", None),
    ("5.15-memcg-v2-group.dmesg-x.log", linux_5_15_memcg_group, "dmesg-x", None),
    ("6.1-system-adj.journal-iso.log", linux_6_1_system, "journal-iso", "laptop"),
    ("6.6-cpuset.dmesg-r.log", linux_6_6_cpuset, "dmesg-r", None),
    ("6.12-system-rss-split.rsyslog-iso.log", linux_6_12_system, "rsyslog-iso", "gpu01"),
    ("no-oom.dmesg.log", no_oom, "dmesg", None),
]


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    for name, scenario, style, host in FIXTURES_MADE:
        text = render(scenario(), style, host or "host")
        with open(os.path.join(FIXTURES, name), "w", encoding="utf-8") as handle:
            handle.write(text)
        print(name)


if __name__ == "__main__":
    main()
