"""Which procps-ng pmap release pymap reproduces.

pymap follows upstream's development line ("main") unless PYMAP_COMPAT or
--compat names an older release.  Every behaviour that differs between
releases is a property here, so the rest of the code asks a question
("does -A apply to -X?") instead of comparing version strings.
"""

RELEASES = ("4.0.2", "4.0.3", "4.0.4", "4.0.5", "4.0.6", "main")
DEFAULT_RELEASE = "main"


class UnknownRelease(ValueError):
    """PYMAP_COMPAT or --compat named a release pymap cannot emulate."""


class Compat:
    """The behaviour of one procps-ng release."""

    __slots__ = ("release", "_rank")

    def __init__(self, release=DEFAULT_RELEASE):
        if release not in RELEASES:
            raise UnknownRelease(release)
        self.release = release
        self._rank = RELEASES.index(release)

    def _at_least(self, release):
        return self._rank >= RELEASES.index(release)

    def __repr__(self):
        return "Compat(%r)" % self.release

    @property
    def name_escaping(self):
        """How mapping names lose unprintable bytes in the classic modes:
        'isprint' (every byte the locale's isprint() rejects becomes '?')
        up to 4.0.4, 'mblen' (only invalid multibyte sequences do) after."""
        return "mblen" if self._at_least("4.0.5") else "isprint"

    @property
    def cmdline_escaping(self):
        """Which of library/escape.c's rewrites escapes the command line."""
        if self._at_least("4.0.5"):
            return "4.0.5"
        if self._at_least("4.0.4"):
            return "4.0.4"
        return "4.0.2"

    @property
    def empty_cmdline(self):
        """What the header shows when escaping leaves nothing at all."""
        return b"-" if self._at_least("4.0.6") else b"?"

    @property
    def per_pid_totals(self):
        """-X/-XX totals restart for each PID (they accumulated before 4.0.4)."""
        return self._at_least("4.0.4")

    @property
    def has_kernel_names(self):
        """-k/--use-kernel-name exists."""
        return self._at_least("4.0.6")

    @property
    def max_pids(self):
        """The library refused to select more PIDs than this (None: no limit)."""
        return None if self._at_least("4.0.6") else 255

    @property
    def messages_flush_stdout(self):
        """pmap's messages come from glibc's error(), which flushes stdout
        first (up to 4.0.5), or from warnx(), which does not."""
        return not self._at_least("4.0.6")

    @property
    def range_limits_extended(self):
        """-A filters the -X/-XX table (ignored there up to 4.0.6)."""
        return self._at_least("main")


def compat_from_environment(environ):
    """The release named by PYMAP_COMPAT in a bytes environment, or the default."""
    value = environ.get(b"PYMAP_COMPAT")
    if value is None or value == b"":
        return Compat()
    return Compat(value.decode("ascii", "replace"))
