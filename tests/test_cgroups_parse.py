"""The cgroup parsers (parse/cgroups.py), where the hierarchies are mounted
(source.cgroups.memory_hierarchies) and the OOM killer's arithmetic (report/oom.py),
on the text the kernel writes (examples as cgroup v1, v2, systemd, docker,
containerd, CRI-O, podman and Kubernetes write them) and on anything at
all (hypothesis): a figure, None, or a ValueError where documented; never
another exception."""

import math
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from pymap.parse.cgroups import UNLIMITED, byte_count, charge_breakdown, flat_keyed, memory_cgroup, runtime_of
from pymap.report.oom import badness, c_div, cgroup_scope, machine_scope, oom_score, rank_key
from pymap.source.cgroups import memory_hierarchies

pytestmark = pytest.mark.unit

ID = "0123456789abcdef" * 4


@pytest.mark.parametrize("path, expected", [
    ("/", None),
    ("/user.slice/user-1000.slice/session-3.scope", ("scope", "session-3.scope", None)),
    ("/system.slice/nginx.service", ("service", "nginx.service", None)),
    ("/system.slice", ("slice", "system.slice", None)),
    ("/system.slice/docker-%s.scope" % ID, ("docker", ID, None)),
    ("/docker/%s" % ID, ("docker", ID, None)),
    ("/machine.slice/libpod-%s.scope" % ID, ("podman", ID, None)),
    ("/machine.slice/libpod-conmon-%s.scope" % ID, ("conmon", ID, None)),
    ("/libpod_parent/libpod-%s" % ID, ("podman", ID, None)),
    ("/system.slice/crio-%s.scope" % ID, ("cri-o", ID, None)),
    ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b_3c4d.slice",
     ("pod", "1a2b-3c4d", "1a2b-3c4d")),
    ("/kubepods.slice/kubepods-pod99_aa.slice/cri-containerd-%s.scope" % ID, ("containerd", ID, "99-aa")),
    ("/kubepods/burstable/pod1a2b-3c4d/%s" % ID, ("container", ID, "1a2b-3c4d")),
    ("/kubepods/pod1a2b-3c4d/%s" % ID, ("container", ID, "1a2b-3c4d")),
    ("/lxc.payload.web", ("lxc", "web", None)),
    ("/lxc/web", ("lxc", "web", None)),
    ("/plain/folder", None),
    ("/system.slice/docker-short.scope", ("scope", "docker-short.scope", None)),
])
def test_runtime_of(path, expected):
    found = runtime_of(path.encode())
    assert found == (None if expected is None else (expected[0], expected[1].encode(),
                                                    None if expected[2] is None else expected[2].encode()))


def test_memory_cgroup():
    assert memory_cgroup(b"0::/user.slice/x.scope\n") == (2, b"/user.slice/x.scope")
    # cgroup v1's memory controller wins over the unified line, in any order, with other controllers beside it
    assert memory_cgroup(b"0::/u\n5:cpu,cpuacct:/c\n4:memory:/docker/ab\n") == (1, b"/docker/ab")
    assert memory_cgroup(b"4:memory,hugetlb:/m\n") == (1, b"/m")
    assert memory_cgroup(b"4:pids:/p\n") is None and memory_cgroup(b"") is None
    assert memory_cgroup(b"0::/../../outside\n") == (2, b"/../../outside")  # another namespace's
    assert memory_cgroup(b"0::/a:b\n") == (2, b"/a:b")  # a colon in a folder's name
    assert memory_cgroup(b"x::/a\n0:name=systemd:/s\n") is None


def test_byte_count():
    assert byte_count(b"104857600\n") == 104857600
    assert byte_count(b"max\n") is None
    assert byte_count(b"9223372036854771712\n") is None  # v1's unlimited (PAGE_COUNTER_MAX pages, in bytes)
    assert byte_count(b"%d\n" % (UNLIMITED - 1)) == UNLIMITED - 1
    assert byte_count(b"9" * 40) is None
    for bad in (b"", b"-1", b"12 kB", b"0x10", b"9" * 41, b"\xff"):
        with pytest.raises(ValueError):
            byte_count(bad)


