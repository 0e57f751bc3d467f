"""What each mapping of a process is for: its role, told from the layout of
the memory map, the threads' stack pointers and a few words of memory at a
mapping's start (glibc's malloc and pthread leave their marks there).

Schema:

* ``classify(mappings, facts, read_header)`` yields ``(mapping, role,
  certain)`` for each Mapping of the iterable, in its order, two mappings
  behind it (a guard's role depends on the stack above it, a reserve's on
  the arena heap below it): ``role`` one of ROLES, ``certain`` False where
  the role is a guess from the layout alone (the memory that would prove it
  could not be read).  ``read_header(mapping)`` gives the HEADER_BYTES at
  the mapping's start, or None; it is called only for mappings that
  ``wants_header`` accepts, and only where the role depends on it.
* ``Facts(stack_pointers, threads, start_stack)``: the stack pointers of
  the threads (sorted), how many threads there are, stat's startstack.
* ``syscall_stack_pointer(bytes)``, ``stat_stack_pointer(bytes)``: a
  thread's stack pointer from /proc/PID/task/TID/syscall ("running", "-1 SP
  PC" or "NR A1 ... A6 SP PC", proc(5)) or from its stat's kstkesp (field
  29), or None.
* ``wants_header(mapping)``: whether the words at its start may be read: an
  unnamed, private, writable anonymous mapping with resident pages (a page
  not resident is never faulted in by pymap's read), without userfaultfd,
  I/O or PFN-map flags.  ``sample_addresses(block)``: the starts of the
  records of a block of smaps that it accepts (what --capture saves).

The roles:

* ``heap``: the brk heap ([heap]); ``stack``: the main thread's stack
  ([stack], or the mapping holding stat's startstack); ``vdso``, ``vvar``
  ([vvar], [vvar_vclock]), ``vsyscall``; ``shmem``: shared anonymous
  memory, SysV segments, memfd and /dev/shm files (is_shmem); ``file``: any
  other mapping with a path.
* ``thread_stack``: the anonymous mapping that holds a thread's stack
  pointer (certain), or, without one, a writable anonymous mapping of at
  least STACK_MIN bytes just above a PROT_NONE anonymous mapping of at most
  GUARD_MAX bytes, which is how glibc's pthread_create lays out a stack and
  its guard (allocatestack.c: one mapping, the guard at its low end, for a
  stack that grows down): a guess.  ``guard``: that PROT_NONE mapping just
  below a thread stack, as certain as the stack (a guard larger than
  GUARD_MAX under a proven stack is a guess).
* ``malloc_arena``: a heap of a glibc malloc arena (arena.c, alloc_new_heap:
  HEAP_MAX_SIZE of PROT_NONE aligned to HEAP_MAX_SIZE, its first part made
  read-write, a heap_info at its start): a writable mapping that starts at
  a multiple of HEAP_MAX_SIZE (64 MiB for 64-bit processes, 1 MiB for
  32-bit: 2 * DEFAULT_MMAP_THRESHOLD_MAX of malloc.c) and is followed by a
  PROT_NONE mapping that ends HEAP_MAX_SIZE after its start (or fills it
  whole).  Certain when its first words are a heap_info that agrees with
  it (ar_ptr set, prev 0 or another heap, mprotect_size the mapping's size,
  0 < size <= mprotect_size), a guess when they could not be read, not an
  arena when they disagree (another allocator's reservation, Go's heap).
  ``malloc_arena_reserve``: that PROT_NONE rest, as certain as its heap.
* ``malloc_mmap``: a chunk malloc placed in a mapping of its own
  (malloc.c, sysmalloc_mmap / mmap_set_chunk): at the mapping's start,
  prev_size (the chunk's offset in the mapping, bit 0 glibc 2.43's huge-page
  mark) and a size field with IS_MMAPPED (0x2) alone of the low bits, the
  size the mapping's (glibc up to 2.42) or the mapping's less the chunk
  header (2.43 on).  Certain when the chunk fills the mapping; when the
  kernel merged it with anonymous memory beside it, the chunk only starts
  the mapping: certain False.
* ``anon``: anonymous memory of which nothing more is known.

Names glibc 2.39 and later give its mappings with the glibc.mem.
decorate_maps tunable ("[anon: glibc: malloc arena]" and the like) are taken
as they say.  Not recognized: arenas of glibc.malloc.hugetlb (aligned to
four huge pages in glibc 2.35 to 2.42), the main arena's mmap fallback when
brk fails, chunks from memalign placed away from their mapping's start.
"""

import struct
from bisect import bisect_left

