"""The LAN side of arbor-dhcp6pd in network namespaces: kea-dhcp6 delegates to
root, root numbers lan0 and announces it; a host namespace with SLAAC (accept_ra=1)
takes addresses from the RAs, rdisc6 reads them, dhclient -6 -S asks stateless
DHCPv6. radvd on the ISP side gives root its default route through RAs (with
forwarding on, only accept_ra=2 lets them in), and router lifetime follows it.
The ISP renumbers: the host shows the old address deprecated and the new one
preferred, rdisc6 the zero-lifetime PIO; a kill -9 in the middle of the
withdrawal does not end it (advertised.json); Kea gone: everything ends."""
import ipaddress
import json
import os
import re
import subprocess
import time


from tools import needs
from arborlab import binary, wait_for
from test_dhcp6pd import Kea6, bound_prefix, isp_and_root, root_config, start_dhcp6pd, unreachable, wait_event

ULA = "fd5a:965f:8fee:1::/64"           # machine id 0123…cdef, subnet id 1 (addressing.md)
ROUTER_IID = "ec05:56f3:2d08:73cb"       # its derived interface id

pytestmark = needs("kea-dhcp6", "rdisc6", "radvd", "dhclient")


def lan_net(lab, radvd=True):
    isp, root = isp_and_root(lab)
    host = lab.add_netns("host")
    lab.veth(root, "lan0", host, "eth0")
    net = {"isp": isp, "root": root, "host": host}
    if radvd:
        tmp = lab.mkdtemp("radvd-")
        with open(f"{tmp}/radvd.conf", "w") as f:
            f.write("interface isp0 { AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4; "
                    "AdvDefaultLifetime 600; };\n")
        isp.exec(["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"])
        net["radvd"] = isp.popen(["radvd", "-n", "-C", f"{tmp}/radvd.conf", "-p", f"{tmp}/radvd.pid", "-m", "stderr"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return net


def host_addrs(host):
    out = json.loads(host.exec(["ip", "-j", "-6", "addr", "show", "dev", "eth0", "scope", "global"]).stdout)
    return {a["local"]: (a.get("preferred_life_time"), a.get("valid_life_time"))
            for link in out for a in link.get("addr_info", []) if "local" in a}


def host_addr_in(host, prefix64):
    """The host's SLAAC address in a /64 given as "2001:db8:100:1::/64"."""
    head = prefix64.split("::")[0] + ":"
    return next(((a, life) for a, life in host_addrs(host).items() if a.startswith(head)), (None, None))


def rdisc6(host):
    """One RS, the RA it brings back, parsed from rdisc6's text. (rdisc6 cannot send
    while the host's link-local address is still tentative: it is asked again.)"""
    def ask():
        r = host.exec(["rdisc6", "-1", "-w", "3000", "eth0"], check=False)
        return r.stdout if "Router lifetime" in r.stdout else None
    out = wait_for(ask, 15, "rdisc6 to show an RA")
    ra = {"router_lifetime": None, "prefixes": {}, "rdnss": {}, "routes": {}, "dnssl": []}
    m = re.search(r"Router lifetime\s*:\s*(\d+)", out)
    ra["router_lifetime"] = int(m.group(1)) if m else None
    for p, valid, pref in re.findall(r"Prefix\s*:\s*(\S+)\n.*?Valid time\s*:\s*(\d+).*?Pref. time\s*:\s*(\d+)", out, re.S):
        ra["prefixes"][p] = (int(valid), int(pref))
    for a, life in re.findall(r"Recursive DNS server\s*:\s*(\S+)\n\s*DNS server lifetime\s*:\s*(\d+)", out):
        ra["rdnss"][a] = int(life)
    for r, life in re.findall(r"Route\s*:\s*(\S+)\n.*?Route lifetime\s*:\s*(\d+)", out, re.S):
        ra["routes"][r] = int(life)
    m = re.search(r"DNS search list\s*:\s*(.*)", out)
    ra["dnssl"] = m.group(1).split() if m else []
    ra["text"] = out
    return ra


def stateless(lab, host):
    """dhclient -6 -S (Information-Request): the options its hook script is given."""
    out = lab.mkdtemp("dhclient6-")
    script = os.path.join(out, "hook")
    with open(script, "w") as f:
        f.write(f"#!/bin/sh\nenv > {out}/.tmp.$$ && mv {out}/.tmp.$$ {out}/$reason.$$\nexit 0\n")
    os.chmod(script, 0o755)
    host.exec(["timeout", "20", "dhclient", "-6", "-S", "-1", "-d", "-lf", f"{out}/leases", "-pf", f"{out}/pid",
               "-sf", script, "eth0"], check=False)
    for name in os.listdir(out):  # dhclient 4.4 reports a stateless Reply as RENEW6
        if name.split(".")[0] in ("RENEW6", "INFORM6", "BOUND6"):
            with open(os.path.join(out, name)) as f:
                return dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
    return None


def router_in(prefix64):
    """The router's address in a /64: the prefix with the derived interface id."""
    return prefix64.split("::")[0] + ":" + ROUTER_IID


def lan_status(d):
    return d.get("/v1/prefixes").json()["lans"][0]


def gua64(prefix56, subnet=1):
    """2001:db8:100::/56 → 2001:db8:100:1::/64 (subnet id 1)."""
    base = prefix56.split("::")[0]
    return f"{base}:{subnet:x}::/64"


def test_slaac_rdisc6_stateless_renumbering(lab):
    net = lan_net(lab)
    kea = Kea6(lab, net["isp"], preferred=1000, valid=2000, renew=500, rebind=800)
    d = start_dhcp6pd(lab, net["root"], root_config(lans=[{"interface": "lan0"}]))
    prefix = bound_prefix(d)
    lan64 = gua64(prefix)
    assert net["root"].exec(["sysctl", "-n", "net.ipv6.conf.all.forwarding"]).stdout.strip() == "1"
    # forwarding on, yet root has its default route from radvd's RAs (accept_ra=2)
    wait_for(lambda: d.status()["dhcp6pd"]["default_route"], 20, "root's default route from the ISP's RAs")

    # the host: SLAAC addresses in the ULA and the delegated /64, both preferred
    addr, life = wait_for(lambda: host_addr_in(net["host"], lan64)[0] and host_addr_in(net["host"], lan64), 20,
                          "a SLAAC address in the delegated /64")
    assert life[0] > 0 and life[1] <= 2000, life
    assert host_addr_in(net["host"], ULA)[0], host_addrs(net["host"])
    lan = lan_status(d)
    assert lan["subnet_id"] == 1 and [p["prefix"] for p in lan["prefixes"]] == [ULA, lan64]
    router_gua = router_in(lan64)
    assert lan["prefixes"][1]["router"] == router_gua
    lan0 = net["root"].exec(["ip", "-6", "addr", "show", "dev", "lan0"]).stdout
    assert router_gua in lan0 and router_in(ULA) in lan0

    ra = rdisc6(net["host"])
    assert ra["router_lifetime"] == 1800, ra["text"]
    valid, pref = ra["prefixes"][lan64]
    assert 0 < pref <= 1000 and 0 < valid <= 2000, "never longer than the delegation"
    assert ra["prefixes"][ULA] == (ra["prefixes"][ULA][0], 2700) and ra["prefixes"][ULA][0] <= 5400
    assert ra["routes"].get("fd5a:965f:8fee::/48", 0) > 0, "RIO for the ULA /48"
    assert set(ra["rdnss"]) == {router_gua, router_in(ULA)} and min(ra["rdnss"].values()) > 0
    assert ra["dnssl"] == ["lan0.home.arpa"]
    time.sleep(1.5)
    ra2 = rdisc6(net["host"])
    assert ra2["prefixes"][lan64][0] < valid, "lifetimes count down"

    info = stateless(lab, net["host"])
    assert info, "dhclient -6 -S got a Reply"
    assert set(info["new_dhcp6_name_servers"].split()) == {router_gua, router_in(ULA)}
    assert info["new_dhcp6_domain_search"].strip() == "lan0.home.arpa."

    # the ISP renumbers
    kea.restart(pool="2001:db8:300::", preferred=1000, valid=2000, renew=500, rebind=800)
    seq = d.events()[-1]["seq"]
    assert d.post("/v1/commands/renew").status == 200
    ev = wait_event(d, "prefix.changed", since=seq)[0]
    new64 = gua64(ev["data"]["prefixes"][0]["prefix"])
    assert new64 != lan64 and ev["data"]["lans"][0]["withdrawn"][0]["prefix"] == lan64

    def host_renumbered():
        old = host_addr_in(net["host"], lan64)
        new = host_addr_in(net["host"], new64)
        return old[0] and new[0] and old[1][0] == 0 and new[1][0] > 0 and (old, new)
    old, new = wait_for(host_renumbered, 10, "the host: the old address deprecated, the new one preferred")
    ra = rdisc6(net["host"])
    assert ra["prefixes"][lan64][1] == 0 and 0 < ra["prefixes"][lan64][0] <= valid, "zero-lifetime PIO for the old prefix"
    assert ra["prefixes"][new64][1] > 0
    new_router = router_in(new64)
    assert ra["rdnss"].get(router_gua) == 0 and ra["rdnss"].get(new_router, 0) > 0, ra["rdnss"]
    lan0 = net["root"].exec(["ip", "-6", "addr", "show", "dev", "lan0"]).stdout
    assert router_gua not in lan0 and new_router in lan0
    info = stateless(lab, net["host"])
    assert router_gua not in info["new_dhcp6_name_servers"] and new_router in info["new_dhcp6_name_servers"]

    # kill -9 during the withdrawal: the restarted daemon goes on withdrawing
    d.kill9()
    d.start()
    ra = rdisc6(net["host"])
    assert ra["prefixes"][lan64][1] == 0 and ra["prefixes"][lan64][0] > 0, ra["text"]
    assert ra["prefixes"][new64][1] > 0, "and the current prefix with no gap"
    assert host_addr_in(net["host"], new64)[1][0] > 0

    # the ISP's router goes: root loses its default route, the LAN hears router lifetime 0
    net["radvd"].terminate()
    net["radvd"].wait(10)
    wait_for(lambda: not d.status()["dhcp6pd"]["default_route"], 20, "root's default route gone")
    wait_for(lambda: rdisc6(net["host"])["router_lifetime"] == 0, 10, "router lifetime 0 on the LAN")


def test_kea_gone_expiry_withdraws_everything(lab):
    net = lan_net(lab, radvd=False)
    kea = Kea6(lab, net["isp"], preferred=20, valid=40, renew=10, rebind=16)
    d = start_dhcp6pd(lab, net["root"], root_config(lans=[{"interface": "lan0"}]))
    prefix = bound_prefix(d)
    lan64 = gua64(prefix)
    wait_for(lambda: host_addr_in(net["host"], lan64)[0], 20, "a SLAAC address")
    ra = rdisc6(net["host"])
    assert lan64 in ra["prefixes"], (ra["text"], lan_status(d), d.log())
    assert ra["prefixes"][lan64][0] <= 40 and ra["prefixes"][lan64][1] <= 20 and ra["router_lifetime"] == 0
    # a renewal extends the delegation: the LAN hears it before its lifetimes run out
    wait_event(d, "prefix.renewed", timeout=20)
    wait_for(lambda: host_addr_in(net["host"], lan64)[1][1] > 30, 20, "the host's lifetime refreshed after the renewal")
    kea.stop()
    lost = wait_event(d, "prefix.lost", timeout=60)[0]
    assert lost["data"]["lans"][0]["prefixes"][0]["prefix"] == ULA and len(lost["data"]["lans"][0]["prefixes"]) == 1
    assert unreachable(net["root"]) == set()
    # the host was never told more than the delegation had: its address runs out with it
    # (give the kernel's address timer a few seconds of slack)
    wait_for(lambda: host_addr_in(net["host"], lan64)[0] is None, 8, "the host's address to run out")
    assert not any(p == lan64 and v > 0 for p, (v, _) in rdisc6(net["host"])["prefixes"].items())
    assert router_in(lan64) not in net["root"].exec(["ip", "-6", "addr", "show", "dev", "lan0"]).stdout


def interface_id(host_id):
    """The derived interface id of a host (arborctl addr), as "1a2b:03c4:5d6e:7f80"."""
    r = subprocess.run([binary("ctl/arborctl"), "addr", "--machine-id", "0123456789abcdef" * 2, "--subnet-id", "0", "--host",
                        host_id, "--json"], capture_output=True, text=True, timeout=20, check=True)
    return json.loads(r.stdout)["interface_id"]


def reverse_zone(prefix):
    """2001:db8:100::/56 → 0.0.0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa. (a nibble-aligned length)."""
    net = ipaddress.IPv6Network(prefix)
    return ".".join(reversed(net.network_address.exploded.replace(":", "")[:net.prefixlen // 4])) + ".ip6.arpa."


def gua_of(ns, name):
    from test_dnsd import dig_short
    return sorted(a for a in dig_short(ns, name, "AAAA") if a.startswith("2001:"))


def on64(prefix64, iid):
    """The address of interface id iid on a /64, as dig and ip print it."""
    return str(ipaddress.IPv6Address(prefix64.split("::")[0] + ":" + iid))


@needs("dig")
def test_dnsd_publishes_the_delegated_addresses_while_bound(lab):
    """dnsd follows dhcp6pd's contract (status, /v1/prefixes, prefix.* events):
    the machine's router address and a host's derived address on the delegated
    /64 are published while the prefix is bound, and the host's SLAAC address (its
    token is its derived interface id) is the one published; dhcp6pd killed, the
    records stay (the prefix is still valid); the ISP renumbers, the names move;
    the prefix released, they are gone within a second (and the LAN withdraws
    it: a prefix given back is not advertised until its lifetime runs out)."""
    from test_dnsd import dig_short, dnsd_config, start as start_dnsd
    net = lan_net(lab, radvd=False)
    host = net["host"]
    iid = interface_id("h1")
    host.exec(["ip", "token", "set", "::" + iid, "dev", "eth0"])
    kea = Kea6(lab, net["isp"], preferred=1000, valid=2000, renew=500, rebind=800)
    d = start_dhcp6pd(lab, net["root"], root_config(lans=[{"interface": "lan0"}]))
    lan64 = gua64(bound_prefix(d))
    dns = start_dnsd(lab, net["root"], dnsd_config(
        dhcp6pd_socket=d.socket, dhcp4d_socket="", reverse_zones=[],
        hosts=[{"name": "h1", "interface": "lan0", "host_id": "h1"}]))
    router = on64(lan64, ROUTER_IID)
    wait_for(lambda: gua_of(net["root"], "lan0.home.arpa") == [router], 5, "the machine's address on the /64")
    addr = wait_for(lambda: host_addr_in(host, lan64)[0], 20, "the host's SLAAC address")
    assert addr == on64(lan64, iid), "the host's token"
    assert gua_of(net["root"], "h1.lan0.home.arpa") == [addr], "the name is the address the host took"
    ula = wait_for(lambda: host_addr_in(host, ULA)[0], 10, "the host's ULA address")
    assert [a for a in dig_short(net["root"], "h1.lan0.home.arpa", "AAAA") if a.startswith("fd")] == [ula], \
        "its ULA name too: dnsd takes the LAN's subnet id from dhcp6pd"
    status = dns.status()["dnsd"]
    assert status["prefixes"] == 1 and status["prefix_feed"]["state"] == "following", status
    # the delegation's ip6.arpa zone: served while the /56 is held, with the PTRs
    zone = reverse_zone(bound_prefix(d))
    assert zone in [z["zone"] for z in status["zones"]]
    assert dig_short(net["root"], "-x", addr) == ["h1.lan0.home.arpa."]
    assert dig_short(net["root"], "-x", router) == ["lan0.home.arpa."]
    assert dig_short(net["root"], zone, "SOA")[0] == "ns.home.arpa."

    # dhcp6pd gone: the prefix is still valid, the records stay; back: read again
    snapshots = status["prefix_feed"]["snapshots"]
    d.kill9()
    wait_for(lambda: dns.status()["dnsd"]["prefix_feed"].get("last_error"), 10, "dnsd to notice dhcp6pd is gone")
    assert gua_of(net["root"], "h1.lan0.home.arpa") == [addr]
    d.start()
    wait_for(lambda: dns.status()["dnsd"]["prefix_feed"]["snapshots"] > snapshots, 10, "the prefixes read again")

    # the ISP renumbers: the names move to the new /64
    kea.restart(pool="2001:db8:300::", preferred=1000, valid=2000, renew=500, rebind=800)
    seq = d.events()[-1]["seq"]
    assert d.post("/v1/commands/renew").status == 200
    new64 = gua64(wait_event(d, "prefix.changed", since=seq)[0]["data"]["prefixes"][0]["prefix"])
    wait_for(lambda: gua_of(net["root"], "h1.lan0.home.arpa") == [on64(new64, iid)], 5, "h1 on the new /64 only")
    assert gua_of(net["root"], "lan0.home.arpa") == [on64(new64, ROUTER_IID)]
    new_zone = reverse_zone(bound_prefix(d))
    zones = [z["zone"] for z in dns.status()["dnsd"]["zones"]]
    assert new_zone in zones and zone not in zones, zones
    assert dig_short(net["root"], "-x", on64(new64, iid)) == ["h1.lan0.home.arpa."]
    assert [e["data"]["zone"] for e in dns.events(type="zone.removed")] == [zone]

    # released: within a second of prefix.lost nothing is left on the delegated prefix
    seq = d.events()[-1]["seq"]
    assert d.post("/v1/commands/release", body={"interface": "wan0"}).status == 200
    wait_event(d, "prefix.lost", since=seq, timeout=10)
    t0 = time.monotonic()
    wait_for(lambda: not gua_of(net["root"], "h1.lan0.home.arpa") and not gua_of(net["root"], "lan0.home.arpa"),
             2, "the records to go")
    assert time.monotonic() - t0 < 1.0
    lan = lan_status(d)  # and the LAN withdrew it (it was released, not expired)
    assert [p["prefix"] for p in lan["prefixes"]] == [ULA], lan
    assert new64 in [w["prefix"] for w in lan["withdrawn"]], lan
    assert new_zone not in [z["zone"] for z in dns.status()["dnsd"]["zones"]], "its reverse zone went with it"
    assert [e["data"]["zone"] for e in dns.events(type="zone.added")] == [zone, new_zone]
    assert dig_short(net["root"], "h1.lan0.home.arpa", "AAAA") == [ula], "the ULA address stays"
    assert [e for e in dns.events(type="zone.updated") if e["data"]["zone"] == "home.arpa."]
