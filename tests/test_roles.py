"""The roles of mappings on live processes, against facts from outside
pymap: a C program and Python programs that say which addresses they got
(malloc's, their locals', each thread's stack range and guard from
pthread_getattr_np), stopped, and the roles of the mappings holding them;
the same roles from a capture; a process whose memory and thread files
pymap may not read (another user's) gets the roles its layout proves;
--reconcile's and --summary --by=role's sums against the kernel's own
smaps and pmap's [ anon ] rows; pymap never faults a page in; pmap's own
modes import none of it."""

import contextlib
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import time

import pytest

from pymap.source import MEMORY_READ_MAX, ProcRoot, memory_sample_line
from tests.support import ROOT, TIMEOUT
from tests.support import livetools

pytestmark = pytest.mark.live

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1 << 20
# glibc's HEAP_MAX_SIZE for a 64-bit process (malloc/arena.c: 2 *
# DEFAULT_MMAP_THRESHOLD_MAX, 4 MiB * sizeof(long)): arena heaps are aligned to it
HEAP_MAX = 64 * MIB
BIG = 8 * MIB

C_TARGET = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ready[2], never[2];
static void *thread_local_at, *thread_malloc_at, *stack_at;
static size_t stack_size, guard_size;

static void *worker(void *unused) {
    volatile int local = 1;
    char *small = malloc(64);  /* this thread's first malloc: its own arena */
    pthread_attr_t attr;
    memset(small, 1, 64);
    thread_local_at = (void *) &local;
    thread_malloc_at = small;
    pthread_getattr_np(pthread_self(), &attr);
    pthread_attr_getstack(&attr, &stack_at, &stack_size);
    pthread_attr_getguardsize(&attr, &guard_size);
    write(ready[1], "x", 1);
    char c;
    read(never[0], &c, 1);  /* blocked here, in a system call, for good */
    return NULL;
}

int main(void) {
    volatile int local = 0;
    char *small = malloc(64);
    char *big = malloc(%(big)d);
    pthread_t thread;
    char c;
    memset(small, 1, 64);
    memset(big, 1, 4096);
    if (pipe(ready) || pipe(never) || pthread_create(&thread, NULL, worker, NULL) || read(ready[0], &c, 1) != 1)
        return 1;
    printf("small %%lx\nbig %%lx\nmain_local %%lx\nthread_local %%lx\nthread_malloc %%lx\n"
           "thread_stack %%lx %%lx\nthread_guard %%lx\nend\n",
           (unsigned long) small, (unsigned long) big, (unsigned long) &local, (unsigned long) thread_local_at,
           (unsigned long) thread_malloc_at, (unsigned long) stack_at, (unsigned long) stack_size,
           (unsigned long) guard_size);
    fflush(stdout);
    raise(SIGSTOP);
    return 0;
}
""" % {"big": BIG}

PYTHON_TARGET = r"""
import ctypes, json, sys, threading
libc = ctypes.CDLL(None)
libc.pthread_self.restype = ctypes.c_ulong
libc.pthread_getattr_np.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
libc.pthread_attr_getstack.argtypes = (ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                       ctypes.POINTER(ctypes.c_size_t))
libc.pthread_attr_getguardsize.argtypes = (ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t))
found, keep, ready, never = [], [], threading.Barrier(%(threads)d + 1), threading.Event()

def work():
    attr = ctypes.create_string_buffer(64)  # a pthread_attr_t (56 bytes on 64-bit)
    libc.pthread_getattr_np(libc.pthread_self(), attr)
    stack, size, guard = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_size_t()
    libc.pthread_attr_getstack(attr, ctypes.byref(stack), ctypes.byref(size))
    libc.pthread_attr_getguardsize(attr, ctypes.byref(guard))
    data = bytearray(b"x" * 100000)  # below malloc's mmap threshold: in this thread's arena
    buffer = (ctypes.c_char * len(data)).from_buffer(data)
    keep.append((data, buffer))
    found.append({"tid": threading.get_native_id(), "stack": stack.value, "size": size.value,
                  "guard": guard.value, "buffer": ctypes.addressof(buffer)})
    ready.wait()
    never.wait()

