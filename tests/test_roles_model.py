"""The roles of mappings (pymap/parse/roles.py) on made-up memory maps:
each rule of glibc's layout the module cites (arena.c's heaps, malloc.c's
mmapped chunks in the layouts of glibc up to 2.42 and from 2.43, i386's
offset chunk, allocatestack.c's guard below the stack), the names the
kernel and glibc give, what a guess is, what is read, and the parsing of
the thread files."""

import glob
import os
import sys

import pytest
from hypothesis import given, settings, strategies as st

from pymap.parse.roles import (ANON, FILE, GUARD, GUARD_MAX, HEAP, HEADER_BYTES, MALLOC_ARENA, MALLOC_ARENA_RESERVE,
                               MALLOC_MMAP, ROLES, SHMEM, STACK, STACK_MIN, THREAD_STACK, VDSO, VSYSCALL, VVAR, Facts,
                               classify, heap_max_size, is_shmem, sample_addresses, stat_stack_pointer,
                               syscall_stack_pointer, wants_header)
from pymap.parse.smaps import Mapping, parse_smaps
from tests.support import ROOT

pytestmark = pytest.mark.unit

MIB = 1 << 20
PAGE = 4096
# glibc's HEAP_MAX_SIZE (arena.c: 2 * DEFAULT_MMAP_THRESHOLD_MAX; malloc.c:
# 4 MiB * sizeof(long) on 64-bit, 512 KiB on 32-bit), written out here
HEAP_MAX_64 = 64 * MIB
HEAP_MAX_32 = 1 * MIB
STACK_64 = 0x7FFC00000000  # a startstack of a 64-bit process


def anon(start, size, perms=b"rw-p", rss=4, name=b"", vmflags=None, inode=0, major=0):
    return Mapping(start, start + size, perms, 0, major, 0, inode, name, fields={"Size": size >> 10, "Rss": rss},
                   vmflags=vmflags)


def word_bytes(*values, word=8):
    return b"".join(value.to_bytes(word, sys.byteorder) for value in values)


def roles(mappings, facts=None, headers=None, asked=None):
    """[(role, certain)] of the mappings; ``headers`` {start: bytes} serves
    read_header; ``asked`` collects the starts it was asked for."""
    headers = headers or {}

    def read_header(mapping):
        if asked is not None:
            asked.append(mapping.start)
        return headers.get(mapping.start)

    result = list(classify(mappings, facts or Facts((), 1, STACK_64), read_header))
    assert [mapping for mapping, _, _ in result] == list(mappings), "every mapping once, in order"
    return [(role, certain) for _, role, certain in result]


def heap_info(start, size, used=None, ar_ptr=None, previous=0, word=8):
    """The first words of an arena heap (arena.c's heap_info)."""
    return word_bytes(start + 48 if ar_ptr is None else ar_ptr, previous, size if used is None else used, size,
                      word=word)


# ---------------------------------------------------------------- glibc's constants


def test_heap_max_size_is_glibcs():
    assert heap_max_size(8) == HEAP_MAX_64 and heap_max_size(4) == HEAP_MAX_32
    assert Facts((), 1, STACK_64).word == 8 and Facts((), 1, 0xFFFDE000).word == 4 and Facts().word == 8


# ---------------------------------------------------------------- arenas


ARENA = 0x7F0000000000  # a multiple of 64 MiB


def arena_pair(start=ARENA, size=132 << 10, heap_max=HEAP_MAX_64):
    return [anon(start, size), anon(start + size, heap_max - size, b"---p", rss=0)]


def test_arena_proven_by_its_heap_info():
    pair = arena_pair()
    assert roles(pair, headers={ARENA: heap_info(ARENA, 132 << 10, used=100 << 10)}) == \
        [(MALLOC_ARENA, True), (MALLOC_ARENA_RESERVE, True)]
    # a later heap of the same arena: ar_ptr in the first heap, prev that heap
    second = ARENA + HEAP_MAX_64
    assert roles(arena_pair(second), headers={second: heap_info(second, 132 << 10, ar_ptr=ARENA + 48,
                                                                previous=ARENA)}) == \
        [(MALLOC_ARENA, True), (MALLOC_ARENA_RESERVE, True)]


