"""What the benchmarks (tests/bench/) share: a process's resident memory, and a
cgroup v1 cpu cgroup that caps the servers under test at a share of a CPU."""
import os


def rss_kib(pid):
    """VmRSS of pid in KiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def rss_parts(pid):
    """RssAnon, RssFile and RssShmem of pid (KiB): the heap and stacks versus mapped files."""
    parts = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
                    parts[line.split(":")[0]] = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return parts


class CpuCap:
    """A cgroup v1 cpu cgroup with cfs_quota_us = percent × 1000 per 100 ms period;
    percent >= 100 is no cap (nothing is made)."""

    def __init__(self, percent, name):
        self.path = f"/sys/fs/cgroup/cpu/{name}-{os.getpid()}"
        self.percent = percent
        if percent < 100:
            os.mkdir(self.path)
            with open(f"{self.path}/cpu.cfs_period_us", "w") as f:
                f.write("100000")
            with open(f"{self.path}/cpu.cfs_quota_us", "w") as f:
                f.write(str(percent * 1000))

    def add(self, pid):
        """Moves pid's whole thread group in (threads it makes later are in too)."""
        if self.percent < 100:
            with open(f"{self.path}/cgroup.procs", "w") as f:
                f.write(str(pid))

    def remove(self):
        if os.path.isdir(self.path):
            os.rmdir(self.path)
