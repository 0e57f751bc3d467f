"""What one pymap command asks for, once cli.py has read its arguments."""

__all__ = ["Invocation"]


class Invocation:
    """The mode (a key of modes.MODES), its options, the PIDs and the
    release: frozen once made.

    ``program`` is the name messages start with (bytes), ``environ`` the
    environment pmap would have seen (bytes to bytes), ``table_level`` the
    number of -X (0 for -c/-C), ``rc`` the rc file's RcConfig (-c/-C),
    ``show_path`` -p after the rc file's ShowPath toggles, ``proc_root``
    the /proc to read (b"/proc" unless --proc-root), ``json`` whether --json
    was given, ``capture_dir`` --capture's folder."""

    __slots__ = ("mode", "compat", "program", "environ", "pids", "quiet", "show_path", "kernel_names",
                 "range_low", "range_high", "table_level", "rc", "proc_root", "snapshot", "json", "capture_dir")

    _DEFAULTS = {"pids": (), "quiet": False, "show_path": False, "kernel_names": False, "range_low": 0,
                 "range_high": (1 << 64) - 1, "table_level": 0, "rc": None, "proc_root": b"/proc",
                 "snapshot": False, "json": False, "capture_dir": None, "environ": {}}

    def __init__(self, mode, compat, program, **values):
        unknown = set(values) - set(self.__slots__)
        if unknown:
            raise TypeError("unknown Invocation fields: %s" % ", ".join(sorted(unknown)))
        setter = object.__setattr__
        setter(self, "mode", mode)
        setter(self, "compat", compat)
        setter(self, "program", program)
        for name, default in self._DEFAULTS.items():
            setter(self, name, values.get(name, default))

    def __setattr__(self, name, value):
        raise AttributeError("an Invocation is frozen")

    def __repr__(self):
        return "Invocation(%r, %r, pids=%r)" % (self.mode, self.compat.release, self.pids)