def test_arena_without_its_words_is_a_guess():
    assert roles(arena_pair()) == [(MALLOC_ARENA, False), (MALLOC_ARENA_RESERVE, False)]
    # no resident page: its words are not read, the layout says what it can
    asked = []
    pair = arena_pair()
    pair[0].fields["Rss"] = 0
    assert roles(pair, headers={ARENA: heap_info(ARENA, 132 << 10)}, asked=asked) == \
        [(MALLOC_ARENA, False), (MALLOC_ARENA_RESERVE, False)]
    assert asked == []


@pytest.mark.parametrize("words", [
    heap_info(ARENA, 136 << 10),  # mprotect_size is not the mapping's size
    heap_info(ARENA, 132 << 10, used=0),  # nothing used
    heap_info(ARENA, 132 << 10, used=(132 << 10) + 1),  # more used than made writable
    heap_info(ARENA, 132 << 10, ar_ptr=0),  # no arena
    heap_info(ARENA, 132 << 10, previous=ARENA + 4096),  # prev not a heap
    b"\0" * HEADER_BYTES,  # Go's heap, or any reservation of another allocator
], ids=["mprotect_size", "size 0", "size", "ar_ptr", "prev", "zeros"])
def test_arena_layout_whose_words_disagree_is_no_arena(words):
    assert roles(arena_pair(), headers={ARENA: words}) == [(ANON, True), (ANON, True)]


def test_arena_layout_needs_alignment_and_the_whole_reserve():
    misaligned = ARENA + PAGE
    assert roles(arena_pair(misaligned), headers={misaligned: heap_info(misaligned, 132 << 10)}) == \
        [(ANON, True), (ANON, True)]
    short = [anon(ARENA, 132 << 10), anon(ARENA + (132 << 10), HEAP_MAX_64 - (136 << 10), b"---p", rss=0)]
    assert roles(short, headers={ARENA: heap_info(ARENA, 132 << 10)}) == [(ANON, True), (ANON, True)]
    gap = [anon(ARENA, 132 << 10), anon(ARENA + (136 << 10), HEAP_MAX_64 - (136 << 10), b"---p", rss=0)]
    assert roles(gap, headers={ARENA: heap_info(ARENA, 132 << 10)}) == [(ANON, True), (ANON, True)]
    # a heap grown to the whole HEAP_MAX_SIZE has no reserve
    assert roles([anon(ARENA, HEAP_MAX_64)], headers={ARENA: heap_info(ARENA, HEAP_MAX_64)}) == \
        [(MALLOC_ARENA, True)]
    # a reserve only follows its own heap
    assert roles([anon(ARENA - PAGE, PAGE), anon(ARENA, HEAP_MAX_64 - PAGE, b"---p", rss=0)]) == \
        [(ANON, True), (ANON, True)]


def test_arena_of_a_32_bit_process():
    start = 0xF7000000  # a multiple of 1 MiB
    facts = Facts((), 2, 0xFFFDE000)
    pair = arena_pair(start, 132 << 10, HEAP_MAX_32)
    assert roles(pair, facts, {start: heap_info(start, 132 << 10, ar_ptr=start + 16, word=4)}) == \
        [(MALLOC_ARENA, True), (MALLOC_ARENA_RESERVE, True)]
    # the 64-bit rule (64 MiB) does not hold there, nor the 32-bit one in a 64-bit process
    assert roles(pair, headers={start: heap_info(start, 132 << 10, word=4)}) == [(ANON, True), (ANON, True)]


# ---------------------------------------------------------------- mmapped chunks


BLOCK = 0x7F1234500000


