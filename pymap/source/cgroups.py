"""The memory cgroups beside a /proc root (part of the source layer):
CgroupRoot reads a cgroup's files, live from the hierarchies /proc's
mountinfo names, or from a snapshot's ROOT/cgroup/v1 and ROOT/cgroup/v2
folders, with the hardening of ProcRoot (no link followed, bounded by the
file's FILES entry, errors mapped to errors.CgroupUnreadable).  Imported
only when cgroups are read: pmap's own modes never need it.
"""

import errno
import os

from ..errors import CgroupUnreadable, ProcessError
from . import FILE_FLAGS, FILES, FOLDER_FLAGS, LINK_REASON, READ_CHUNK

__all__ = ["CgroupRoot", "cgroups_beside", "memory_hierarchies", "CGROUP_FOLDER", "CGROUP_DEPTH"]

_S_IFMT, _S_IFREG, _S_IFLNK = 0o170000, 0o100000, 0o120000

# where a snapshot keeps the cgroups' files: ROOT/cgroup/v1/PATH, ROOT/cgroup/v2/PATH
CGROUP_FOLDER = b"cgroup"
# the deepest cgroup read (real trees are a few levels deep; a snapshot's
# path of thousands of levels would cost thousands of opens per ancestor)
CGROUP_DEPTH = 128
_GONE_CGROUP = frozenset((errno.ENOENT, errno.ENODEV, errno.ESRCH, errno.ENOTDIR))


def _unescape_mount(field):
    """A mountinfo path: the kernel writes space, tab, newline and backslash
    as \\ooo (octal)."""
    if b"\\" not in field:
        return field
    out = bytearray()
    index = 0
    while index < len(field):
        piece = field[index + 1:index + 4]
        if field[index:index + 1] == b"\\" and len(piece) == 3 and all(48 <= byte <= 55 for byte in piece):
            out.append(int(piece, 8) & 0xFF)
            index += 4
        else:
            out.append(field[index])
            index += 1
    return bytes(out)


def memory_hierarchies(mountinfo):
    """{version: (mount point, the cgroup path mounted there)} of the memory
    cgroups in a /proc/PID/mountinfo (bytes): version 1 for a "cgroup"
    mount with the memory controller among its options, 2 for a "cgroup2"
    mount.  Each line: ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - TYPE
    SOURCE SUPER_OPTIONS.  Of several mounts of a hierarchy, the one that
    shows the most of it (the shortest root) wins, then the first."""
    found = {}
    for line in mountinfo.split(b"\n"):
        head, separator, tail = line.partition(b" - ")
        if not separator:
            continue
        fields = head.split(b" ")
        after = tail.split(b" ")
        if len(fields) < 5 or len(after) < 3:
            continue
        if after[0] == b"cgroup" and b"memory" in after[2].split(b","):
            version = 1
        elif after[0] == b"cgroup2":
            version = 2
        else:
            continue
        root, point = _unescape_mount(fields[3]), _unescape_mount(fields[4])
        if not root.startswith(b"/") or not point.startswith(b"/"):
            continue
        if version not in found or len(root) < len(found[version][1]):
            found[version] = (point, root)
    return found


