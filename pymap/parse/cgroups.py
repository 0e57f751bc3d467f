"""What a process's cgroup file and a memory cgroup's files say, and which
container, unit or pod a cgroup path is.

Schema:

* ``memory_cgroup(bytes) -> (version, path) | None``: the memory cgroup of a
  /proc/PID/cgroup ("ID:controllers:path" lines): the line of cgroup v1's
  memory controller ("4:memory:/docker/ab12..." -> (1, b"/docker/ab12...")),
  else cgroup v2's ("0::/system.slice/x.service" -> (2, b"/system.slice/
  x.service")); None when there is neither.  Inside a container's cgroup
  namespace the container is "/", and a cgroup outside it shows as
  "/../...".
* ``byte_count(bytes) -> int | None``: a file holding one number of bytes
  (memory.current, memory.max, memory.limit_in_bytes ...); None for "max"
  and for cgroup v1's "unlimited", a number at or above UNLIMITED (v1 writes
  PAGE_COUNTER_MAX pages in bytes, 9223372036854771712 with 4 KiB pages);
  ValueError for anything else.
* ``flat_keyed(bytes) -> {str: int}``: the "name value" lines of
  memory.stat, memory.events, memory.oom_control (lines that are not a name
  and a decimal number are left out).
* ``charge_breakdown(version, stat, usage) -> {str: int} | None``: a
  cgroup's charge (bytes) split by memory.stat: ``anon``, ``file`` (page
  cache but shmem), ``shmem`` (tmpfs, shared anonymous memory), ``kernel``,
  ``other`` (what is left: socket buffers, per-CPU counter lag), and
  ``file_mapped`` (page cache and shmem mapped by processes, a part of file
  + shmem).  v2: memory.stat's anon, file (shmem included), shmem,
  file_mapped, kernel (or, before 5.18, kernel_stack + pagetables +
  sec_pagetables + percpu + slab + vmalloc).  v1: the hierarchical total_rss,
  total_cache (shmem included), total_shmem, total_mapped_file (the local
  ones when there are no total_ lines); v1 has no kernel line: usage less
  rss and cache.  None when memory.stat lacks anon and rss.
* ``runtime_of(path) -> (kind, name, pod) | None``: the container, unit or
  pod a cgroup path is (see the function).
"""

__all__ = ["memory_cgroup", "byte_count", "flat_keyed", "charge_breakdown", "runtime_of", "UNLIMITED",
           "BREAKDOWN"]

# a limit at or above this many bytes is no limit (4 EiB: no machine has it)
UNLIMITED = 1 << 62
BREAKDOWN = ("anon", "file", "shmem", "kernel", "other", "file_mapped")
_V2_KERNEL_PARTS = ("kernel_stack", "pagetables", "sec_pagetables", "percpu", "vmalloc")


def memory_cgroup(data):
    """(version, path) of the memory cgroup in a /proc/PID/cgroup (see the
    module's docstring)."""
    unified = None
    for line in data.split(b"\n"):
        number, colon, rest = line.partition(b":")
        controllers, colon2, path = rest.partition(b":")
        if not (colon and colon2 and number.isdigit() and path.startswith(b"/")):
            continue
        if b"memory" in controllers.split(b","):
            return 1, path
        if number == b"0" and not controllers and unified is None:
            unified = (2, path)
    return unified


def byte_count(data):
    """One number of bytes; None for no limit (see the module's docstring)."""
    word = data.strip()
    if word == b"max":
        return None
    if not word.isdigit() or len(word) > 40:
        raise ValueError("not a number: %r" % word[:40])
    value = int(word)
    return None if value >= UNLIMITED else value


def flat_keyed(data):
    """{name: value} of "name value" lines (see the module's docstring)."""
    values = {}
    for line in data.split(b"\n"):
        name, space, value = line.partition(b" ")
        value = value.strip()
        if space and name and value.isdigit() and len(value) <= 40:
            values[name.decode("ascii", "replace")] = int(value)
    return values


