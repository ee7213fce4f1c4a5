"""arborlab: the test and demo harness for arbor.

Network namespaces, veth pairs and bridges; daemons started with their own
runtime and state directories; an HTTP client for the contract socket; waiting
on conditions (never bare sleeps). Everything a Lab creates is recorded and
removed by Lab.close(), which tests run from a fixture finalizer so cleanup
happens also when they fail.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_dir():
    """The meson build directory under test (ARBOR_BUILD, default build/)."""
    d = os.environ.get("ARBOR_BUILD", os.path.join(ROOT, "build"))
    return d if os.path.isabs(d) else os.path.join(ROOT, d)


def binary(rel):
    path = os.path.join(build_dir(), rel)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is not built (run meson compile -C {build_dir()})")
    return path


class TimeoutError_(AssertionError):
    pass


def wait_for(cond, timeout=5.0, what="condition", interval=0.01):
    """Polls cond() until it returns a truthy value; returns it or fails."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = cond()
            if value:
                return value
        except Exception as e:  # the condition may fail while things start
            last_exc = e
        if time.monotonic() >= deadline:
            raise TimeoutError_(f"timed out after {timeout}s waiting for {what}"
                                + (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(interval)
        interval = min(interval * 1.5, 0.1)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


def request(sock_path, method, path, body=None, headers=None, timeout=10):
    conn = UnixHTTPConnection(sock_path, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, dict(r.getheaders()), r.read())
    finally:
        conn.close()


class Daemon:
    """One arbor daemon process with its own config, runtime and state dirs."""

    def __init__(self, lab, name, binary_path, config, netns=None, wrapper=None, extra_args=()):
        self.lab = lab
        self.name = name
        self.binary = binary_path
        self.netns = netns
        self.wrapper = list(wrapper or [])
        self.extra_args = list(extra_args)
        self.dir = lab.mkdtemp(f"{name}-")
        self.runtime_dir = os.path.join(self.dir, "run")
        self.state_dir = os.path.join(self.dir, "state")
        self.config_path = os.path.join(self.dir, "arbor.json")
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        self.write_config(config)

    @property
    def socket(self):
        return os.path.join(self.runtime_dir, f"{self.name}.sock")

    def write_config(self, config):
        with open(self.config_path, "w") as f:
            f.write(config if isinstance(config, str) else json.dumps(config, indent=2))

    def argv(self):
        args = [self.binary, "-c", self.config_path, "--runtime-dir", self.runtime_dir,
                "--state-dir", self.state_dir] + self.extra_args
        args = self.wrapper + args
        if self.netns:
            args = ["ip", "netns", "exec", self.netns.name] + args
        return args

    def start(self, wait=True, timeout=10):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        self.lab.processes.append(self.proc)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=10):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}: {self.log()}")
            return self.get("/v1/status").status == 200
        wait_for(ready, timeout, f"{self.name} to answer on {self.socket}")

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def request(self, method, path, body=None, headers=None, timeout=10):
        return request(self.socket, method, path, body, headers, timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def status(self):
        r = self.get("/v1/status")
        assert r.status == 200, r
        return r.json()

    def events(self, since=0, type=None):
        q = f"/v1/events?since={since}" + (f"&type={type}" if type else "")
        return self.get(q).json()["events"]

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)

    def wait_exit(self, timeout=10):
        return self.proc.wait(timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait(5)
        return self.proc.returncode if self.proc else None

    def state_file(self, name):
        with open(os.path.join(self.state_dir, name)) as f:
            return f.read()

    def pid(self):
        return self.proc.pid


class Netns:
    def __init__(self, lab, name):
        self.lab = lab
        self.name = name
        run(["ip", "netns", "add", name])
        lab.netns.append(self)
        self.exec(["ip", "link", "set", "lo", "up"])

    def exec(self, argv, check=True, **kw):
        return run(["ip", "netns", "exec", self.name] + list(argv), check=check, **kw)

    def popen(self, argv, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.name] + list(argv), **kw)
        self.lab.processes.append(p)
        return p

    def delete(self):
        run(["ip", "netns", "del", self.name], check=False)


def run(argv, check=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("text", True)
    r = subprocess.run(argv, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


class Lab:
    """Owns every namespace, process and directory a test creates."""

    def __init__(self, prefix="arbor"):
        self.prefix = f"{prefix}{os.getpid() % 10000}"
        self.netns = []
        self.processes = []
        self.dirs = []
        self.links = []
        self.counter = 0

    def mkdtemp(self, prefix="lab-"):
        d = tempfile.mkdtemp(prefix=f"arbor-{prefix}")
        self.dirs.append(d)
        return d

    def add_netns(self, short):
        self.counter += 1
        return Netns(self, f"{self.prefix}-{short}")

    def veth(self, a_ns, a_name, b_ns, b_name):
        """A veth pair between two namespaces (None: this one).

        Each end is created directly in its namespace, so two test runs at once
        never collide on a name in the root namespace."""
        def where(ns):
            return ["netns", ns.name] if ns is not None else []
        run(["ip", "link", "add", a_name] + where(a_ns) + ["type", "veth", "peer", "name", b_name] + where(b_ns))
        for ns, name in ((a_ns, a_name), (b_ns, b_name)):
            if ns is None:
                self.links.append(name)
            (ns.exec if ns else lambda a, **k: run(a, **k))(["ip", "link", "set", name, "up"])

    def bridge(self, ns, name):
        """A bridge with no ports: it stands in for a dummy interface."""
        ns.exec(["ip", "link", "add", name, "type", "bridge"])
        ns.exec(["ip", "link", "set", name, "up"])

    def daemon(self, name, binary_path, config, **kw):
        return Daemon(self, name, binary_path, config, **kw)

    def close(self):
        for p in reversed(self.processes):
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                    p.wait(5)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    p.kill()
                    p.wait(5)
        for name in self.links:
            run(["ip", "link", "del", name], check=False)
        for ns in reversed(self.netns):
            # What a daemon started and left behind in our namespace (a
            # wireguard-go whose wgd was killed with -9) goes too.
            for pid in run(["ip", "netns", "pids", ns.name], check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            ns.delete()
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        self.processes.clear()
        self.netns.clear()
        self.dirs.clear()
