"""Record a real OOM kill for tests/fixtures/oomlog: the kernel's own report.

    python tools/record_oomlog_fixture.py [NAME]

Makes a cgroup v1 memory cgroup (/sys/fs/cgroup/memory/pymap-oomlog-fixture)
limited to 64 MiB, starts two small processes in it (a sleep with
oom_score_adj 500 and a Python holding 16 MiB of anonymous memory, adj 0),
then from inside the cgroup writes a file on a private tmpfs until the
memory cgroup's OOM killer kills.  tmpfs pages are charged to the cgroup and
cannot be reclaimed without swap, so the kills go on until the writer itself
dies: the first victim is the sleep (oom_score_adj decides it), the next
the Python (the biggest), then the writer.

The report is captured as the tools print it, from a marker written to
/dev/kmsg before the run: ``dmesg``, ``dmesg -T``, ``dmesg -r`` and
/dev/kmsg's own records, as tests/fixtures/oomlog/NAME.{dmesg,dmesg-T,
dmesg-r,kmsg}.log, and NAME.json with the PIDs of the processes started
(the tests check the kernel named the one with adj 500 first).

Everything made is removed whatever happens: the processes are killed by
their PIDs, the file removed, the tmpfs unmounted, the cgroup removed.
Needs root and a writable cgroup v1 memory controller.  Standard library
only; nothing of it runs in the test suite.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "oomlog")
CGROUP = "/sys/fs/cgroup/memory/pymap-oomlog-fixture"
LIMIT = 64 << 20
TIMEOUT = 60


def write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def joining(adj):
    """A preexec_fn: the child enters the cgroup and takes ``adj`` before it
    execs, so all its memory is charged there."""
    def enter():
        write(os.path.join(CGROUP, "cgroup.procs"), "%d\n" % os.getpid())
        write("/proc/self/oom_score_adj", "%d\n" % adj)
    return enter


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def kmsg_records():
    """Every record /dev/kmsg still holds, as its raw lines (bytes)."""
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    records = []
    try:
        while True:
            try:
                records.append(os.read(fd, 8192))
            except BlockingIOError:
                break
            except BrokenPipeError:  # overwritten while reading: go on
                continue
    finally:
        os.close(fd)
    return records


def from_marker(data, marker):
    """The lines of ``data`` from the last one holding ``marker`` on."""
    lines = data.splitlines(keepends=True)
    for index in range(len(lines) - 1, -1, -1):
        if marker in lines[index]:
            return b"".join(lines[index:])
    raise SystemExit("marker not found in the captured log")


def record(name):
    started = {}
    children = []
    mountpoint = tempfile.mkdtemp(prefix="pymap-oomlog-")
    mounted = False
    os.mkdir(CGROUP)
    try:
        write(os.path.join(CGROUP, "memory.limit_in_bytes"), "%d\n" % LIMIT)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m,mode=700", "pymap-oomlog", mountpoint], check=True)
        mounted = True
        marker = b"pymap-oomlog-fixture: %d" % time.time_ns()
        with open("/dev/kmsg", "wb", buffering=0) as kmsg:
            kmsg.write(marker + b"\n")

        sleeper = subprocess.Popen(["sleep", "600"], preexec_fn=joining(500))
        children.append(sleeper)
        holder = subprocess.Popen([sys.executable, "-c",
                                   "import sys, time\nheld = bytearray(16 << 20)\n"
                                   "for i in range(0, len(held), 4096): held[i] = 1\n"
                                   "sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(600)"],
                                  preexec_fn=joining(0), stdout=subprocess.PIPE)
        children.append(holder)
        if holder.stdout.readline() != b"ready\n":
            raise SystemExit("the holder did not start")
        started.update(sleeper_adj_500=sleeper.pid, holder_16mib=holder.pid,
                       holder_rss_kib=rss_kib(holder.pid))
        writer = subprocess.Popen(["dd", "if=/dev/zero", "of=%s/fill" % mountpoint, "bs=1M", "count=200"],
                                  preexec_fn=joining(0), stderr=subprocess.DEVNULL)
        children.append(writer)
        started["writer_dd"] = writer.pid
        writer.wait(TIMEOUT)
        started["writer_status"] = writer.returncode
        time.sleep(3)  # the oom_reaper's lines come up to 2 s after a kill

        os.makedirs(FIXTURES, exist_ok=True)
        outputs = {
            "dmesg": from_marker(subprocess.run(["dmesg"], check=True, stdout=subprocess.PIPE).stdout, marker),
            "dmesg-T": from_marker(subprocess.run(["dmesg", "-T"], check=True, stdout=subprocess.PIPE).stdout,
                                   marker),
            "dmesg-r": from_marker(subprocess.run(["dmesg", "-r"], check=True, stdout=subprocess.PIPE).stdout,
                                   marker),
            "kmsg": from_marker(b"".join(kmsg_records()), marker),
        }
        for suffix, data in outputs.items():
            with open(os.path.join(FIXTURES, "%s.%s.log" % (name, suffix)), "wb") as handle:
                handle.write(data)
        started["kernel"] = os.uname().release
        with open(os.path.join(FIXTURES, name + ".json"), "w") as handle:
            json.dump(started, handle, indent=1, sort_keys=True)
            handle.write("\n")
        print(json.dumps(started))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
        if mounted:
            try:
                os.unlink(os.path.join(mountpoint, "fill"))
            except FileNotFoundError:
                pass
            subprocess.run(["umount", mountpoint], check=False)
        os.rmdir(mountpoint)
        for _ in range(50):  # the charges of the dead go with the cgroup once it is empty
            try:
                os.rmdir(CGROUP)
                break
            except OSError:
                time.sleep(0.1)
        else:
            print("could not remove %s" % CGROUP, file=sys.stderr)


if __name__ == "__main__":
    record(sys.argv[1] if len(sys.argv) > 1 else "real-%s-memcg-v1" % ".".join(os.uname().release.split(".")[:2]))
