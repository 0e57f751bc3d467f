"""Property tests: generated processes, printed in the kernel's formats into
a /proc-like folder, read back through --proc-root (and by the real pmap
through a bind mount where it can run)."""

import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.support import livetools
from pymap.command.cli import run_captured
from pymap.parse.smaps import parse_maps, parse_smaps

pytestmark = pytest.mark.live

PAGE = 4096
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))

# kB fields in the kernel's order (6.x), then the unitless one
KB_FIELDS = ("Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty", "Shared_Clean", "Shared_Dirty",
             "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
             "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked")
VMFLAGS = ("rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "ac", "dd", "sd")

# path bytes: printable ASCII (no '/'), space, tab, and a few high bytes
PATH_BYTE = st.sampled_from(list(b"abcxyz019_.-+ \t[]()") + [0xC3, 0xA9, 0xFF, 0x7F, 0x01])
PATH_PART = st.lists(PATH_BYTE, min_size=1, max_size=12).map(bytes).filter(lambda part: part not in (b".", b".."))


@st.composite
def names(draw, shm_minor):
    kind = draw(st.sampled_from(["none", "none", "heap", "stack", "vdso", "anon-name", "path", "path",
                                 "deleted", "sysv"]))
    if kind == "none":
        return b"", None
    if kind == "heap":
        return b"[heap]", None
    if kind == "stack":
        return b"[stack]", None
    if kind == "vdso":
        return b"[vdso]", None
    if kind == "anon-name":
        return b"[anon:" + draw(PATH_PART).replace(b"]", b"") + b"]", None
    if kind == "sysv":
        return b"/SYSV%08x (deleted)" % draw(st.integers(0, 0xFFFFFFFF)), shm_minor
    parts = draw(st.lists(PATH_PART, min_size=1, max_size=3))
    name = b"/" + b"/".join(parts)
    if kind == "deleted":
        name += b" (deleted)"
    return name, None


@st.composite
def processes(draw, shm_minor=1):
    count = draw(st.integers(0, 12))
    address = draw(st.integers(0x400, 0x7FFFFFF0)) * PAGE
    mappings = []
    for _ in range(count):
        address += draw(st.integers(0, 64)) * PAGE
        pages = draw(st.integers(1, 300))
        start, end = address, address + pages * PAGE
        address = end
        if end >= 1 << 47:
            break
        name, sysv_minor = draw(names(shm_minor))
        if sysv_minor is not None:
            perms = draw(st.sampled_from([b"rw-s", b"r--s"]))
            major, minor, inode = 0, sysv_minor, draw(st.integers(0, 0xFFFFFF))
            offset = 0
        else:
            perms = draw(st.sampled_from([b"r--p", b"rw-p", b"r-xp", b"---p", b"rw-s", b"r--s", b"rwxp"]))
            file_backed = name.startswith(b"/")
            major = draw(st.integers(0, 0x103)) if file_backed else 0
            minor = draw(st.integers(0, 0xFF)) if file_backed else 0
            inode = draw(st.integers(1, 10 ** 9)) if file_backed else 0
            offset = draw(st.integers(0, 1 << 20)) * PAGE if file_backed else 0
        size_kb = pages * 4
        rss = draw(st.integers(0, size_kb // 4)) * 4
        shared_clean = draw(st.integers(0, rss // 4)) * 4
        shared_dirty = draw(st.integers(0, (rss - shared_clean) // 4)) * 4
        private_dirty = draw(st.integers(0, (rss - shared_clean - shared_dirty) // 4)) * 4
        private_clean = rss - shared_clean - shared_dirty - private_dirty
        values = dict.fromkeys(KB_FIELDS, 0)
        values.update(Size=size_kb, KernelPageSize=4, MMUPageSize=4, Rss=rss, Pss=rss, Shared_Clean=shared_clean,
                      Shared_Dirty=shared_dirty, Private_Clean=private_clean, Private_Dirty=private_dirty,
                      Referenced=rss, Anonymous=0 if name.startswith(b"/") else private_dirty,
                      Swap=draw(st.integers(0, 4096)) * 4)
        values["Pss_Dirty"] = shared_dirty + private_dirty
        if draw(st.booleans()):
            values = {key: value for key, value in values.items() if key not in ("Pss_Dirty", "KSM")}
        values["THPeligible"] = draw(st.integers(0, 1))
        flags = draw(st.lists(st.sampled_from(VMFLAGS), min_size=1, max_size=6, unique=True))
        mappings.append(dict(start=start, end=end, perms=perms, offset=offset, major=major, minor=minor,
                             inode=inode, name=name, fields=values, vmflags=flags))
    # the stack start: in some mapping (often one that is not [stack]) or nowhere
    if mappings and draw(st.booleans()):
        chosen = draw(st.sampled_from(mappings))
        start_stack = draw(st.integers(chosen["start"], chosen["end"]))
    else:
        start_stack = draw(st.sampled_from([0, 0x7FFC00001000]))
    argv = draw(st.lists(st.binary(min_size=0, max_size=8).map(lambda arg: arg.replace(b"\0", b"")),
                         min_size=1, max_size=4))
    return dict(mappings=mappings, start_stack=start_stack, cmdline=b"\0".join(argv) + b"\0")


def maps_line(mapping):
    """A maps (and smaps header) line as the kernel prints it: the name
    padded to column 73 on a 64-bit kernel."""
    line = b"%08x-%08x %s %08x %02x:%02x %d " % (mapping["start"], mapping["end"], mapping["perms"],
                                                mapping["offset"], mapping["major"], mapping["minor"],
                                                mapping["inode"])
    if mapping["name"]:
        line = line.ljust(73) + mapping["name"]
    return line + b"\n"


def smaps_text(mappings):
    out = []
    for mapping in mappings:
        out.append(maps_line(mapping))
        for key, value in mapping["fields"].items():
            if key == "THPeligible":
                out.append(b"%-16s%d\n" % (key.encode() + b":", value))
            else:
                out.append(b"%-16s%8d kB\n" % (key.encode() + b":", value))
        out.append(b"VmFlags: " + b"".join(flag.encode() + b" " for flag in mapping["vmflags"]) + b"\n")
    return b"".join(out)


def stat_text(pid, start_stack):
    after = ["S", "1", str(pid), str(pid), "0", "-1", "4194560"] + ["0"] * 8 + ["20", "0", "1", "0", "100",
                                                                             "0", "0", "18446744073709551615",
                                                                             "0", "0", str(start_stack)]
    after += ["0"] * (50 - len(after))
    return b"%d (gen) %s\n" % (pid, " ".join(after).encode())


def write_folder(root, pid, process, status):
    folder = os.path.join(root, str(pid))
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    smaps = smaps_text(process["mappings"])
    files = {"smaps": smaps, "maps": b"".join(maps_line(m) for m in process["mappings"]),
             "stat": stat_text(pid, process["start_stack"]), "status": status,
             "cmdline": process["cmdline"], "comm": b"gen\n"}
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(data)
    return folder


PID = 4242
STATUS = b"Name:\tgen\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t1\n" % (PID, PID)


@pytest.fixture(scope="module")
def root():
    folder = tempfile.mkdtemp(prefix="pymap-properties-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def pymap(root, *args, environ=None):
    argv = [b"pmap", b"--proc-root", root.encode()] + [a if isinstance(a, bytes) else a.encode() for a in args]
    return run_captured(argv, environ or {b"LANG": b"C"})


def extended_rows(stdout):
    lines = stdout.split(b"\n")
    assert lines[1] == b"Address           Kbytes     RSS   Dirty Mode  Mapping"
    assert lines[-3] == b"---------------- ------- ------- ------- "
    rows = []
    for line in lines[2:-3]:
        rows.append((int(line[:16], 16), int(line[17:24]), int(line[25:32]), int(line[33:40]), line[47:]))
    total = lines[-2]
    assert total.startswith(b"total kB         ")
    return rows, [int(word) for word in total.split()[2:]]


def is_anonymous_for_pmap(mapping, start_stack):
    return b"/" not in mapping["name"] and not mapping["start"] <= start_stack <= mapping["end"]


@SETTINGS
@given(process=processes())
def test_extended_rows_and_totals(root, process):
    write_folder(root, PID, process, STATUS)
    status, stdout, stderr = pymap(root, "-x", "%d" % PID)
    assert (status, stderr) == (0, b"")
    rows, totals = extended_rows(stdout)
    mappings = process["mappings"]
    assert len(rows) == len(mappings)
    for (start, kbytes, rss, dirty, label), mapping in zip(rows, mappings):
        fields = mapping["fields"]
        assert start == mapping["start"]
        assert kbytes == (mapping["end"] - mapping["start"]) >> 10 == fields["Size"]
        assert rss == fields["Rss"]
        assert dirty == fields["Shared_Dirty"] + fields["Private_Dirty"]
        assert (label == b"  [ anon ]") == is_anonymous_for_pmap(mapping, process["start_stack"])
    assert totals == [sum(row[1] for row in rows), sum(row[2] for row in rows), sum(row[3] for row in rows)]
    anon_rss = sum(row[2] for row in rows if row[4] == b"  [ anon ]")
    assert anon_rss == sum(m["fields"]["Rss"] for m in mappings if is_anonymous_for_pmap(m, process["start_stack"]))


@SETTINGS
@given(process=processes(), data=st.data())
def test_range_keeps_exactly_the_overlapping_mappings(root, process, data):
    write_folder(root, PID, process, STATUS)
    mappings = process["mappings"]
    edges = [m["start"] for m in mappings] + [m["end"] for m in mappings] + [0, 1 << 47]
    low = data.draw(st.sampled_from(edges).flatmap(lambda edge: st.integers(max(edge - PAGE, 0), edge + PAGE)))
    high = data.draw(st.sampled_from(edges).flatmap(lambda edge: st.integers(max(edge - PAGE, 0), edge + PAGE)))
    status, stdout, _ = pymap(root, "-A", "%x,%x" % (low, high), "%d" % PID)
    assert status == 0
    shown = [int(line[:16], 16) for line in stdout.split(b"\n")[1:-2]]
    expected = [m["start"] for m in mappings if m["end"] - 1 >= low and m["start"] <= high]
    assert shown == expected
    assert stdout.split(b"\n")[-2] == b" total %16dK" % sum(
        (m["end"] - m["start"]) >> 10 for m in mappings if m["start"] in expected)


@SETTINGS
@given(process=processes())
def test_kernel_format_round_trip(process):
    text = smaps_text(process["mappings"])
    parsed = parse_smaps(text)
    assert [(m.start, m.end, m.perms, m.offset, m.dev_major, m.dev_minor, m.inode, m.name, m.fields, m.vmflags)
            for m in parsed] == [
        (m["start"], m["end"], m["perms"], m["offset"], m["major"], m["minor"], m["inode"], m["name"],
         m["fields"], m["vmflags"]) for m in process["mappings"]]
    assert all(list(m.fields) == list(g["fields"]) for m, g in zip(parsed, process["mappings"]))
    assert all(m.unitless == ("THPeligible",) for m in parsed)
    maps = b"".join(maps_line(m) for m in process["mappings"])
    assert [(m.start, m.end, m.name) for m in parse_maps(maps)] == [(m.start, m.end, m.name) for m in parsed]


def _can_compare_with_pmap():
    return livetools.have_pmap() and livetools.can_unshare() and livetools.pmap_version() == "4.0.2"


@pytest.fixture(scope="module")
def live_target():
    if not _can_compare_with_pmap():
        pytest.skip("needs /usr/bin/pmap 4.0.2, root and unshare -m")
    with livetools.stopped_process("pass") as pid:
        with open("/proc/%d/status" % pid, "rb") as handle:
            yield pid, handle.read()


def _live_shm_minor():
    from pymap.source import sysv as shm

    return shm.probe_live_minor()


SHM_MINOR = _live_shm_minor() if _can_compare_with_pmap() else None


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(process=processes(shm_minor=SHM_MINOR if SHM_MINOR is not None else 1))
def test_generated_folders_match_real_pmap(root, live_target, process):
    pid, status_text = live_target
    folder = write_folder(root, pid, process, status_text)
    environ = {b"LANG": b"C", b"PYMAP_COMPAT": b"4.0.2"}
    for mode in ([], ["-x"], ["-d"]):
        mine = pymap(root, *mode, "%d" % pid, environ=environ)
        real = livetools.run_pmap_on_folder(pid, folder, mode)
        assert real.stdout.startswith(b"%d:   " % pid), real.stderr
        assert mine[1] == real.stdout, mode
        assert (mine[0], mine[2]) == (real.returncode, real.stderr), mode
