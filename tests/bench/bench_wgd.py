#!/usr/bin/python3
"""Benchmark (not a test): arbor-wgd with 1,000 peers, side by side with
wg(8) in the same run, both against wireguard-go.

1. Applying 1,000 peers to a device that has none: wgd reconciling (the
   `renew` command: read the device, compute the change, one UAPI set, read
   the statuses) against `wg setconf` of the same 1,000 peers (a process:
   parse the file, one UAPI set). Each round empties both devices first
   (`wg setconf` of a file with the key only) and times the two in
   alternating order.
2. `GET /v1/peers` with 1,000 peers: latencies from uxload (one keep-alive
   connection), p50 and p99.
3. wgd's RSS (and its own anonymous memory) with 1,000 peers, and
   wireguard-go's beside it.

usage: tests/bench/bench_wgd.py [--build build] [--peers 1000] [--rounds 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from arborlab import Lab, request, wait_for  # noqa: E402
from wgtools import start_wireguard_go, unique_ifname  # noqa: E402


def memory_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile"):
                out[key] = int(line.split()[1])
    return out


def wg_conf(private_key, peers):
    lines = ["[Interface]", f"PrivateKey = {private_key}"]
    for p in peers:
        allowed = [f"{p['ipv4']}/32", f"{p['ipv6']}/128"]
        lines += ["[Peer]", f"PublicKey = {p['public_key']}", f"AllowedIPs = {', '.join(allowed)}"]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("ARBOR_BUILD", "build"))
    ap.add_argument("--peers", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    os.environ["ARBOR_BUILD"] = args.build
    from arborlab import binary
    lab = Lab(prefix="wgbench")
    try:
        ns = lab.add_netns("b")
        wgif, refif = unique_ifname("bw"), unique_ifname("br")
        cfg = {"machine": {"name": "bench", "domain": "home.arpa", "machine_id": "0123456789abcdef0123456789abcdef"},
               "wgd": {"interfaces": [{"name": wgif, "listen_port": 51820, "address": "10.64.0.1/20",
                                       "backend": "userspace", "subnet_id": 9}],
                       "poll_interval": 3600, "counters_save_interval": 3600}}
        d = lab.daemon("wgd", binary("wgd/arbor-wgd"), cfg, netns=ns).start()
        t0 = time.monotonic()
        post_ms = []
        for n in range(args.peers):
            t = time.monotonic()
            r = d.post("/v1/peers", {"name": f"peer{n}"})
            post_ms.append((time.monotonic() - t) * 1000)
            assert r.status == 201, r
        print(f"# {args.peers} peers added through the API in {time.monotonic() - t0:.1f} s "
              f"(POST p50 {statistics.median(post_ms):.1f} ms, last 100 p50 {statistics.median(post_ms[-100:]):.1f} ms)")
        peers = d.get("/v1/peers").json()["peers"]
        with open(os.path.join(d.state_dir, f"{wgif}.key")) as f:
            wgd_key = f.read().strip()
        ref_key = subprocess.run(["wg", "genkey"], capture_output=True, text=True).stdout.strip()
        start_wireguard_go(ns, refif)
        tmp = lab.mkdtemp("wgbench-")
        files = {}
        for name, key, body in (("wgd-empty", wgd_key, []), ("ref-empty", ref_key, []), ("ref-full", ref_key, peers)):
            files[name] = os.path.join(tmp, f"{name}.conf")
            with open(files[name], "w") as f:
                f.write(wg_conf(key, body))

        def time_wgd():
            ns.exec(["wg", "setconf", wgif, files["wgd-empty"]])
            t = time.monotonic()
            r = d.post("/v1/commands/renew", timeout=60)
            took = time.monotonic() - t
            assert r.status == 200, r
            n = len(ns.exec(["wg", "show", wgif, "peers"]).stdout.split())
            assert n == args.peers, f"wgd applied {n} peers"
            return took

        def time_wg():
            ns.exec(["wg", "setconf", refif, files["ref-empty"]])
            t = time.monotonic()
            ns.exec(["wg", "setconf", refif, files["ref-full"]])
            took = time.monotonic() - t
            assert len(ns.exec(["wg", "show", refif, "peers"]).stdout.split()) == args.peers
            return took

        wgd_s, wg_s = [], []
        for r in range(args.rounds):
            if r % 2:
                wg_s.append(time_wg())
                wgd_s.append(time_wgd())
            else:
                wgd_s.append(time_wgd())
                wg_s.append(time_wg())
        a, b = statistics.median(wgd_s), statistics.median(wg_s)

        # GET /v1/peers with uxload (built beside the benchmark).
        ux = binary("tests/bench/uxload")
        r = subprocess.run([ux, "-s", d.socket, "-p", "/v1/peers", "-c", "1", "-d", "5", "-w", "1", "--json"],
                           capture_output=True, text=True)
        lat = json.loads(r.stdout)
        body_kib = len(d.get("/v1/peers").body) / 1024
        mem = memory_kib(d.pid())
        wggo_pid = d.status()["wgd"]["interfaces"][0]["wireguard_go_pid"]
        wggo = memory_kib(wggo_pid)

        print()
        print(f"| measure ({args.peers} peers) | arbor-wgd | wg setconf | ratio |")
        print("|---|---:|---:|---:|")
        print(f"| apply to an empty wireguard-go device, median of {args.rounds} | {a * 1000:.1f} ms | "
              f"{b * 1000:.1f} ms | {a / b:.2f}x |")
        print()
        print("| measure | value |")
        print("|---|---:|")
        print(f"| GET /v1/peers p50 ({body_kib:.0f} KiB answer) | {lat['p50_us'] / 1000:.2f} ms |")
        print(f"| GET /v1/peers p99 | {lat['p99_us'] / 1000:.2f} ms |")
        print(f"| GET /v1/peers rate, one connection | {lat['rps']:.0f}/s |")
        print(f"| arbor-wgd RSS (own anonymous memory) | {mem['VmRSS']} KiB ({mem['RssAnon']} KiB) |")
        print(f"| wireguard-go RSS, the same device | {wggo['VmRSS']} KiB |")
        print()
        print(f"# rounds wgd {[round(x * 1000, 1) for x in wgd_s]} ms, wg setconf {[round(x * 1000, 1) for x in wg_s]} ms")
    finally:
        lab.close()


if __name__ == "__main__":
    main()
