"""--json: one JSON object per process per line (JSON Lines), for scripts;
and the JSON encoding every report's JSON Lines share.

Schema version 3 of a process's object::

    {"schema": 3, "pid": 1234, "tgid": 1234, "comm": "python3",
     "cmdline": ["python3", "-c", "..."],
     "mappings": [{"start": "55d0c0a00000", "end": "55d0c0a02000", "offset": "00000000",
                   "inode": "260131", "perms": "r-xp", "device": "fe:00",
                   "name": "/usr/bin/python3.11", "label": "python3.11",
                   "kb": {"Size": 8, "Rss": 8, ...}, "unitless": {"THPeligible": 0},
                   "vmflags": ["rd", "ex", "mr"], "role": "file"},
                  {..., "name": "", "label": "[ anon ]", ..., "role": "thread_stack", "certain": false}, ...],
     "totals": {"Size": 12345, "Rss": 678, ...}}

``start``, ``end`` and ``offset`` are hexadecimal strings and ``inode`` a
decimal string, as /proc/PID/maps writes them (jq holds numbers as doubles:
64-bit addresses, and the inodes of overlayfs with xino, above 2^53, would
lose their last digits); kB values are integers.  ``name`` is the name
exactly as maps shows it ("" for none), ``label`` pmap's Mapping column
(-p and -k apply) without pmap's padding ("[ anon ]", "[ stack ]",
"[ shmid=0x... ]"); both, like ``cmdline`` and ``comm``, are the kernel's
bytes decoded as UTF-8 with Python's "surrogateescape" error handler.  The
output is pure ASCII (ensure_ascii): a byte that is not UTF-8 shows as a
lone surrogate escape "\\udcXX" (XX the byte), which Python's json.loads
gives back, so ``value.encode("utf-8", "surrogateescape")`` returns the
kernel's bytes.  (Other JSON tools may turn a lone surrogate into U+FFFD.)

``kb`` holds every smaps field measured in kB under the kernel's own name and
in its order, ``unitless`` the bare numbers (THPeligible, ProtectionKey;
{} when there are none),
``vmflags`` the VmFlags (null when the kernel has none).  ``totals`` adds up
the fields that add up (every kB field but KernelPageSize and MMUPageSize)
over the mappings shown; a field is 0 when no mapping is shown (a kernel
thread, an -A range that meets none), so ``.totals.Rss`` is a number.
``role`` says what the mapping is for (parse/roles.py: heap, stack,
thread_stack, guard, malloc_arena, malloc_arena_reserve, malloc_mmap,
shmem, vdso, vvar, vsyscall, file, anon), and ``certain``, present only
when it is false, that the role is a guess from the layout alone.
-A LOW[,HIGH] keeps the mappings that overlap the range (the roles are
those of the whole map).  A process that
cannot be read gives {"schema": 3, "pid": ..., "tgid": ..., "error": "..."}
(exit status 1); a PID that does not exist gives nothing (exit status 42,
as pmap).  A process that exits while it is read after more than
Console's HOLD_LIMIT of its object was written ends its object with an
"error" member after "totals".

The version changes when a member changes its meaning or its type, or
goes; a new member (as role and certain were) is added without a change,
and readers ignore members they do not know.  Version 2 had integer inodes; version 1 (pymap 0.1) integer addresses,
padded labels and totals of KernelPageSize and MMUPageSize, and no
"schema".
"""

from ..emulate.labels import NAME, mapping_label_kind
from ..errors import ProcessError
from ..parse.c_rules import MASK64

__all__ = ["SCHEMA", "text", "mapping_object", "process_head", "error_object", "dumps", "in_range", "stream_process",
           "clean_label", "NOT_ADDED", "BASE_TOTALS"]

SCHEMA = 3
# kB fields that are no amount of memory: they do not add up
NOT_ADDED = frozenset(("KernelPageSize", "MMUPageSize"))
# the totals a process without mappings shows (the kernel's usual kB fields)
BASE_TOTALS = ("Size", "Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty", "Referenced",
               "Anonymous", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb",
               "Private_Hugetlb", "Swap", "SwapPss", "Locked")


def text(data):
    """Kernel bytes as str: UTF-8, other bytes as lone surrogates."""
    return data.decode("utf-8", "surrogateescape")


def in_range(mapping, view):
    """Whether the mapping overlaps -A's [low, high]."""
    return (mapping.end - 1) & MASK64 >= view.range_low and mapping.start <= view.range_high


def clean_label(kind, label):
    """pmap's Mapping column without its padding: pmap's own labels ("  [
    anon ]" and the like, as translated) lose their leading spaces; a
    file's name is left as it is."""
    return label if kind == NAME else label.lstrip(b" ")


def mapping_object(mapping, start_stack, view, role=None, certain=True):
    fields = mapping.fields
    unitless = mapping.unitless
    kb = {name: value for name, value in fields.items() if name not in unitless} if unitless else dict(fields)
    result = {
        "start": "%08x" % mapping.start,
        "end": "%08x" % mapping.end,
        "offset": "%08x" % mapping.offset,
        "inode": "%d" % mapping.inode,
        "perms": text(mapping.perms),
        "device": mapping.device,
        "name": text(mapping.name),
        "label": text(clean_label(*mapping_label_kind(mapping, start_stack, view))),
        "kb": kb,
    }
    result["unitless"] = {name: fields[name] for name in unitless if name in fields}
    result["vmflags"] = mapping.vmflags
    if role is not None:
        result["role"] = role
        if not certain:
            result["certain"] = False
    return result


def process_head(process):
    return {"schema": SCHEMA, "pid": process.pid, "tgid": process.tgid, "comm": text(process.comm or b""),
            "cmdline": [text(argument) for argument in process.arguments]}


def error_object(process, error):
    return {"schema": SCHEMA, "pid": process.pid, "tgid": process.tgid, "error": str(error)}


def dumps(value):
    """One JSON Lines record (ASCII bytes, newline included)."""
    return _encode(value) + b"\n"


def _encode(value):
    import json

    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def stream_process(process, classified, view, write):
    """Write a process's object, a mapping at a time, from an iterable of
    (Mapping, role, certain) (report/roles.py's roles_of; a role of None
    writes none); a ProcessError from it ends the object with an "error"
    member, and is raised again."""
    head = _encode(process_head(process))
    write(head[:-1] + b',"mappings":[')
    totals = {}
    seen = {}  # every kB field the kernel writes, for the zeros of an empty table
    first = True
    try:
        for mapping, role, certain in classified:
            for name in mapping.fields:
                if name not in mapping.unitless:
                    seen[name] = None
            if not in_range(mapping, view):
                continue
            entry = mapping_object(mapping, process.start_stack, view, role, certain)
            for name, value in entry["kb"].items():
                if name not in NOT_ADDED:
                    totals[name] = totals.get(name, 0) + value
            write((b"" if first else b",") + _encode(entry))
            first = False
    except ProcessError as error:
        write(b'],"totals":%s,"error":%s}\n' % (_encode(_totals(totals, seen)), _encode(str(error))))
        raise
    write(b'],"totals":%s}\n' % _encode(_totals(totals, seen)))


def _totals(totals, seen):
    """The totals with a 0 for every field that adds up and no mapping shown
    had (a kernel thread: the usual fields)."""
    names = [name for name in seen if name not in NOT_ADDED] or list(BASE_TOTALS)
    result = {name: totals.get(name, 0) for name in names}
    result.update(totals)
    return result