@pytest.mark.parametrize("words", [
    word_bytes(0, (8 << 20) + PAGE | 2),  # glibc up to 2.42: the size is the mapping's
    word_bytes(0, (8 << 20) + PAGE - 16 | 2),  # glibc 2.43 on: the mapping's less the chunk header
    word_bytes(1, (8 << 20) + PAGE - 16 | 2),  # ... in huge pages (prev_size's bit 0, MMAP_HP)
], ids=["2.36", "2.43", "2.43-hp"])
def test_mmapped_chunk_that_fills_its_mapping(words):
    assert roles([anon(BLOCK, (8 << 20) + PAGE)], headers={BLOCK: words}) == [(MALLOC_MMAP, True)]


def test_mmapped_chunk_merged_with_memory_beside_it_is_not_certain():
    # the kernel merged the chunk with 12 KiB of anonymous memory above it
    assert roles([anon(BLOCK, (8 << 20) + 4 * PAGE)], headers={BLOCK: word_bytes(0, (8 << 20) + PAGE | 2)}) == \
        [(MALLOC_MMAP, False)]


@pytest.mark.parametrize("words", [
    word_bytes(0, (8 << 20) + PAGE | 3),  # PREV_INUSE: a chunk of an arena, not mmapped
    word_bytes(0, (8 << 20) + PAGE | 6),  # NON_MAIN_ARENA with it
    word_bytes(0, (8 << 20) + PAGE),  # no IS_MMAPPED
    word_bytes(16, (8 << 20) + PAGE | 2),  # an offset that is not where the chunk starts
    word_bytes(0, (16 << 20) | 2),  # larger than the mapping
    word_bytes(0, (8 << 20) + 100 | 2),  # not a whole number of pages
    word_bytes(0, 2),  # no size
    b"\0" * 8,  # too short to tell
], ids=["prev-inuse", "non-main", "no-bit", "offset", "larger", "pages", "empty", "short"])
def test_no_mmapped_chunk(words):
    assert roles([anon(BLOCK, (8 << 20) + PAGE)], headers={BLOCK: words}) == [(ANON, True)]


def test_mmapped_chunk_of_i386_starts_two_words_in():
    facts = Facts((), 1, 0xFFFDE000)
    size = (1 << 20) + PAGE
    # glibc 2.36: correction 8 (MALLOC_ALIGNMENT 16, chunk2mem(mm) 8-aligned): prev_size 8, size less 8
    assert roles([anon(0xF0000000, size)], facts, {0xF0000000: word_bytes(0, 0, 8, size - 8 | 2, word=4)}) == \
        [(MALLOC_MMAP, True)]
    assert roles([anon(0xF0000000, size)], facts, {0xF0000000: word_bytes(0, size | 2, word=4)}) == \
        [(MALLOC_MMAP, True)]
    # that second place is not looked at in a 64-bit process
    assert roles([anon(BLOCK, size)], headers={BLOCK: word_bytes(0, 0, 16, size - 16 | 2)}) == [(ANON, True)]


# ---------------------------------------------------------------- thread stacks and guards


STACK_AT = 0x7F2CD2DA2000


def thread(guard=PAGE, size=8 << 20, at=STACK_AT):
    return [anon(at, guard, b"---p", rss=0), anon(at + guard, size)]


def test_stack_holding_a_stack_pointer_and_its_guard():
    facts = Facts([STACK_AT + (8 << 20) - 0x170], 2, STACK_64)
    asked = []
    assert roles(thread(), facts, asked=asked) == [(GUARD, True), (THREAD_STACK, True)]
    assert asked == [], "a stack proven by its pointer needs no read"
    # a guard larger than glibc's usual under a proven stack: a guess
    big = thread(guard=2 * GUARD_MAX)
    facts = Facts([big[1].end - 64], 2, STACK_64)
    assert roles(big, facts) == [(GUARD, False), (THREAD_STACK, True)]
    # a stack pointer in an anonymous mapping without a guard: a stack all the same
    assert roles([anon(BLOCK, 64 << 10)], Facts([BLOCK + 100], 2, STACK_64)) == [(THREAD_STACK, True)]