threads = [threading.Thread(target=work, daemon=True) for _ in range(%(threads)d)]
for thread in threads:
    thread.start()
ready.wait()
sys.stdout.write(json.dumps(found) + "\nend\n")
sys.stdout.flush()
import os, signal
os.kill(os.getpid(), signal.SIGSTOP)
"""


# ---------------------------------------------------------------- targets


def wait_all_stopped(pid):
    """Every thread of ``pid`` in the stopped state (a group stop reaches
    each thread in its turn); a wait with a timeout."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        states = []
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/stat" % (pid, tid), "rb") as handle:
                states.append(handle.read().rsplit(b")", 1)[1].split()[0])
        if all(state in (b"T", b"t") for state in states):
            return
        if any(state in (b"Z", b"X") for state in states):
            raise RuntimeError("target %d exited" % pid)
        time.sleep(0.01)
    raise RuntimeError("target %d did not stop" % pid)


def read_until_end(stream):
    """What a target wrote to its pipe up to its "end" line (every wait with a timeout)."""
    data = b""
    deadline = time.monotonic() + TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while not data.endswith(b"end\n"):
            if not selector.select(max(deadline - time.monotonic(), 0)):
                raise RuntimeError("the target said nothing within %d s" % TIMEOUT)
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                raise RuntimeError("the target ended before it said where its memory is: %r" % data)
            data += chunk
    return data[:-len(b"end\n")]


@contextlib.contextmanager
def started(argv, **popen):
    """A target that writes what it got to its stdout and stops itself:
    (pid, what it wrote), killed afterwards."""
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=livetools.base_environ(),
                             **popen)
    try:
        said = read_until_end(child.stdout)
        livetools.wait_stopped(child.pid)
        wait_all_stopped(child.pid)
        yield child.pid, said
    finally:
        child.kill()
        child.wait(timeout=TIMEOUT)
        child.stdout.close()


@pytest.fixture(scope="module")
def public():
    with livetools.public_folder("pymap-roles-") as folder:
        yield folder


@pytest.fixture(scope="module")
def c_program(public):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler (cc) to build the target")
    source = os.path.join(public, "target.c")
    with open(source, "w") as handle:
        handle.write(C_TARGET)
    program = os.path.join(public, "target")
    built = subprocess.run([compiler, "-O0", "-pthread", "-o", program, source], capture_output=True,
                           timeout=TIMEOUT, env=livetools.base_environ())
    assert built.returncode == 0, built.stderr
    os.chmod(program, 0o755)
    return program


def c_facts(said):
    facts = {}
    for line in said.decode().splitlines():
        name, *values = line.split()
        facts[name] = [int(value, 16) for value in values]
    return facts


@pytest.fixture(scope="module")
def c_target(c_program):
    with started([c_program]) as (pid, said):
        yield pid, c_facts(said)


# ---------------------------------------------------------------- pymap's answers


def pymap(*args, **kwargs):
    result = livetools.run_pymap([str(arg) for arg in args], name="pymap", **kwargs)
    return result


def json_mappings(*args):
    result = pymap("--json", *args)
    assert (result.returncode, result.stderr) == (0, b""), result.stderr
    [item] = [json.loads(line) for line in result.stdout.splitlines()]
    return item["mappings"]


def holding(mappings, address):
    """The mapping holding ``address``."""
    [found] = [mapping for mapping in mappings if int(mapping["start"], 16) <= address < int(mapping["end"], 16)]
    return found


def role(mapping):
    """(role, certain) of a --json mapping ("certain" is there only when false)."""
    assert mapping.get("certain", False) is False
    return mapping["role"], mapping.get("certain", True)


def size_of(mapping):
    return int(mapping["end"], 16) - int(mapping["start"], 16)


def big_block_region():
    """What glibc maps for malloc(BIG) (malloc.c, sysmalloc_mmap): the
    request, its chunk header (16 bytes), rounded up to pages."""
    return (BIG + 16 + PAGE - 1) // PAGE * PAGE