__all__ = ["ROLES", "HEAP", "STACK", "THREAD_STACK", "GUARD", "MALLOC_ARENA", "MALLOC_ARENA_RESERVE", "MALLOC_MMAP",
           "SHMEM", "VDSO", "VVAR", "VSYSCALL", "FILE", "ANON", "Facts", "classify", "wants_header",
           "sample_addresses", "syscall_stack_pointer", "stat_stack_pointer", "heap_max_size", "is_shmem",
           "HEADER_BYTES", "GUARD_MAX", "STACK_MIN"]

HEAP, STACK, THREAD_STACK, GUARD = "heap", "stack", "thread_stack", "guard"
MALLOC_ARENA, MALLOC_ARENA_RESERVE, MALLOC_MMAP = "malloc_arena", "malloc_arena_reserve", "malloc_mmap"
SHMEM, VDSO, VVAR, VSYSCALL, FILE, ANON = "shmem", "vdso", "vvar", "vsyscall", "file", "anon"
# in the order reports list them: malloc's and the threads' first, then the rest
ROLES = (HEAP, MALLOC_ARENA, MALLOC_ARENA_RESERVE, MALLOC_MMAP, STACK, THREAD_STACK, GUARD, ANON, SHMEM, FILE, VDSO,
         VVAR, VSYSCALL)

# what is read at a mapping's start: four words of a 64-bit process (a
# heap_info's ar_ptr, prev, size and mprotect_size; a chunk's prev_size and
# size), and no more
HEADER_BYTES = 32
# the layout's guess of a thread stack: glibc's smallest stack
# (PTHREAD_STACK_MIN, 16 KiB) above a guard of at most this much (glibc's
# default guard is one page)
STACK_MIN = 16 << 10
GUARD_MAX = 1 << 20
_PAGE = 4096  # mappings are multiples of the page size, which is a multiple of this
_IS_MMAPPED, _SIZE_BITS = 0x2, 0x7
# VmFlags of mappings whose memory pymap does not read: userfaultfd (a read
# could wait on the process's handler), I/O and PFN maps (device memory)
_NOT_READ = frozenset(("um", "uw", "ui", "io", "pf"))
_SHMEM_PREFIXES = (b"/dev/zero", b"/SYSV", b"/memfd:", b"/dev/shm/", b"[anon_shmem:")
# names the kernel gives, and those glibc gives with glibc.mem.decorate_maps
_NAMED = {b"[heap]": HEAP, b"[stack]": STACK, b"[vdso]": VDSO, b"[vvar]": VVAR, b"[vvar_vclock]": VVAR,
          b"[vsyscall]": VSYSCALL, b"[anon: glibc: malloc arena]": MALLOC_ARENA,
          b"[anon: glibc: malloc]": MALLOC_MMAP}
_NAMED_STACKS = (b"[stack:", b"[anon: glibc: pthread stack: ", b"[anon: glibc: pthread user stack: ",
                 b"[anon: glibc: unused stack]")
_PENDING = None  # a PROT_NONE mapping whose role its neighbours decide


def heap_max_size(word):
    """glibc's HEAP_MAX_SIZE for a process of ``word``-byte longs: 2 *
    DEFAULT_MMAP_THRESHOLD_MAX, which is 4 MiB * sizeof(long) on 64-bit
    and 512 KiB on 32-bit (malloc/arena.c, malloc/malloc.c)."""
    return 2 * (4 * 1024 * 1024 * word) if word == 8 else 2 * 512 * 1024


class Facts:
    """What is known of a process beyond its mappings: the stack pointers
    of its threads (sorted), how many threads it has, and stat's startstack
    (which also tells a 32-bit process: its stack lies below 4 GiB)."""

    __slots__ = ("stack_pointers", "threads", "start_stack", "word")

    def __init__(self, stack_pointers=(), threads=0, start_stack=0):
        self.stack_pointers = sorted(stack_pointers)
        self.threads = threads
        self.start_stack = start_stack
        self.word = 4 if 0 < start_stack <= 0xFFFFFFFF else 8

    def holds_stack_pointer(self, start, end):
        pointers = self.stack_pointers
        index = bisect_left(pointers, start)
        return index < len(pointers) and pointers[index] < end


def syscall_stack_pointer(data):
    """The stack pointer of a task's syscall file, or None ("running", or
    not the kernel's text)."""
    words = data.split()
    try:
        if len(words) == 9:  # NR ARG1 ... ARG6 SP PC
            return int(words[7], 16)
        if len(words) == 3 and words[0] == b"-1":  # blocked, not in a system call
            return int(words[1], 16)
    except ValueError:
        pass
    return None


def stat_stack_pointer(data):
    """kstkesp, field 29 of a task's stat (after the name's last ')'), or
    None when it is 0 or missing."""
    closing = data.rfind(b")")
    fields = data[closing + 1:].split() if closing >= 0 else []
    if len(fields) > 26 and fields[26].isdigit():
        value = int(fields[26])
        return value or None
    return None


