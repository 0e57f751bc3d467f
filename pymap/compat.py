"""Which procps-ng pmap release pymap reproduces.

By default the release of the procps-ng pmap installed where a user would
run it (installed_pmap(): the first procps-ng pmap on PATH, else
/usr/bin/pmap), so that pymap prints what that pmap prints; upstream's
development line ("main") when there is none.  PYMAP_COMPAT or --compat
name another.  Every behaviour that differs between releases is a property
here, so the rest of the code asks a question ("does -A apply to -X?")
instead of comparing version strings.
"""

import os

RELEASES = ("3.3.15", "3.3.16", "3.3.17", "4.0.2", "4.0.3", "4.0.4", "4.0.5", "4.0.6", "main")
DEFAULT_RELEASE = "main"


class UnknownRelease(ValueError):
    """PYMAP_COMPAT or --compat named a release pymap cannot emulate."""


class Compat:
    """The behaviour of one procps-ng release."""

    __slots__ = ("release", "_rank", "source", "note", "version")

    def __init__(self, release=DEFAULT_RELEASE, source=b"pymap's default", note=None, version=None):
        if release not in RELEASES:
            raise UnknownRelease(release)
        self.release = release
        self._rank = RELEASES.index(release)
        self.source = source  # why this release (-V says it)
        self.note = note  # for -V: the installed pmap's release is only near this one
        # what pmap -V names (bytes): the installed binary's own version, else the release
        self.version = release.encode() if version is None else version

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
        """How the header's command line is made, by the escape.c of the
        release: "3.3.15" (3.3.15 and 3.3.16) and "3.3.17" build it as
        libprocps did (the arguments escaped one by one into a 512-byte
        buffer, zombies without " <defunct>", the raw name in brackets);
        "4.0.2", "4.0.4" and "4.0.5" name library/escape.c's rewrites."""
        if self._at_least("4.0.5"):
            return "4.0.5"
        if self._at_least("4.0.4"):
            return "4.0.4"
        if self._at_least("4.0.2"):
            return "4.0.2"
        return "3.3.17" if self._at_least("3.3.17") else "3.3.15"

    @property
    def empty_cmdline(self):
        """What the header shows when escaping leaves nothing at all (3.3
        shows nothing)."""
        if not self._at_least("4.0.2"):
            return b""
        return b"-" if self._at_least("4.0.6") else b"?"

    @property
    def shows_thread_group(self):
        """A thread's ID shows and reads its process's (status' Tgid), from
        4.0.2; 3.3 shows the ID given and reads /proc/TID (status unread)."""
        return self._at_least("4.0.2")

    @property
    def honours_hide_kernel(self):
        """LIBPROC_HIDE_KERNEL hides kernel threads (4.x's library)."""
        return self._at_least("4.0.2")

    @property
    def no_pid_fails(self):
        """Arguments that leave no PID (/proc/self alone) fail with "library
        failed pids statistics" (4.x); 3.3 prints nothing, status 0."""
        return self._at_least("4.0.2")

    @property
    def skips_partial_headers(self):
        """The classic modes skip a maps/smaps line that does not scan all
        seven header fields (3.3, which checks sscanf's count); 4.x goes on
        with what the variables held (extra rows, other totals)."""
        return not self._at_least("4.0.2")

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
        """The library refused to select more PIDs than this (None: no limit,
        as in 3.3's libprocps and from 4.0.6)."""
        return 255 if self._at_least("4.0.2") and not self._at_least("4.0.6") else None

    @property
    def messages_flush_stdout(self):
        """pmap's messages come from glibc's error(), which flushes stdout
        first (up to 4.0.5), or from warnx(), which does not."""
        return not self._at_least("4.0.6")

    @property
    def range_limits_extended(self):
        """-A filters the -X/-XX table (ignored there up to 4.0.6)."""
        return self._at_least("main")