def test_stack_by_layout_alone_is_a_guess():
    assert roles(thread()) == [(GUARD, False), (THREAD_STACK, False)]
    assert roles(thread(guard=GUARD_MAX)) == [(GUARD, False), (THREAD_STACK, False)]
    # too large a guard, too small a stack, not adjacent, not PROT_NONE, not anonymous: no guess
    assert roles(thread(guard=GUARD_MAX + PAGE)) == [(ANON, True), (ANON, True)]
    assert roles(thread(size=STACK_MIN - PAGE)) == [(ANON, True), (ANON, True)]
    assert roles([anon(STACK_AT, PAGE, b"---p", rss=0), anon(STACK_AT + 2 * PAGE, 8 << 20)]) == \
        [(ANON, True), (ANON, True)]
    assert roles([anon(STACK_AT, PAGE, b"r--p"), anon(STACK_AT + PAGE, 8 << 20)]) == [(ANON, True), (ANON, True)]
    named = [anon(STACK_AT, PAGE, b"---p", name=b"/usr/lib/libx.so", inode=7, major=8), anon(STACK_AT + PAGE, 8 << 20)]
    assert roles(named) == [(FILE, True), (ANON, True)]
    # a block malloc mapped that happens to lie above a PROT_NONE page is that block
    block = thread()
    assert roles(block, headers={block[1].start: word_bytes(0, (8 << 20) | 2)}) == [(ANON, True), (MALLOC_MMAP, True)]


def test_a_reserve_is_no_guard():
    """The heap of an arena, its reserve, and an anonymous mapping just
    above the reserve: the reserve is the arena's, the mapping no stack."""
    size = HEAP_MAX_64 - (4 << 10) - (64 << 10)  # a reserve of one page
    maps = [anon(ARENA, size), anon(ARENA + size, HEAP_MAX_64 - size, b"---p", rss=0), anon(ARENA + HEAP_MAX_64, 64 << 10)]
    assert maps[1].end - maps[1].start <= GUARD_MAX
    assert roles(maps, headers={ARENA: heap_info(ARENA, size)}) == \
        [(MALLOC_ARENA, True), (MALLOC_ARENA_RESERVE, True), (ANON, True)]
    # proven by a stack pointer, the mapping above is a stack, and the reserve still the arena's
    facts = Facts([ARENA + HEAP_MAX_64 + 100], 2, STACK_64)
    assert roles(maps, facts, {ARENA: heap_info(ARENA, size)}) == \
        [(MALLOC_ARENA, True), (MALLOC_ARENA_RESERVE, True), (THREAD_STACK, True)]


