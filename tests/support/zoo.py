"""A target process with many kinds of mapping, for differential tests.

    python3 zoo.py DIR FEATURES [ARGUMENTS...]

creates files under DIR, maps them and other memory, then stops itself
with SIGSTOP (its threads wait too), so pmap and pymap read the same maps.
FEATURES is a comma list: "all" (the usual zoo), "longpath" (one file whose
path is longer than pmap's 1024-byte line buffer), "bare" (nothing extra).
ARGUMENTS are ignored: they are there to give an odd command line.
"""

import ctypes
import mmap
import os
import signal
import sys
import threading
import time

PAGE = mmap.PAGESIZE

# names a file mapping may have: spaces, tabs, newlines, invalid and valid UTF-8
FILE_NAMES = (
    b"plain.bin",
    b"with space.bin",
    b"tab\there.bin",
    b"new\nline.bin",
    b"bad\xff\xfe-utf8.bin",
    "ünïcødé-漢字.bin".encode(),
    b"ctl\x01\x1b\x7f.bin",
    b"c1\xc2\x85x.bin",
    b"overlong\xc0\xaf.bin",
)

_keep = []  # mappings, segments and threads live as long as the process


def _touch(area, length, step=PAGE):
    for offset in range(0, length, step):
        area[offset] = 1


def _map_file(path, size, shared, write=True):
    with open(path, "wb") as handle:
        handle.write(b"z" * size)
    fd = os.open(path, os.O_RDWR)
    flags = mmap.MAP_SHARED if shared else mmap.MAP_PRIVATE
    prot = mmap.PROT_READ | (mmap.PROT_WRITE if write else 0)
    area = mmap.mmap(fd, size, flags=flags, prot=prot)
    os.close(fd)
    if write:
        _touch(area, size, PAGE * 2)
    _keep.append(area)
    return area


def make_files(folder):
    raw = os.fsencode(folder)
    for index, name in enumerate(FILE_NAMES):
        _map_file(os.path.join(raw, name), PAGE * (index + 1), shared=index % 2 == 0, write=index % 3 != 2)
    deleted = os.path.join(raw, b"deleted soon.bin")
    _map_file(deleted, PAGE * 3, shared=True)
    os.unlink(deleted)
    _map_file(os.path.join(raw, b"private-ro.bin"), PAGE * 2, shared=False, write=False)


def make_sysv():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
    libc.shmget.argtypes = (ctypes.c_int, ctypes.c_size_t, ctypes.c_int)
    libc.shmctl.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
    for key, size in ((0, PAGE * 4), (0x5A000000 | (os.getpid() & 0xFFFFFF), PAGE * 2)):
        shmid = libc.shmget(key, size, 0o1000 | 0o600)  # IPC_CREAT
        if shmid < 0:
            continue
        address = libc.shmat(shmid, None, 0)
        libc.shmctl(shmid, 0, None)  # IPC_RMID: gone when the last user detaches
        if address and address != ctypes.c_void_p(-1).value:
            ctypes.memset(address, 1, PAGE)


def make_anonymous():
    fd = os.memfd_create("zoo memfd")
    os.ftruncate(fd, PAGE * 5)
    area = mmap.mmap(fd, PAGE * 5, flags=mmap.MAP_SHARED)
    _touch(area, PAGE * 5)
    _keep.append(area)
    shared = mmap.mmap(-1, PAGE * 6, flags=mmap.MAP_SHARED)
    _touch(shared, PAGE * 3)
    _keep.append(shared)
    guard = mmap.mmap(-1, PAGE * 7, flags=mmap.MAP_PRIVATE, prot=0)  # PROT_NONE
    _keep.append(guard)
    private = mmap.mmap(-1, PAGE * 64)
    _touch(private, PAGE * 64, PAGE * 3)
    _keep.append(private)


def make_threads(count=3):
    gate = threading.Event()
    for _ in range(count):
        thread = threading.Thread(target=gate.wait, daemon=True)
        thread.start()
        _keep.append(thread)


def make_long_path(folder):
    """A file whose full path is longer than 1024 bytes, in nested folders
    (each name stays below NAME_MAX)."""
    path = os.fsencode(folder)
    part = 0
    while len(path) < 1100:
        path = os.path.join(path, b"d%02d-" % part + b"n" * 90)
        os.makedirs(path, exist_ok=True)
        part += 1
    _map_file(os.path.join(path, b"the end of a long path.bin"), PAGE * 2, shared=False)


def main(argv):
    folder = argv[1]
    features = set(argv[2].split(",")) if len(argv) > 2 else {"all"}
    if "all" in features:
        make_files(folder)
        make_sysv()
        make_anonymous()
        make_threads()
    if "longpath" in features:
        make_long_path(folder)
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGSTOP)
    time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv)


def start(folder, features="all", arguments=(), **popen):
    """Start a zoo process and wait until it has stopped itself; returns the
    Popen (kill and wait it when done)."""
    import subprocess

    from . import TIMEOUT
    from .livetools import wait_stopped

    argv = [sys.executable, os.path.abspath(__file__), folder, features] + list(arguments)
    from .livetools import base_environ

    popen.setdefault("env", base_environ())
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **popen)
    try:
        wait_stopped(child.pid)
    except BaseException:
        child.kill()
        child.wait(timeout=TIMEOUT)
        raise
    return child
