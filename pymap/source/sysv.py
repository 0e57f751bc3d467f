"""The device minor of SysV shared memory, which pmap needs for [ shmid=0x... ]
(part of the source layer: ProcRoot.sysv_minor).

The kernel shows a SysV segment as "/SYSV<key> (deleted)" on an internal
tmpfs whose anonymous device minor varies from boot to boot.  pmap learns it
by attaching a segment of its own and reading /proc/self/maps; live, pymap
does the same (only when a process shows a candidate mapping).  A snapshot
cannot be probed, so there the minor is inferred from the snapshot itself.
"""

_HEX = frozenset(b"0123456789abcdef")


def _is_sysv_name(name):
    """Whether ``name`` is how the kernel names a SysV segment:
    "/SYSVkkkkkkkk", with " (deleted)" once removed."""
    if name.endswith(b" (deleted)"):
        name = name[:-10]
    return len(name) == 13 and name.startswith(b"/SYSV") and all(byte in _HEX for byte in name[5:])


def probe_live_minor():
    """Attach a private segment and find its minor in /proc/self/maps, as
    pmap does; None when SysV shared memory is unavailable."""
    try:
        import ctypes
    except ImportError:  # a Python built without ctypes
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        libc.shmat.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
        libc.shmdt.argtypes = (ctypes.c_void_p,)
        libc.shmctl.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
        libc.shmget.argtypes = (ctypes.c_int, ctypes.c_size_t, ctypes.c_int)
    except (OSError, AttributeError):
        return None
    ipc_private, ipc_creat, shm_rdonly, ipc_rmid = 0, 0o1000, 0o10000, 0
    shmid = libc.shmget(ipc_private, 42, ipc_creat | 0o600)
    if shmid == -1:
        return None
    try:
        address = libc.shmat(shmid, None, shm_rdonly)
        if address is None or address == ctypes.c_void_p(-1).value:
            return None
        try:
            with open("/proc/self/maps", "rb") as handle:
                for line in handle:
                    minor = _sysv_minor_at(line, address)
                    if minor is not None:
                        return minor
        except OSError:
            return None
        finally:
            libc.shmdt(ctypes.c_void_p(address))
    finally:
        libc.shmctl(shmid, ipc_rmid, None)
    return None


def _sysv_minor_at(line, address):
    parts = line.split(None, 5)
    if len(parts) < 6:
        return None
    try:
        start = int(parts[0].split(b"-", 1)[0], 16)
        major, minor = (int(number, 16) for number in parts[3].split(b":", 1))
    except ValueError:
        return None
    if start != address or major != 0 or parts[1][3:4] != b"s" or b"/SYSV" not in parts[5]:
        return None
    return minor


def infer_minor(lines):
    """The SysV minor a probe would have found on the machine a snapshot
    came from: the minor of its "/SYSVkkkkkkkk (deleted)" shared mappings on
    device major 0 (of maps or smaps header ``lines``), when they all agree."""
    minors = set()
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) < 6 or parts[1][3:4] != b"s" or not _is_sysv_name(parts[5].strip()):
            continue
        major, colon, minor = parts[3].partition(b":")
        try:
            if colon and int(major, 16) == 0:
                minors.add(int(minor, 16))
        except ValueError:
            continue
    if len(minors) == 1:
        return minors.pop()
    return None


def candidate_lines(blocks):
    """The lines of a maps or smaps file, given in line blocks, that could
    be SysV memory (what infer_minor() looks at)."""
    found = []
    for block in blocks:
        if b"/SYSV" not in block:
            continue
        found += [line for line in block.split(b"\n") if b"/SYSV" in line and line[:1] not in _UPPER]
    return found


_UPPER = frozenset(range(ord("A"), ord("Z") + 1))  # a field line of smaps (source.is_field_line)