def check_c_roles(mappings, facts, readable=True):
    """The roles of the mappings that hold what the C target got."""
    heap = holding(mappings, facts["small"][0])
    assert heap["name"] == "[heap]" and role(heap) == ("heap", True)
    stack = holding(mappings, facts["main_local"][0])
    assert stack["name"] == "[stack]" and role(stack) == ("stack", True)
    # the thread's stack: where its local is, and the whole range pthread says it has
    stack_at, stack_size = facts["thread_stack"]
    [guard_size] = facts["thread_guard"]
    thread_stack = holding(mappings, facts["thread_local"][0])
    assert holding(mappings, stack_at) is thread_stack and holding(mappings, stack_at + stack_size - 1) is thread_stack
    assert role(thread_stack) == ("thread_stack", readable)
    guard = holding(mappings, stack_at - 1)
    assert guard["perms"] == "---p" and size_of(guard) == guard_size == PAGE
    assert role(guard) == ("guard", readable)
    # the thread's malloc: a heap of its arena, at a multiple of HEAP_MAX, and its reserve up to HEAP_MAX
    arena = holding(mappings, facts["thread_malloc"][0])
    start = facts["thread_malloc"][0] // HEAP_MAX * HEAP_MAX
    assert int(arena["start"], 16) == start and arena["perms"] == "rw-p"
    assert role(arena) == ("malloc_arena", readable)
    reserve = mappings[mappings.index(arena) + 1]
    assert (reserve["start"], int(reserve["end"], 16), reserve["perms"]) == (arena["end"], start + HEAP_MAX, "---p")
    assert role(reserve) == ("malloc_arena_reserve", readable)
    # the big malloc: in a mapping of its own, unless the kernel merged it with memory beside it
    block = holding(mappings, facts["big"][0])
    if readable:
        assert int(block["start"], 16) == facts["big"][0] - 16, "the chunk header starts the mapping"
        assert role(block) == ("malloc_mmap", size_of(block) == big_block_region())
    else:
        assert role(block) == ("anon", True), "nothing guessed without evidence"
    for mapping in mappings:
        if mapping["name"] in ("[vdso]", "[vsyscall]"):
            assert role(mapping) == (mapping["name"][1:-1], True)
        if mapping["name"].startswith("/"):
            assert role(mapping) == ("file", True)


def test_c_program(c_target):
    """The heap, the main stack, the thread's stack and guard page, its
    arena's heap and reserve, the big malloc's mapping, as the program
    itself (and pthread_getattr_np) says they are."""
    pid, facts = c_target
    check_c_roles(json_mappings(pid), facts)


def test_c_program_range_keeps_the_whole_maps_roles(c_target):
    """-A shows some mappings, with the roles the whole map gives them."""
    pid, facts = c_target
    whole = json_mappings(pid)
    guard = holding(whole, facts["thread_stack"][0] - 1)
    shown = json_mappings("-A", "%s,%x" % (guard["start"], int(guard["end"], 16) - 1), pid)
    assert [mapping["role"] for mapping in shown] == ["guard"]


def test_roles_from_a_capture(c_target, tmp_path):
    """--capture saves what the roles are told from (each thread's files,
    the words at the mappings' starts): --proc-root gives the live roles;
    a capture of that capture copies them."""
    pid, facts = c_target
    snapshot = str(tmp_path / "snap")
    result = pymap("--capture", snapshot, pid)
    assert (result.returncode, result.stderr) == (0, b"")
    folder = os.path.join(snapshot, str(pid))
    assert sorted(os.listdir(os.path.join(folder, "task"))) == sorted(os.listdir("/proc/%d/task" % pid))
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/syscall" % (pid, tid), "rb") as live, \
                open(os.path.join(folder, "task", tid, "syscall"), "rb") as saved:
            assert saved.read() == live.read(), "a stopped thread's syscall line does not change"
    with open(os.path.join(folder, "mem_samples"), "rb") as handle:
        samples = handle.read()
    arena_start = facts["thread_malloc"][0] // HEAP_MAX * HEAP_MAX
    with open("/proc/%d/mem" % pid, "rb") as memory:
        memory.seek(arena_start)
        assert memory_sample_line(arena_start, memory.read(32)) in samples.splitlines(True)
    live = [(mapping["start"], mapping["role"], mapping.get("certain")) for mapping in json_mappings(pid)]
    saved = json_mappings("--proc-root", snapshot, pid)
    assert [(mapping["start"], mapping["role"], mapping.get("certain")) for mapping in saved] == live
    check_c_roles(saved, facts)
    copy = str(tmp_path / "copy")
    assert pymap("--proc-root", snapshot, "--capture", copy, pid).returncode == 0
    for where, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(where, name), "rb") as one, \
                    open(os.path.join(copy, os.path.relpath(where, snapshot), name), "rb") as two:
                assert one.read() == two.read(), name
    # an older capture, without the roles' files: only what the layout proves
    shutil.rmtree(os.path.join(folder, "task"))
    os.unlink(os.path.join(folder, "mem_samples"))
    check_c_roles(json_mappings("--proc-root", snapshot, pid), facts, readable=False)


