"""The Request: what one command asks for, frozen once made.

Its fields are the fixed ones below and one per option of options.OPTIONS
that has a ``dest`` (with that option's default when it is not given), so
a new option is its spec alone: no list of fields is copied by hand.

Fixed fields: ``mode`` (a name of modes.MODES), ``compat`` (the release
followed, compat.Compat), ``program`` (the name messages start with,
bytes), ``environ`` (the environment pmap would have seen, bytes to bytes),
``language`` (language.Language; None: English, the C locale), ``pids``,
``rc`` (the rc file's RcConfig, -c/-C), ``given`` (the options given, as
the exclusion messages write them: "-x", "--json"), ``snapshot`` (whether
``proc_root`` is a snapshot).  Derived: ``proc_root`` is b"/proc" unless
--proc-root; ``show_path`` is -p after the rc file's ShowPath toggles;
``range_low`` and ``range_high`` are -A's bounds.
"""

from .options import REQUEST_FIELDS

__all__ = ["Request"]

_FIXED = {"mode": "default", "compat": None, "program": b"pymap", "environ": {}, "language": None, "pids": (),
          "rc": None, "given": frozenset(), "snapshot": False}


class Request:
    """What one command asks for (see the module's docstring)."""

    __slots__ = tuple(_FIXED) + tuple(name for name in REQUEST_FIELDS if name not in _FIXED)

    def __init__(self, **values):
        unknown = set(values) - set(self.__slots__)
        if unknown:
            raise TypeError("unknown Request fields: %s" % ", ".join(sorted(unknown)))
        setter = object.__setattr__
        for defaults in (_FIXED, REQUEST_FIELDS):
            for name, default in defaults.items():
                setter(self, name, values.get(name, default))
        if self.proc_root is None:
            setter(self, "proc_root", b"/proc")

    def __setattr__(self, name, value):
        raise AttributeError("a Request is frozen")

    @property
    def range_low(self):
        return self.address_range[0]

    @property
    def range_high(self):
        return self.address_range[1]

    def __repr__(self):
        return "Request(%r, %r, pids=%r)" % (self.mode, self.compat.release if self.compat else None, self.pids)
