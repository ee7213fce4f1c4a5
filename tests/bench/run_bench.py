#!/usr/bin/python3
"""Benchmark the arbor HTTP+JSON contract server against nginx, in the same run.

A benchmark, not a test: it prints tables of figures side by side with the
peers and asserts nothing about speed. The exit status is non-zero only when
something could not be measured (a process failed to start or died, a load
tool failed, or the daemon answered with errors).

What runs, all in one temporary directory that is removed at the end:

  * nginx, one worker, pinned to the server CPU, serving a static copy of the
    daemon's own GET /v1/status answer (same bytes, same path) on a Unix socket;
  * BUILD/tests/fixture/arbor-fixtured, pinned to the server CPU;
  * uxload (pinned to the client CPU) against both, for each client count;
  * followlat against the daemon's GET /v1/events?follow=1 stream, triggering
    events with POST /v1/commands/renew;
  * dnsmasq, idle in the foreground with DNS off and nothing to serve, only
    to compare its resident memory.

uxload and followlat are taken from BUILD/tests/bench/ (meson builds them with
libarbor's response parser).

    tests/bench/run_bench.py --build build
    tests/bench/run_bench.py --build build --no-daemon      # nginx only
"""

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Where meson puts the binaries: next to the meson.build that declares them, so
# tests/fixture/ or tests/ (and tests/bench/ or tests/) depending on the layout.
FIXTURE_PATHS = ("tests/fixture/arbor-fixtured", "tests/arbor-fixtured")
TOOL_DIRS = ("tests/bench", "tests")

# A stand-in for the daemon's status answer when the daemon is not run.
SYNTHETIC_STATUS_SIZE = 700


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


class BenchError(Exception):
    pass