def is_shmem(mapping):
    """Whether the mapping's pages are shmem (counted in RssShmem, not
    RssAnon or RssFile): shared anonymous memory (/dev/zero), SysV
    segments, memfd and tmpfs files; by its name, or, for a shared mapping
    whose name says nothing, by the anonymous device (major 0)."""
    if mapping.name.startswith(_SHMEM_PREFIXES):
        return True
    return mapping.dev_major == 0 and mapping.inode != 0 and mapping.perms[3:4] == b"s"


def _is_anonymous(mapping):
    """Private, unnamed, on no device: what mmap(MAP_PRIVATE|MAP_ANONYMOUS) makes."""
    return (not mapping.name and mapping.perms[3:4] == b"p" and not mapping.inode and not mapping.dev_major
            and not mapping.dev_minor)


def _is_none(mapping):
    return mapping.perms[:3] == b"---"


def _is_writable(mapping):
    return mapping.perms[:2] == b"rw"


def wants_header(mapping):
    """Whether pymap reads the words at the mapping's start (see the module)."""
    return _is_writable(mapping) and _is_anonymous(mapping) and _may_read(mapping)


def _may_read(mapping):
    """wants_header() of a writable anonymous mapping."""
    if mapping.fields.get("Rss", 0) <= 0 or mapping.start >= 1 << 63:
        return False
    flags = mapping.vmflags
    return not flags or _NOT_READ.isdisjoint(flags)


def sample_addresses(block):
    """The starts of the mappings wants_header() accepts among the whole
    records of ``block`` (bytes of smaps): only the records whose header
    line could be one are parsed."""
    from .smaps import parse_smaps

    addresses = []
    position = 0
    while True:
        at = block.find(b" rw", position)
        if at < 0:
            return addresses
        start = block.rfind(b"\n", 0, at) + 1
        end = block.find(b"\n", at)
        end = len(block) if end < 0 else end + 1
        line = block[start:end]
        position = end
        if not line[:1] or line[:1] in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ" or not line.rstrip().endswith(b" 00:00 0"):
            continue  # a field line, or a mapping with a name or a device
        record_end = end
        while record_end < len(block) and block[record_end:record_end + 1] in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            following = block.find(b"\n", record_end)
            record_end = len(block) if following < 0 else following + 1
        mappings = parse_smaps(block[start:record_end], lenient=True)
        if len(mappings) == 1 and wants_header(mappings[0]):
            addresses.append(mappings[0].start)
        position = record_end


# the words at a mapping's start, in this machine's byte order (the
# snapshot's process had it too; a snapshot from a machine of the other
# order proves nothing: the values then disagree), by word size and count
_WORDS = {(word, count): struct.Struct("=%d%s" % (count, "Q" if word == 8 else "I"))
          for word in (4, 8) for count in range(5)}


