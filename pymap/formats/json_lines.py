"""--json: one JSON object per process per line (JSON Lines), for scripts.

Schema of a process's object::

    {"pid": 1234, "tgid": 1234, "comm": "python3", "cmdline": ["python3", "-c", "..."],
     "mappings": [{"start": 94..., "end": 94..., "offset": 0, "inode": 260131,
                   "perms": "r-xp", "device": "fe:00", "name": "/usr/bin/python3.11",
                   "label": "python3.11", "kb": {"Size": 4, "Rss": 4, ...},
                   "unitless": {"THPeligible": 0}, "vmflags": ["rd", "ex", "mr"]}, ...],
     "totals": {"Size": 12345, "Rss": 678, ...}}

``name`` is the name exactly as /proc/PID/maps shows it ("" for none), and
``label`` the Mapping column of pmap's classic modes (-p and -k apply); both,
like ``cmdline`` and ``comm``, are the kernel's bytes decoded as UTF-8 with
Python's "surrogateescape" error handler.  The output is pure ASCII
(ensure_ascii): a byte that is not UTF-8 shows as a lone surrogate escape
"\\udcXX" (XX the byte), which Python's json.loads gives back, so
``value.encode("utf-8", "surrogateescape")`` returns the kernel's bytes.
(Other JSON tools may turn a lone surrogate into U+FFFD.)

``kb`` holds every smaps field measured in kB under the kernel's own name and
in its order, ``unitless`` the bare numbers (THPeligible, ProtectionKey),
``vmflags`` the VmFlags (null when the kernel has none), ``totals`` the sum of
each ``kb`` field over the mappings shown.  -A LOW[,HIGH] keeps the mappings
that overlap the range.  A process that cannot be read gives
{"pid": ..., "tgid": ..., "error": "message"} (exit status 1); a PID that does
not exist gives nothing (exit status 42, as pmap).
"""

from ..errors import ProcessError
from . import MASK64, OutputMode
from .listing import mapping_label

__all__ = ["text", "process_object", "mapping_object", "error_object", "dumps", "in_range", "JsonMode",
           "read_mappings"]


def text(data):
    """Kernel bytes as str: UTF-8, other bytes as lone surrogates."""
    return data.decode("utf-8", "surrogateescape")


def in_range(mapping, display):
    """Whether the mapping overlaps -A's [low, high]."""
    return (mapping.end - 1) & MASK64 >= display.range_low and mapping.start <= display.range_high


def mapping_object(mapping, start_stack, display):
    fields = mapping.fields
    unitless = mapping.unitless
    kb = {name: value for name, value in fields.items() if name not in unitless} if unitless else dict(fields)
    result = {
        "start": mapping.start,
        "end": mapping.end,
        "offset": mapping.offset,
        "inode": mapping.inode,
        "perms": text(mapping.perms),
        "device": mapping.device,
        "name": text(mapping.name),
        "label": text(mapping_label(mapping, start_stack, display)),
        "kb": kb,
    }
    if unitless:
        result["unitless"] = {name: fields[name] for name in unitless if name in fields}
    result["vmflags"] = mapping.vmflags
    return result


def process_object(process, mappings, display):
    shown = [mapping_object(mapping, process.start_stack, display)
             for mapping in mappings if in_range(mapping, display)]
    totals = {}
    for entry in shown:
        for name, value in entry["kb"].items():
            totals[name] = totals.get(name, 0) + value
    return {
        "pid": process.pid,
        "tgid": process.tgid,
        "comm": text(process.comm or b""),
        "cmdline": [text(argument) for argument in process.arguments],
        "mappings": shown,
        "totals": totals,
    }


def error_object(process, error):
    return {"pid": process.pid, "tgid": process.tgid, "error": str(error)}


def dumps(value):
    """One JSON Lines record (ASCII bytes, newline included)."""
    import json

    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def read_mappings(session, process):
    """The process's mappings from one read of smaps (fields pmap's -x would
    skip are left out), or None after reporting it unreadable: an error
    object with --json, else its header line and a message."""
    from ..model import parse_smaps

    try:
        mappings = parse_smaps(session.read_map(process, b"smaps"), lenient=True)
    except ProcessError as error:
        console = session.console
        if session.invocation.json:
            console.write(dumps(error_object(process, error)))
        else:
            console.write(session.header(process))
            session.message_of(error)
        return None
    session.prepare_labels(mappings)
    return mappings


class JsonMode(OutputMode):
    """--json: one JSON object per process per line."""

    def show(self, process):
        session = self.session
        mappings = read_mappings(session, process)
        if mappings is None:
            return 1
        session.console.write(dumps(process_object(process, mappings, session.display)))
        return 0