class InstalledPmap:
    """A procps-ng pmap found on this machine: its ``path``, the ``version``
    its binary carries ("4.0.2", "4.0.6-58-gcbe5f3fe"), the ``release``
    pymap emulates for it, a ``note`` when that is only the nearest one
    pymap knows, and ``localedir``, where it finds its catalogs."""

    def __init__(self, path, version, localedir):
        self.path = path
        self.version = version
        self.localedir = localedir
        self.release, self.note = release_for_version(version)


def release_for_version(version):
    """(release, note): the known release that behaves as procps-ng
    ``version`` (bytes), and a note when it is only the nearest.  A release
    is followed by the nearest one of its own line (3.3 and 4.x rest on
    two libraries): 4.0.0 and 4.0.1 as 4.0.2, 3.3.14 and older as 3.3.15."""
    text = version.decode("ascii", "replace")
    if text in RELEASES:
        return text, None
    base, dash, after = text.partition("-")
    numbers = []
    for part in base.split("."):
        digits = ""
        for character in part:
            if not character.isdigit():
                break
            digits += character
        numbers.append(int(digits or 0))
    numbers = tuple((numbers + [0, 0, 0])[:3])
    known = [tuple(int(part) for part in release.split(".")) for release in RELEASES[:-1]]
    if numbers > known[-1] or (numbers == known[-1] and dash):
        # a development snapshot after the newest release is what "main" is;
        # a later release is newer than pymap knows
        return "main", None if numbers == known[-1] else "newer than pymap knows"
    same_line = [release for release in known if release[0] == numbers[0]] or known
    if numbers < same_line[0]:
        return ".".join(map(str, same_line[0])), "older than pymap knows"
    nearest = max(release for release in same_line if release <= numbers)
    name = ".".join(map(str, nearest))
    return name, None if nearest == numbers else "not a release pymap knows"


def installed_pmap(environ):
    """The procps-ng pmap a user of this environment runs as "pmap": the
    first on PATH that is procps-ng's (links to pymap, scripts and other
    programs skipped), else /usr/bin/pmap; None when there is none."""
    path_variable = environ.get(b"PATH")
    directories = (path_variable if path_variable is not None else b"/usr/bin:/bin").split(b":")
    seen = set()
    for directory in directories + [b"/usr/bin"]:
        candidate = (directory or b".") + b"/pmap"
        if candidate in seen:
            continue
        seen.add(candidate)
        found = _procps_pmap(candidate)
        if found is not None:
            return found
    return None


def _procps_pmap(path):
    """InstalledPmap when ``path`` is an executable procps-ng pmap binary."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except (OSError, ValueError):
        return None
    try:
        status = os.fstat(fd)
        if not (status.st_mode & 0o170000 == 0o100000 and status.st_mode & 0o111
                and 4 <= status.st_size <= 64 << 20):
            return None
        if os.read(fd, 4) != b"\x7fELF":
            return None  # a script (pymap's own launcher) or something else
        if status.st_size <= READ_WHOLE:
            found = version_and_localedir(os.pread(fd, status.st_size, 0))
        else:
            import mmap

            with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as image:
                found = version_and_localedir(image)
    except (OSError, ValueError, IndexError):
        return None
    finally:
        os.close(fd)
    if found is None:
        return None
    version, localedir = found
    return InstalledPmap(path, version, localedir if localedir and localedir.startswith(b"/") else None)


READ_WHOLE = 1 << 20  # a binary up to this size is read, not mapped: importing mmap costs more at start-up


def version_and_localedir(image):
    """(version, localedir) from a pmap binary's bytes (bytes or an mmap):
    the version after its "procps-ng " string, the folder its catalogs are
    in (None when it names none); None when it is not procps-ng's."""
    at = image.find(b"procps-ng ")
    while at >= 0 and not (48 <= image[at + 10] <= 57):
        at = image.find(b"procps-ng ", at + 1)
    if at < 0:
        return None
    end = at + 10
    while end < len(image) and image[end] not in b"\0 \n" and end - at < 80:
        end += 1
    localedir = None
    where = image.find(b"/locale\0")
    if where >= 0:
        start = image.rfind(b"\0", max(0, where - 4096), where) + 1
        localedir = image[start:where + 7]
    return image[at + 10:end], localedir