def test_a_proven_arena_wins_over_a_stack_pointer_and_a_pointer_over_a_guess():
    pair = arena_pair()
    inside = Facts([ARENA + 4096], 2, STACK_64)
    assert roles(pair, inside, {ARENA: heap_info(ARENA, 132 << 10)})[0] == (MALLOC_ARENA, True)
    assert roles(pair, inside)[0] == (THREAD_STACK, True)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("name, perms, inode, major, role", [
    (b"[heap]", b"rw-p", 0, 0, HEAP),
    (b"[stack]", b"rw-p", 0, 0, STACK),
    (b"[vdso]", b"r-xp", 0, 0, VDSO),
    (b"[vvar]", b"r--p", 0, 0, VVAR),
    (b"[vvar_vclock]", b"r--p", 0, 0, VVAR),
    (b"[vsyscall]", b"--xp", 0, 0, VSYSCALL),
    (b"[stack:1234]", b"rw-p", 0, 0, THREAD_STACK),  # kernels before 4.5 named thread stacks
    (b"[anon: glibc: malloc arena]", b"rw-p", 0, 0, MALLOC_ARENA),  # glibc.mem.decorate_maps
    (b"[anon: glibc: malloc]", b"rw-p", 0, 0, MALLOC_MMAP),
    (b"[anon: glibc: pthread stack: 4711]", b"rw-p", 0, 0, THREAD_STACK),
    (b"[anon: glibc: pthread user stack: 4711]", b"rw-p", 0, 0, THREAD_STACK),
    (b"[anon:my buffers]", b"rw-p", 0, 0, ANON),
    (b"[anon_shmem:ring]", b"rw-s", 5, 0, SHMEM),
    (b"[uprobes]", b"r-xp", 0, 0, ANON),
    (b"/dev/zero (deleted)", b"rw-s", 1234, 0, SHMEM),
    (b"/SYSV0000162e (deleted)", b"rw-s", 32768, 0, SHMEM),
    (b"/memfd:pool (deleted)", b"rw-s", 9, 0, SHMEM),
    (b"/dev/shm/queue", b"rw-s", 9, 0, SHMEM),
    (b"", b"rw-s", 4321, 0, SHMEM),  # shared anonymous memory whose name says nothing
    (b"/usr/lib/x86_64-linux-gnu/libc.so.6", b"r-xp", 339380, 254, FILE),
    (b"/tmp/data (deleted)", b"rw-p", 77, 254, FILE),
], ids=lambda value: value.decode("latin-1") if isinstance(value, bytes) else None)
def test_names(name, perms, inode, major, role):
    mapping = anon(0x7F0000001000, 64 << 10, perms, name=name, inode=inode, major=major)
    assert roles([mapping], Facts([0x7F0000001000 + 100], 2, STACK_64)) == [(role, True)]
    assert is_shmem(mapping) == (role == SHMEM)


def test_the_main_stack_by_startstack():
    """A kernel without [stack] names: the mapping holding stat's startstack."""
    assert roles([anon(0x7FFC0000F000, 132 << 10)], Facts((), 1, 0x7FFC00020000)) == [(STACK, True)]


@pytest.mark.parametrize("perms, inode, major, minor, holds_startstack, role", [
    (b"rw-s", 4321, 0, 1, False, SHMEM),  # shared anonymous memory, SysV or memfd without its name
    (b"rw-s", 4321, 0, 1, True, SHMEM),
    (b"rw-s", 0, 0, 0, False, ANON),
    (b"rw-s", 0, 0, 0, True, STACK),
    (b"rw-p", 77, 254, 1, False, ANON),  # a file's mapping that lost its name
    (b"rw-p", 77, 254, 1, True, STACK),
    (b"rw-s", 77, 254, 1, False, ANON),
    (b"rw-p", 0, 0, 5, False, ANON),
    (b"rw-p", 0, 0, 0, True, STACK),
    (b"r--p", 0, 0, 0, False, ANON),
    (b"rw-p", 0, 0, 0, False, ANON),  # private anonymous: the layout, which proves nothing here
])
def test_unnamed(perms, inode, major, minor, holds_startstack, role):
    """A mapping without a name: shmem by its device and inode, then the
    main stack by startstack, then private anonymous memory for the layout."""
    start = 0x7FFC0000F000
    mapping = Mapping(start, start + (132 << 10), perms, 0, major, minor, inode, b"",
                      fields={"Size": 132, "Rss": 4})
    startstack = start + 0x100 if holds_startstack else STACK_64
    assert roles([mapping], Facts((), 1, startstack)) == [(role, True)]


def test_names_win_over_stack_pointers_and_words():
    heap = anon(0x55D000000000, 132 << 10, name=b"[heap]")
    assert roles([heap], Facts([heap.start + 8], 2, STACK_64), {heap.start: word_bytes(0, (132 << 10) | 2)}) == \
        [(HEAP, True)]


# ---------------------------------------------------------------- what is read


