#!/usr/bin/python3
"""The arbor network lab (driven by scripts/demo).

Two machines in network namespaces: "root" with a LAN bridge lan0, and "m1"
plugged into it. root runs dhcp4d (serving lan0: m1 gets its uplink address
from it, through m1's own dhcp4d running the DHCP client), healthd (watching
m1 and the daemons beside it), dnsd, wgd (a WireGuard gateway a "laptop"
namespace outside the LAN joins with its exported config) and the contract
fixture daemon.
The lab shows the contract end to end — status, health, events, commands, a
rejected reload, a kill -9 that loses nothing — and healthd noticing m1's
link go down and come back, with the action it runs.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))

from arborlab import Lab, binary, wait_for  # noqa: E402
from wgtools import apply_wg_quick, unique_ifname  # noqa: E402

ARBORCTL = None


def say(text):
    print(f"\n\033[1m## {text}\033[0m", flush=True)


def ctl(d, *args):
    argv = [ARBORCTL, "--runtime-dir", d.runtime_dir] + list(args)
    print("$ arborctl " + " ".join(args), flush=True)
    r = subprocess.run(argv, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    return r


def main():
    global ARBORCTL
    keep = "--keep" in sys.argv
    ARBORCTL = binary("ctl/arborctl")
    lab = Lab(prefix="arbordemo")
    try:
        say("two machines: root with a LAN bridge, m1 plugged into it")
        root = lab.add_netns("root")
        m1 = lab.add_netns("m1")
        lab.bridge(root, "lan0")
        root.exec(["ip", "addr", "add", "192.168.1.1/24", "dev", "lan0"])
        port, uplink = f"m1p{os.getpid() % 10000}", f"m1u{os.getpid() % 10000}"
        lab.veth(root, port, m1, uplink)
        root.exec(["ip", "link", "set", port, "master", "lan0"])
        m1.exec(["ip", "link", "set", uplink, "address", "52:54:00:00:01:10"])
        print(root.exec(["ip", "-br", "addr", "show", "lan0"]).stdout.strip())

        say("root runs dhcp4d, the fixture daemon and healthd, sharing /run/arbor (here a lab directory)")
        config = {
            "machine": {"name": "root", "domain": "home.arpa", "machine_id": "0123456789abcdef0123456789abcdef"},
            "fixture": {"greeting": "hello, lab"},
            "dhcp4d": {"servers": [{
                "interface": "lan0", "subnet": "192.168.1.0/24",
                "pools": [{"start": "192.168.1.100", "end": "192.168.1.199"}],
                "reservations": [{"mac": "52:54:00:00:01:10", "address": "192.168.1.10", "hostname": "m1"}],
                "options": {"router": "192.168.1.1", "dns_servers": ["192.168.1.1"], "domain_name": "home.arpa"},
                "lease_time": 600}]},
            "healthd": {"checks": [
                {"name": "m1-ping", "kind": "icmp", "target": "192.168.1.10", "interval": 0.5, "timeout": 0.4,
                 "rise": 2, "fall": 2, "critical": True,
                 "on_change": [{"when": "failing", "post": {"daemon": "fixture", "command": "renew"}}]},
                {"name": "fixture", "kind": "daemon", "target": "fixture", "interval": 1, "timeout": 0.5},
                {"name": "dhcp4d", "kind": "daemon", "target": "dhcp4d", "interval": 1, "timeout": 0.5},
                {"name": "disk", "kind": "exec", "command": ["/usr/bin/test", "-w", "/tmp"], "interval": 1, "rise": 1},
            ]},
        }
        d = lab.daemon("fixture", binary("tests/arbor-fixtured"), config, netns=root).start()
        dh = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), config, netns=root)
        dh.runtime_dir, dh.config_path = d.runtime_dir, d.config_path
        dh.start()
        say("m1 runs its own dhcp4d as the DHCP client of its uplink, and gets its address from root")
        m1_config = {"machine": {"name": "m1", "domain": "m1.lan0.home.arpa", "machine_id": "00000000000000000000000000000001"},
                     "dhcp4d": {"clients": [{"interface": uplink, "route_metric": 100}]}}
        m1d = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), m1_config, netns=m1).start()
        wait_for(lambda: m1d.status()["dhcp4d"]["clients"][0]["state"] == "bound", 15, "m1's client to bind")
        print(m1.exec(["ip", "-br", "addr", "show", uplink]).stdout.strip())
        print(m1.exec(["ip", "route", "show", "dev", uplink]).stdout.strip())
        say("both sides: root's lease table, m1's client")
        ctl(d, "get", "dhcp4d", "/v1/leases")
        ctl(m1d, "status")
        ctl(m1d, "get", "dhcp4d", "/v1/status")
        hd = lab.daemon("healthd", binary("healthd/arbor-healthd"), config, netns=root)
        hd.runtime_dir, hd.config_path = d.runtime_dir, d.config_path
        hd.start()
        wait_for(lambda: hd.status()["healthd"]["passing"] == 4, 10, "every check to pass")
        ctl(d, "status")
        ctl(d, "get", "healthd", "/v1/checks")

        say("DNS: root serves home.arpa (its hosts from dhcp4d's leases) and delegates m1.lan0.home.arpa to m1")
        config["dnsd"] = {"listen": ["192.168.1.1", "127.0.0.1"],  # leases: dhcp4d.sock in the shared runtime dir
                          "reverse_zones": ["192.168.1.0/24"], "allow_recursion": ["127.0.0.0/8", "192.168.0.0/16"],
                          "records": [{"name": "www", "type": "CNAME", "data": "lan0"}],
                          "children": [{"name": "m1", "interface": "lan0", "mac": "52:54:00:00:01:10",
                                        "machine_id": "00000000000000000000000000000001"}]}
        d.write_config(config)
        dn = lab.daemon("dnsd", binary("dnsd/arbor-dnsd"), config, netns=root)
        dn.runtime_dir, dn.config_path = d.runtime_dir, d.config_path
        dn.start()
        m1_ip = m1d.status()["dhcp4d"]["clients"][0]["lease"]["address"]
        m1_config["dnsd"] = {"listen": [m1_ip, "127.0.0.1"], "allow_recursion": ["127.0.0.0/8", "192.168.0.0/16"],
                             "hosts": [{"name": "web", "interface": "lan0", "host_id": "web", "ipv4": "10.0.1.80"}],
                             "records": [{"name": "files", "type": "A", "data": "10.0.1.20"}]}
        m1d.write_config(m1_config)
        m1n = lab.daemon("dnsd", binary("dnsd/arbor-dnsd"), m1_config, netns=m1)
        m1n.runtime_dir, m1n.config_path = m1d.runtime_dir, m1d.config_path
        m1n.start()
        for ns, server, name in ((root, "127.0.0.1", "m1.lan0.home.arpa"), (root, "127.0.0.1", "-x 192.168.1.10"),
                                 (root, "127.0.0.1", "files.m1.lan0.home.arpa"),
                                 (root, "127.0.0.1", "web.lan0.m1.lan0.home.arpa AAAA"),
                                 (m1, "192.168.1.1", "www.home.arpa"), (m1, "127.0.0.1", "web.lan0.m1.lan0.home.arpa")):
            print(f"$ dig @{server} +short {name}   # from {ns.name.split('-')[-1]}", flush=True)
            print(ns.exec(["dig", f"@{server}", "+short", "+time=2"] + name.split(), check=False).stdout.strip())
        print("$ dig @192.168.1.1 +norec m1.lan0.home.arpa NS   # the referral, with glue from m1's lease")
        out = root.exec(["dig", "@192.168.1.1", "+norec", "m1.lan0.home.arpa", "NS"], check=False).stdout
        print("\n".join(l for l in out.splitlines() if l and not l.startswith(";")))
        ctl(d, "get", "dnsd", "/v1/status")

        say("WireGuard: root is a gateway (wgd); a laptop outside the LAN joins with the exported config")
        laptop = lab.add_netns("laptop")
        lab.veth(root, "wan0", laptop, "wan1")
        root.exec(["ip", "addr", "add", "203.0.113.1/24", "dev", "wan0"])
        laptop.exec(["ip", "addr", "add", "203.0.113.2/24", "dev", "wan1"])
        root.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        wgif = unique_ifname("wg")
        config["wgd"] = {"interfaces": [{"name": wgif, "address": "10.200.0.1/24", "endpoint": "203.0.113.1:51820",
                                         "dns": ["192.168.1.1"], "client_allowed_ips": ["192.168.1.0/24"]}],
                         "subnets6": dn.state_dir, "poll_interval": 1}
        config["dnsd"]["allow_recursion"].append("10.200.0.0/24")
        d.write_config(config)
        dn.post("/v1/commands/reload")
        wg = lab.daemon("wgd", binary("wgd/arbor-wgd"), config, netns=root)
        wg.runtime_dir, wg.config_path = d.runtime_dir, d.config_path
        wg.start()
        print(root.exec(["ip", "-br", "addr", "show", wgif]).stdout.strip())
        r = ctl(wg, "wg", "add", "laptop", "--keepalive", "5")
        apply_wg_quick(laptop, "laptop0", r.stdout)
        wait_for(lambda: laptop.exec(["busybox", "ping", "-c1", "-W1", m1_ip], check=False).returncode == 0, 15,
                 "the laptop to reach m1 through the tunnel")
        print(f"$ ping -c 2 {m1_ip}   # from the laptop, through the tunnel")
        print(laptop.exec(["busybox", "ping", "-c2", m1_ip], check=False).stdout.strip())
        wait_for(lambda: root.exec(["dig", "@127.0.0.1", "+short", f"laptop.{wgif}.home.arpa"]).stdout.strip(), 10,
                 "dnsd to name the laptop (from wgd's contract)")
        for name in ("m1.lan0.home.arpa", "files.m1.lan0.home.arpa", f"laptop.{wgif}.home.arpa"):
            print(f"$ dig @192.168.1.1 +short {name}   # from the laptop")
            print(laptop.exec(["dig", "@192.168.1.1", "+short", "+time=2", name], check=False).stdout.strip())
        wait_for(lambda: wg.get("/v1/peers/laptop").json()["status"]["online"], 10, "the laptop online")
        ctl(wg, "wg", "list")
        ctl(wg, "wg", "qr", "laptop")

        from lab_overlay import show_overlay  # root the hub, m1 and m2 spokes, containers on them
        show_overlay(lab, say, ctl, root, d, config, dh, dn, m1, m1d, m1_config, m1n)

        say("commands: bump the durable counter three times, renew")
        for _ in range(3):
            ctl(d, "post", "fixture", "/v1/commands/bump", '{"by": 1}')
        ctl(d, "renew", "fixture")

        say("m1's link goes down: healthd fails the check and renews the fixture")
        m1.exec(["ip", "link", "set", uplink, "down"])
        wait_for(lambda: hd.get("/v1/healthz").status == 503, 10, "healthd to notice")
        wait_for(lambda: hd.events(type="action.*"), 10, "the action")
        ctl(d, "health")
        ctl(d, "events", "healthd", "--type", "[ca][hc]*")
        ctl(d, "events", "fixture", "--type", "fixture.renewed")
        say("and comes back: m1's client confirms its lease (INIT-REBOOT)")
        m1.exec(["ip", "link", "set", uplink, "up"])
        wait_for(lambda: hd.get("/v1/healthz").status == 200, 10, "the check to pass again")
        ctl(d, "health")
        wait_for(lambda: m1d.status()["dhcp4d"]["clients"][0]["state"] == "bound", 15, "m1's client to rebind")
        ctl(m1d, "events", "dhcp4d")

        say("a broken config is rejected and the old one keeps running")
        d.write_config('{"machine": {"name": "root"}, "fixture": {"greeting": 42}}')
        ctl(d, "reload", "all")
        d.write_config(config)

        say("kill -9 all three, restart: the lease, the counter, the check states and the event sequence survive")
        d.kill9()
        hd.kill9()
        dh.kill9()
        dn.kill9()
        wg.kill9()
        d.start()
        hd.start()
        dh.start()
        dn.start()
        wg.start()  # adopts the wireguard-go it left running: the tunnel never went down
        ctl(wg, "wg", "list")
        ctl(d, "get", "fixture", "/v1/counter")
        ctl(d, "get", "dhcp4d", "/v1/leases?state=bound")
        ctl(d, "events", "fixture", "--since", "5")
        ctl(d, "status")

        if keep:
            say(f"the lab keeps running; try: build/ctl/arborctl --runtime-dir {d.runtime_dir} status  (Ctrl-C ends it)")
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
        say("stop")
        ctl(d, "stop", "all")
        d.wait_exit(10)
        hd.wait_exit(10)
        dh.wait_exit(10)
        dn.wait_exit(10)
        wg.wait_exit(10)
        ctl(m1d, "stop", "all")
        m1d.wait_exit(10)
        m1n.wait_exit(10)
    finally:
        lab.close()
    print("\nlab removed.")


if __name__ == "__main__":
    main()