def _on_signal(signum, frame):
    raise Interrupted(signum)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=5.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def http_request(sock_path, method, path, timeout=5.0):
    conn = UnixHTTPConnection(sock_path, timeout)
    try:
        conn.request(method, path, headers={"Host": "localhost"})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def vmrss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def child_pids(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = None
        self.procs = []  # (name, Popen, log path), in start order
        self.failures = []

    # ---- processes ---------------------------------------------------------

    def pin(self, cpu):
        if cpu is None:
            return []
        return ["taskset", "-c", str(cpu)]

    def spawn(self, name, argv):
        log = os.path.join(self.tmp, f"{name}.log")
        with open(log, "wb") as lf:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                                 start_new_session=True, close_fds=True)
        self.procs.append((name, p, log))
        return p

    def stop(self, p, sig=signal.SIGTERM, grace=5.0):
        """Stop one process we started (and whatever it left in its own process group)."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        pgid = p.pid  # start_new_session: the child leads its own group
        if p.poll() is None:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        else:
            # e.g. nginx workers left behind by a master that died
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def stop_all(self):
        for _, p, _ in reversed(self.procs):
            self.stop(p)
        self.procs = []

    def log_tail(self, name, n=30):
        for pname, _, log in self.procs:
            if pname == name:
                try:
                    with open(log, "rb") as f:
                        lines = f.read().decode("utf-8", "replace").splitlines()
                    return "\n".join(lines[-n:])
                except OSError:
                    return ""
        return ""

    def check_alive(self, name, p):
        if p.poll() is not None:
            raise BenchError(f"{name} exited with status {p.returncode}; its log ends:\n{self.log_tail(name)}")

    def wait_ready(self, name, p, sock_path, path, timeout=10.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.check_alive(name, p)
            if os.path.exists(sock_path):
                try:
                    status, headers, body = http_request(sock_path, "GET", path, timeout=2.0)
                    if status == 200:
                        return headers, body
                    last = f"HTTP {status}"
                except OSError as e:
                    last = str(e)
            time.sleep(0.05)
        raise BenchError(f"{name} did not answer GET {path} on {sock_path} within {timeout:.0f} s "
                         f"({last}):\n{self.log_tail(name)}")

    def run_tool(self, name, argv, timeout):
        """Run a measuring tool to completion; it is killed with the rest on interruption."""
        out = os.path.join(self.tmp, f"{name}.out")
        err = os.path.join(self.tmp, f"{name}.err")
        with open(out, "wb") as of, open(err, "wb") as ef:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=of, stderr=ef,
                                 start_new_session=True, close_fds=True)
            self.procs.append((name, p, err))
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.stop(p)
                raise BenchError(f"{name} did not finish within {timeout:.0f} s")
            except BaseException:
                self.stop(p)
                raise
            finally:
                if p.poll() is not None:
                    self.procs = [t for t in self.procs if t[1] is not p]
        with open(out, "rb") as f:
            stdout = f.read().decode("utf-8", "replace")
        with open(err, "rb") as f:
            stderr = f.read().decode("utf-8", "replace")
        return p.returncode, stdout, stderr

    # ---- tools -------------------------------------------------------------

    def tool(self, name):
        for d in TOOL_DIRS:
            built = os.path.join(self.args.build, d, name)
            if os.path.isfile(built) and os.access(built, os.X_OK):
                return built
        raise BenchError(f"{name} is not built: meson compile -C {self.args.build}")

    # ---- targets -----------------------------------------------------------

    def start_fixture(self, binary):
        run = os.path.join(self.tmp, "run")
        state = os.path.join(self.tmp, "state")
        os.makedirs(run, mode=0o755)
        os.makedirs(state, mode=0o755)
        conf = os.path.join(self.tmp, "arbor.json")
        with open(conf, "w") as f:
            json.dump({"machine": {"name": "bench"}, "fixture": {}}, f)
        sock = os.path.join(run, "fixture.sock")
        p = self.spawn("fixture", self.pin(self.args.server_cpu) + [
            binary, "-c", conf, "--runtime-dir", run, "--state-dir", state])
        _, body = self.wait_ready("fixture", p, sock, self.args.path)
        return p, sock, body

    def start_nginx(self, status_body):
        base = os.path.join(self.tmp, "nginx")
        www = os.path.join(self.tmp, "www")
        for d in (base, os.path.join(base, "temp")):
            os.makedirs(d, mode=0o755)
        # the static file sits at the same path as the daemon's answer
        rel = self.args.path.lstrip("/")
        fpath = os.path.join(www, rel)
        os.makedirs(os.path.dirname(fpath), mode=0o755, exist_ok=True)
        for d in (www, os.path.dirname(fpath)):
            os.chmod(d, 0o755)  # the worker runs as nobody when started by root
        with open(fpath, "wb") as f:
            f.write(status_body)
        os.chmod(fpath, 0o644)
        sock = os.path.join(self.tmp, "nginx.sock")
        t = os.path.join(base, "temp")
        conf = os.path.join(base, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""# generated by tests/bench/run_bench.py
worker_processes 1;
daemon off;
master_process on;
pid {base}/nginx.pid;
error_log {base}/error.log crit;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    log_not_found off;
    client_body_temp_path {t}/body;
    proxy_temp_path {t}/proxy;
    fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi;
    scgi_temp_path {t}/scgi;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    sendfile on;
    open_file_cache max=64 inactive=600s;
    default_type application/json;
    server {{
        listen unix:{sock};
        root {www};
    }}
}}
""")
        p = self.spawn("nginx", self.pin(self.args.server_cpu) + [
            self.args.nginx, "-p", base + "/", "-c", conf, "-e", os.path.join(base, "error.log")])
        headers, body = self.wait_ready("nginx", p, sock, self.args.path)
        if body != status_body:
            raise BenchError("nginx does not serve the static file it was given")
        return p, sock

    def nginx_rss(self, p):
        pids = [p.pid] + child_pids(p.pid)
        vals = [vmrss_kib(x) for x in pids]
        if any(v is None for v in vals):
            return None, len(pids)
        return sum(vals), len(pids)

    def dnsmasq_rss(self):
        """dnsmasq idle in the foreground: DNS off (port 0), no DHCP, reads no files, binds nothing."""
        pidfile = os.path.join(self.tmp, "dnsmasq.pid")
        p = self.spawn("dnsmasq", self.pin(self.args.server_cpu) + [
            self.args.dnsmasq, "-k", "-C", "/dev/null", "--port=0", "--no-resolv", "--no-hosts",
            "--no-poll", "--log-facility=-", f"--pid-file={pidfile}"])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not os.path.exists(pidfile):
            self.check_alive("dnsmasq", p)
            time.sleep(0.05)
        time.sleep(self.args.settle)
        self.check_alive("dnsmasq", p)
        rss = vmrss_kib(p.pid)
        self.stop(p)
        self.procs = [t for t in self.procs if t[1] is not p]
        return rss

    # ---- measurements ------------------------------------------------------

    def uxload(self, label, sock, clients):
        a = self.args
        rc, out, err = self.run_tool(
            f"uxload-{label}-{clients}",
            self.pin(a.client_cpu) + [self.uxload_bin, "-s", sock, "-p", a.path, "-c", str(clients),
                                      "-d", str(a.duration), "-w", str(a.warmup), "--json"],
            timeout=a.duration + a.warmup + 30)
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise BenchError(f"uxload against {label} failed (status {rc}): {err.strip()}")
        if rc != 0 or res["errors"] or res["non2xx"]:
            self.failures.append(f"uxload {label} c={clients}: status {rc}, {res['errors']} errors, "
                                 f"{res['non2xx']} non-2xx {err.strip()}")
        return res

    def followlat(self, sock):
        a = self.args
        rc, out, err = self.run_tool(
            "followlat",
            self.pin(a.client_cpu) + [self.followlat_bin, "-s", sock, "-t", a.trigger,
                                      "-f", str(a.followers), "-n", str(a.events), "--json"],
            timeout=a.events * 6 + 60)
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.failures.append(f"followlat failed (status {rc}): {err.strip()}")
            return None
        if rc != 0:
            self.failures.append(f"followlat: status {rc}, {res.get('timeouts')} timeouts {err.strip()}")
        return res

    # ---- the run -----------------------------------------------------------

    def run(self):
        a = self.args
        self.tmp = tempfile.mkdtemp(prefix="arbor-bench-")
        os.chmod(self.tmp, 0o711)  # nginx's worker (nobody) must reach www/
        self.uxload_bin = self.tool("uxload")
        self.followlat_bin = self.tool("followlat")

        fixture_bin = a.fixture
        results = {"uxload": [], "followlat": None, "rss_kib": {}}
        fixture = fsock = None
        if not a.no_daemon:
            fixture, fsock, status_body = self.start_fixture(fixture_bin)
            time.sleep(a.settle)
            results["rss_kib"]["arbor-fixtured idle"] = vmrss_kib(fixture.pid)
        else:
            doc = {"daemon": "synthetic", "version": "0.0.0", "pid": 1, "started_at": "2026-01-01T00:00:00Z",
                   "uptime_s": 1, "health": "ok",
                   "config": {"path": "/etc/arbor/arbor.json", "generation": 1, "loaded_at": "2026-01-01T00:00:00Z"}}
            doc["pad"] = ""
            pad = SYNTHETIC_STATUS_SIZE - len(json.dumps(doc))
            doc["pad"] = "x" * max(0, pad)
            status_body = json.dumps(doc).encode()

        nginx, nsock = self.start_nginx(status_body)
        time.sleep(a.settle)
        results["rss_kib"]["nginx idle (master+worker)"] = self.nginx_rss(nginx)[0]
        results["rss_kib"]["dnsmasq idle"] = self.dnsmasq_rss()

        print(f"# arbor bench: {platform.node()} {platform.release()}, {os.cpu_count()} CPUs, "
              f"servers on CPU {a.server_cpu}, load on CPU {a.client_cpu}", flush=True)
        print(f"# GET {a.path}: {len(status_body)} body bytes; {a.duration:g} s per run after "
              f"{a.warmup:g} s warm-up, median of {a.repeat}", flush=True)

        targets = [("nginx", nsock, nginx, "nginx")]  # label, socket, process, log name
        if fixture:
            targets.append(("arbor-fixtured", fsock, fixture, "fixture"))
        runs = {}
        for rnd in range(a.repeat):
            for clients in a.clients:
                for label, sock, p, logname in targets:  # interleaved, so drift hits both alike
                    print(f"# uxload {label} c={clients} ({rnd + 1}/{a.repeat}) ...", file=sys.stderr, flush=True)
                    res = self.uxload(label, sock, clients)
                    self.check_alive(logname, p)
                    res["target"] = label
                    runs.setdefault((label, clients), []).append(res)
        for key, rs in runs.items():
            # the run with the median requests/s stands for the set
            med = sorted(rs, key=lambda r: r["rps"])[(len(rs) - 1) // 2]
            med = dict(med, runs=len(rs), rps_all=[r["rps"] for r in rs])
            results["uxload"].append(med)

        if fixture:
            print(f"# followlat {a.followers} followers x {a.events} events ...", file=sys.stderr, flush=True)
            results["followlat"] = self.followlat(fsock)
            self.check_alive("fixture", fixture)
            time.sleep(a.settle)
            results["rss_kib"]["arbor-fixtured after the runs"] = vmrss_kib(fixture.pid)
        results["rss_kib"]["nginx after the runs (master+worker)"] = self.nginx_rss(nginx)[0]

        self.report(results, len(status_body))
        if a.json_out:
            with open(a.json_out, "w") as f:
                json.dump(results, f, indent=2)
        return results

    def report(self, results, body_len):
        nginx_rps = {r["connections"]: r["rps"] for r in results["uxload"] if r["target"] == "nginx"}
        print()
        print("| target | clients | rps | p50 µs | p99 µs | ratio to nginx |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in sorted(results["uxload"], key=lambda r: (r["connections"], r["target"] != "nginx", r["target"])):
            base = nginx_rps.get(r["connections"])
            ratio = f"{r['rps'] / base:.2f}" if base else "-"
            what = "nginx (static file)" if r["target"] == "nginx" else f"{r['target']} {r['path']}"
            print(f"| {what} | {r['connections']} | {r['rps']:.0f} | {r['p50_us']:.1f} | {r['p99_us']:.1f} | {ratio} |")
        print()
        print("ratio = requests/s relative to nginx with the same number of clients; "
              f"body {body_len} B for both; mean response with head: " + ", ".join(
                  f"{r['target']} {r['mean_response_bytes']:.0f} B" for r in results["uxload"]
                  if r["connections"] == self.args.clients[0]) + ".")
        busy = [r for r in results["uxload"] if r.get("client_cpu", 0) >= 0.9]
        for r in busy:
            print(f"warning: {r['target']} c={r['connections']}: uxload used {r['client_cpu'] * 100:.0f}% of its CPU; "
                  "the load generator, not the server, may be the limit")
        bad = [r for r in results["uxload"] if r["errors"] or r["non2xx"] or r["reconnects"]]
        for r in bad:
            print(f"note: {r['target']} c={r['connections']}: {r['errors']} errors, {r['non2xx']} non-2xx, "
                  f"{r['reconnects']} reconnects")

        f = results["followlat"]
        if f:
            print()
            print("| event delivery (follow=1) | followers | events | p50 µs | p99 µs | max µs |")
            print("|---|---:|---:|---:|---:|---:|")
            print(f"| trigger → every follower | {f['followers']} | {f['events']} | {f['all_p50_us']:.1f} | "
                  f"{f['all_p99_us']:.1f} | {f['all_max_us']:.1f} |")
            print(f"| trigger → first follower | {f['followers']} | {f['events']} | {f['first_p50_us']:.1f} | "
                  f"{f['first_p99_us']:.1f} | {f['first_max_us']:.1f} |")
            print(f"| trigger → its HTTP answer | - | {f['events']} | {f['trigger_p50_us']:.1f} | "
                  f"{f['trigger_p99_us']:.1f} | - |")
            print()
            print(f"trigger: POST {f['trigger']}, {f['lines_per_trigger']} event line(s) per trigger, "
                  f"{f['timeouts']} timed out, {f['trigger_non2xx']} non-2xx answers.")

        print()
        print("| process | VmRSS KiB |")
        print("|---|---:|")
        for k, v in results["rss_kib"].items():
            print(f"| {k} | {v if v is not None else '-'} |")
        if self.failures:
            print()
            for m in self.failures:
                print(f"FAILED: {m}")
        sys.stdout.flush()

    def cleanup(self):
        self.stop_all()
        if self.tmp:
            if self.args.keep_tmp:
                print(f"# kept {self.tmp}", file=sys.stderr)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--clients", default="1,16", help="comma-separated client counts (default: 1,16)")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds measured per run (default: 5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per run (default: 1)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per (target, clients), interleaved; the median by requests/s is shown (default: 1)")
    ap.add_argument("--path", default="/v1/status", help="path requested (default: /v1/status)")
    ap.add_argument("--followers", type=int, default=16, help="followlat followers (default: 16)")
    ap.add_argument("--events", type=int, default=200, help="followlat events (default: 200)")
    ap.add_argument("--trigger", default="/v1/commands/renew",
                    help="POST path that makes the daemon emit an event (default: /v1/commands/renew)")
    ap.add_argument("--server-cpu", type=int, default=None, help="CPU for the servers (default: 0)")
    ap.add_argument("--client-cpu", type=int, default=None, help="CPU for the load tools (default: 1)")
    ap.add_argument("--settle", type=float, default=0.5, help="seconds to let a process settle before RSS")
    ap.add_argument("--no-daemon", action="store_true", help="nginx only (no arbor-fixtured)")
    ap.add_argument("--fixture", help="the arbor-fixtured binary (default: BUILD/" + FIXTURE_PATHS[0]
                    + ", else BUILD/" + FIXTURE_PATHS[1] + ")")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--dnsmasq", default=shutil.which("dnsmasq") or "/usr/sbin/dnsmasq")
    ap.add_argument("--json-out", metavar="FILE", help="also write all results as JSON")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temporary directory (logs)")
    a = ap.parse_args(argv)
    try:
        a.clients = [int(x) for x in a.clients.split(",") if x.strip()]
    except ValueError:
        ap.error("--clients: comma-separated integers")
    if not a.clients or any(c < 1 for c in a.clients):
        ap.error("--clients: positive integers")
    if a.repeat < 1 or a.duration <= 0 or a.warmup < 0 or a.followers < 1 or a.events < 1:
        ap.error("--repeat, --duration, --followers and --events must be positive")
    a.build = os.path.abspath(a.build)
    cpus = sorted(os.sched_getaffinity(0))
    if a.server_cpu is None:
        a.server_cpu = 0 if 0 in cpus else cpus[0]
    if a.client_cpu is None:
        rest = [c for c in cpus if c != a.server_cpu]
        a.client_cpu = (1 if 1 in rest else rest[0]) if rest else None
    if a.client_cpu is None:
        print("warning: one CPU only; servers and load share it", file=sys.stderr)
    for prog in (a.nginx, a.dnsmasq, shutil.which("taskset")):
        if not prog or not os.access(prog, os.X_OK):
            ap.error(f"missing program: {prog or 'taskset'}")
    if a.fixture is None:
        found = [os.path.join(a.build, p) for p in FIXTURE_PATHS if os.access(os.path.join(a.build, p), os.X_OK)]
        a.fixture = found[0] if found else os.path.join(a.build, FIXTURE_PATHS[0])
    if not a.no_daemon and not os.access(a.fixture, os.X_OK):
        ap.error(f"{a.fixture} not found: build it (meson compile -C {a.build}) or pass --no-daemon")
    return a


def main(argv):
    args = parse_args(argv)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    bench = Bench(args)
    status = 0
    try:
        bench.run()
        status = 1 if bench.failures else 0
    except Interrupted as e:
        print(f"run_bench: {e}", file=sys.stderr)
        status = 128 + e.signum
    except BenchError as e:
        print(f"run_bench: {e}", file=sys.stderr)
        status = 1
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # a second ^C must not cut the cleanup short
        bench.cleanup()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