# ---------------------------------------------------------------- another user's process


def without_dac(argv):
    """argv run as root without the capabilities that pass over file
    permissions: it may read another user's smaps (CAP_SYS_PTRACE), not
    their /proc/PID/mem nor their threads' syscall files (mode 0600 and
    0400, the other user's)."""
    return ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search", "--"] + argv


needs_root_and_setpriv = pytest.mark.skipif(not livetools.is_root() or shutil.which("setpriv") is None,
                                            reason="needs root and setpriv (util-linux) to read as another user")


@pytest.fixture(scope="module")
def nobodys_target(c_program):
    with started([c_program], user=livetools.NOBODY, group=livetools.NOBODY, extra_groups=[]) as (pid, said):
        yield pid, c_facts(said)


@needs_root_and_setpriv
def test_another_users_process_gets_the_roles_its_layout_proves(nobodys_target, tmp_path):
    pid, facts = nobodys_target
    code = [sys.executable, "-m", "pymap"]
    denied = subprocess.run(without_dac(["cat", "/proc/%d/mem" % pid]), capture_output=True, timeout=TIMEOUT,
                            env=livetools.base_environ())
    assert denied.returncode != 0 and b"Permission denied" in denied.stderr, "the memory is the other user's"
    result = subprocess.run(without_dac(code + ["--json", str(pid)]), capture_output=True, timeout=TIMEOUT,
                            cwd=ROOT, env=livetools.base_environ())
    assert (result.returncode, result.stderr) == (0, b"")
    [item] = [json.loads(line) for line in result.stdout.splitlines()]
    check_c_roles(item["mappings"], facts, readable=False)
    # a capture made so holds no memory and no syscall lines, and gives the same roles
    snapshot = str(tmp_path / "snap")
    result = subprocess.run(without_dac(code + ["--capture", snapshot, str(pid)]), capture_output=True,
                            timeout=TIMEOUT, cwd=ROOT, env=livetools.base_environ())
    assert (result.returncode, result.stderr) == (0, b"")
    folder = os.path.join(snapshot, str(pid))
    assert "mem_samples" not in os.listdir(folder)
    for tid in os.listdir(os.path.join(folder, "task")):
        assert os.listdir(os.path.join(folder, "task", tid)) == ["stat"]
    saved = json_mappings("--proc-root", snapshot, pid)
    assert [(mapping["role"], mapping.get("certain")) for mapping in saved] == \
        [(mapping["role"], mapping.get("certain")) for mapping in item["mappings"]]


# ---------------------------------------------------------------- Python with threads


