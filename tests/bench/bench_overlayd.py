#!/usr/bin/python3
"""Benchmark (not a test): arbor-overlayd as the hub of N spokes (1,000 by
default), in network namespaces, against ip(8) in the same run.

  1. Create every device, address and route for N spokes from an empty kernel:
     overlayd's first reconcile (it measures itself) against `ip -batch` of
     the same links, addresses and routes in a fresh namespace; each --repeat
     times, alternating. With hub.forwarding (one more request per device:
     ip cannot set per-link forwarding) as a second overlayd row.
  2. Reconcile after kill -9 and restart with nothing changed: its time and
     its netlink writes (must be 0).
  3. Signed requests per second with the hub on one core (taskset) and
     tests/overlay_load on the other: new joins (each answered after its
     record is fsync'ed, devices created meanwhile), joins of known spokes,
     heartbeats.
  4. The hub's RSS with N spokes.

usage: tests/bench/bench_overlayd.py [--build build] [--spokes 1000] [--repeat 3]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from arborlab import request, wait_for  # noqa: E402

TAG = f"ovb{os.getpid() % 10000}"


def sh(argv, check=True, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
    return r


def netns(name):
    sh(["ip", "netns", "add", name])
    sh(["ip", "-n", name, "link", "set", "lo", "up"])
    # The underlay: a port-less bridge with the hub's address; the spokes'
    # (which need not exist) behind a gateway on it.
    sh(["ip", "-n", name, "link", "add", "up0", "type", "bridge"])
    sh(["ip", "-n", name, "link", "set", "up0", "up"])
    sh(["ip", "-n", name, "addr", "add", "192.0.2.1/24", "dev", "up0"])
    sh(["ip", "-n", name, "route", "add", "198.51.96.0/20", "via", "192.0.2.254", "dev", "up0", "onlink"])
    sh(["ip", "netns", "exec", name, "sysctl", "-q", "net.ipv4.ip_forward=1"])
    return name


def delete_netns(name):
    sh(["ip", "netns", "del", name], check=False)


class Hub:
    def __init__(self, build, tmp, ns, forwarding, cpu=None):
        self.build, self.ns, self.cpu = build, ns, cpu
        self.dir = tmp
        os.makedirs(tmp, exist_ok=True)
        self.run_dir, self.state = f"{tmp}/run", f"{tmp}/state"
        self.config = f"{tmp}/arbor.json"
        with open(self.config, "w") as f:
            json.dump({"machine": {"name": "hub"}, "overlayd": {"hub": {
                "listen": "192.0.2.1:4790", "network": "10.128.0.0/12", "forwarding": forwarding,
                "nftables": False}}}, f)
        self.proc = None

    @property
    def sock(self):
        return f"{self.run_dir}/overlayd.sock"

    def start(self):
        argv = ["ip", "netns", "exec", self.ns]
        if self.cpu is not None:
            argv += ["taskset", "-c", str(self.cpu)]
        argv += [f"{self.build}/overlayd/arbor-overlayd", "-c", self.config, "--runtime-dir", self.run_dir,
                 "--state-dir", self.state]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(f"{self.dir}/log", "a"))
        wait_for(lambda: request(self.sock, "GET", "/v1/status").status == 200, 120, "the hub to start")
        return self

    def status(self):
        return request(self.sock, "GET", "/v1/status", timeout=60).json()

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


def load(build, ns, tokens, count, first=0, heartbeat=False, cpu=None):
    argv = ["ip", "netns", "exec", ns]
    if cpu is not None:
        argv += ["taskset", "-c", str(cpu)]
    argv += [f"{build}/tests/overlay_load", "--hub", "192.0.2.1", "--count", str(count), "--tokens", tokens,
             "--first", str(first), "--concurrency", "256", "--underlay", "198.51.96.0", "--no-verify"]
    if heartbeat:
        argv.append("--heartbeat")
    r = sh(argv, check=False, timeout=900)
    return json.loads(r.stdout)


def enroll(hub, n, tmp):
    r = request(hub.sock, "POST", "/v1/commands/enroll", body={"count": n}, timeout=120)
    path = f"{tmp}/tokens"
    with open(path, "w") as f:
        f.write("\n".join(r.json()["tokens"]) + "\n")
    return path


def batch_for(spokes, path, forwarding=False):
    """ip -batch lines for the same devices, addresses and routes overlayd makes."""
    with open(path, "w") as f:
        for s in spokes:
            f.write(f"link add {s['device']} mtu 1450 up type vxlan id {s['vni']} local 192.0.2.1 "
                    f"remote {s['underlay']} dstport 4789 nolearning\n")
        for s in spokes:
            f.write(f"addr add 10.128.0.1/32 dev {s['device']}\n")
        for s in spokes:
            f.write(f"route add {s['subnet']} dev {s['device']} proto 165\n")


HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def rss(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k = line.split(":")[0]
            if k in ("VmRSS", "RssAnon", "RssFile"):
                out[k] = int(line.split()[1])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--spokes", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    n = args.spokes
    tmp = tempfile.mkdtemp(prefix="arbor-bench-overlayd-")
    namespaces = []
    hubs = []
    try:
        # The registry of N spokes, made once by real signed joins.
        ns = netns(f"{TAG}-seed")
        namespaces.append(ns)
        seed = Hub(build, f"{tmp}/seed", ns, forwarding=False).start()
        hubs.append(seed)
        tokens = enroll(seed, n, f"{tmp}/seed")
        joined = load(build, ns, tokens, n)
        assert joined["ok"] == n, joined
        spokes = request(seed.sock, "GET", "/v1/spokes", timeout=60).json()["spokes"]
        seed.stop()
        delete_netns(ns)
        namespaces.remove(ns)
        batch = f"{tmp}/ip.batch"
        batch_for(spokes, batch)

        rows = {"overlayd": [], "overlayd, forwarding per link": [], "ip -batch": []}
        reconcile_ms, writes = [], []
        for i in range(args.repeat):
            for forwarding in (False, True):
                ns = netns(f"{TAG}-o{i}{int(forwarding)}")
                namespaces.append(ns)
                d = f"{tmp}/run{i}{int(forwarding)}"
                shutil.copytree(f"{tmp}/seed/state", f"{d}/state", ignore=shutil.ignore_patterns("events.jsonl*"))
                hub = Hub(build, d, ns, forwarding=forwarding).start()
                hubs.append(hub)
                k = hub.status()["overlayd"]["kernel"]
                assert k["links"] == n
                rows["overlayd, forwarding per link" if forwarding else "overlayd"].append(k["last_reconcile_ms"])
                if not forwarding:
                    # Nothing changed: a kill -9 and restart reconciles without writing.
                    hub.kill9()
                    hub.start()
                    k = hub.status()["overlayd"]["kernel"]
                    reconcile_ms.append(k["last_reconcile_ms"])
                    writes.append(k["writes"])
                hub.stop()
                delete_netns(ns)
                namespaces.remove(ns)
            ns = netns(f"{TAG}-ip{i}")
            namespaces.append(ns)
            t0 = time.monotonic()
            sh(["ip", "-n", ns, "-batch", batch])
            rows["ip -batch"].append((time.monotonic() - t0) * 1000)
            assert sh(["ip", "-n", ns, "-o", "link", "show", "type", "vxlan"]).stdout.count("\n") == n
            delete_netns(ns)
            namespaces.remove(ns)

        # Requests per second with the hub on core 0 and the load on core 1.
        ns = netns(f"{TAG}-rate")
        namespaces.append(ns)
        rate = Hub(build, f"{tmp}/rate", ns, forwarding=True, cpu=0).start()
        hubs.append(rate)
        tokens = enroll(rate, n, f"{tmp}/rate")
        rates = []
        for name, kw in (("new joins (fsync'ed, devices created)", {}), ("joins of known spokes", {}),
                         ("heartbeats", {"heartbeat": True})):
            c0, t0 = cpu_seconds(rate.proc.pid), time.monotonic()
            r = load(build, ns, tokens, n, cpu=1, **kw)
            busy = (cpu_seconds(rate.proc.pid) - c0) / (time.monotonic() - t0)
            rates.append((name, r, busy))
        wait_for(lambda: rate.status()["overlayd"]["kernel"]["links"] == n, 120, "every device")
        mem = rss(rate.proc.pid)

        med = {k: statistics.median(v) for k, v in rows.items()}
        print(f"\n{n} spokes, median of {args.repeat} runs (each run: ms)\n")
        print(f"| {'what':44} | {'median':>9} | runs |")
        print(f"|{'-' * 46}|{'-' * 11}|------|")
        for k, v in rows.items():
            print(f"| create every device, address, route: {k:6} | {med[k]:7.0f} ms | {', '.join(f'{x:.0f}' for x in v)} |")
        print(f"| overlayd / ip -batch                         | {med['overlayd'] / med['ip -batch']:7.2f} x  |      |")
        print(f"| reconcile after kill -9, nothing changed     | {statistics.median(reconcile_ms):7.1f} ms | "
              f"{', '.join(f'{x:.1f}' for x in reconcile_ms)} (writes: {writes}) |")
        for name, r, busy in rates:
            print(f"| {name + ', per second':44} | {r['per_second']:9.0f} | ok {r['ok']}/{r['count']}; hub CPU "
                  f"{100 * busy:.0f}%: {r['per_second'] / max(busy, 0.01):.0f} per second of one core |")
        print(f"| RSS with {n} spokes                        | {mem.get('VmRSS', 0) / 1024:6.1f} MiB | "
              f"anon {mem.get('RssAnon', 0) / 1024:.1f} MiB, files {mem.get('RssFile', 0) / 1024:.1f} MiB |")
    finally:
        for h in hubs:
            try:
                h.stop()
            except Exception:
                pass
        for ns in namespaces:
            delete_netns(ns)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
