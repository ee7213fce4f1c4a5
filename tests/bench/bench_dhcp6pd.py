#!/usr/bin/python3
"""Benchmark (not a test) of arbor-dhcp6pd, side by side with kea-dhcp6 in the same run.

1. Delegation rate: perfdhcp -6 -e prefix-only (4-way SOLICIT/ADVERTISE/REQUEST/
   REPLY exchanges per second) against arbor-dhcp6pd (every binding fdatasync'ed
   before its REPLY, group commit; with its routes to the delegated prefixes, and
   without) and kea-dhcp6 (memfile, persist: true), each server pinned to CPU 0
   and capped at --quota percent of it (cgroup v1), perfdhcp on CPU 1.
2. Withdrawal latency: root holds a delegation from kea-dhcp6 and numbers --lans
   LANs, each a veth to a listener; the ISP renumbers and root renews: the time
   from the prefix.changed event to the first RA on each LAN that withdraws the
   old prefix (PIO preferred lifetime 0), --renumbers times.
3. Memory: arbor-dhcp6pd's RSS holding --bindings delegations (restarted from its
   journal), and kea-dhcp6's after the same number of exchanges.

usage: tests/bench/bench_dhcp6pd.py [--build build] [--seconds 10] [--rate 30000] [--quota 50]
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from arborlab import Lab, request, wait_for  # noqa: E402
from benchlib import CpuCap, rss_kib, rss_parts  # noqa: E402


def perfdhcp(cli, rate, seconds, clients):
    r = cli.exec(["taskset", "-c", "1", "perfdhcp", "-6", "-e", "prefix-only", "-r", str(rate), "-R", str(clients),
                  "-p", str(seconds), "-l", "cli0"], check=False, timeout=seconds + 60)
    out = r.stdout + r.stderr
    m = re.search(r"Rate: ([0-9.]+) 4-way exchanges/second", out)
    return (float(m.group(1)) if m else 0.0), out


def rate_benchmark(lab, args, tmp, build, cg):
    srv = lab.add_netns("b6srv")
    cli = lab.add_netns("b6cli")
    lab.veth(srv, "srv0", cli, "cli0")
    for ns, dev in ((srv, "srv0"), (cli, "cli0")):
        wait_for(lambda: "tentative" not in ns.exec(["ip", "-6", "addr", "show", "dev", dev]).stdout, 10,
                 f"{dev} link-local")
    results = []

    def run(name, argv, ready, state=None):
        p = srv.popen(["taskset", "-c", "0"] + argv, stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/{name}.log", "w"))
        cg.add(p.pid)
        wait_for(ready, 30, f"{name} to start")
        rate, out = perfdhcp(cli, args.rate, args.seconds, args.clients)
        rss = rss_kib(p.pid)
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
        results.append((name, rate, rss))
        with open(f"{tmp}/{name.split()[0]}.perfdhcp", "w") as f:
            f.write(out)
        return rate

    def arbor(name, routes, state):
        cfg = {"machine": {"name": "bench", "machine_id": "0123456789abcdef0123456789abcdef"},
               "dhcp6pd": {"servers": [{"interface": "srv0", "routes": routes, "valid_lifetime": 86400,
                                        "preferred_lifetime": 43200,
                                        "pools": [{"prefix": "2001:db8::/32", "delegated_length": 56}]}]}}
        with open(f"{tmp}/{state}.json", "w") as f:
            json.dump(cfg, f)
        sock = f"{tmp}/{state}-run/dhcp6pd.sock"
        argv = [f"{build}/dhcp6pd/arbor-dhcp6pd", "-c", f"{tmp}/{state}.json", "--runtime-dir", f"{tmp}/{state}-run",
                "--state-dir", f"{tmp}/{state}"]
        run(name, argv, lambda: os.path.exists(sock) and request(sock, "GET", "/v1/healthz").status in (200, 503))
        return argv, sock

    arbor_argv, sock = arbor("arbor-dhcp6pd (routes on)", True, "arbor")
    arbor("arbor-dhcp6pd (routes off)", False, "arbor-noroutes")
    kea = {"Dhcp6": {"interfaces-config": {"interfaces": ["srv0"]},
                     "server-id": {"type": "LLT", "persist": False},
                     "lease-database": {"type": "memfile", "persist": True, "name": f"{tmp}/kea-leases6.csv",
                                        "lfc-interval": 0},
                     "preferred-lifetime": 43200, "valid-lifetime": 86400,
                     "subnet6": [{"id": 1, "subnet": "2001:db8:ffff::/64", "interface": "srv0",
                                  "pd-pools": [{"prefix": "2001:db8::", "prefix-len": 32, "delegated-len": 56}]}],
                     "loggers": [{"name": "kea-dhcp6", "severity": "WARN",
                                  "output_options": [{"output": f"{tmp}/kea.out"}]}]}}
    with open(f"{tmp}/kea.json", "w") as f:
        json.dump(kea, f)
    os.makedirs(f"{tmp}/kea-run", exist_ok=True)
    os.environ["KEA_PIDFILE_DIR"] = f"{tmp}/kea-run"
    os.environ["KEA_LOCKFILE_DIR"] = f"{tmp}/kea-run"
    run("kea-dhcp6 (memfile, persist)", ["kea-dhcp6", "-c", f"{tmp}/kea.json"],
        lambda: os.path.exists(f"{tmp}/kea-leases6.csv"))

    # RSS holding what the run bound: arbor restarted from its journal
    p = srv.popen(arbor_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(sock) and request(sock, "GET", "/v1/healthz").status in (200, 503), 60,
             "dhcp6pd to load its delegations")
    bound = request(sock, "GET", "/v1/status").json()["dhcp6pd"]["servers"]["servers"][0]["bound"]
    held = rss_kib(p.pid)
    p.terminate()
    p.wait(60)
    return results, bound, held


def make_bindings(lab, tmp, build, n, routes=False):
    """A journal snapshot with n delegations, for the RSS figure at a given size."""
    state = f"{tmp}/rss-state"
    os.makedirs(state, exist_ok=True)
    lines = []
    now = time.time()
    for i in range(n):
        prefix = f"2001:db8:{i >> 8:x}:{(i & 255) << 8:x}::/56"
        duid = "00:03:00:01:02:00:" + ":".join(f"{(i >> s) & 255:02x}" for s in (24, 16, 8, 0))
        lines.append(json.dumps({"interface": "srv0", "prefix": prefix, "duid": duid, "iaid": 1, "state": "bound",
                                 "starts": now, "preferred_until": now + 43200, "valid_until": now + 86400,
                                 "via": "fe80::1"}))
    with open(f"{state}/delegations.json", "w") as f:
        f.write('{"generation":1,"data":{"delegations":[\n' + ",\n".join(lines) + "\n]}}\n")
    with open(f"{state}/delegations.json.journal", "w") as f:
        f.write('{"journal":1}\n')
    ns = lab.add_netns("b6rss")
    lab.bridge(ns, "srv0")
    cfg = {"machine": {"name": "bench", "machine_id": "0123456789abcdef0123456789abcdef"},
           "dhcp6pd": {"servers": [{"interface": "srv0", "routes": routes,
                                    "pools": [{"prefix": "2001:db8::/32", "delegated_length": 56}]}]}}
    with open(f"{tmp}/rss.json", "w") as f:
        json.dump(cfg, f)
    sock = f"{tmp}/rss-run/dhcp6pd.sock"
    p = ns.popen([f"{build}/dhcp6pd/arbor-dhcp6pd", "-c", f"{tmp}/rss.json", "--runtime-dir", f"{tmp}/rss-run",
                  "--state-dir", state], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(sock) and request(sock, "GET", "/v1/healthz").status in (200, 503), 120,
             "dhcp6pd to load the bindings")
    bound = request(sock, "GET", "/v1/status").json()["dhcp6pd"]["servers"]["servers"][0]["bound"]
    rss = rss_kib(p.pid)
    anon = rss_parts(p.pid).get("RssAnon", 0)
    p.terminate()
    p.wait(60)
    return bound, rss, anon


RA_LISTENER = r'''
import socket, struct, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[1].encode())
print("ready", flush=True)
while True:
    p = s.recv(2048)
    t = time.time()
    if p[0] != 134:
        continue
    i = 16
    while i + 2 <= len(p) and p[i + 1]:
        if p[i] == 3 and p[i + 1] == 4:
            pref = struct.unpack("!I", p[i + 8:i + 12])[0]
            prefix = socket.inet_ntop(socket.AF_INET6, p[i + 16:i + 32])
            print(f"{t:.6f} {prefix} {pref}", flush=True)
        i += p[i + 1] * 8
'''


REPLY_LISTENER = r'''
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x86dd))
s.bind((sys.argv[1], 0))
print("ready", flush=True)
while True:
    p = s.recv(4096)
    t = time.time()
    if len(p) > 48 and p[6] == 17 and struct.unpack("!H", p[42:44])[0] == 546 and p[48] == 7:
        print(f"{t:.6f}", flush=True)
'''


def withdrawal_benchmark(lab, args, build):
    from test_dhcp6pd import Kea6, bound_prefix, isp_and_root, start_dhcp6pd
    isp, root = isp_and_root(lab)
    listeners = []
    for k in range(args.lans):
        host = lab.add_netns(f"h{k}")
        lab.veth(root, f"lan{k}", host, "eth0")
        p = host.popen(["/usr/bin/python3", "-c", RA_LISTENER, "eth0"], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        seen = []
        threading.Thread(target=lambda p=p, seen=seen: [seen.append(l.split()) for l in p.stdout], daemon=True).start()
        listeners.append(seen)
    rp = root.popen(["/usr/bin/python3", "-c", REPLY_LISTENER, "wan0"], stdout=subprocess.PIPE, text=True)
    assert rp.stdout.readline().strip() == "ready"
    replies = []
    threading.Thread(target=lambda: [replies.append(float(l)) for l in rp.stdout], daemon=True).start()
    kea = Kea6(lab, isp, preferred=3000, valid=6000, renew=1500, rebind=2400)
    d = start_dhcp6pd(lab, root, {"machine": {"name": "root", "machine_id": "0123456789abcdef0123456789abcdef"},
                                  "dhcp6pd": {"clients": [{"interface": "wan0", "prefix_length_hint": 56}],
                                              "lans": [{"interface": f"lan{k}"} for k in range(args.lans)]}})
    prefix = bound_prefix(d, timeout=30)
    delays, from_reply = [], []
    pools = ["2001:db8:300::", "2001:db8:100::"]
    for r in range(args.renumbers):
        old64 = prefix.split("::")[0]
        kea.restart(pool=pools[r % 2], preferred=3000, valid=6000, renew=1500, rebind=2400)
        seq = d.events()[-1]["seq"]
        marks = [len(s) for s in listeners]
        nreplies = len(replies)
        assert d.post("/v1/commands/renew").status == 200
        ev = wait_for(lambda: d.events(since=seq, type="prefix.changed"), 20, "prefix.changed")[0]
        at = datetime.datetime.fromisoformat(ev["time"].replace("Z", "+00:00")).timestamp()
        prefix = ev["data"]["prefixes"][0]["prefix"]
        for k, seen in enumerate(listeners):
            def first():
                for t, pfx, pref in seen[marks[k]:]:
                    if pfx.startswith(old64 + ":") and pref == "0":
                        return float(t)
                return None
            t = wait_for(first, 10, f"the withdrawing RA on lan{k}")
            delays.append((t - at) * 1000)
            from_reply.append((t - replies[nreplies]) * 1000)
    return delays, from_reply


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rate", type=int, default=30000)
    ap.add_argument("--clients", type=int, default=50000)
    ap.add_argument("--quota", type=int, default=50, help="percent of CPU 0 each server may use")
    ap.add_argument("--lans", type=int, default=4)
    ap.add_argument("--renumbers", type=int, default=5)
    ap.add_argument("--bindings", type=int, default=50000)
    ap.add_argument("--skip", default="", help="comma list of: rate, withdrawal, rss")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    skip = set(filter(None, args.skip.split(",")))
    lab = Lab(prefix="arborb6")
    tmp = tempfile.mkdtemp(prefix="arbor-bench-dhcp6-")
    cg = CpuCap(args.quota, "arbor-bench6")
    try:
        if "rate" not in skip:
            results, bound, held = rate_benchmark(lab, args, tmp, build, cg)
            kea_rate = next(r for n, r, _ in results if n.startswith("kea"))
            print(f"\n# perfdhcp -6 -e prefix-only -r {args.rate} -R {args.clients}, {args.seconds} s per server; "
                  f"server on CPU 0 capped at {args.quota}% of it, perfdhcp on CPU 1\n")
            print("| server | 4-way exchanges/s | ratio to kea | RSS after the run (KiB) |")
            print("|---|---:|---:|---:|")
            for name, rate, rss in results:
                print(f"| {name} | {rate:.0f} | {rate / kea_rate if kea_rate else 0:.2f} | {rss} |")
            print(f"\narbor-dhcp6pd restarted from its journal with {bound} delegations: RSS {held} KiB")
        if "withdrawal" not in skip:
            delays, from_reply = withdrawal_benchmark(lab, args, build)
            print(f"\n# the first RA withdrawing the old prefix on each LAN, {args.lans} LANs × {args.renumbers} "
                  f"renumberings ({len(delays)} RAs); negative: the RA left before the event\n")
            print("| measured from | min (ms) | median (ms) | max (ms) |")
            print("|---|---:|---:|---:|")
            for name, v in (("the prefix.changed event (ms clock)", sorted(delays)),
                            ("the REPLY reaching root's uplink", sorted(from_reply))):
                print(f"| {name} | {v[0]:.1f} | {v[len(v) // 2]:.1f} | {v[-1]:.1f} |")
        if "rss" not in skip:
            bound, rss, anon = make_bindings(lab, tmp, build, args.bindings)
            print(f"\n# arbor-dhcp6pd holding {bound} delegations (loaded from its journal): "
                  f"RSS {rss} KiB, of which anonymous {anon} KiB")
    finally:
        lab.close()
        cg.remove()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