@pytest.mark.parametrize("threads", [1, 3])
def test_python_threads(threads):
    code = PYTHON_TARGET % {"threads": threads}
    with started([sys.executable, "-c", code]) as (pid, said):
        found = json.loads(said)
        mappings = json_mappings(pid)
        for thread in found:
            stack = holding(mappings, thread["stack"])
            assert holding(mappings, thread["stack"] + thread["size"] - 1) is stack
            assert role(stack) == ("thread_stack", True)
            assert role(holding(mappings, thread["stack"] - 1)) == ("guard", True)
            assert thread["guard"] == size_of(holding(mappings, thread["stack"] - 1))
            arena = holding(mappings, thread["buffer"])
            assert role(arena) == ("malloc_arena", True)
            assert int(arena["start"], 16) % HEAP_MAX == 0
        stacks = [mapping for mapping in mappings if mapping["role"] == "thread_stack"]
        assert len(stacks) == threads
        assert [mapping["role"] for mapping in mappings].count("stack") == 1
        # --reconcile counts them, with each thread's stack pointer read
        result = pymap("--reconcile", "--json", pid)
        figures = json.loads(result.stdout)
        assert figures["threads"] == {"count": threads + 1, "stack_pointers": threads + 1}
        assert figures["roles"]["thread_stack"]["mappings"] == threads


# ---------------------------------------------------------------- the sums


def kernel_smaps(pid):
    """[(start, {field: kB})] of the kernel's own smaps."""
    records = []
    with open("/proc/%d/smaps" % pid, "rb") as handle:
        for line in handle.read().splitlines():
            if re.match(rb"[0-9a-f]+-[0-9a-f]+ ", line):
                records.append((line.split(b"-", 1)[0].decode(), {}))
            elif line.endswith(b" kB"):
                key, _, value = line.partition(b":")
                records[-1][1][key.decode()] = int(value.split()[0])
    return records


