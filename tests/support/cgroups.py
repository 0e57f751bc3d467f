"""Memory cgroups for the tests: which one a process is in (read here, not
through pymap), whether this machine lets a test make one (cgroup v1's
memory controller, writable by root), and a cgroup a test makes and always
removes, with every process in it, also when the test fails."""

import contextlib
import os
import signal
import tempfile
import time

from . import TIMEOUT

V1_MEMORY = "/sys/fs/cgroup/memory"


def memory_cgroup_of(pid="self"):
    """(version, path) of a process's memory cgroup, from its
    /proc/PID/cgroup: the v1 memory controller's line, else the v2 one."""
    with open("/proc/%s/cgroup" % pid, "rb") as handle:
        lines = handle.read().splitlines()
    unified = None
    for line in lines:
        number, controllers, path = line.split(b":", 2)
        if b"memory" in controllers.split(b","):
            return 1, path
        if number == b"0" and not controllers:
            unified = (2, path)
    return unified


def _v1_mounted():
    with open("/proc/self/mountinfo", "rb") as handle:
        for line in handle:
            head, _, tail = line.partition(b" - ")
            fields, after = head.split(), tail.split()
            if len(fields) > 4 and fields[4] == V1_MEMORY.encode() and after[:1] == [b"cgroup"] \
                    and b"memory" in after[2].split(b","):
                return fields[3] == b"/"
    return False


def has_memory_cgroup(pid="self"):
    """Whether the process's memory cgroup has files pymap can read here
    (so that --capture saves a cgroup folder)."""
    found = memory_cgroup_of(pid)
    if found is None:
        return False
    version, path = found
    if version == 1:
        return _v1_mounted() and os.path.exists(os.path.join(V1_MEMORY, path.decode().lstrip("/"),
                                                             "memory.usage_in_bytes"))
    for base in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if os.path.exists(os.path.join(base, path.decode().lstrip("/"), "memory.current")):
            return True
    return False


def v1_writable():
    """Why a test cannot make a cgroup v1 memory cgroup here, or None."""
    if os.geteuid() != 0:
        return "needs root to make a memory cgroup"
    if not _v1_mounted():
        return "no cgroup v1 memory controller mounted at %s" % V1_MEMORY
    if not os.access(V1_MEMORY, os.W_OK):
        return "%s is not writable" % V1_MEMORY
    return None


def write(folder, name, value):
    with open(os.path.join(folder, name), "w") as handle:
        handle.write(str(value))


def read(folder, name):
    with open(os.path.join(folder, name), "rb") as handle:
        return handle.read()


def oom_kills(folder):
    """memory.oom_control's oom_kill of a v1 cgroup folder."""
    for line in read(folder, "memory.oom_control").splitlines():
        name, _, value = line.partition(b" ")
        if name == b"oom_kill":
            return int(value)
    raise AssertionError("no oom_kill in memory.oom_control")


def procs(folder):
    try:
        return [int(line) for line in read(folder, "cgroup.procs").split()]
    except FileNotFoundError:
        return []


def _empty_and_remove(folder):
    """Kill every process in ``folder`` (and its children cgroups), wait
    until they are gone (polling, with a timeout), then remove the folders."""
    deadline = time.monotonic() + TIMEOUT
    for where, subfolders, _ in sorted(os.walk(folder, topdown=False), key=lambda item: -len(item[0])):
        for pid in procs(where):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while procs(where) and time.monotonic() < deadline:
            time.sleep(0.01)
        while time.monotonic() < deadline:
            try:
                os.rmdir(where)
                break
            except FileNotFoundError:
                break
            except OSError:  # EBUSY: an exiting process still charged there
                time.sleep(0.01)


@contextlib.contextmanager
def v1_cgroup(limit=None, parent=V1_MEMORY):
    """A new cgroup v1 memory cgroup (under ``parent``, a folder of the
    memory hierarchy), limited to ``limit`` bytes when given; yields (its
    path as /proc/PID/cgroup writes it, its folder).  Everything in it is
    killed and the folder removed afterwards."""
    folder = tempfile.mkdtemp(prefix="pymap-test-", dir=parent)
    try:
        if limit is not None:
            write(folder, "memory.limit_in_bytes", limit)
        yield "/" + os.path.relpath(folder, V1_MEMORY), folder
    finally:
        _empty_and_remove(folder)


def move(pid, folder):
    """Put process ``pid`` into the cgroup ``folder``."""
    write(folder, "cgroup.procs", pid)
