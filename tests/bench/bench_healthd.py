#!/usr/bin/python3
"""Benchmark (not a test): arbor-healthd running 2000 checks at a 1 s interval
against local targets (nginx for tcp and http, dnsmasq for dns, loopback for
icmp). Reports healthd's CPU%, RSS and how late probes start (the p50/p99
scheduling delay healthd measures itself), after a warm-up.

usage: tests/bench/bench_healthd.py [--build build] [--checks 2000] [--seconds 30]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from arborlab import request, wait_for  # noqa: E402
from benchlib import rss_kib  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--checks", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="arbor-bench-healthd-")
    procs = []
    try:
        os.makedirs(f"{tmp}/nginx/logs")
        with open(f"{tmp}/nginx/nginx.conf", "w") as f:
            f.write(f"""worker_processes 1; daemon off; pid {tmp}/nginx/pid; error_log {tmp}/nginx/error.log;
events {{ worker_connections 8192; }}
http {{ access_log off; client_body_temp_path {tmp}/nginx; proxy_temp_path {tmp}/nginx;
  fastcgi_temp_path {tmp}/nginx; uwsgi_temp_path {tmp}/nginx; scgi_temp_path {tmp}/nginx;
  server {{ listen 127.0.0.1:18080 backlog=4096; location / {{ return 200 "ok"; }} }} }}
""")
        procs.append(subprocess.Popen(["taskset", "-c", "1", "nginx", "-p", f"{tmp}/nginx", "-c", f"{tmp}/nginx/nginx.conf"]))
        procs.append(subprocess.Popen(["taskset", "-c", "1", "dnsmasq", "-k", "-C", "/dev/null", "--no-resolv", "--no-hosts",
                                       "--listen-address=127.0.0.1", "--bind-interfaces", "--port=15353",
                                       "--address=/bench.lab/10.0.0.1", "--dns-forward-max=10000",
                                       "--log-facility=-"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        n = args.checks
        kinds = []
        for i in range(n):
            k = i % 10
            base = {"name": f"c{i}", "interval": 1, "timeout": 0.9, "rise": 2, "fall": 3}
            if k < 3:
                kinds.append(dict(base, kind="tcp", target="127.0.0.1:18080"))
            elif k < 6:
                kinds.append(dict(base, kind="http", target="http://127.0.0.1:18080/"))
            elif k < 9:
                kinds.append(dict(base, kind="icmp", target="127.0.0.1"))
            else:
                kinds.append(dict(base, kind="dns", target="127.0.0.1:15353",
                                  query={"name": "x.bench.lab", "type": "A"}, expect={"answer": "10.0.0.1"}))
        cfg = {"machine": {"name": "bench"}, "healthd": {"checks": kinds}}
        with open(f"{tmp}/arbor.json", "w") as f:
            json.dump(cfg, f)
        hd = subprocess.Popen(["taskset", "-c", "0", f"{build}/healthd/arbor-healthd", "-c", f"{tmp}/arbor.json",
                               "--runtime-dir", f"{tmp}/run", "--state-dir", f"{tmp}/state"],
                              stderr=open(f"{tmp}/healthd.log", "w"))
        procs.append(hd)
        sock = f"{tmp}/run/healthd.sock"
        wait_for(lambda: request(sock, "GET", "/v1/healthz").status in (200, 503), 10, "healthd")
        idle = rss_kib(hd.pid)
        # Warm-up: every check has run and settled.
        wait_for(lambda: request(sock, "GET", "/v1/status").json()["healthd"]["passing"] == n, 30,
                 "all checks passing")
        c0, t0 = cpu_seconds(hd.pid), time.monotonic()
        deadline = t0 + args.seconds
        while time.monotonic() < deadline:
            request(sock, "GET", "/v1/healthz")  # also proves the socket stays responsive
            time.sleep(1)
        c1, t1 = cpu_seconds(hd.pid), time.monotonic()
        metrics = request(sock, "GET", "/v1/metrics").body.decode()
        q = {}
        for line in metrics.splitlines():
            if line.startswith("arbor_healthd_schedule_delay_seconds{"):
                q[line.split('"')[1]] = float(line.split()[-1])
            if line.startswith("arbor_healthd_probes_total "):
                probes = int(line.split()[-1])
            if line.startswith("arbor_healthd_probes_skipped_total "):
                skipped = int(line.split()[-1])
        status = request(sock, "GET", "/v1/status").json()["healthd"]
        print(f"\n# arbor-healthd: {n} checks (30% tcp, 30% http, 30% icmp, 10% dns) at 1 s, "
              f"healthd on CPU 0, targets on CPU 1, {args.seconds:.0f} s measured after warm-up\n")
        print("| measure | value |")
        print("|---|---:|")
        print(f"| CPU (% of one core) | {100 * (c1 - c0) / (t1 - t0):.1f} |")
        print(f"| RSS idle, before checks ran (KiB) | {idle} |")
        print(f"| RSS with {n} checks running (KiB) | {rss_kib(hd.pid)} |")
        print(f"| probe start delay p50 (ms) | {q.get('0.5', 0) * 1000:.3f} |")
        print(f"| probe start delay p99 (ms) | {q.get('0.99', 0) * 1000:.3f} |")
        print(f"| probes started / skipped | {probes} / {skipped} |")
        print(f"| checks passing / failing / unknown | {status['passing']} / {status['failing']} / {status['unknown']} |")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
