"""A booted systemd for tests: this machine's own tree in a systemd-nspawn
container, with systemd as its PID 1, driven with `nsenter -t <pid 1> -a`.

The container's root is an overlay: this machine's root file system below, a
tmpfs above, so packages install and units start as on a real machine and
nothing reaches the host (`systemd-nspawn -D / --volatile=yes` would keep /usr
read-only and /var empty, with no dpkg database to install into). It has its
own network namespace (only lo: the host's daemons and interfaces are never
touched) and boots to basic.target, so none of the host's enabled services
start in it. close() powers it off and removes every mount and directory, also
after a failure.
"""
import os
import shutil
import signal
import subprocess
import tempfile

from arborlab import wait_for


class BootedMachine:
    def __init__(self, binds=()):
        self.dir = tempfile.mkdtemp(prefix="arbor-boot-")
        self.layers = os.path.join(self.dir, "layers")
        self.root = os.path.join(self.dir, "root")
        self.nspawn = None
        self.pid1 = None
        self.mounted = []
        os.makedirs(self.layers)
        os.makedirs(self.root)
        try:
            self._mount("tmpfs", "tmpfs", self.layers, "mode=0755")
            for sub in ("upper", "work"):
                os.makedirs(os.path.join(self.layers, sub))
            self._mount("overlay", "overlay", self.root,
                        f"lowerdir=/,upperdir={self.upper},workdir={self.layers}/work")
            argv = ["systemd-nspawn", "-D", self.root, "--private-network", "--register=no", "--keep-unit",
                    "--machine", f"arbor{os.getpid()}", "--quiet"]
            for src, dst in binds:
                argv.append(f"--bind-ro={src}:{dst}")
            argv += ["-b", "systemd.firstboot=off", "systemd.unit=basic.target"]
            self.log = open(os.path.join(self.dir, "console.log"), "wb")
            self.nspawn = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
            self.pid1 = wait_for(self._find_pid1, 30, "the container's systemd")
            wait_for(lambda: self.run(["systemctl", "is-system-running", "--wait"], check=False,
                                      timeout=60).stdout.strip() in ("running", "degraded"),
                     60, "the container to finish booting")
        except BaseException:
            self.close()
            raise

    @property
    def upper(self):
        """Everything the container changed on its root file system."""
        return os.path.join(self.layers, "upper")

    def _mount(self, fstype, source, target, options):
        subprocess.run(["mount", "-t", fstype, "-o", options, source, target], check=True)
        self.mounted.append(target)

    def _find_pid1(self):
        if self.nspawn.poll() is not None:
            raise AssertionError(f"systemd-nspawn exited with {self.nspawn.returncode}: {self.console()}")
        children = open(f"/proc/{self.nspawn.pid}/task/{self.nspawn.pid}/children").read().split()
        for pid in children:
            if os.readlink(f"/proc/{pid}/exe").endswith("/systemd"):
                return int(pid)
        return None

    def console(self):
        try:
            with open(os.path.join(self.dir, "console.log"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def run(self, argv, check=True, timeout=60, input=None):
        """Runs argv inside the container (all its namespaces) as root."""
        r = subprocess.run(["nsenter", "-t", str(self.pid1), "-a"] + list(argv), capture_output=True, text=True,
                           timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed ({r.returncode}): {r.stdout}{r.stderr}")
        return r

    def sh(self, script, check=True, timeout=60):
        return self.run(["sh", "-c", script], check=check, timeout=timeout)

    def write(self, path, text):
        self.run(["sh", "-c", 'cat > "$1"', "sh", path], input=text)

    def show(self, unit, *props):
        """systemctl show values as a dict."""
        out = self.run(["systemctl", "show", unit, "-p", ",".join(props)]).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def close(self):
        if self.nspawn is not None and self.nspawn.poll() is None:
            # systemd-nspawn turns SIGTERM into a clean poweroff of the container.
            self.nspawn.send_signal(signal.SIGTERM)
            try:
                self.nspawn.wait(30)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait(10)
        for target in reversed(self.mounted):
            try:  # the container's last processes may still hold it a moment
                wait_for(lambda: subprocess.run(["umount", target], capture_output=True).returncode == 0, 5,
                         f"umount {target}")
            except AssertionError:
                subprocess.run(["umount", "-l", target], capture_output=True)
        self.mounted.clear()
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