def _words(data, word):
    """The words of ``data`` (four at most), or None."""
    if data is None:
        return None
    return _WORDS[word, min(len(data) // word, 4)].unpack_from(data)


def _arena_layout(mapping, following, heap_max):
    """Whether a writable anonymous mapping is laid out as an arena heap:
    at a multiple of HEAP_MAX_SIZE, its PROT_NONE rest after it."""
    start, size = mapping.start, mapping.end - mapping.start
    if start % heap_max or size > heap_max:
        return False
    if size == heap_max:
        return True
    return (following is not None and following.start == mapping.end and following.end == start + heap_max
            and _is_none(following) and _is_anonymous(following))


def _arena_header(words, mapping, heap_max):
    """Whether the words are the heap_info of this heap (arena.c)."""
    if len(words) < 4:
        return False
    ar_ptr, previous, used, protected = words
    return ar_ptr != 0 and previous % heap_max == 0 and protected == mapping.end - mapping.start and \
        0 < used <= protected


def _mmapped_chunk(words, mapping, word):
    """None, or whether the mmapped chunk the words start fills the mapping
    (True) or only starts it (False)."""
    size = mapping.end - mapping.start
    # i386 places the chunk two words in (MALLOC_ALIGNMENT 16, a header of 8)
    for first in ((0,) if word == 8 else (0, 2)):
        if len(words) < first + 2:
            break
        offset = first * word
        previous, head = words[first], words[first + 1]
        if previous & ~1 != offset or head & _SIZE_BITS != _IS_MMAPPED:
            continue
        chunk = head & ~_SIZE_BITS
        for region in (offset + chunk, offset + chunk + 2 * word):  # glibc up to 2.42, from 2.43
            if region and region % _PAGE == 0 and region <= size:
                return region == size
    return None


class _Entry:
    __slots__ = ("mapping", "role", "certain")

    def __init__(self, mapping):
        self.mapping = mapping
        self.role = _PENDING
        self.certain = True


def _named_role(mapping, facts):
    """The role a mapping's name, path or device gives, or None for an
    anonymous mapping the rest of the layout must tell."""
    name = mapping.name
    if name:
        role = _NAMED.get(name)
        if role is not None:
            return role
        if name.startswith(_NAMED_STACKS):
            return THREAD_STACK
        if is_shmem(mapping):
            return SHMEM
        if name[:1] == b"[":
            return ANON  # [anon:NAME] of the program's own, [uprobes], ...
        return FILE
    # unnamed: the usual one (no inode, no device) is tested without calls
    if mapping.inode or mapping.dev_major or mapping.dev_minor:
        if is_shmem(mapping):
            return SHMEM  # shared memory whose name says nothing
        return STACK if mapping.start <= facts.start_stack < mapping.end else ANON
    if mapping.start <= facts.start_stack < mapping.end:
        return STACK
    return None if mapping.perms[3:4] == b"p" else ANON  # private: _is_anonymous


def _primary(entry, previous, before_previous, following, facts, heap_max, read_header):
    """The role of ``entry`` from itself, the mapping after it (raw) and the
    roles of the two before it; PROT_NONE anonymous mappings stay pending."""
    mapping = entry.mapping
    role = _named_role(mapping, facts)
    if role is not None:
        entry.role = role
        return
    access = mapping.perms[:3]
    if access == b"---":
        return  # _final decides
    if access[:2] != b"rw":
        entry.role = ANON
        return
    arena = _arena_layout(mapping, following, heap_max)
    holds = facts.holds_stack_pointer(mapping.start, mapping.end) if facts.stack_pointers else False
    words = None
    if (arena or not holds) and _may_read(mapping):  # (an anonymous writable mapping: wants_header)
        words = _words(read_header(mapping), facts.word)
    if words is not None:
        if arena and _arena_header(words, mapping, heap_max):
            entry.role = MALLOC_ARENA
            return
        if not holds:
            chunk = _mmapped_chunk(words, mapping, facts.word)
            if chunk is not None:
                entry.role, entry.certain = MALLOC_MMAP, chunk
                return
    if holds:
        entry.role = THREAD_STACK
        return
    if arena and words is None:
        entry.role, entry.certain = MALLOC_ARENA, False
        return
    if previous is not None and previous.role is _PENDING and mapping.end - mapping.start >= STACK_MIN \
            and _is_guard_below(previous, before_previous, mapping, heap_max):
        entry.role, entry.certain = THREAD_STACK, False
        return
    entry.role = ANON


def _is_guard_below(previous, before_previous, mapping, heap_max):
    """Whether ``previous`` could be the guard of a stack at ``mapping``: a
    small PROT_NONE anonymous mapping just below it, not an arena's reserve."""
    below = previous.mapping
    return (previous.role is _PENDING and below.end == mapping.start and below.end - below.start <= GUARD_MAX
            and not _is_reserve(before_previous, below, heap_max))


def _is_reserve(below, mapping, heap_max):
    """Whether a PROT_NONE ``mapping`` is the rest of the arena heap below it."""
    if below is None or below.role != MALLOC_ARENA:
        return False
    heap = below.mapping
    return heap.end == mapping.start and heap.start % heap_max == 0 and mapping.end == heap.start + heap_max


def _final(entry, previous, following, heap_max):
    """The role of a pending (PROT_NONE anonymous) mapping, from the roles
    of its neighbours."""
    if entry.role is not _PENDING:
        return
    mapping = entry.mapping
    if _is_reserve(previous, mapping, heap_max):
        entry.role, entry.certain = MALLOC_ARENA_RESERVE, previous.certain
    elif following is not None and following.role == THREAD_STACK and following.mapping.start == mapping.end:
        entry.role = GUARD
        entry.certain = following.certain and mapping.end - mapping.start <= GUARD_MAX
    else:
        entry.role = ANON


def classify(mappings, facts, read_header):
    """(mapping, role, certain) for each mapping, in order (see the module)."""
    heap_max = heap_max_size(facts.word)
    # the entries before the one just read: ``second`` gets its primary role
    # now (the mapping after it is known), ``third`` its final role (the
    # roles on both sides are known) and is handed out; ``fourth`` is done
    fourth = third = second = None
    for mapping in mappings:
        if second is not None:
            _primary(second, third, fourth, mapping, facts, heap_max, read_header)
            if third is not None:
                if third.role is _PENDING:
                    _final(third, fourth, second, heap_max)
                yield third.mapping, third.role, third.certain
        fourth, third, second = third, second, _Entry(mapping)
    if second is not None:  # the last two
        _primary(second, third, fourth, None, facts, heap_max, read_header)
        if third is not None:
            _final(third, fourth, second, heap_max)
            yield third.mapping, third.role, third.certain
        _final(second, third, None, heap_max)
        yield second.mapping, second.role, second.certain