class CgroupRoot:
    """The memory cgroups beside a ProcRoot: for each hierarchy version (1:
    cgroup v1's memory controller, 2: the unified hierarchy) a folder
    (``base`` and the names below it, followed without links), and the
    cgroup path that folder is (the mount's root: "/", or a container's
    part of the tree when only that is mounted).  A cgroup is named by its
    path as /proc/PID/cgroup writes it; its files are read with FILES'
    bounds, no link below the folder followed, only regular files."""

    def __init__(self, hierarchies, snapshot=False):
        self.hierarchies = hierarchies  # {version: (base, (names below it), the cgroup path at it)}
        self.snapshot = snapshot

    def __repr__(self):
        return "CgroupRoot(%r)" % (self.hierarchies,)

    @classmethod
    def beside(cls, proc_root):
        """The cgroups of a live /proc (its self/mountinfo), or of a snapshot
        (ROOT/cgroup/v1 and ROOT/cgroup/v2)."""
        if proc_root.snapshot:
            return cls({version: (proc_root.path, (CGROUP_FOLDER, b"v%d" % version), b"/") for version in (1, 2)},
                       snapshot=True)
        try:
            mounts = memory_hierarchies(proc_root.machine_file(b"self/mountinfo"))
        except ProcessError:
            mounts = {}
        return cls({version: (point, (), root) for version, (point, root) in mounts.items()})

    def has(self, version):
        return version in self.hierarchies

    def names_of(self, version, path):
        """The folder names from the hierarchy's folder down to the cgroup
        PATH (bytes), or None when PATH is not in the part of the tree this
        root shows (outside a container's namespace: "/../..."), or is no
        cgroup path."""
        hierarchy = self.hierarchies.get(version)
        if hierarchy is None or not path.startswith(b"/"):
            return None
        root = hierarchy[2].rstrip(b"/") + b"/"
        if not (path + b"/").startswith(root):
            return None
        names = [name for name in path[len(root):].split(b"/") if name]
        if len(names) > CGROUP_DEPTH or any(name in (b".", b"..") for name in names):
            return None
        return names

    def folder_of(self, version, path):
        """The folder of cgroup PATH as a path (bytes, for messages), or None."""
        names = self.names_of(version, path)
        if names is None:
            return None
        base, below, _ = self.hierarchies[version]
        return b"/".join([base.rstrip(b"/") or b""] + list(below) + names) or b"/"

    def shown(self, version, path, name=None):
        folder = self.folder_of(version, path)
        shown = folder if folder is not None else b"cgroup %s" % path
        return shown if name is None else shown.rstrip(b"/") + b"/" + name

    def _folder_fd(self, version, path):
        """A descriptor of the cgroup's folder, each name below the base
        opened without following a link."""
        names = self.names_of(version, path)
        if names is None:
            raise CgroupUnreadable(self.shown(version, path), "not in the cgroup tree this root shows (another "
                                   "cgroup namespace's, deeper than %d levels, or no cgroup path)" % CGROUP_DEPTH)
        base, below, _ = self.hierarchies[version]
        try:
            fd = os.open(base, FOLDER_FLAGS)
        except (OSError, ValueError) as exc:
            raise self._error(version, path, None, exc) from None
        try:
            for name in list(below) + names:
                try:
                    next_fd = os.open(name, FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
                except (OSError, ValueError) as exc:
                    if isinstance(exc, OSError) and exc.errno == errno.ENOTDIR:
                        exc = _not_a_folder(fd, name, exc)
                    raise self._error(version, path, None, exc) from None
                os.close(fd)
                fd = next_fd
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _error(self, version, path, name, exc):
        shown = self.shown(version, path, name)
        if isinstance(exc, ValueError):
            return CgroupUnreadable(shown, "invalid path")
        number = exc.errno
        if number == errno.ELOOP:
            return CgroupUnreadable(shown, LINK_REASON)
        reason = exc.strerror or str(exc)
        if number in _GONE_CGROUP:
            if name is None:
                return CgroupUnreadable(shown, "no such cgroup (removed?)", gone=True)
            if number == errno.ENODEV:
                return CgroupUnreadable(shown, "the cgroup was removed while it was read", gone=True)
        return CgroupUnreadable(shown, reason)

    def exists(self, version, path):
        """Whether the cgroup's folder is there."""
        try:
            os.close(self._folder_fd(version, path))
        except CgroupUnreadable:
            return False
        return True

    def read(self, version, path, name):
        """The whole file NAME of cgroup PATH in hierarchy VERSION, bounded by
        FILES[NAME]; raises CgroupUnreadable."""
        kind = FILES[name]
        folder = self._folder_fd(version, path)
        try:
            fd = os.open(name, FILE_FLAGS, dir_fd=folder)
        except OSError as exc:
            gone = exc.errno in _GONE_CGROUP and not _still_there(folder)
            error = self._error(version, path, None if gone else name, exc)
            raise error from None
        finally:
            os.close(folder)
        try:
            if os.fstat(fd).st_mode & _S_IFMT != _S_IFREG:
                raise CgroupUnreadable(self.shown(version, path, name), "not a regular file")
            blocks = []
            total = 0
            while total <= kind.limit:
                try:
                    block = os.read(fd, min(READ_CHUNK, kind.limit + 1 - total))
                except InterruptedError:
                    continue
                except OSError as exc:
                    raise self._error(version, path, name, exc) from None
                if not block:
                    break
                blocks.append(block)
                total += len(block)
        finally:
            os.close(fd)
        if total > kind.limit:
            raise CgroupUnreadable(self.shown(version, path, name), "larger than %d bytes: not a %s file" % (
                kind.limit, name.decode("ascii", "replace")))
        return b"".join(blocks)

    def cgroup_of_folder(self, folder):
        """(version, cgroup path) of a folder under a hierarchy's folder
        (bytes: an absolute path, "." and ".." already resolved), or None."""
        for version, (base, below, root) in sorted(self.hierarchies.items()):
            top = os.path.abspath(b"/".join([base.rstrip(b"/") or b""] + list(below)) or b"/")
            if folder == top or folder.startswith(top + b"/"):
                rest = folder[len(top):].strip(b"/")
                path = root.rstrip(b"/") + b"/" + rest if rest else root
                return version, path
        return None


def _not_a_folder(folder_fd, name, exc):
    """O_NOFOLLOW with O_DIRECTORY says only ENOTDIR of a link: ELOOP for a
    link, an error that names a file that is not a folder, else ``exc``."""
    try:
        mode = os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode & _S_IFMT
    except OSError:
        return exc
    if mode == _S_IFLNK:
        return OSError(errno.ELOOP, "a symbolic link")
    return OSError(errno.EIO, "not a folder")


def _still_there(folder_fd):
    """Whether the cgroup folder ``folder_fd`` is still in the tree (a
    removed cgroup's folder has no links left)."""
    try:
        return os.fstat(folder_fd).st_nlink > 0 and os.listdir(folder_fd) != []
    except OSError:
        return False


def cgroups_beside(proc_root):
    """The CgroupRoot beside ``proc_root`` (a ProcRoot), made once per root
    (kept as its ``cgroup_root``)."""
    if proc_root.cgroup_root is None:
        proc_root.cgroup_root = CgroupRoot.beside(proc_root)
    return proc_root.cgroup_root
