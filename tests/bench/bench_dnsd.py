#!/usr/bin/python3
"""Benchmark (not a test): dnsperf queries per second against arbor-dnsd and, in
the same run, gdnsd, knot, unbound (local-data) and dnsmasq serving the same
2,000 A records of home.arpa, plus tests/bench/udp_echo (recvmmsg/sendmmsg, QR
bit set, no DNS at all) as the ceiling. Everything runs in one network
namespace made for the run, each server on its own port of 127.0.0.1, one after
another, pinned to CPU 0 with one UDP loop each and capped at --quota percent of
that core (cgroup v1 cpu quota) so that the server, not dnsperf (on CPU 1), is
the bottleneck. Then, uncapped: the echo and arbor-dnsd with one loop on CPU 0,
and arbor-dnsd with "threads": 4 (SO_REUSEPORT, one loop per thread) unpinned,
sharing the machine with dnsperf. The query mix: names drawn at random from the
2,000, and --nx percent NXDOMAIN names in the zone. RSS is read after each run;
arbor-dnsd's goal is under 4 MiB with this zone.

A peer that is missing (and cannot be installed) or does not start is reported
with the reason and skipped; the exit status is non-zero when arbor-dnsd or the
echo could not be measured.

--compare LABEL=BUILD adds arbor-dnsd from another build (main's, say) to the
capped and the 1-thread uncapped runs, interleaved with the others in each round.
--rrl adds two capped runs of arbor-dnsd whose client (dnsperf on 127.0.0.1) is
outside allow_recursion, so response rate limiting applies to it: RRL off, and
RRL on with a limit no account reaches (1,000,000 a second): the cost of the
accounting to normal queries.

usage: tests/bench/bench_dnsd.py [--build build] [--duration 10] [--quick] [--quota 25] [--repeat 1]
                                 [--compare main=/path/to/main/build]
       ARBOR_BUILD=/path/to/build tests/bench/bench_dnsd.py
"""
import argparse
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from arborlab import Lab, build_dir, wait_for  # noqa: E402

RECORDS = 2000
ZONE = "home.arpa"
# Debian packages this needs; installed when dpkg-query says they are missing.
PACKAGES = {"dnsperf": "dnsperf", "dig": "bind9-dnsutils", "gdnsd": "gdnsd", "knotd": "knot",
            "unbound": "unbound", "dnsmasq": "dnsmasq-base"}
PORTS = {"udp_echo": 5300, "arbor-dnsd": 5301, "gdnsd": 5302, "knot": 5303, "unbound": 5304, "dnsmasq": 5305}
RSS_GOAL_KIB = 4096


class Skip(Exception):
    """A server that cannot be measured here; the message says why."""


def _on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def name_of(i):
    return f"h{i:04d}"


def addr_of(i):
    return f"10.0.{i // 200}.{i % 200 + 1}"


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return "install ok installed" in r.stdout


def ensure_packages(pkgs):
    """As scripts/deps does: apt-get install only what dpkg-query says is missing. Returns {pkg: why not}."""
    missing = [p for p in pkgs if not installed(p)]
    if not missing:
        return {}
    print(f"installing: {' '.join(missing)}", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    why = ""
    try:
        r = subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, text=True, timeout=600)
        r = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, env=env,
                           capture_output=True, text=True, timeout=1200)
        why = (r.stderr.strip().splitlines() or [f"apt-get exited {r.returncode}"])[-1]
    except (OSError, subprocess.TimeoutExpired) as e:
        why = str(e)
    return {p: f"package {p} is not installed and apt-get install failed: {why}" for p in missing if not installed(p)}


