"""overlayd beyond the basic overlay: its nftables table (the VXLAN port open
only to registered spokes, masquerade to the hub's uplink, nothing else
touched, put back when removed), the macvlan shim, direct spoke-to-spoke
forwarding (FDB and neighbour entries), dhcp4d serving a spoke's bridge
with the assigned subnet, and VXLAN over wgd's WireGuard tunnels."""
import os
import re
import subprocess
import time

from arborlab import binary, wait_for
from overlay import Overlay, ping, sniff, tcp_transfer, vxlan_details
from tools import needs


def nft(ns, *args):
    return ns.exec(["nft"] + list(args)).stdout


def test_nftables_masquerade_and_vxlan_port(lab):
    ov = Overlay(lab, nspokes=2, hub_config={"masquerade": "up1"})
    # The hub's uplink to "the internet", which has no route back to the overlay.
    inet = lab.add_netns("ovinet")
    lab.veth(ov.hub_ns, "up1", inet, "wan0")
    ov.hub_ns.exec(["ip", "addr", "add", "203.0.113.1/24", "dev", "up1"])
    inet.exec(["ip", "addr", "add", "203.0.113.2/24", "dev", "wan0"])
    # Someone else's table: must be left exactly as it is.
    ov.hub_ns.exec(["nft", "add table inet other; add chain inet other c { type filter hook input priority 10; }; "
                           "add rule inet other c tcp dport 9 accept"])
    other = nft(ov.hub_ns, "list", "table", "inet", "other")
    # The spokes send the uplink's network through the hub.
    ov.spoke_config = lambda i, token, **kw: Overlay.spoke_config(ov, i, token, via_hub=["203.0.113.0/24"], **kw)
    ov.start()
    table = nft(ov.hub_ns, "list", "table", "inet", "arbor_overlay")
    assert re.search(r"elements = \{ 192\.0\.2\.11, 192\.0\.2\.12 \}", table), table
    assert "masquerade" in table and 'oifname "up1"' in table

    c1 = ov.add_container(1, ov.assignment(1)["subnet"].split("/")[0].rsplit(".", 1)[0] + ".10")
    assert ping(c1, "203.0.113.2"), "the overlay reaches the uplink's network through masquerade"
    assert re.search(r"masquerade", nft(ov.hub_ns, "list", "chain", "inet", "arbor_overlay", "postrouting"))

    # VXLAN from an address no spoke registered is dropped; the spokes' still passes.
    rogue = lab.add_netns("ovrogue")
    ov._plug(rogue, "rogue", "192.0.2.66/24")
    vxlan = bytes([0x08, 0, 0, 0, 0, 0x10, 0x01, 0]) + bytes(64)  # VNI 4097
    rogue.exec(["/usr/bin/python3", "-c", "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                f"[s.sendto(bytes.fromhex({vxlan.hex()!r}), ('192.0.2.1', 4789)) for _ in range(5)]"])
    drops = re.search(r"udp dport 4789 counter packets (\d+)", nft(ov.hub_ns, "list", "chain", "inet", "arbor_overlay",
                                                                   "input"))
    assert drops and int(drops.group(1)) == 5, "the rogue's five packets dropped"
    assert ping(c1, "10.128.0.1")

    # Nothing else touched.
    assert nft(ov.hub_ns, "list", "table", "inet", "other") == other

    # Removed by hand: put back (nothing notifies: a renew, or the minute's check), as drift.
    last = ov.hub.status()["events"]["last_seq"]
    ov.hub_ns.exec(["nft", "delete", "table", "inet", "arbor_overlay"])
    ov.hub.post("/v1/commands/renew")
    assert "spokes4" in nft(ov.hub_ns, "list", "table", "inet", "arbor_overlay")
    assert ov.hub.events(since=last, type="drift.repaired")

    # A restart with nothing changed applies nothing.
    ov.hub.kill9()
    ov.hub.start()
    assert ov.hub.status()["overlayd"]["kernel"]["writes"] == 0
    # A new spoke's address joins the set.
    ov.add_spoke(3)
    wait_for(lambda: "192.0.2.13" in nft(ov.hub_ns, "list", "set", "inet", "arbor_overlay", "spokes4"), 5,
             "the new spoke's underlay in the set")


def test_macvlan_shim(lab):
    host = lab.add_netns("ovmh")
    lan = lab.add_netns("ovlan")
    lab.bridge(lan, "br0")
    lab.veth(host, "eth0", lan, "hostp")
    lan.exec(["ip", "link", "set", "hostp", "master", "br0"])
    host.exec(["ip", "addr", "add", "192.168.1.10/24", "dev", "eth0"])
    # A container with a macvlan on the host's own parent interface.
    c = lab.add_netns("ovmc")
    host.exec(["ip", "link", "add", "mc0", "link", "eth0", "type", "macvlan", "mode", "bridge"])
    host.exec(["ip", "link", "set", "mc0", "netns", c.name])
    c.exec(["ip", "addr", "add", "192.168.1.200/24", "dev", "mc0"])
    c.exec(["ip", "link", "set", "mc0", "up"])
    assert not ping(host, "192.168.1.200", count=1, timeout=2), "macvlan isolates the host from its containers"
    cfg = {"machine": {"name": "mh"}, "overlayd": {"shims": [
        {"parent": "eth0", "name": "shim0", "address": "192.168.1.250/32", "routes": ["192.168.1.192/27"]}]}}
    d = lab.daemon("overlayd", binary("overlayd/arbor-overlayd"), cfg, netns=host).start()
    out = host.exec(["ip", "-d", "link", "show", "shim0"]).stdout
    assert "macvlan mode bridge" in out and "@eth0" in out
    assert "192.168.1.192/27 dev shim0 proto 165" in host.exec(["ip", "route"]).stdout
    assert ping(host, "192.168.1.200"), "the host reaches its macvlan container through the shim"
    assert d.get("/v1/healthz").status == 200
    # Deleted by hand: back.
    host.exec(["ip", "link", "del", "shim0"])
    wait_for(lambda: "shim0" in host.exec(["ip", "-o", "link"]).stdout, 2, "the shim to come back")
    assert ping(host, "192.168.1.200")


def test_direct_spoke_to_spoke(lab):
    ov = Overlay(lab, nspokes=2, hub_config={"direct": True}).start()
    c = [ov.add_container(i, ov.assignment(i)["subnet"].split("/")[0].rsplit(".", 1)[0] + ".10") for i in (1, 2)]
    # The peers arrive with the next heartbeat (1 s in the lab).
    wait_for(lambda: "ovd0" in ov.spoke_ns[0].exec(["ip", "route", "show", ov.assignment(2)["subnet"]]).stdout, 5,
             "spoke 1's direct route to spoke 2")
    fdb = ov.spoke_ns[0].exec(["bridge", "fdb", "show", "dev", "ovd0"]).stdout
    assert "dst 192.0.2.12" in fdb, fdb
    neigh = ov.spoke_ns[0].exec(["ip", "neigh", "show", "dev", "ovd0"]).stdout
    assert ov.assignment(2)["subnet"].split("/")[0] in neigh and "PERMANENT" in neigh
    out = ov.spoke_ns[0].exec(["ip", "-d", "link", "show", "ovd0"]).stdout
    assert "vxlan id 4096 " in out and "dstport 4789" in out and "nolearning" in out
    dump = sniff(ov.spoke_ns[0], "up0", 2, "udp", "port", "4789", "and", "dst", "host", "192.0.2.12")
    target = ov.assignment(2)["subnet"].split("/")[0].rsplit(".", 1)[0] + ".10"
    assert ping(c[0], target), "container on s1 reaches the one on s2"
    out, err = dump.communicate(timeout=15)
    assert "192.0.2.11" in out and "vni 4096" in out, out + err
    # Nothing of it went through the hub.
    fwd = nft(ov.hub_ns, "list", "chain", "inet", "arbor_overlay", "forward")
    assert re.search(r'oifname "ovh\*" counter packets 0 ', fwd), fwd


HOOK = """#!/bin/sh
case "$1" in
  bound|renew)
    ip addr replace "$ip/$mask" dev "$interface"
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    ip route replace default via "$router" dev "$interface"
    echo "$ip $router $mtu" > "$STATE/lease" ;;
esac
exit 0
"""


def test_dhcp_on_the_spoke_bridge(lab):
    """dhcp4d on each spoke serves its bridge with the subnet the hub assigned
    (the operator, here the test, writes it from overlayd's status); containers
    get their addresses by DHCP (udhcpc) and reach each other."""
    ov = Overlay(lab, nspokes=2).start()
    hook_dir = lab.mkdtemp("ovhook-")
    hook = os.path.join(hook_dir, "hook")
    with open(hook, "w") as f:
        f.write(HOOK)
    os.chmod(hook, 0o755)
    addrs = []
    for i in (1, 2):
        a = ov.assignment(i)
        mtu = int(re.search(r"mtu (\d+)", ov.spoke_ns[i - 1].exec(["ip", "link", "show", "ovl0"]).stdout).group(1))
        cfg = {"machine": {"name": f"s{i}"}, "dhcp4d": {"servers": [{
            "interface": "ovbr0", "subnet": a["subnet"],
            "pools": [{"start": a["pool"]["start"], "end": a["pool"]["end"]}],
            "options": {"router": a["gateway"], "mtu": mtu}, "lease_time": 600}]}}
        lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), cfg, netns=ov.spoke_ns[i - 1]).start()
        c = ov.add_container(i, mtu=1500)
        state = lab.mkdtemp(f"ovlease{i}-")
        c.popen(["env", f"STATE={state}", "udhcpc", "-f", "-i", "eth0", "-s", hook, "-O", "mtu", "-t", "10", "-T", "1"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lease = wait_for(lambda: open(os.path.join(state, "lease")).read().split() if os.path.exists(
            os.path.join(state, "lease")) else None, 20, f"container {i} to get a lease")
        ip, router, mtu_got = lease
        prefix = a["subnet"].split("/")[0].rsplit(".", 1)[0]
        assert ip.startswith(prefix + ".") and router == a["gateway"] and int(mtu_got) == mtu
        assert f"mtu {mtu}" in c.exec(["ip", "link", "show", "eth0"]).stdout
        addrs.append(ip)
    assert ping(ov.containers[0], addrs[1]), "the DHCP-configured containers reach each other across the overlay"


@needs("wireguard-go", "wg")
def test_vxlan_over_wgd_wireguard(lab):
    """The spokes' underlay is a WireGuard tunnel from wgd on the hub: each spoke
    is a wgd peer (its wg-quick export applied with wireguard-go), joins the hub
    at its tunnel address, and the VXLAN devices on both ends run between tunnel
    addresses with an MTU of the tunnel's minus VXLAN's 50 (1420 - 50 = 1370:
    both overheads). On the physical link only WireGuard is seen; on the tunnel,
    UDP 4789 with the spoke's VNI. Containers on two spokes reach each other
    through the hub, 5 MB over TCP with MTU-sized segments intact."""
    from test_wgd import wgd_config
    from wgtools import apply_wg_quick, unique_ifname

    ov = Overlay(lab, nspokes=0, hub_config={"listen": "10.99.0.1:4790"})
    wgif = unique_ifname("ovw")
    cfg = wgd_config(wgif, address="10.99.0.1/24", client_allowed_ips=[])
    wg = lab.daemon("wgd", binary("wgd/arbor-wgd"), cfg, netns=ov.hub_ns).start()
    ov.start_hub()
    for i in (1, 2):
        ns = lab.add_netns(f"ovws{i}")
        ov._plug(ns, f"w{i}", f"192.0.2.{10 + i}/24")
        r = subprocess.run([binary("ctl/arborctl"), "--runtime-dir", wg.runtime_dir, "wg", "add", f"s{i}"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        tif = unique_ifname("ovt")
        apply_wg_quick(ns, tif, r.stdout)
        wait_for(lambda: ns.exec(["busybox", "ping", "-c", "1", "-W", "1", "10.99.0.1"], check=False).returncode == 0,
                 15, "the tunnel to the hub")
        d = lab.daemon("overlayd", binary("overlayd/arbor-overlayd"),
                       ov.spoke_config(i, ov.enroll(f"s{i}"), hub="10.99.0.1:4790"), netns=ns).start()
        ov.spoke_ns.append(ns)
        ov.spokes.append(d)
        wait_for(lambda: d.status()["overlayd"]["spoke"]["state"] == "joined", 15, "the spoke to join over the tunnel")
        wait_for(lambda: "ovl0" in ns.exec(["ip", "-o", "link", "show", "master", "ovbr0"]).stdout, 5,
                 "the spoke's device in its bridge")
        tunnel_mtu = int(re.search(r"mtu (\d+)", ns.exec(["ip", "link", "show", tif]).stdout).group(1))
        assert tunnel_mtu == 1420
        a = ov.assignment(i)
        underlay = d.status()["overlayd"]["spoke"]["underlay"]
        assert underlay == f"10.99.0.{1 + i}" and a["hub_underlay"] == "10.99.0.1", (underlay, a)
        assert vxlan_details(ns, "ovl0") == (a["vni"], 4789, tunnel_mtu - 50)
        spoke = next(s for s in ov.hub.get("/v1/spokes").json()["spokes"] if s["hostname"] == f"s{i}")
        assert spoke["underlay"] == underlay
        assert vxlan_details(ov.hub_ns, spoke["device"]) == (a["vni"], 4789, tunnel_mtu - 50)
        link = ov.hub_ns.exec(["ip", "-d", "link", "show", spoke["device"]]).stdout
        assert f"remote {underlay} local 10.99.0.1 " in link, link

    prefix = lambda i: ov.assignment(i)["subnet"].split("/")[0].rsplit(".", 1)[0]
    c1 = ov.add_container(1, prefix(1) + ".10", mtu=1370)
    c2 = ov.add_container(2, prefix(2) + ".10", mtu=1370)
    assert ping(c1, prefix(2) + ".10"), "container to container, through the hub, over WireGuard"

    # The physical link carries WireGuard only; the tunnel carries the VXLAN.
    phys = sniff(ov.hub_ns, "up0", 6, "udp")
    # From spoke 1 (MLD reports and spoke 2's answers share the tunnel).
    tun = sniff(ov.hub_ns, wgif, 2, "udp", "port", "4789", "and", "src", "host", "10.99.0.2")
    c1.exec(["busybox", "ping", "-c", "4", "-W", "1", prefix(2) + ".10"], check=False)
    out, err = phys.communicate(timeout=15)
    assert ".51820" in out and ".4789" not in out and "VXLAN" not in out, out + err
    out, err = tun.communicate(timeout=15)
    assert f"VXLAN, flags [I] (0x08), vni {ov.assignment(1)['vni']}" in out and "10.99.0.2" in out, out + err

    # 5 MB over TCP, segments as large as the containers' MTU allows.
    ok, _ = tcp_transfer(lab, c1, c2, prefix(2) + ".10", 5 * 1024 * 1024)
    assert ok, "5 MB arrived whole"
