"""The overlay part of the arbor lab (scripts/lab.py calls show_overlay).

root is the hub of a VXLAN overlay; m1 and m2 are its spokes. Each spoke's
dhcp4d serves the spoke's bridge with the subnet the hub assigned (written from
overlayd's status), a container namespace on each gets its address by DHCP
(udhcpc), and the container on m1 finds the one on m2 by name: m1's dnsd
forwards names outside its zone to root's, which resolves inside the tree down
to m2's dnsd, which publishes its DHCP leases.
"""
import os
import subprocess

from arborlab import binary, wait_for
from overlay import hub_applied, joined_and_applied

HOOK = """#!/bin/sh
case "$1" in
  bound|renew)
    ip addr replace "$ip/$mask" dev "$interface"
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    ip route replace default via "$router" dev "$interface" ;;
esac
exit 0
"""


def share(d, like):
    """d uses the runtime directory and config file of like (one machine)."""
    d.runtime_dir, d.config_path = like.runtime_dir, like.config_path
    return d


def container(lab, spoke_ns, name, hook):
    c = lab.add_netns(name)
    host_end, inner = f"{name}h{os.getpid() % 1000}"[:15], f"{name}c{os.getpid() % 1000}"[:15]
    lab.veth(spoke_ns, host_end, c, inner)
    c.exec(["ip", "link", "set", inner, "down"])
    c.exec(["ip", "link", "set", inner, "name", "eth0"])
    c.exec(["ip", "link", "set", "eth0", "up"])
    spoke_ns.exec(["ip", "link", "set", host_end, "master", "ovbr0"])
    c.popen(["udhcpc", "-f", "-i", "eth0", "-s", hook, "-x", f"hostname:{name}", "-O", "mtu", "-t", "20", "-T", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: "inet 10." in c.exec(["ip", "-4", "-o", "addr", "show", "eth0"]).stdout, 20,
             f"{name} to get an address by DHCP")
    return c


def show_overlay(lab, say, ctl, root, d, config, dh, dn, m1, m1d, m1_config, m1n):
    say("m2 joins the LAN too; root's dhcp4d reserves its address")
    m2 = lab.add_netns("m2")
    port, uplink = f"m2p{os.getpid() % 10000}", f"m2u{os.getpid() % 10000}"
    lab.veth(root, port, m2, uplink)
    root.exec(["ip", "link", "set", port, "master", "lan0"])
    m2.exec(["ip", "link", "set", uplink, "address", "52:54:00:00:01:11"])
    config["dhcp4d"]["servers"][0]["reservations"].append(
        {"mac": "52:54:00:00:01:11", "address": "192.168.1.11", "hostname": "m2"})
    d.write_config(config)
    ctl(d, "reload", "dhcp4d")
    m2_config = {"machine": {"name": "m2", "domain": "m2.lan0.home.arpa", "machine_id": "00000000000000000000000000000002"},
                 "dhcp4d": {"clients": [{"interface": uplink, "route_metric": 100}]}}
    m2d = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), m2_config, netns=m2).start()
    wait_for(lambda: m2d.status()["dhcp4d"]["clients"][0]["state"] == "bound", 15, "m2's client to bind")

    say("the overlay: root is the hub (overlayd.hub); enroll gives each spoke its token")
    config["overlayd"] = {"hub": {"listen": "192.168.1.1:4790", "network": "10.128.0.0/16", "heartbeat": 2}}
    d.write_config(config)
    hub = share(lab.daemon("overlayd", binary("overlayd/arbor-overlayd"), config, netns=root), d).start()
    tokens = {}
    for m in ("m1", "m2"):
        tokens[m] = ctl(d, "overlay", "enroll", m).stdout.strip()

    say("m1 and m2 join with their tokens: signed requests, the hub pinned by the token's fingerprint")
    spokes = {}
    for m, ns, dd, cfg in (("m1", m1, m1d, m1_config), ("m2", m2, m2d, m2_config)):
        cfg["overlayd"] = {"spoke": {"hub": "192.168.1.1:4790", "token": tokens[m], "retry": 0.5}}
        dd.write_config(cfg)
        spokes[m] = share(lab.daemon("overlayd", binary("overlayd/arbor-overlayd"), cfg, netns=ns), dd).start()
        # "joined" and nothing pending: the assignment is in m's kernel (ovl0, ovbr0).
        wait_for(lambda: joined_and_applied(spokes[m].status()), 15, f"{m} to join")
    wait_for(lambda: hub_applied(hub.status()), 15, "the hub's devices and routes for both spokes")
    ctl(d, "overlay", "spokes")
    print(root.exec(["ip", "-d", "-br", "link", "show", "type", "vxlan"]).stdout.strip())
    print(root.exec(["ip", "route", "show", "proto", "165"]).stdout.strip())
    print("$ ip -d link show ovl0   # on m1")
    print(m1.exec(["ip", "-d", "link", "show", "ovl0"]).stdout.strip())

    say("each spoke's dhcp4d serves its bridge with the subnet the hub assigned (from overlayd's status)")
    for m, dd, cfg in (("m1", m1d, m1_config), ("m2", m2d, m2_config)):
        a = spokes[m].status()["overlayd"]["spoke"]["assignment"]
        cfg["dhcp4d"]["servers"] = [{
            "interface": "ovbr0", "subnet": a["subnet"], "pools": [a["pool"]],
            "options": {"router": a["gateway"], "dns_servers": [a["gateway"]], "mtu": 1450,
                        "domain_name": f"ovbr0.{cfg['machine']['domain']}"}, "lease_time": 600}]
        dd.write_config(cfg)
        ctl(dd, "reload", "dhcp4d")

    say("names: m2's dnsd publishes its leases; root delegates m2.lan0.home.arpa to it; m1's dnsd forwards to root")
    gw1 = spokes["m1"].status()["overlayd"]["spoke"]["assignment"]["gateway"]
    gw2 = spokes["m2"].status()["overlayd"]["spoke"]["assignment"]["gateway"]
    m2_config["dnsd"] = {"listen": ["192.168.1.11", gw2, "127.0.0.1"],  # leases: dhcp4d.sock beside it
                         "allow_recursion": ["127.0.0.0/8", "192.168.0.0/16", "10.128.0.0/16"]}
    m2d.write_config(m2_config)
    share(lab.daemon("dnsd", binary("dnsd/arbor-dnsd"), m2_config, netns=m2), m2d).start()
    config["dnsd"]["children"].append({"name": "m2", "interface": "lan0", "mac": "52:54:00:00:01:11",
                                       "machine_id": "00000000000000000000000000000002"})
    d.write_config(config)
    ctl(d, "reload", "dnsd")
    m1_config["dnsd"]["listen"].append(gw1)
    m1_config["dnsd"]["forwarders"] = ["192.168.1.1"]
    m1_config["dnsd"]["allow_recursion"].append("10.128.0.0/16")
    m1d.write_config(m1_config)
    m1n.stop()  # a new listen address needs a restart
    m1n.start()

    say("a container on each spoke gets its address by DHCP on the spoke's bridge")
    hook = os.path.join(lab.mkdtemp("lab-hook-"), "hook")
    with open(hook, "w") as f:
        f.write(HOOK)
    os.chmod(hook, 0o755)
    c1 = container(lab, m1, "c1", hook)
    c2 = container(lab, m2, "c2", hook)
    for c in (c1, c2):
        print(f"$ ip -br addr show eth0   # in {c.name.split('-')[-1]}")
        print(c.exec(["ip", "-br", "addr", "show", "eth0"]).stdout.strip())
    ctl(m1d, "get", "dhcp4d", "/v1/leases?interface=ovbr0")

    say("c1 finds c2 by name (m1's dnsd -> root's -> m2's) and reaches it across the overlay")
    name = "c2.ovbr0.m2.lan0.home.arpa"
    # Ask through the tree once m2's dnsd has c2's lease (before, the answer
    # would be a cached NXDOMAIN).
    wait_for(lambda: m2.exec(["dig", "@127.0.0.1", "+short", "+norec", name], check=False).stdout.strip(), 10,
             "m2's dnsd to publish c2's lease")
    answer = wait_for(lambda: c1.exec(["dig", f"@{gw1}", "+short", "+time=2", name], check=False).stdout.strip(), 10,
                      "the name to resolve")
    print(f"$ dig @{gw1} +short {name}   # in c1\n{answer}")
    r = c1.exec(["busybox", "ping", "-c", "3", "-W", "1", answer.splitlines()[-1]], check=False)
    print(f"$ ping -c 3 {answer.splitlines()[-1]}   # in c1\n{r.stdout.strip()}")
    ctl(d, "events", "overlayd", "--type", "spoke.*")
    return hub, spokes