def test_wants_header():
    assert wants_header(anon(BLOCK, PAGE))
    assert wants_header(anon(BLOCK, PAGE, b"rwxp"))
    assert not wants_header(anon(BLOCK, PAGE, rss=0)), "nothing resident: nothing to read"
    assert not wants_header(Mapping(BLOCK, BLOCK + PAGE, b"rw-p", 0, 0, 0, 0, b"")), "no Rss known"
    assert not wants_header(anon(BLOCK, PAGE, b"r--p"))
    assert not wants_header(anon(BLOCK, PAGE, b"rw-s", inode=5))
    assert not wants_header(anon(BLOCK, PAGE, name=b"[heap]"))
    assert not wants_header(anon(BLOCK, PAGE, name=b"/x", inode=3, major=8))
    for flag in ("um", "uw", "ui", "io", "pf"):
        assert not wants_header(anon(BLOCK, PAGE, vmflags=["rd", "wr", flag])), flag
    assert wants_header(anon(BLOCK, PAGE, vmflags=["rd", "wr", "mr", "mw", "me", "ac", "nr"]))


def mapping_strategy():
    starts = st.integers(0, 64).map(lambda index: 0x7F0000000000 + index * 4 * MIB)
    return st.builds(anon, starts, st.sampled_from([PAGE, 16 << 10, 132 << 10, 8 << 20, HEAP_MAX_64]),
                     st.sampled_from([b"rw-p", b"---p", b"r--p", b"rw-s"]), st.sampled_from([0, 4]),
                     st.sampled_from([b"", b"", b"[heap]", b"[stack]", b"/usr/lib/x.so"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(mapping_strategy(), max_size=12), st.lists(st.integers(0x7F0000000000, 0x7F0000000000 + 300 * MIB),
                                                           max_size=4),
       st.sampled_from([None, "zeros", "chunk", "heap_info"]))
def test_every_mapping_once_and_only_wanted_reads(mappings, pointers, header):
    mappings.sort(key=lambda mapping: mapping.start)
    asked = []

    def read_header(mapping):
        asked.append(mapping)
        size = mapping.end - mapping.start
        return {None: None, "zeros": b"\0" * HEADER_BYTES, "chunk": word_bytes(0, size | 2),
                "heap_info": heap_info(mapping.start, size)}[header]

    result = list(classify(mappings, Facts(pointers, len(pointers), STACK_64), read_header))
    assert [mapping for mapping, _, _ in result] == mappings
    assert all(role in ROLES and certain in (True, False) for _, role, certain in result)
    assert all(wants_header(mapping) for mapping in asked)
    assert len(asked) == len(set(map(id, asked))), "each mapping's words read once at most"
    for mapping, role, certain in result:
        if mapping.name == b"[heap]":
            assert (role, certain) == (HEAP, True)
        if role in (GUARD, MALLOC_ARENA_RESERVE):
            assert mapping.perms == b"---p"


# ---------------------------------------------------------------- thread files


def test_syscall_stack_pointer():
    # lines of this kernel (6.18): blocked in tgkill and in read, outside a call, running
    assert syscall_stack_pointer(b"234 0x450f 0x450f 0x13 0x7f2cd3dbc410 0x0 0x78 0x7ffc4e7c5250 0x7f2cd3e31eec\n") \
        == 0x7ffc4e7c5250
    assert syscall_stack_pointer(b"0 0x0 0x7f2cd35a1ebf 0x1 0x0 0x0 0x0 0x7f2cd35a1e90 0x7f2cd3e7adf2\n") \
        == 0x7f2cd35a1e90
    assert syscall_stack_pointer(b"-1 0x7ffd3b0c1e78 0x55d0c0a0f1a2\n") == 0x7ffd3b0c1e78
    for line in (b"running\n", b"", b"-1 0xzz 0x1\n", b"1 2 3\n"):
        assert syscall_stack_pointer(line) is None, line


def test_stat_stack_pointer():
    fields = [b"S"] + [b"0"] * 49
    fields[26] = b"140737488346112"  # field 29, kstkesp
    stat = b"4711 (a) b) " + b" ".join(fields) + b"\n"
    assert stat_stack_pointer(stat) == 140737488346112
    fields[26] = b"0"  # what kernels write but for a thread dumping core
    assert stat_stack_pointer(b"4711 (x) " + b" ".join(fields)) is None
    assert stat_stack_pointer(b"4711 (x) S 1 2") is None and stat_stack_pointer(b"") is None


def test_own_threads_files_parse():
    """This process's own task files parse: its stat has a stack pointer
    field (0 or a value), and this thread's syscall file says "running"."""
    for folder in glob.glob("/proc/self/task/*"):
        with open(os.path.join(folder, "stat"), "rb") as handle:
            stat = handle.read()
        assert stat_stack_pointer(stat) is None or stat_stack_pointer(stat) > 0


# ---------------------------------------------------------------- what --capture samples


def smaps_files():
    found = sorted(glob.glob(os.path.join(ROOT, "tests", "goldens", "*", "proc", "*", "smaps")))
    assert found
    return found


def made_up_smaps():
    """Records of every kind the candidate scan must tell apart."""
    lines = []
    records = [
        (b"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ", 8, None),
        (b"7f0000021000-7f0004000000 ---p 00000000 00:00 0 ", 0, None),
        (b"7f0004000000-7f0004001000 rw-p 00000000 00:00 0 ", 0, None),  # nothing resident
        (b"7f0005000000-7f0005001000 rw-p 00000000 00:00 0 ", 4, "rd wr um"),  # userfaultfd
        (b"7f0006000000-7f0006001000 rw-p 00000000 00:00 0 ", 4, "rd wr mr mw me ac"),
        (b"7f0007000000-7f0007001000 rwxp 00000000 00:00 0 ", 4, None),
        (b"7f0008000000-7f0008001000 rw-p 00000000 00:00 0                          [heap]", 4, None),
        (b"7f0009000000-7f0009001000 rw-p 00001000 fe:00 1234                       /usr/lib/x rw 00:00 0", 4, None),
        (b"7f000a000000-7f000a001000 rw-s 00000000 00:01 4321                       /dev/zero (deleted)", 4, None),
    ]
    for header, rss, flags in records:
        lines.append(header + b"\n")
        lines.append(b"Size:                  4 kB\nKernelPageSize:        4 kB\nRss:                 %3d kB\n" % rss)
        lines.append(b"Anonymous:           %3d kB\n" % rss)
        if flags:
            lines.append(b"VmFlags: %s \n" % flags.encode())
    return b"".join(lines)


def test_sample_addresses_are_those_wanted():
    for data in [made_up_smaps()] + [open(path, "rb").read() for path in smaps_files()]:
        expected = [mapping.start for mapping in parse_smaps(data, lenient=True) if wants_header(mapping)]
        assert sample_addresses(data) == expected
    assert sample_addresses(made_up_smaps()) == [0x7F0000000000, 0x7F0006000000, 0x7F0007000000]


# ---------------------------------------------------------------- read ahead (report/roles.py)


class FakeMemory:
    """A process's memory: {address: bytes}, the reads counted."""

    def __init__(self, contents, denied=False, fails_after=None):
        self.contents = contents
        self.denied = denied
        self.fails_after = fails_after  # reads that succeed before it fails as a vanished process's
        self.reads = []

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        return False

    def read(self, address, size):
        from pymap.errors import AccessDenied, NoSuchProcess

        if self.denied:
            raise AccessDenied(7, "/proc/7/mem", "Permission denied")
        if self.fails_after is not None and len(self.reads) >= self.fails_after:
            raise NoSuchProcess(7, "/proc/7/mem", "No such process")
        self.reads.append(address)
        data = self.contents.get(address)
        return None if data is None else data[:size]

    def read_many(self, addresses, size):
        for address in addresses:
            yield self.read(address, size)


class FakeFiles:
    def __init__(self, memory):
        self.memory_reader = memory

    def memory(self):
        return self.memory_reader


@pytest.mark.parametrize("count", [1, 2, 255, 256, 257, 512, 513, 700])
def test_roles_of_reads_each_header_once_across_batches(count):
    """roles_of() reads the headers a batch of mappings ahead: every block
    malloc mapped is told, at the edges of the batches too (classify asks
    two mappings behind what it has read), each read once."""
    from pymap.report.roles import roles_of

    mappings = [anon(BLOCK + index * 3 * PAGE, 2 * PAGE) for index in range(count)]
    memory = FakeMemory({mapping.start: word_bytes(0, 2 * PAGE | 2) for mapping in mappings})
    found = list(roles_of(iter(mappings), FakeFiles(memory), Facts((), 1, STACK_64)))
    assert [(mapping, role, certain) for mapping, role, certain in found] == \
        [(mapping, MALLOC_MMAP, True) for mapping in mappings]
    assert memory.reads == [mapping.start for mapping in mappings]


def test_roles_of_stops_reading_memory_it_may_not():
    from pymap.report.roles import roles_of

    memory = FakeMemory({}, denied=True)
    pair = arena_pair()
    assert [(role, certain) for _, role, certain in roles_of(iter(pair), FakeFiles(memory), Facts((), 1, STACK_64))] \
        == [(MALLOC_ARENA, False), (MALLOC_ARENA_RESERVE, False)]


def test_roles_of_keeps_what_it_read_before_memory_failed():
    """A read that fails within a batch keeps the headers read before it
    and asks for no more."""
    from pymap.report.roles import roles_of

    mappings = [anon(BLOCK + index * 3 * PAGE, 2 * PAGE) for index in range(10)]
    memory = FakeMemory({mapping.start: word_bytes(0, 2 * PAGE | 2) for mapping in mappings}, fails_after=4)
    found = [(role, certain) for _, role, certain in roles_of(iter(mappings), FakeFiles(memory), Facts((), 1, STACK_64))]
    assert found == [(MALLOC_MMAP, True)] * 4 + [(ANON, True)] * 6
    assert memory.reads == [mapping.start for mapping in mappings[:4]]


class FakeThreads:
    """A process's thread files: {tid: {name: bytes}} (a missing name is
    one that cannot be read)."""

    def __init__(self, tasks):
        self.task_files = tasks

    def tasks(self):
        return sorted(self.task_files)

    def read_task(self, tid, name):
        from pymap.errors import AccessDenied

        try:
            return self.task_files[tid][name]
        except KeyError:
            raise AccessDenied(7, "/proc/7/task/%d/%s" % (tid, name.decode()), "Permission denied") from None


def stat_with_esp(esp):
    fields = [b"S"] + [b"0"] * 49
    fields[26] = b"%d" % esp
    return b"9 (t) " + b" ".join(fields) + b"\n"


def test_thread_facts_take_syscall_then_stat():
    """Each thread's stack pointer from its syscall line, else from its
    stat's kstkesp; every file read is recorded (what --capture saves),
    and a thread that gives none adds nothing."""
    from pymap.report.roles import thread_facts

    threads = FakeThreads({
        7: {b"syscall": b"0 0x0 0x1 0x1 0x0 0x0 0x0 0x7ffd000 0x401000\n", b"stat": stat_with_esp(1)},
        8: {b"syscall": b"running\n", b"stat": stat_with_esp(0x7f0000123000)},
        9: {b"syscall": b"running\n", b"stat": stat_with_esp(0)},
        10: {b"stat": stat_with_esp(0)},  # syscall denied (another user's thread)
        11: {},
    })
    recorded = []
    facts = thread_facts(threads, STACK_64, lambda tid, name, data: recorded.append((tid, name)))
    assert facts.stack_pointers == [0x7ffd000, 0x7f0000123000] and facts.threads == 5
    assert recorded == [(7, b"syscall"), (8, b"syscall"), (8, b"stat"), (9, b"syscall"), (9, b"stat"),
                        (10, b"stat")]


def test_thread_facts_without_a_thread_list():
    from pymap.errors import NoSuchProcess
    from pymap.report.roles import thread_facts

    class NoTasks:
        def tasks(self):
            raise NoSuchProcess(7, "/proc/7/task", "No such file or directory")

    facts = thread_facts(NoTasks(), STACK_64)
    assert (facts.stack_pointers, facts.threads, facts.word) == ([], 0, 8)
