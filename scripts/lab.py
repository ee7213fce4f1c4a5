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
link go down and come back, with the action it runs. Then IPv6 (ipv6_lab): an
ISP's kea-dhcp6 delegates to root, root to m1, a SLAAC host on m1's LAN is found
in dnsd, and the ISP's renumbering is withdrawn everywhere, DNS included.
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


KEA6 = {"Dhcp6": {
    "interfaces-config": {"interfaces": ["isp0"]},
    "server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "0123456789ab", "persist": False},
    "preferred-lifetime": 1800, "valid-lifetime": 3600, "renew-timer": 900, "rebind-timer": 1440,
    "subnet6": [{"id": 1, "subnet": "2001:db8:ff::/64", "interface": "isp0",
                 "pd-pools": [{"prefix": "2001:db8:100::", "prefix-len": 40, "delegated-len": 56}]}]}}


def start_kea6(lab, isp, pool):
    """The ISP's delegating router: kea-dhcp6 handing out /56s of pool."""
    tmp = lab.mkdtemp("kea6-")
    conf = json.loads(json.dumps(KEA6))
    conf["Dhcp6"]["subnet6"][0]["pd-pools"][0]["prefix"] = pool
    conf["Dhcp6"]["lease-database"] = {"type": "memfile", "persist": True, "name": f"{tmp}/leases6.csv",
                                       "lfc-interval": 0}
    conf["Dhcp6"]["loggers"] = [{"name": "kea-dhcp6", "severity": "INFO",
                                 "output_options": [{"output": f"{tmp}/kea.log"}]}]
    with open(f"{tmp}/kea.json", "w") as f:
        json.dump(conf, f)
    env = dict(os.environ, KEA_PIDFILE_DIR=tmp, KEA_LOCKFILE_DIR=tmp)
    p = isp.popen(["kea-dhcp6", "-c", f"{tmp}/kea.json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_for(lambda: os.path.exists(f"{tmp}/kea.log") and "DHCP6_STARTED" in open(f"{tmp}/kea.log").read(), 15,
             "kea-dhcp6 to start")
    return p


def ipv6_lab(lab, root, m1, m1_uplink, config, d, m1_config, m1d):
    """IPv6: an ISP delegates a /56 to root, root numbers lan0 and delegates a /60
    to m1, m1 numbers its own LAN, where a host takes a SLAAC address and is found
    by name in dnsd (from root too, through the delegation); then the ISP
    renumbers, and the old prefix is withdrawn everywhere, in DNS too."""
    say("IPv6: an ISP (kea-dhcp6) delegates a /56 to root; root numbers lan0 and delegates /60s from it")
    isp = lab.add_netns("isp")
    lab.veth(isp, "isp0", root, "wan6")
    isp.exec(["ip", "addr", "add", "2001:db8:ff::1/64", "dev", "isp0"])
    for ns, dev in ((isp, "isp0"), (root, "wan6")):
        wait_for(lambda: "tentative" not in ns.exec(["ip", "-6", "addr", "show", "dev", dev]).stdout, 10, "DAD")
    kea = start_kea6(lab, isp, "2001:db8:100::")
    config["dhcp6pd"] = {"clients": [{"interface": "wan6", "prefix_length_hint": 56}],
                         "lans": [{"interface": "lan0"}],
                         "servers": [{"interface": "lan0",
                                      "pools": [{"prefix": "from_delegation", "delegated_length": 60}]}]}
    d.write_config(config)
    r6 = lab.daemon("dhcp6pd", binary("dhcp6pd/arbor-dhcp6pd"), config, netns=root)
    r6.runtime_dir, r6.config_path = d.runtime_dir, d.config_path
    r6.start()
    wait_for(lambda: r6.events(type="prefix.bound"), 20, "root's delegation")
    ctl(d, "events", "dhcp6pd", "--type", "prefix.*")

    say("m1 gets a /60 from root and numbers its LAN; a host there takes a SLAAC address (its token: its derived id)")
    lab.bridge(m1, "lan1")
    h1 = lab.add_netns("h1")
    port = f"h1p{os.getpid() % 10000}"
    lab.veth(m1, port, h1, "eth0")
    m1.exec(["ip", "link", "set", port, "master", "lan1"])
    iid = subprocess.run([ARBORCTL, "addr", "--machine-id", "00000000000000000000000000000011", "--subnet-id", "0",
                          "--host", "h1", "--json"], capture_output=True, text=True)
    token = "::" + json.loads(iid.stdout)["interface_id"]
    h1.exec(["ip", "token", "set", token, "dev", "eth0"])
    m1_config["dhcp6pd"] = {"clients": [{"interface": m1_uplink}], "lans": [{"interface": "lan1"}]}
    m1_config["dnsd"]["hosts"].append({"name": "h1", "interface": "lan1", "host_id": "h1"})
    m1d.write_config(m1_config)
    m16 = lab.daemon("dhcp6pd", binary("dhcp6pd/arbor-dhcp6pd"), m1_config, netns=m1)
    m16.runtime_dir, m16.config_path = m1d.runtime_dir, m1d.config_path
    m16.start()
    wait_for(lambda: m16.events(type="prefix.bound"), 20, "m1's delegation")
    ctl(d, "get", "dhcp6pd", "/v1/delegations")
    ctl(m1d, "get", "dhcp6pd", "/v1/prefixes")
    wait_for(lambda: "2001:db8:1" in h1.exec(["ip", "-6", "addr", "show", "dev", "eth0", "scope", "global"]).stdout
             and "tentative" not in h1.exec(["ip", "-6", "addr", "show", "dev", "eth0"]).stdout, 20, "h1's SLAAC address")
    print("$ ip -6 addr show dev eth0 scope global   # on h1")
    print(h1.exec(["ip", "-6", "addr", "show", "dev", "eth0", "scope", "global"]).stdout.rstrip())

    say("dnsd: h1 (declared on m1's lan1 with host id h1) resolves to that address while the prefix is held")
    ctl(m1d, "reload", "dnsd")
    wait_for(lambda: "2001:db8:1" in dig(m1, "h1.lan1.m1.lan0.home.arpa", "AAAA"), 10, "h1's AAAA in m1's dnsd")
    gua = show_dig(m1, "127.0.0.1", "h1.lan1.m1.lan0.home.arpa", "AAAA")
    show_dig(root, "127.0.0.1", "h1.lan1.m1.lan0.home.arpa", "AAAA")  # root recurses into m1's zone
    show_dig(m1, "127.0.0.1", "-x", next(a for a in gua.split() if a.startswith("2001:")))
    show_dig(root, "127.0.0.1", "lan0.home.arpa", "AAAA")
    ctl(m1d, "events", "dnsd", "--type", "zone.added")

    say("the ISP renumbers: root, then m1 move to the new prefix; the old one is withdrawn on every LAN")
    kea.terminate()
    kea.wait(10)
    start_kea6(lab, isp, "2001:db8:300::")
    ctl(d, "renew", "dhcp6pd")
    wait_for(lambda: r6.events(type="prefix.changed"), 20, "root's new prefix")
    ctl(m1d, "renew", "dhcp6pd")
    wait_for(lambda: m16.events(type="prefix.changed"), 20, "m1's new prefix")
    ctl(d, "events", "dhcp6pd", "--type", "[pd]*.*")
    ctl(m1d, "events", "dhcp6pd", "--type", "prefix.*")
    wait_for(lambda: "2001:db8:3" in h1.exec(["ip", "-6", "addr", "show", "dev", "eth0", "scope", "global"]).stdout,
             20, "h1's new address")
    print("$ ip -6 addr show dev eth0 scope global   # on h1: the old address deprecated, the new one preferred")
    print(h1.exec(["ip", "-6", "addr", "show", "dev", "eth0", "scope", "global"]).stdout.rstrip())
    wait_for(lambda: "tentative" not in h1.exec(["ip", "-6", "addr", "show", "dev", "eth0"]).stdout, 10, "h1's DAD")
    print("$ rdisc6 -1 eth0   # on h1: the zero-lifetime PIO for the old prefix")
    out = h1.exec(["rdisc6", "-1", "-w", "3000", "eth0"], check=False).stdout
    print("\n".join(l for l in out.splitlines() if "Prefix" in l or "time" in l or "lifetime" in l))
    wait_for(lambda: "2001:db8:3" in dig(m1, "h1.lan1.m1.lan0.home.arpa", "AAAA"), 10, "h1's new AAAA")
    say("and in DNS: h1 has its new address only, the old reverse zones are gone")
    show_dig(m1, "127.0.0.1", "h1.lan1.m1.lan0.home.arpa", "AAAA")
    show_dig(root, "127.0.0.1", "lan0.home.arpa", "AAAA")
    ctl(m1d, "events", "dnsd", "--type", "zone.[ar]*")
    ctl(d, "events", "dnsd", "--type", "zone.[ar]*")
    return r6, m16


def dig(ns, *args, server="127.0.0.1"):
    return ns.exec(["dig", f"@{server}", "+short", "+time=2"] + list(args), check=False).stdout


def show_dig(ns, server, *args):
    print(f"$ dig @{server} +short {' '.join(args)}   # from {ns.name.split('-')[-1]}", flush=True)
    out = dig(ns, *args, server=server).strip()
    print(out)
    return out


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
            # One subnet-id table per machine, shared by its dnsd, dhcp6pd and wgd.
            "machine": {"name": "root", "domain": "home.arpa", "machine_id": "0123456789abcdef0123456789abcdef",
                        "subnets6_dir": lab.mkdtemp("root-machine-")},
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
        m1_config = {"machine": {"name": "m1", "domain": "m1.lan0.home.arpa", "machine_id": "00000000000000000000000000000001",
                                 "subnets6_dir": lab.mkdtemp("m1-machine-")},
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
                         "poll_interval": 1}
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

        ipv6_lab(lab, root, m1, uplink, config, d, m1_config, m1d)
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