def rss_kib(pid):
    """VmRSS of pid and its descendants."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                total += sum(rss_kib(int(c)) for c in f.read().split())
    except (FileNotFoundError, ProcessLookupError):
        pass
    return total


def rss_parts(pid):
    """RssAnon and RssFile of pid (KiB): the heap and stacks versus mapped binaries and libraries."""
    parts = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
                    parts[line.split(":")[0]] = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return parts


def cpu_seconds(pid):
    """utime + stime of the whole process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds():
    """CPU seconds all CPUs spent not idle (/proc/stat), to tell how busy the rest of the machine was."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def threads_of(pid):
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return []


class CpuCgroup:
    """A cgroup v1 cpu cgroup with cfs_quota_us = percent × 1000 per 100 ms period, as bench_dhcp4d.py."""

    def __init__(self, percent):
        self.path = f"/sys/fs/cgroup/cpu/arbor-bench-dnsd-{os.getpid()}"
        os.mkdir(self.path)
        with open(f"{self.path}/cpu.cfs_period_us", "w") as f:
            f.write("100000")
        with open(f"{self.path}/cpu.cfs_quota_us", "w") as f:
            f.write(str(percent * 1000))

    def enter(self):
        """For preexec_fn: the child joins before it execs, so every thread it ever makes is in."""
        with open(f"{self.path}/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))

    def holds(self, pid):
        with open(f"{self.path}/tasks") as f:
            tasks = {int(x) for x in f.read().split()}
        return all(t in tasks for t in threads_of(pid))

    def throttled(self):
        with open(f"{self.path}/cpu.stat") as f:
            return dict((k, int(v)) for k, v in (line.split() for line in f))

    def remove(self):
        if os.path.isdir(self.path):
            # anything still in it goes back to the root cgroup first
            try:
                with open(f"{self.path}/tasks") as f:
                    left = f.read().split()
                for t in left:
                    with open("/sys/fs/cgroup/cpu/tasks", "w") as f:
                        f.write(t)
            except OSError:
                pass
            os.rmdir(self.path)


# ---- the zone, for every server ----

def zone_file(path):
    with open(path, "w") as f:
        f.write(f"$ORIGIN {ZONE}.\n$TTL 60\n"
                f"@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 30\n"
                f"@ IN NS ns.{ZONE}.\nns IN A 127.0.0.1\n")
        for i in range(RECORDS):
            f.write(f"{name_of(i)} IN A {addr_of(i)}\n")


def query_file(path, nx_percent, count, seed):
    rnd = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(count):
            if rnd.random() * 100 < nx_percent:
                f.write(f"nx{rnd.randrange(100000):05d}.{ZONE} A\n")
            else:
                f.write(f"{name_of(rnd.randrange(RECORDS))}.{ZONE} A\n")


def setup_dnsd(tmp, build, threads, records=RECORDS, **extra):
    d = tempfile.mkdtemp(prefix=f"dnsd-{threads}-", dir=tmp)
    # only keys every build understands (--compare runs older ones) unless extra asks; no dhcp4d here
    cfg = {"machine": {"name": "bench", "domain": ZONE, "machine_id": "0123456789abcdef0123456789abcdef"},
           "dnsd": {"listen": [f"127.0.0.1:{PORTS['arbor-dnsd']}"], "threads": threads,
                    "records": [{"name": name_of(i), "type": "A", "data": addr_of(i)} for i in range(records)],
                    **extra}}
    with open(f"{d}/arbor.json", "w") as f:
        json.dump(cfg, f)
    binary = os.path.join(build, "dnsd", "arbor-dnsd")
    if not os.access(binary, os.X_OK):
        raise Skip(f"{binary} is not built (meson compile -C {build})")
    return [binary, "-c", f"{d}/arbor.json", "--runtime-dir", f"{d}/run", "--state-dir", f"{d}/state"]


def setup_gdnsd(tmp):
    d = tempfile.mkdtemp(prefix="gdnsd-", dir=tmp)
    os.makedirs(f"{d}/zones")
    zone_file(f"{d}/zones/{ZONE}")
    with open(f"{d}/config", "w") as f:
        f.write(f"options => {{\n  listen => [ 127.0.0.1:{PORTS['gdnsd']} ]\n  udp_threads => 1\n  tcp_threads => 1\n"
                f"  run_dir => {d}/run\n  state_dir => {d}/state\n}}\n")
    return ["gdnsd", "-c", d, "start"]


def setup_knot(tmp):
    d = tempfile.mkdtemp(prefix="knot-", dir=tmp)
    os.makedirs(f"{d}/db")
    zone_file(f"{d}/{ZONE}.zone")
    with open(f"{d}/knot.conf", "w") as f:
        f.write(f"server:\n  rundir: {d}\n  listen: 127.0.0.1@{PORTS['knot']}\n"
                "  udp-workers: 1\n  tcp-workers: 1\n  background-workers: 1\n"
                f"database:\n  storage: {d}/db\n"
                "log:\n  - target: stderr\n    any: warning\n"
                f"template:\n  - id: default\n    storage: {d}\n    file: \"%s.zone\"\n"
                f"zone:\n  - domain: {ZONE}\n")
    return ["knotd", "-c", f"{d}/knot.conf"]


def setup_unbound(tmp):
    d = tempfile.mkdtemp(prefix="unbound-", dir=tmp)
    with open(f"{d}/unbound.conf", "w") as f:
        f.write(f"server:\n  interface: 127.0.0.1@{PORTS['unbound']}\n  port: {PORTS['unbound']}\n"
                "  do-ip6: no\n  num-threads: 1\n"
                f"  chroot: \"\"\n  username: \"\"\n  directory: \"{d}\"\n  pidfile: \"\"\n"
                "  use-syslog: no\n  logfile: \"\"\n  verbosity: 0\n"
                "  module-config: \"iterator\"\n  do-not-query-localhost: yes\n"
                "  access-control: 127.0.0.0/8 allow\n"
                f"  local-zone: \"{ZONE}.\" static\n"
                f"  local-data: \"{ZONE}. 60 IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 30\"\n"
                f"  local-data: \"{ZONE}. 60 IN NS ns.{ZONE}.\"\n"
                f"  local-data: \"ns.{ZONE}. 60 IN A 127.0.0.1\"\n")
        for i in range(RECORDS):
            f.write(f"  local-data: \"{name_of(i)}.{ZONE}. 60 IN A {addr_of(i)}\"\n")
        f.write("remote-control:\n  control-enable: no\n")
    return ["unbound", "-d", "-p", "-c", f"{d}/unbound.conf"]


def setup_dnsmasq(tmp):
    d = tempfile.mkdtemp(prefix="dnsmasq-", dir=tmp)
    with open(f"{d}/hosts", "w") as f:
        f.write(f"127.0.0.1 ns.{ZONE}\n")
        for i in range(RECORDS):
            f.write(f"{addr_of(i)} {name_of(i)}.{ZONE}\n")
    return ["dnsmasq", "-k", "-C", "/dev/null", f"--port={PORTS['dnsmasq']}", "--listen-address=127.0.0.1",
            "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-poll", f"--addn-hosts={d}/hosts",
            f"--local=/{ZONE}/", "--user=root", "--pid-file=", "--log-facility=-"]


def udp_echo(tmp, build):
    built = os.path.join(build, "tests", "bench", "udp_echo")
    if os.access(built, os.X_OK):
        return [built, str(PORTS["udp_echo"])]
    dst = f"{tmp}/udp_echo"
    cc = shlex.split(os.environ.get("CC", "cc"))
    r = subprocess.run(cc + ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-o", dst, os.path.join(HERE, "udp_echo.c")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise Skip(f"compiling udp_echo.c failed: {r.stderr.strip()}")
    return [dst, str(PORTS["udp_echo"])]


# ---- dnsperf ----

def dnsperf(ns, port, args, qfile, cpu, clients, outstanding):
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    r = ns.exec(pin + ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile, "-l", str(args.duration),
                       "-c", str(clients), "-q", str(outstanding), "-t", "2"],
                check=False, timeout=args.duration + 60)
    out = r.stdout + r.stderr

    def num(label, conv=int):
        m = re.search(rf"{label}:\s+([0-9.]+)", out)
        return conv(m.group(1)) if m else None

    res = {"qps": num("Queries per second", float), "sent": num("Queries sent"),
           "completed": num("Queries completed"), "lost": num("Queries lost"), "rcodes": {}, "out": out}
    m = re.search(r"Average packet size:\s+request (\d+), response (\d+)", out)
    res["size"] = (int(m.group(1)), int(m.group(2))) if m else None
    m = re.search(r"Response codes:\s+(.*)", out)
    if m:
        for code, n in re.findall(r"([A-Z]+) (\d+)", m.group(1)):
            res["rcodes"][code] = int(n)
    if res["qps"] is None:
        raise Skip(f"dnsperf failed (exit {r.returncode}): {out.strip()[-400:]}")
    return res


def sanity(name, res, nx_percent):
    """What looks wrong in a dnsperf result: losses, unexpected rcodes, a wrong NXDOMAIN share."""
    notes = []
    done = res["completed"] or 0
    if res["sent"] and (res["lost"] or 0) > 0.01 * res["sent"]:
        notes.append(f"{res['lost']} of {res['sent']} queries lost")
    other = {k: v for k, v in res["rcodes"].items() if k not in ("NOERROR", "NXDOMAIN")}
    if other:
        notes.append("unexpected rcodes " + ", ".join(f"{k} {v}" for k, v in other.items()))
    if not name.startswith("udp_echo") and done:
        share = 100.0 * res["rcodes"].get("NXDOMAIN", 0) / done
        if abs(share - nx_percent) > max(2.0, nx_percent / 3):
            notes.append(f"NXDOMAIN {share:.1f}% of answers, {nx_percent}% of queries")
    return notes


def median_runs(rows):
    """One row per server, in first-seen order: its median run by qps, with the range of all its runs."""
    by = {}
    for r in rows:
        by.setdefault(r["name"], []).append(r)
    out = []
    for runs in by.values():
        runs.sort(key=lambda r: r["qps"])
        m = dict(runs[len(runs) // 2])
        m["range"] = (runs[0]["qps"], runs[-1]["qps"]) if len(runs) > 1 else None
        out.append(m)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=None, help="meson build directory (default: ARBOR_BUILD, else build/)")
    ap.add_argument("--duration", type=int, default=None, help="seconds of dnsperf per server (default 10, --quick 3)")
    ap.add_argument("--quick", action="store_true", help="3 s per server")
    ap.add_argument("--quota", type=int, default=25, help="percent of CPU 0 each capped server may use")
    ap.add_argument("--clients", type=int, default=16, help="dnsperf -c (sockets, so source ports)")
    ap.add_argument("--outstanding", type=int, default=100, help="dnsperf -q")
    ap.add_argument("--nx", type=float, default=10.0, help="percent of queries for names not in the zone")
    ap.add_argument("--threads", type=int, default=4, help="arbor-dnsd threads in the uncapped run")
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the median run of each server is shown")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds before an idle RSS reading")
    ap.add_argument("--keep-logs", action="store_true", help="keep the temporary directory")
    ap.add_argument("--rrl", action="store_true", help="also arbor-dnsd for a client outside allow_recursion, "
                    "response rate limiting off and on (not limiting)")
    ap.add_argument("--compare", action="append", default=[], metavar="LABEL=BUILD",
                    help="also measure arbor-dnsd from another meson build directory, as \"arbor-dnsd [LABEL]\"")
    args = ap.parse_args()
    if args.duration is None:
        args.duration = 3 if args.quick else 10
    if not 1 <= args.quota <= 100 or args.duration < 1 or args.repeat < 1:
        ap.error("--quota 1..100, --duration >= 1 and --repeat >= 1")
    compare = []
    for c in args.compare:
        label, sep, path = c.partition("=")
        if not sep or not label or not path:
            ap.error(f"--compare {c}: want LABEL=BUILD")
        compare.append((label, os.path.abspath(path)))
    build = os.path.abspath(args.build or build_dir())
    cpus = sorted(os.sched_getaffinity(0))
    srv_cpu = 0 if 0 in cpus else cpus[0]
    cli_cpu = next((c for c in cpus if c != srv_cpu), None)

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    unavailable = ensure_packages(sorted(set(PACKAGES.values())))
    for tool in ("dnsperf", "dig"):
        if PACKAGES[tool] in unavailable or not shutil.which(tool):
            sys.exit(f"bench_dnsd: {tool} is needed: {unavailable.get(PACKAGES[tool], 'not found')}")

    lab = Lab(prefix="arborbench")
    tmp = tempfile.mkdtemp(prefix="arbor-bench-dnsd-")
    os.chmod(tmp, 0o755)
    cgroup = None
    capped, uncapped, skipped = [], [], []
    try:
        ns = lab.add_netns("dns")
        qfile = f"{tmp}/queries"
        query_file(qfile, args.nx, 50000, seed=2026)
        if args.quota < 100:
            cgroup = CpuCgroup(args.quota)

        def run(name, setup, port, expect, table, cap, pin, clients=None, load=True):
            """Start one server, wait until it answers, dnsperf it, read RSS, stop it.
            load=False: only its RSS once it answers (after --settle seconds)."""
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            log = f"{tmp}/{slug}.log"
            p = None
            try:
                argv = setup()
                prog = shutil.which(argv[0]) or argv[0]
                for exe, pkg in PACKAGES.items():
                    if os.path.basename(prog) == exe and pkg in unavailable:
                        raise Skip(unavailable[pkg])
                if not os.access(prog, os.X_OK):
                    raise Skip(f"{argv[0]} not found")

                def pre():
                    if cap:
                        cgroup.enter()
                    if pin is not None:
                        os.sched_setaffinity(0, {pin})
                with open(log, "w") as logf:
                    p = ns.popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                 start_new_session=True, preexec_fn=pre)

                def tail():
                    with open(log, errors="replace") as f:
                        lines = [x.strip() for x in f.read().splitlines() if x.strip()]
                    return " | ".join(lines[-6:]) or "(nothing)"

                def answers():
                    if p.poll() is not None:
                        return "exited"
                    qname, want = expect or (f"{name_of(1)}.{ZONE}", None)
                    r = ns.exec(["dig", "@127.0.0.1", "-p", str(port), "+time=1", "+tries=1", "+norec",
                                 qname, "A"], check=False)
                    if want is None:  # the echo: any answer to our query
                        return r.returncode == 0 and "->>HEADER<<-" in r.stdout
                    return re.search(rf"\sIN\s+A\s+{re.escape(want)}\s", r.stdout) is not None
                try:
                    if wait_for(answers, 30, f"{name} to answer on port {port}", interval=0.1) == "exited":
                        raise Skip(f"it exited with status {p.returncode} before answering; its output ends: "
                                   f"{tail()}")
                except AssertionError as e:
                    raise Skip(f"{e}; its output ends: {tail()}")
                if cap and not cgroup.holds(p.pid):
                    raise Skip(f"{name}: not all its threads are in {cgroup.path}")
                nthreads = len(threads_of(p.pid))
                if not load:
                    time.sleep(args.settle)
                    table.append({"name": name, "rss": rss_kib(p.pid), "parts": rss_parts(p.pid),
                                  "threads": nthreads})
                    return
                before_thr = cgroup.throttled()["nr_throttled"] if cap else 0
                ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu0, t0, busy0 = cpu_seconds(p.pid), time.monotonic(), machine_busy_seconds()
                res = dnsperf(ns, port, args, qfile, cli_cpu if pin is not None else None,
                              clients or args.clients, args.outstanding)
                elapsed = time.monotonic() - t0
                cpu_pct = 100.0 * (cpu_seconds(p.pid) - cpu0) / elapsed
                busy_pct = 100.0 * (machine_busy_seconds() - busy0) / elapsed
                ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # dnsperf: the only child reaped meanwhile
                cli_pct = 100.0 * (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / elapsed
                rest_pct = max(0.0, busy_pct - cpu_pct - cli_pct)
                rss, parts = rss_kib(p.pid), rss_parts(p.pid)
                thr = (cgroup.throttled()["nr_throttled"] - before_thr) if cap else None
                if p.poll() is not None:
                    raise Skip(f"{name} died during the run (status {p.returncode})")
                notes = sanity(name, res, args.nx)
                table.append({"name": name, "qps": res["qps"], "rss": rss, "parts": parts, "cpu": cpu_pct,
                              "cli": cli_pct, "rest": rest_pct, "threads": nthreads,
                              "throttled": thr, "rcodes": res["rcodes"], "lost": res["lost"], "notes": notes,
                              "size": res["size"]})
                with open(f"{tmp}/{slug}.dnsperf", "w") as f:
                    f.write(res["out"])
                print(f"# {name}: {res['qps']:.0f} q/s, {cpu_pct:.0f}% CPU (dnsperf {cli_pct:.0f}%, rest of the "
                      f"machine {rest_pct:.0f}%), RSS {rss} KiB"
                      + (f" ({'; '.join(notes)})" if notes else ""), file=sys.stderr, flush=True)
            except Exception as e:  # Skip, or anything else that stops this one server
                why = str(e) if isinstance(e, Skip) else f"{type(e).__name__}: {e}"
                skipped.append((name, why))
                print(f"# {name}: SKIPPED: {why}", file=sys.stderr, flush=True)
            finally:
                if p is not None and p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(15)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait(5)
                if p is not None:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)  # anything it left in its session
                    except (ProcessLookupError, PermissionError):
                        pass

        cap = cgroup is not None
        a1 = (f"{name_of(1)}.{ZONE}", addr_of(1))
        servers = [
            ("udp_echo (ceiling)", lambda: udp_echo(tmp, build), PORTS["udp_echo"], None),
            ("arbor-dnsd", lambda: setup_dnsd(tmp, build, 1), PORTS["arbor-dnsd"], a1),
        ] + [
            (f"arbor-dnsd [{label}]", lambda b=b: setup_dnsd(tmp, b, 1), PORTS["arbor-dnsd"], a1)
            for label, b in compare
        ] + ([
            ("arbor-dnsd, outside allow_recursion, RRL off",
             lambda: setup_dnsd(tmp, build, 1, allow_recursion=["192.0.2.0/24"], rrl={"responses_per_second": 0}),
             PORTS["arbor-dnsd"], a1),
            ("arbor-dnsd, outside allow_recursion, RRL on (not limiting)",
             lambda: setup_dnsd(tmp, build, 1, allow_recursion=["192.0.2.0/24"],
                                rrl={"responses_per_second": 1000000}), PORTS["arbor-dnsd"], a1),
        ] if args.rrl else []) + [
            ("gdnsd", lambda: setup_gdnsd(tmp), PORTS["gdnsd"], a1),
            ("knot", lambda: setup_knot(tmp), PORTS["knot"], a1),
            ("unbound (local-data)", lambda: setup_unbound(tmp), PORTS["unbound"], a1),
            ("dnsmasq", lambda: setup_dnsmasq(tmp), PORTS["dnsmasq"], a1),
        ]
        many = max(args.clients, 8 * args.threads)
        uncapped_servers = [
            ("udp_echo (ceiling), uncapped", lambda: udp_echo(tmp, build), PORTS["udp_echo"], None, srv_cpu, None),
            ("arbor-dnsd, 1 thread, uncapped", lambda: setup_dnsd(tmp, build, 1), PORTS["arbor-dnsd"], a1, srv_cpu,
             None),
        ] + [
            (f"arbor-dnsd, 1 thread, uncapped [{label}]", lambda b=b: setup_dnsd(tmp, b, 1), PORTS["arbor-dnsd"], a1,
             srv_cpu, None)
            for label, b in compare
        ] + [
            (f"arbor-dnsd, {args.threads} threads, uncapped", lambda: setup_dnsd(tmp, build, args.threads),
             PORTS["arbor-dnsd"], a1, None, many),
        ]
        for rep in range(args.repeat):  # interleaved, so a disturbance hits one run of each, not all of one
            if args.repeat > 1:
                print(f"# round {rep + 1} of {args.repeat}", file=sys.stderr, flush=True)
            for name, setup, port, expect in servers:
                if name not in dict(skipped):
                    run(name, setup, port, expect, capped, cap, srv_cpu)
            for name, setup, port, expect, pin, clients in uncapped_servers:
                if name not in dict(skipped):
                    run(name, setup, port, expect, uncapped, False, pin, clients=clients)
        capped, uncapped = median_runs(capped), median_runs(uncapped)
        # arbor-dnsd's RSS at rest, to tell the zone's share from the rest
        idle = []
        run("arbor-dnsd idle, no records", lambda: setup_dnsd(tmp, build, 1, records=0), PORTS["arbor-dnsd"],
            (f"ns.{ZONE}", "127.0.0.1"), idle, False, srv_cpu, load=False)
        run(f"arbor-dnsd idle, {RECORDS} records", lambda: setup_dnsd(tmp, build, 1), PORTS["arbor-dnsd"], a1,
            idle, False, srv_cpu, load=False)
        run(f"arbor-dnsd idle, {RECORDS} records, {args.threads} threads",
            lambda: setup_dnsd(tmp, build, args.threads), PORTS["arbor-dnsd"], a1, idle, False, None, load=False)

        # ---- the note ----
        print(f"\n# dnsperf -l {args.duration} -c {args.clients} -q {args.outstanding}, {RECORDS} A records in "
              f"{ZONE}, {args.nx:g}% NXDOMAIN queries; one network namespace, 127.0.0.1; "
              f"{os.cpu_count()} CPUs ({platform_cpu()})\n")
        print(f"Capped: each server pinned to CPU {srv_cpu} with one UDP loop (gdnsd udp_threads 1, knot udp-workers "
              f"1, unbound num-threads 1, arbor-dnsd threads 1) and held to {args.quota}% of it (cgroup v1 "
              f"cfs_quota_us {args.quota * 1000} / cfs_period_us 100000); dnsperf on CPU {cli_cpu}. CPU figures are "
              "percent of one core over the dnsperf run; \"rest of machine\" is whatever else kept the CPUs busy "
              "meanwhile (other processes, and kernel work charged to neither): when it is high the figures are "
              "disturbed.\n")

        def table(rows):
            ceiling = next((r["qps"] for r in rows if r["name"].startswith("udp_echo")), None)
            print("| server | qps | % of echo ceiling | RSS KiB | RssAnon KiB | server CPU % | dnsperf CPU % "
                  "| rest of machine CPU % | threads |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            for r in rows:
                pct = f"{100 * r['qps'] / ceiling:.0f}%" if ceiling else "-"
                print(f"| {r['name']} | {r['qps']:.0f} | {pct} | {r['rss']} | {r['parts'].get('RssAnon', '-')} "
                      f"| {r['cpu']:.0f} | {r['cli']:.0f} "
                      f"| {r['rest']:.0f} | {r['threads']} |")

        if capped:
            table(capped)
        print(f"\nUncapped: the echo and arbor-dnsd with 1 thread on CPU {srv_cpu}, dnsperf on CPU {cli_cpu}; "
              f"arbor-dnsd with {args.threads} threads unpinned (SO_REUSEPORT, one loop each) with dnsperf "
              f"(-c {many}) on the same {os.cpu_count()} CPUs.\n")
        if uncapped:
            table(uncapped)
            print()
            ncpu = len(cpus)
            for r in uncapped:
                if r["cpu"] + r["cli"] + r["rest"] > 90 * ncpu:
                    print(f"- {r['name']}: all {ncpu} CPUs were busy (server {r['cpu']:.0f}%, dnsperf "
                          f"{r['cli']:.0f}%, rest {r['rest']:.0f}%): this measures the machine, not the server.")
                elif r["cli"] > 90:
                    print(f"- {r['name']}: dnsperf at {r['cli']:.0f}% of its CPU, the server at {r['cpu']:.0f}%: "
                          "dnsperf, not the server, is the bottleneck.")
        rows = capped + uncapped
        d = [r for r in rows + idle if r["name"].startswith("arbor-dnsd")]
        if d:
            print(f"\narbor-dnsd RSS (goal: under {RSS_GOAL_KIB // 1024} MiB with this zone); "
                  "after a run unless idle:\n")
            print("| arbor-dnsd | VmRSS KiB | RssAnon KiB | RssFile KiB | threads | goal |")
            print("|---|---:|---:|---:|---:|---|")
            for r in d:
                verdict = "met" if r["rss"] < RSS_GOAL_KIB else "missed"
                pa = r["parts"]
                print(f"| {r['name']} | {r['rss']} | {pa.get('RssAnon', '-')} | {pa.get('RssFile', '-')} "
                      f"| {r['threads']} | {verdict} |")
        print()
        for r in rows:
            rc = ", ".join(f"{k} {v}" for k, v in r["rcodes"].items())
            thr = f", throttled {r['throttled']} periods" if r["throttled"] is not None else ""
            size = f", packets {r['size'][0]}/{r['size'][1]} bytes (query/answer)" if r["size"] else ""
            rng = f", qps over {args.repeat} runs {r['range'][0]:.0f}–{r['range'][1]:.0f}" if r["range"] else ""
            print(f"- {r['name']}: {rc}; lost {r['lost']}{size}{thr}{rng}"
                  + (f" — CHECK: {'; '.join(r['notes'])}" if r["notes"] else ""))
        measured = {r["name"] for r in rows}
        for name, why in skipped:
            print(f"- {name}: {'one run failed' if name in measured else 'not measured'}: {why}")
        sys.stdout.flush()
        if any(n.startswith(("arbor-dnsd", "udp_echo")) for n, _ in skipped) or not capped:
            return 1
        return 0
    except KeyboardInterrupt as e:
        print(f"bench_dnsd: interrupted ({e})", file=sys.stderr)
        return 130
    finally:
        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)  # a second signal must not cut the cleanup short
        lab.close()
        if cgroup is not None:
            cgroup.remove()
        if args.keep_logs:
            print(f"# kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def platform_cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
