#!/usr/bin/python3
"""Benchmark (not a test): perfdhcp 4-way exchanges per second against
arbor-dhcp4d, kea-dhcp4 (memfile, persist: true) and dnsmasq in the same run,
each server pinned to CPU 0 and persisting its leases as it does (arbor:
fdatasync before every ACK); perfdhcp on CPU 1. perfdhcp itself saturates a
core near 14,000 exchanges/s, so each server is also capped at a share of CPU 0
(cgroup v1 cpu quota, --quota percent) to make the server the bottleneck; run
with --quota 100 for the uncapped figures. Then arbor-dhcp4d's RSS holding
the leases of its run (about 50,000).

usage: tests/bench/bench_dhcp4d.py [--build build] [--seconds 10] [--rate 40000] [--quota 25]
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from arborlab import Lab, request, wait_for  # noqa: E402
from benchlib import CpuCap, rss_kib  # noqa: E402


def perfdhcp(cli, rate, seconds, clients):
    r = cli.exec(["taskset", "-c", "1", "perfdhcp", "-4", "-r", str(rate), "-R", str(clients), "-p", str(seconds),
                  "-l", "cli0", "10.0.0.1"], check=False, timeout=seconds + 60)
    out = r.stdout + r.stderr
    m = re.search(r"Rate: ([0-9.]+) 4-way exchanges/second", out)
    drops = re.findall(r"drops: (\d+)", out)
    return (float(m.group(1)) if m else 0.0), [int(x) for x in drops], out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rate", type=int, default=40000)
    ap.add_argument("--clients", type=int, default=50000)
    ap.add_argument("--quota", type=int, default=25, help="percent of CPU 0 each server may use")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    lab = Lab(prefix="arborbench")
    tmp = tempfile.mkdtemp(prefix="arbor-bench-dhcp-")
    results = []
    cap = None
    try:
        srv = lab.add_netns("dsrv")
        cli = lab.add_netns("dcli")
        tag = os.getpid() % 100000
        lab.veth(srv, f"s{tag}", cli, f"c{tag}")
        for ns, old, new in ((srv, f"s{tag}", "srv0"), (cli, f"c{tag}", "cli0")):
            ns.exec(["ip", "link", "set", old, "down"])
            ns.exec(["ip", "link", "set", old, "name", new])
            ns.exec(["ip", "link", "set", new, "up"])
        srv.exec(["ip", "addr", "add", "10.0.0.1/16", "dev", "srv0"])
        cli.exec(["ip", "addr", "add", "10.0.0.2/16", "dev", "cli0"])

        cap = CpuCap(args.quota, "arbor-bench")

        def run(name, argv, ready, pidfn=None):
            p = srv.popen(["taskset", "-c", "0"] + argv, stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/{name}.log", "w"))
            cap.add(p.pid)
            wait_for(ready, 20, f"{name} to start")
            rate, drops, out = perfdhcp(cli, args.rate, args.seconds, args.clients)
            rss = rss_kib(pidfn() if pidfn else p.pid)
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
            results.append((name, rate, rss))
            with open(f"{tmp}/{name}.perfdhcp", "w") as f:
                f.write(out)
            return rate

        # arbor-dhcp4d
        cfg = {"machine": {"name": "bench"}, "dhcp4d": {"servers": [{"interface": "srv0", "subnet": "10.0.0.0/16",
               "pools": [{"start": "10.0.1.0", "end": "10.0.255.250"}], "lease_time": 3600,
               "options": {"router": "10.0.0.1"}}]}}
        with open(f"{tmp}/arbor.json", "w") as f:
            json.dump(cfg, f)
        sock = f"{tmp}/run/dhcp4d.sock"
        run("arbor-dhcp4d", [f"{build}/dhcp4d/arbor-dhcp4d", "-c", f"{tmp}/arbor.json", "--runtime-dir",
                             f"{tmp}/run", "--state-dir", f"{tmp}/arbor-state"],
            lambda: os.path.exists(sock) and request(sock, "GET", "/v1/healthz").status in (200, 503))

        # kea-dhcp4, memfile with persistence
        kea = {"Dhcp4": {"interfaces-config": {"interfaces": ["srv0"]},
                         "lease-database": {"type": "memfile", "persist": True, "name": f"{tmp}/kea-leases.csv",
                                            "lfc-interval": 0},
                         "valid-lifetime": 3600,
                         "subnet4": [{"id": 1, "subnet": "10.0.0.0/16", "pools": [{"pool": "10.0.1.0 - 10.0.255.250"}],
                                      "option-data": [{"name": "routers", "data": "10.0.0.1"}]}],
                         "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                                      "output_options": [{"output": f"{tmp}/kea.out"}]}]}}
        with open(f"{tmp}/kea.json", "w") as f:
            json.dump(kea, f)
        env_dir = f"{tmp}/kea-run"
        os.makedirs(env_dir, exist_ok=True)
        os.environ["KEA_PIDFILE_DIR"] = env_dir
        os.environ["KEA_LOCKFILE_DIR"] = env_dir
        run("kea-dhcp4 (memfile, persist)", ["kea-dhcp4", "-c", f"{tmp}/kea.json"],
            lambda: os.path.exists(f"{tmp}/kea-leases.csv"))

        # dnsmasq
        run("dnsmasq", ["dnsmasq", "-k", "-C", "/dev/null", "--port=0", "--no-resolv", "--interface=srv0",
                        "--bind-interfaces", "--dhcp-range=10.0.1.0,10.0.255.250,255.255.0.0,1h",
                        f"--dhcp-lease-max={args.clients * 2}", f"--dhcp-leasefile={tmp}/dnsmasq.leases",
                        "--no-ping", "--log-facility=-"],
            lambda: os.path.exists(f"{tmp}/dnsmasq.leases") or time.sleep(0.05))

        # RSS of arbor-dhcp4d holding the leases of the run above (restart from its journal).
        p = srv.popen([f"{build}/dhcp4d/arbor-dhcp4d", "-c", f"{tmp}/arbor.json", "--runtime-dir", f"{tmp}/run",
                       "--state-dir", f"{tmp}/arbor-state"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(sock) and request(sock, "GET", "/v1/healthz").status in (200, 503), 30,
                 "dhcp4d to load its leases")
        bound = request(sock, "GET", "/v1/status").json()["dhcp4d"]["servers"][0]["bound"]
        held_rss = rss_kib(p.pid)
        p.terminate()
        p.wait(20)

        kea_rate = next(r for n, r, _ in results if n.startswith("kea"))
        print(f"\n# perfdhcp -r {args.rate} -R {args.clients}, {args.seconds} s per server; server on CPU 0 "
              f"capped at {args.quota}% of it, perfdhcp on CPU 1 (it relays: giaddr set)\n")
        print("| server | 4-way exchanges/s | ratio to kea | RSS after the run (KiB) |")
        print("|---|---:|---:|---:|")
        for name, rate, rss in results:
            print(f"| {name} | {rate:.0f} | {rate / kea_rate if kea_rate else 0:.2f} | {rss} |")
        print(f"\narbor-dhcp4d restarted from its journal with {bound} bound leases: RSS {held_rss} KiB")
    finally:
        lab.close()
        if cap:
            cap.remove()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
