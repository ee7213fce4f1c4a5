"""powerfs from the tests: mount a directory whose unsynced changes a power cut
takes away (tests/tools/powerfs/main.c has the model), cut the power, mount
again on what survived.

    disk = PowerFS(lab, mountpoint)        # mounted, on an empty backing dir
    ...a daemon runs with its state directory on mountpoint...
    disk.cut()                             # or disk.cut(torn=seed)
    daemon.kill9()                         # the machine is gone with the power
    disk.remount()                         # what a reboot finds

A daemon whose every acknowledged change is still there after remount() made
it durable before acknowledging it. nosync_env() is the control: fsync and
fdatasync (or only one of them) do nothing in the daemon it is given to, and
the same test must then fail.
"""
import os
import subprocess

from arborlab import binary, build_dir, run, wait_for


class PowerFS:
    def __init__(self, lab, mountpoint, backing=None):
        self.lab = lab
        self.mountpoint = mountpoint
        home = lab.mkdtemp("powerfs-")  # removed with the lab, like everything here
        self.backing = backing or os.path.join(home, "disk")
        self.log_path = os.path.join(home, "powerfs.log")
        os.makedirs(self.backing, exist_ok=True)
        self.proc = None
        os.makedirs(mountpoint, exist_ok=True)
        self.mount()

    @property
    def control(self):
        return os.path.join(self.mountpoint, ".powerfs")

    def mount(self):
        assert self.proc is None, "already mounted"
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([binary("tests/tools/powerfs"), self.backing, self.mountpoint],
                                     stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL, text=True)
        self.lab.processes.append(self.proc)
        line = self.proc.stdout.readline().strip()
        assert line == "ready", f"powerfs did not mount {self.mountpoint}: {self.log_text()}"
        wait_for(lambda: os.path.ismount(self.mountpoint), 5, f"{self.mountpoint} to be a mount point")
        return self

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-2000:]

    def command(self, text):
        """One command (see powerfs's main.c): cut, cut torn SEED, full N, full off, fail-sync N."""
        fd = os.open(self.control, os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def counters(self):
        with open(self.control) as f:
            return {k: int(v) for k, v in (line.split() for line in f if line.strip())}

    def cut(self, torn=None):
        """Loses power: only what was made durable stays (torn: plus each file's
        unsynced writes up to a random byte, chosen by this seed)."""
        self.command("cut" if torn is None else f"cut torn {torn}")

    def unmount(self):
        """Unmounts and waits for powerfs to exit. Every `ip netns exec` started
        while the mount exists (ours or anyone's on the machine) holds a copy
        of it, since / is not a shared mount: so powerfs is told to go with
        SIGTERM (it unmounts lazily and closes its device; the copies then fail
        with ENOTCONN) instead of waiting for every copy to go."""
        if self.proc is None:
            return
        self.proc.terminate()  # powerfs unmounts (lazily) and exits
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(5)
            run(["fusermount3", "-u", "-z", self.mountpoint], check=False)
        self.proc.stdout.close()
        self.log.close()
        self.proc = None
        assert rc == 0, f"powerfs exited with {rc}: {self.log_text()}"

    def remount(self):
        self.unmount()
        return self.mount()

    def disk_path(self, *names):
        """A path on the 'disk' (the backing directory): what survived the last
        cut, readable while unmounted."""
        return os.path.join(self.backing, *names)


def nosync_env(only=None):
    """Environment that makes fsync, fdatasync, syncfs and sync no-ops in a
    process (tests/tools/nosync.c), or only the one named, for the control runs:
    pass it as a daemon wrapper, ["env", *nosync_env("fdatasync")]."""
    shim = os.path.join(build_dir(), "tests/tools/libnosync.so")
    assert os.path.exists(shim), f"{shim} is not built"
    env = [f"LD_PRELOAD={shim}"] + ([f"ARBOR_NOSYNC_ONLY={only}"] if only else [])
    if os.environ.get("ARBOR_SANITIZED"):
        # The shim is preloaded ahead of the sanitizer runtime it links to.
        opts = os.environ.get("ASAN_OPTIONS", "")
        env.append(f"ASAN_OPTIONS={opts + ':' if opts else ''}verify_asan_link_order=0")
    return env