def charge_breakdown(version, stat, usage):
    """The charge's parts, in bytes (see the module's docstring)."""
    get = stat.get
    if version == 2:
        if "anon" not in stat or "file" not in stat:
            return None
        anon, cache, shmem, mapped = get("anon", 0), get("file", 0), get("shmem", 0), get("file_mapped", 0)
        if "kernel" in stat:
            kernel = get("kernel", 0)
        else:
            slab = get("slab", get("slab_reclaimable", 0) + get("slab_unreclaimable", 0))
            kernel = slab + sum(get(name, 0) for name in _V2_KERNEL_PARTS)
    else:
        prefix = "total_" if "total_rss" in stat else ""
        if prefix + "rss" not in stat or prefix + "cache" not in stat:
            return None
        anon, cache = get(prefix + "rss", 0), get(prefix + "cache", 0)
        shmem, mapped = get(prefix + "shmem", 0), get(prefix + "mapped_file", 0)
        kernel = max(0, (usage or 0) - anon - cache)
    shmem = min(shmem, cache)
    parts = {"anon": anon, "file": cache - shmem, "shmem": shmem, "kernel": kernel}
    parts["other"] = (usage - sum(parts.values())) if usage is not None else 0
    parts["file_mapped"] = mapped
    return parts


def _hex_id(text):
    return len(text) >= 12 and all(character in b"0123456789abcdef" for character in text)


# a scope's prefix -> the runtime that names its containers so
_SCOPES = ((b"docker-", "docker"), (b"cri-containerd-", "containerd"), (b"crio-conmon-", "conmon"),
           (b"crio-", "cri-o"), (b"libpod-conmon-", "conmon"), (b"libpod-", "podman"))
# a cgroupfs layout's parent folder -> the runtime of the hex-named folders in it
_PARENTS = {b"docker": "docker", b"libpod_parent": "podman", b"lxc": "lxc", b"machine": "machine"}


def runtime_of(path):
    """(kind, name, pod) of a cgroup path: ``kind`` and ``name`` are the
    innermost thing the path is -- a container ("docker", "containerd",
    "cri-o", "podman" or "conmon", with its ID), a Kubernetes pod ("pod",
    its UID), a systemd "service", "scope" or "slice" (its unit name), an
    "lxc" container -- and ``pod`` the UID of the Kubernetes pod it belongs
    to (or None).  Recognised: docker-ID.scope, /docker/ID,
    cri-containerd-ID.scope, crio-ID.scope, libpod-ID.scope,
    /libpod_parent/libpod-ID, kubepods[-QOS]-podUID.slice (the UID's
    dashes written as underscores) and /kubepods[/QOS]/podUID/ID,
    lxc.payload.NAME and /lxc/NAME, *.service, *.scope, *.slice.  None when
    the path says nothing (the root, a plain folder)."""
    names = [name for name in path.split(b"/") if name]
    found = None
    pod = None
    parent = b""
    for name in names:
        kind = None
        if name.endswith(b".slice") and name.startswith(b"kubepods") and b"-pod" in name:
            kind, value = "pod", name[name.rindex(b"-pod") + 4:-6].replace(b"_", b"-")
            pod = value
        elif parent.startswith(b"kubepods") or parent in (b"burstable", b"besteffort", b"guaranteed"):
            if name.startswith(b"pod") and len(name) > 3 and parent != b"":
                kind, value = "pod", name[3:]
                pod = value
        if kind is None and name.endswith(b".scope"):
            stem = name[:-6]
            for prefix, runtime in _SCOPES:
                if stem.startswith(prefix) and _hex_id(stem[len(prefix):]):
                    kind, value = runtime, stem[len(prefix):]
                    break
            else:
                kind, value = "scope", name
        elif kind is None and name.endswith(b".service"):
            kind, value = "service", name
        elif kind is None and name.endswith(b".slice"):
            kind, value = "slice", name
        elif kind is None and name.startswith(b"lxc.payload."):
            kind, value = "lxc", name[len(b"lxc.payload."):]
        elif kind is None and parent in _PARENTS and (_hex_id(name) or parent == b"lxc"):
            kind, value = _PARENTS[parent], name
        elif kind is None and parent == b"libpod_parent" and name.startswith(b"libpod-"):
            kind, value = "podman", name[len(b"libpod-"):]
        elif kind is None and pod is not None and _hex_id(name):
            kind, value = "container", name
        if kind is not None:
            found = (kind, value)
        parent = name
    if found is None:
        return None
    return found[0], found[1], pod
