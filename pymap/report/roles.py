"""The roles of a process's mappings (parse/roles.py says what each is and
how it is told), with what they are told from read through the source
layer: the threads' stack pointers (/proc/PID/task/TID/syscall, stat where
syscall gives none) and the words at the start of the mappings that need
them (/proc/PID/mem, a few bytes each, only where permitted); a snapshot
serves what --capture saved of both.  And the sums by role that --reconcile
and --summary --by=role show.

``thread_facts(files, start_stack, record=None)`` reads the facts of the
process whose folder ``files`` (a source.ProcessFiles) is open; ``record(tid,
name, data)`` sees every thread file read (--capture saves them).
``roles_of(mappings, files, facts)`` yields (mapping, role, certain),
reading the words at the start of every mapping parse/roles.wants_header
accepts (what --capture saves too), a batch of mappings ahead.
``RoleSums`` adds mappings up by role: ``add(mapping, role, certain,
anon_row)`` and ``as_dict()`` ({role: {"mappings", "Size", "Rss",
"Anonymous", "Swap", "anon_rows_Rss", "guessed"}}, the roles in ROLES'
order, those without mappings left out).
"""

from ..errors import ProcessError
from ..parse.roles import HEADER_BYTES, ROLES, Facts, classify, stat_stack_pointer, syscall_stack_pointer, wants_header

__all__ = ["thread_facts", "roles_of", "RoleSums", "ROLE_FIGURES"]

# the figures summed by role (kB), under the kernel's names
ROLE_FIGURES = ("Size", "Rss", "Anonymous", "Swap")


def thread_facts(files, start_stack, record=None):
    """Facts of the process: each thread's stack pointer, from its syscall
    file, else from its stat (kstkesp); a thread whose files cannot be read
    (another user's, gone meanwhile) adds none.  A process whose threads
    cannot be listed has none known."""
    pointers = []
    try:
        tids = files.tasks()
    except ProcessError:
        return Facts((), 0, start_stack)
    for tid in tids:
        pointer = None
        for name, parse in ((b"syscall", syscall_stack_pointer), (b"stat", stat_stack_pointer)):
            try:
                data = files.read_task(tid, name)
            except ProcessError:
                continue
            if record is not None:
                record(tid, name, data)
            pointer = parse(data)
            if pointer is not None:
                break
        if pointer is not None:
            pointers.append(pointer)
    return Facts(pointers, len(tids), start_stack)


class _Headers:
    """read_header for classify(): the words at a mapping's start, through
    the process's memory reader, read ahead for a batch of mappings at a
    time (reads in a row cost the kernel half what reads strewn among the
    rest of the work do); once the memory cannot be read at all (another
    user's), it is not asked again."""

    BATCH = 256  # mappings read ahead

    def __init__(self, memory):
        self.memory = memory
        self.unreadable = False
        # start -> the bytes there (None: nothing read), of the batch under
        # way and of the one before (classify() asks two mappings behind)
        self.read = self.before = {}

    def ahead(self, mappings):
        """The mappings, each batch's headers read before it is handed on."""
        batch = []
        for mapping in mappings:
            batch.append(mapping)
            if len(batch) >= self.BATCH:
                yield from self._batch(batch)
                batch = []
        yield from self._batch(batch)

    def _batch(self, batch):
        self.before = self.read
        read = self.read = {}
        if self.unreadable:
            return batch
        # (unnamed and writable first: a cheap test that keeps out most)
        wanted = [mapping.start for mapping in batch
                  if not mapping.name and mapping.perms[:2] == b"rw" and wants_header(mapping)]
        try:
            for start, data in zip(wanted, self.memory.read_many(wanted, HEADER_BYTES)):
                read[start] = data
        except ProcessError:
            self.unreadable = True
        return batch

    def __call__(self, mapping):
        start = mapping.start
        return self.read[start] if start in self.read else self.before.get(start)


def roles_of(mappings, files, facts):
    """(mapping, role, certain) of each mapping, in order, reading the
    words the roles need from the process's memory (files.memory()): those
    of every mapping wants_header() accepts, a batch at a time."""
    with files.memory() as memory:
        headers = _Headers(memory)
        yield from classify(headers.ahead(mappings), facts, headers)


class RoleSums:
    """Mappings added up by role: how many, their kB figures, the Rss of
    those pmap labels [ anon ] (``anon_row``), how many are guesses."""

    def __init__(self):
        self.sums = {}

    def add(self, mapping, role, certain, anon_row=False):
        entry = self.sums.get(role)
        if entry is None:
            entry = self.sums[role] = dict.fromkeys(("mappings",) + ROLE_FIGURES + ("anon_rows_Rss", "guessed"), 0)
        fields = mapping.fields
        entry["mappings"] += 1
        entry["Size"] += fields.get("Size", (mapping.end - mapping.start) >> 10)
        for name in ROLE_FIGURES[1:]:
            entry[name] += fields.get(name, 0)
        if anon_row:
            entry["anon_rows_Rss"] += fields.get("Rss", 0)
        if not certain:
            entry["guessed"] += 1

    def as_dict(self):
        return {role: self.sums[role] for role in ROLES if role in self.sums}