def test_charge_breakdown():
    v2 = flat_keyed(b"anon 300\nfile 200\nkernel 50\nshmem 20\nfile_mapped 80\nsock 7\n")
    assert charge_breakdown(2, v2, 600) == {"anon": 300, "file": 180, "shmem": 20, "kernel": 50, "other": 50,
                                            "file_mapped": 80}
    # before "kernel" (5.18): its parts
    old = flat_keyed(b"anon 1\nfile 2\nslab_reclaimable 3\nslab_unreclaimable 4\nkernel_stack 5\npagetables 6\n"
                     b"percpu 7\n")
    assert charge_breakdown(2, old, 40)["kernel"] == 25
    # v1: the hierarchical lines first; no kernel line: usage less rss and cache
    v1 = flat_keyed(b"rss 1\ncache 2\ntotal_rss 100\ntotal_cache 60\ntotal_shmem 10\ntotal_mapped_file 5\n")
    assert charge_breakdown(1, v1, 200) == {"anon": 100, "file": 50, "shmem": 10, "kernel": 40, "other": 0,
                                            "file_mapped": 5}
    assert charge_breakdown(1, flat_keyed(b"rss 4\ncache 2\n"), 8)["kernel"] == 2
    assert charge_breakdown(2, {"file": 1}, 5) is None and charge_breakdown(1, {"total_rss": 1}, 5) is None


def test_memory_hierarchies():
    mountinfo = (b"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
                 b"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
                 b"36 31 0:33 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
                 b"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
                 b"90 35 0:32 /docker/ab /mnt/with\\040space rw - cgroup cgroup rw,memory\n")
    assert memory_hierarchies(mountinfo) == {1: (b"/sys/fs/cgroup/memory", b"/"), 2: (b"/sys/fs/cgroup/unified", b"/")}
    # a container that sees only its part of the tree, at a path with a space (written \040)
    assert memory_hierarchies(mountinfo.split(b"\n", 4)[4]) == {1: (b"/mnt/with space", b"/docker/ab")}
    assert memory_hierarchies(b"garbage\n - \n1 2 3\n") == {}


@given(st.binary(max_size=300))
def test_parsers_take_anything(data):
    memory_cgroup(data)
    flat_keyed(data)
    memory_hierarchies(data)
    runtime_of(data)
    try:
        byte_count(data)
    except ValueError:
        pass
    for version in (1, 2):
        charge_breakdown(version, flat_keyed(data), len(data))


def test_badness_and_scopes():
    machine = machine_scope({"MemTotal": 16000000, "SwapTotal": 1000000}, 4)
    assert machine.totalpages == 4250000
    assert badness(4000, 400, 40, 0, machine) == 1000 + 100 + 10
    assert badness(4000, 0, 0, 300, machine) == 1000 + 300 * 4250
    assert badness(4000, 0, 0, -999, machine) == 1000 - 999 * 4250  # negative: C's long
    assert badness(4000, 0, 0, -1000, machine) is None
    assert badness(4000, 0, 0, 0, machine, never=True) is None
    # proc_oom_score(): C's truncating division for a negative badness
    assert oom_score(-1, 4250000) == 666 and oom_score(None, 10) == 0
    assert oom_score(4250000, 4250000) == 1333
    assert oom_score(5, 1) == 4000 and oom_score(-5, 1) == -2666  # (a cgroup whose limit is 0: one page)
    # a cgroup: its limit plus the swap it may use, at most SwapTotal
    assert cgroup_scope(b"/x", 64 << 20, None, 1000000, 4).totalpages == 16384 + 250000
    assert cgroup_scope(b"/x", 64 << 20, 8 << 20, 1000000, 4).totalpages == 16384 + 2048
    assert cgroup_scope(b"/x", 64 << 20, 8 << 20, 0, 4).totalpages == 16384
    assert cgroup_scope(b"/x", 0, 0, 0, 4).totalpages == 1  # mem_cgroup_get_max() ?: 1
    assert machine_scope({}, 4) is None


def test_rank_key_is_the_kernels_choice():
    """Highest badness first; of equal badness the one walked last (the
    later start, then the higher PID); never-chosen processes last."""
    rows = [(100, 5, 10), (100, 9, 11), (100, 9, 12), (300, 1, 13), (None, 0, 14), (-5, 0, 15),
            (-5000, 0, 16)]
    ordered = sorted(rows, key=lambda row: rank_key(*row))
    # a negative badness (oom_score_adj below 0) is still chosen before one never chosen
    assert [row[2] for row in ordered] == [13, 12, 11, 10, 15, 16, 14]


@given(st.integers(-10 ** 30, 10 ** 30), st.integers(-10 ** 12, 10 ** 12).filter(bool))
def test_c_div_truncates_toward_zero(numerator, denominator):
    """C's / (the kernel's long arithmetic): the exact quotient with its
    fraction dropped, whatever the signs."""
    assert c_div(numerator, denominator) == math.trunc(Fraction(numerator, denominator))