def test_reconcile_sums_by_role(c_target):
    """--reconcile's roles: the kernel's smaps figures summed by the roles
    --json gives; the [ anon ] column adds up to pmap's own [ anon ] rows."""
    pid, _ = c_target
    roles = {mapping["start"]: mapping["role"] for mapping in json_mappings(pid)}
    expected = {}
    for start, fields in kernel_smaps(pid):
        sums = expected.setdefault(roles[start], {"mappings": 0, "Size": 0, "Rss": 0, "Anonymous": 0, "Swap": 0})
        sums["mappings"] += 1
        for name in ("Size", "Rss", "Anonymous", "Swap"):
            sums[name] += fields[name]
    result = pymap("--reconcile", "--json", pid)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    got = {name: {key: sums[key] for key in ("mappings", "Size", "Rss", "Anonymous", "Swap")}
           for name, sums in figures["roles"].items()}
    assert got == expected
    assert {"heap", "stack", "thread_stack", "guard", "malloc_arena", "malloc_arena_reserve", "malloc_mmap"} <= \
        set(got)
    assert sum(sums["anon_rows_Rss"] for sums in figures["roles"].values()) == figures["pmap"]["anon_rows_RSS"]
    assert figures["threads"] == {"count": 2, "stack_pointers": 2}
    if livetools.have_pmap():
        rows = livetools.run_pmap(["-x", str(pid)]).stdout.splitlines()[2:-2]
        assert sum(int(row.split()[2]) for row in rows if row.endswith(b"[ anon ]")) == \
            figures["pmap"]["anon_rows_RSS"]
    text = pymap("--reconcile", pid).stdout
    section = text.split(b"What the memory is, by role", 1)[1].split(b"OOM killer:", 1)[0]
    for name, sums in figures["roles"].items():
        line = re.search(rb"\n  %s +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)" % name.encode(), section)
        assert line and [int(value) for value in line.groups()] == [
            sums[key] for key in ("mappings", "Size", "Rss", "Anonymous", "Swap", "anon_rows_Rss")], name
    assert b"2 threads, 2 stack pointers read" in section
    # an arena reserves HEAP_MAX_SIZE (glibc's), of which its heap is resident in part
    arenas = figures["roles"]["malloc_arena"]
    assert b": %d kB resident of %d kB reserved" % (arenas["Rss"], arenas["mappings"] * HEAP_MAX // 1024) in section
    assert b"not certain" in section or "certain" not in json.dumps(figures["roles"]["malloc_mmap"])


def test_summary_by_role(c_target, nobodys_target):
    """--summary --by=role: the sums of each process's smaps by role, with
    how many processes have such mappings, and totals."""
    pid, _ = c_target
    other, _ = nobodys_target
    per_process = []
    for one in (pid, other):
        figures = json.loads(pymap("--reconcile", "--json", one).stdout)
        per_process.append(figures["roles"])
    result = pymap("--summary", "--by=role", "--json", pid, other)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    totals = rows.pop()
    assert totals["processes"] == 2 and totals["unreadable"] == 0
    for row in rows:
        assert set(row) == {"schema", "role", "processes", "Size", "Rss", "Pss", "Uss", "Swap", "SwapPss",
                            "Anonymous"}
        having = [roles[row["role"]] for roles in per_process if row["role"] in roles]
        assert row["processes"] == len(having)
        for key in ("Size", "Rss", "Anonymous", "Swap"):
            assert row[key] == sum(sums[key] for sums in having), (row["role"], key)
    assert [row["Pss"] for row in rows] == sorted((row["Pss"] for row in rows), reverse=True)
    for key in ("Size", "Rss"):
        assert totals["totals"][key] == sum(row[key] for row in rows)
    text = pymap("--summary", "--by=role", pid, other).stdout
    assert text.splitlines()[0].split()[-1] == b"Role" and b"malloc_arena_reserve" in text


# ---------------------------------------------------------------- the memory reader


TOUCHED = r"""
import mmap, sys
untouched = mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE)
touched = mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE)
touched[4096:4096 + 12] = b"pymap-marker"
import ctypes
at = lambda region: ctypes.addressof(ctypes.c_char.from_buffer(region))
sys.stdout.write("%x %x\nend\n" % (at(untouched), at(touched)))
sys.stdout.flush()
import os, signal
os.kill(os.getpid(), signal.SIGSTOP)
"""


def status_kb(pid, name):
    with open("/proc/%d/status" % pid, "rb") as handle:
        return int(re.search(rb"\n%s:\s+(\d+) kB" % name, handle.read()).group(1))


def test_memory_is_read_only_where_a_page_is_present():
    """pymap's reads of a process's memory never fault a page in: a page
    not present reads as nothing, and the process's RSS and page tables
    stay as they were; a present page gives its bytes, at most
    MEMORY_READ_MAX of them, within the page."""
    with started([sys.executable, "-c", TOUCHED]) as (pid, said):
        untouched, touched = (int(word, 16) for word in said.split())
        before = status_kb(pid, b"VmRSS"), status_kb(pid, b"VmPTE")
        with ProcRoot().process(pid) as files, files.memory() as memory:
            for offset in (0, 8192, (1 << 20) - PAGE):
                assert memory.read(untouched + offset, 32) is None
            assert memory.read(touched, 32) is None, "the first page was never written"
            assert memory.read(touched + 4096, 12) == b"pymap-marker"
            assert memory.read(touched + 8192 - 4, 16) == b"\0" * 4, "a read ends with its page"
            with pytest.raises(ValueError):
                memory.read(touched + 4096, MEMORY_READ_MAX + 1)
            # the batch reader reads as the one by one reader does, from a
            # reader that has opened nothing yet too
            addresses = [untouched, touched, touched + 4096, touched + 8192 - 4, untouched + (1 << 20) - PAGE,
                         1 << 63, touched + 4096]
            expected = [memory.read(address, 16) for address in addresses]
            assert expected[2] == b"pymap-marker" + b"\0" * 4
            assert list(memory.read_many(addresses, 16)) == expected
            assert list(memory.read_many([], 16)) == []
        with ProcRoot().process(pid) as files, files.memory() as memory:
            assert list(memory.read_many(addresses, 16)) == expected
        assert (status_kb(pid, b"VmRSS"), status_kb(pid, b"VmPTE")) == before


def test_sampled_memory_of_a_snapshot(tmp_path):
    """A snapshot's mem_samples serves the bytes saved at each address,
    asked in any order; lines that are not samples are passed over."""
    folder = tmp_path / "7"
    folder.mkdir()
    (folder / "mem_samples").write_bytes(
        memory_sample_line(0x1000, b"\x01\x02") + b"garbage\n" + b"zz 0102\n" + memory_sample_line(0x3000, b"abc")
        + b"4000 0g\n" + memory_sample_line(0x5000, b"x" * MEMORY_READ_MAX))
    with ProcRoot(os.fsencode(tmp_path)).process(7) as files, files.memory() as memory:
        assert memory.read(0x1000, 2) == b"\x01\x02"
        assert memory.read(0x2000, 8) is None
        assert memory.read(0x3000, 2) == b"ab"
        assert memory.read(0x1000, 1) == b"\x01", "a lower address reads the samples again"
        assert memory.read(0x4000, 1) is None
        assert memory.read(0x5000, MEMORY_READ_MAX) == b"x" * MEMORY_READ_MAX
        assert memory.read(0x6000, 1) is None
        assert list(memory.read_many([0x1000, 0x2000, 0x5000], 2)) == [b"\x01\x02", None, b"xx"]
    (folder / "mem_samples").unlink()
    with ProcRoot(os.fsencode(tmp_path)).process(7) as files, files.memory() as memory:
        assert memory.read(0x1000, 2) is None, "no samples: nothing known"


def test_thread_files_of_a_snapshot(tmp_path):
    """tasks() lists the thread folders of a snapshot (nothing else),
    read_task() reads within FILES' bounds and follows no link."""
    from pymap.errors import ProcessError

    task = tmp_path / "7" / "task"
    (task / "7").mkdir(parents=True)
    (task / "8").mkdir()
    (task / "notes").mkdir()
    (task / "7" / "syscall").write_bytes(b"running\n")
    (task / "8" / "syscall").write_bytes(b"x" * 5000)
    os.symlink("/proc/self/stat", str(task / "7" / "stat"))
    with ProcRoot(os.fsencode(tmp_path)).process(7) as files:
        assert files.tasks() == [7, 8]
        assert files.read_task(7, b"syscall") == b"running\n"
        for tid, name in ((8, b"syscall"), (7, b"stat"), (9, b"stat")):
            with pytest.raises(ProcessError):
                files.read_task(tid, name)


# ---------------------------------------------------------------- pmap's modes


@pytest.mark.parametrize("mode", [[], ["-x"], ["-X"], ["-XX"], ["-d"]], ids=str)
def test_pmaps_modes_import_no_roles(c_target, mode):
    """pmap's own modes read nothing new and import none of the roles'
    code (their start-up is measured in milliseconds)."""
    pid, _ = c_target
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "pymap"] + mode + [str(pid)], cwd=ROOT,
                            capture_output=True, timeout=TIMEOUT, env=livetools.base_environ())
    assert result.returncode == 0
    imported = re.findall(rb"\| +(pymap[\w.]*)\n", result.stderr)
    assert b"pymap.source" in imported, "the import list is read"
    assert not [name for name in imported if b"roles" in name or name.startswith(b"pymap.report")]


OPENED = r"""
import os, sys
opened = set()
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        opened.add(os.fsdecode(args[0]).rsplit("/", 1)[-1])
sys.addaudithook(hook)
from pymap.command.cli import launch
status = launch(["pymap"] + sys.argv[1:])
sys.stdout.flush()
sys.stderr.write(" ".join(sorted(opened)) + "\n")
sys.exit(status)
"""


def test_pmaps_modes_read_nothing_the_roles_need(c_target):
    """The files opened (Python's audit hook sees every open()): pmap's own
    modes open none of those the roles read, which --json opens."""
    pid, _ = c_target

    def opened(*mode):
        result = subprocess.run([sys.executable, "-c", OPENED] + list(mode) + [str(pid)], cwd=ROOT,
                                capture_output=True, timeout=TIMEOUT, env=livetools.base_environ())
        assert result.returncode == 0, result.stderr
        return set(result.stderr.decode().split())

    roles_files = {"mem", "pagemap", "syscall"}
    assert roles_files <= opened("--json"), "the hook sees the roles' reads"
    for mode in ([], ["-x"], ["-X"], ["-XX"], ["-d"]):
        files = opened(*mode)
        assert "status" in files and not files & roles_files, (mode, files)
