"""arbor-dhcp6pd's delegating server in network namespaces, with real requesting
routers: dhcpcd (ia_pd) and wide-dhcpv6 (dhcp6c) each get a prefix, renew and
release it, and the route to it follows; three levels of our own under kea-dhcp6
(ISP → root → m1 → m2), each numbering its LAN from what it received, and the
ISP's renumbering running down the tree; kill -9 under perfdhcp loses no
acknowledged delegation and never gives a prefix twice."""
import json
import os
import shutil
import subprocess

import pytest

from tools import needs
from dhcpcd import start_logged, stop_dhcpcd
from arborlab import binary, wait_for
from test_dhcp6pd import Helper, Kea6, bound_prefix, isp_and_root, start_dhcp6pd, unreachable, wait_event

MID_ROOT = "0123456789abcdef0123456789abcdef"


def server_config(pools=None, machine_id=MID_ROOT, **server):
    s = {"interface": "lan0", "pools": pools or [{"prefix": "2001:db8:100::/40", "delegated_length": 56}]}
    s.update(server)
    return {"machine": {"name": "root", "machine_id": machine_id}, "dhcp6pd": {"servers": [s]}}


def pair(lab, srv_if="lan0", cli_if="c0", lan=None):
    """root (the server's side) and rtr (the requesting side), their link-local
    addresses ready (answers come from the server's); lan: a bridge on rtr for
    the requesting router to number."""
    root = lab.add_netns("root")
    cli = lab.add_netns("rtr")
    if lan:
        cli.exec(["ip", "link", "add", lan, "type", "bridge"])
        cli.exec(["ip", "link", "set", lan, "up"])
    lab.veth(root, srv_if, cli, cli_if)
    for ns, dev in ((root, srv_if), (cli, cli_if)):
        wait_for(lambda: "tentative" not in ns.exec(["ip", "-6", "addr", "show", "dev", dev]).stdout
                 and "fe80" in ns.exec(["ip", "-6", "addr", "show", "dev", dev]).stdout, 10, f"{dev} link-local")
    return root, cli


def delegations(d, **q):
    query = "&".join(f"{k}={v}" for k, v in q.items())
    return d.get("/v1/delegations" + ("?" + query if query else "")).json()["delegations"]


def routes_via(ns, dev="lan0"):
    out = ns.exec(["ip", "-j", "-6", "route", "show", "dev", dev, "proto", "dhcp"]).stdout
    return {(r["dst"], r.get("gateway")) for r in json.loads(out)} if out.strip() else set()


def link_local(ns, dev):
    out = json.loads(ns.exec(["ip", "-j", "-6", "addr", "show", "dev", dev, "scope", "link"]).stdout)
    return next(a["local"] for link in out for a in link.get("addr_info", []) if "local" in a)


@needs("dhcpcd")
def test_dhcpcd_requesting_router(lab):
    root, rtr = pair(lab, lan="lanx")
    d = start_dhcp6pd(lab, root, server_config(preferred_lifetime=60, valid_lifetime=120, t1=4, t2=6))
    tmp = lab.mkdtemp("dhcpcd6-")
    os.makedirs(f"{tmp}/db")
    os.makedirs(f"{tmp}/run")
    with open(f"{tmp}/conf", "w") as f:
        f.write("duid\nipv6only\nnoipv6rs\nnohook resolv.conf\nrelease\ninterface c0\n  ia_pd 1 lanx/0/64\n")
    # dhcpcd keeps its DUID and leases under /var/lib/dhcpcd and /run/dhcpcd, and its
    # hooks may write /etc/resolv.conf: a private mount namespace gives it ours, the
    # machine's stay untouched.
    shutil.copy("/etc/resolv.conf", f"{tmp}/resolv.conf")
    p = start_logged(rtr, ["unshare", "-m", "sh", "-c", f"mount --bind {tmp}/db /var/lib/dhcpcd && mount --bind "
                           f"{tmp}/run /run/dhcpcd && mount --bind {tmp}/resolv.conf /etc/resolv.conf && "
                           f"exec dhcpcd -6 -B -d -f {tmp}/conf c0"], f"{tmp}/log")
    b = wait_for(lambda: delegations(d, state="bound"), 20, "dhcpcd's delegation")[0]
    assert b["prefix"].endswith("/56") and b["iaid"] == 1
    ll = link_local(rtr, "c0")
    assert b["via"] == ll and routes_via(root) == {(b["prefix"], ll)}, "a route via the requester's link-local"
    prefix64 = b["prefix"].split("::")[0] + "::1"
    wait_for(lambda: prefix64 in rtr.exec(["ip", "-6", "addr", "show", "dev", "lanx"]).stdout, 10,
             "dhcpcd to number its LAN from the prefix")
    wait_event(d, "delegation.renewed", timeout=20)
    assert delegations(d, state="bound")[0]["valid_until"] > b["valid_until"]
    # "release" in its config: it gives the prefix back. dhcpcd exits once the RELEASE
    # is answered, or after its retransmissions (RFC 8415: 1 + 2 + 4 + 8 s); the
    # event says whether it was answered.
    stop_dhcpcd(p, f"{tmp}/log", server_log=d.log)
    ev = wait_event(d, "delegation.released")[0]
    assert ev["data"]["prefix"] == b["prefix"]
    assert routes_via(root) == set() and not delegations(d, state="bound")


@needs("dhcp6c")
def test_wide_dhcp6c_requesting_router(lab):
    root, rtr = pair(lab, lan="lanx")
    # dhcp6c raises a T1 under 18 s to 18: 20/30 makes it renew by itself.
    d = start_dhcp6pd(lab, root, server_config(preferred_lifetime=60, valid_lifetime=120, t1=20, t2=30))
    tmp = lab.mkdtemp("dhcp6c-")
    os.makedirs(f"{tmp}/db")
    with open(f"{tmp}/conf", "w") as f:
        f.write("interface c0 { send ia-pd 7; request domain-name-servers; };\n"
                "id-assoc pd 7 { prefix-interface lanx { sla-id 1; sla-len 8; }; };\n")
    p = rtr.popen(["unshare", "-m", "sh", "-c", f"mount --bind {tmp}/db /var/lib/dhcpv6 && "
                   f"exec dhcp6c -f -D -c {tmp}/conf -p {tmp}/pid c0"],
                  stdout=open(f"{tmp}/log", "w"), stderr=subprocess.STDOUT)
    b = wait_for(lambda: delegations(d, state="bound"), 20, "dhcp6c's delegation")[0]
    assert b["prefix"].endswith("/56") and b["iaid"] == 7
    assert routes_via(root) == {(b["prefix"], link_local(rtr, "c0"))}
    wait_for(lambda: ":" in rtr.exec(["ip", "-6", "addr", "show", "dev", "lanx", "scope", "global"]).stdout, 10,
             "dhcp6c to number its LAN")
    wait_event(d, "delegation.renewed", timeout=40)
    p.terminate()  # dhcp6c releases what it holds when it stops
    p.wait(15)
    wait_event(d, "delegation.released")
    assert routes_via(root) == set()


def lan_prefix(d, i=0):
    lans = d.get("/v1/prefixes").json()["lans"]
    return [p["prefix"] for p in lans[i]["prefixes"] if not p["ula"]]


@needs("kea-dhcp6")
def test_three_levels_and_renumbering(lab):
    """kea → root (/56) → m1 (/60) → m2 (/62): each numbers its LAN with subnet
    id 1 from what it holds; the ISP renumbers and every level follows."""
    isp, root = isp_and_root(lab)
    m1 = lab.add_netns("m1")
    m2 = lab.add_netns("m2")
    lab.veth(root, "lan0", m1, "wan0")
    lab.veth(m1, "lan0", m2, "wan0")
    lab.bridge(m2, "lan0")  # m2's LAN: a bridge with no ports stands in for a dummy
    kea = Kea6(lab, isp, preferred=600, valid=1200, renew=300, rebind=480)
    level = lambda ns, mid, name, dlen: start_dhcp6pd(lab, ns, {
        "machine": {"name": name, "machine_id": mid},
        "dhcp6pd": {"clients": [{"interface": "wan0", "prefix_length_hint": 56 if name == "root" else 0}],
                    "lans": [{"interface": "lan0"}],
                    "servers": [{"interface": "lan0", "pools": [{"prefix": "from_delegation", "delegated_length": dlen}]}]
                    if dlen else []}})
    r = level(root, MID_ROOT, "root", 60)
    a = level(m1, "00000000000000000000000000000001", "m1", 62)
    b = level(m2, "00000000000000000000000000000002", "m2", 0)
    p_root = bound_prefix(r, timeout=30)
    p_m1 = bound_prefix(a, timeout=30)
    p_m2 = bound_prefix(b, timeout=30)
    base = p_root.split("::")[0]  # e.g. 2001:db8:100
    assert p_root.endswith("/56")
    assert p_m1 == f"{base}:10::/60", "block 0 of root's /60s holds root's own LAN /64 (subnet id 1)"
    assert p_m2 == f"{base}:14::/62", "block 0 of m1's /62s holds m1's LAN /64"
    wait_for(lambda: lan_prefix(r) == [f"{base}:1::/64"], 10, "root's LAN")
    wait_for(lambda: lan_prefix(a) == [f"{base}:11::/64"], 10, "m1's LAN")
    wait_for(lambda: lan_prefix(b) == [f"{base}:15::/64"], 10, "m2's LAN")
    # the routes down the tree: root → m1's /60 via m1's link-local, m1 → m2's /62
    assert routes_via(root) == {(p_m1, link_local(m1, "wan0"))}
    assert routes_via(m1) == {(p_m2, link_local(m2, "wan0"))}
    assert unreachable(root) == {p_root} and unreachable(m1) == {p_m1} and unreachable(m2) == {p_m2}
    # a packet from m2's LAN address reaches root's LAN address (forwarding on every level)
    m2_lan_addr = lan_status_router(b)
    root_lan_addr = lan_status_router(r)
    m2.exec(["ip", "-6", "route", "add", "default", "via", link_local(m1, "lan0"), "dev", "wan0"])
    m1.exec(["ip", "-6", "route", "add", "default", "via", link_local(root, "lan0"), "dev", "wan0"])
    echo = root.popen(["/usr/bin/python3", "-c", UDP_ECHO, root_lan_addr], stdout=subprocess.PIPE, text=True)
    assert echo.stdout.readline().strip() == "ready"
    wait_for(lambda: m2.exec(["/usr/bin/python3", "-c", UDP_ASK, m2_lan_addr, root_lan_addr],
                             check=False).stdout.strip() == "echo", 10, "m2's LAN address to reach root's and back")
    echo.kill()

    # the ISP renumbers: root, then m1 and m2 (their renewals) move to the new prefix, same subnets
    kea.restart(pool="2001:db8:300::", preferred=600, valid=1200, renew=300, rebind=480)
    seq = {x: x.events()[-1]["seq"] for x in (r, a, b)}
    assert r.post("/v1/commands/renew").status == 200
    ev = wait_event(r, "prefix.changed", since=seq[r])[0]
    new_root = ev["data"]["prefixes"][0]["prefix"]
    nbase = new_root.split("::")[0]
    ended = wait_event(r, "delegation.expired", since=seq[r])[0]
    assert ended["data"]["prefix"] == p_m1 and ended["data"]["reason"] == "upstream delegation changed"
    assert a.post("/v1/commands/renew").status == 200
    wait_event(a, "prefix.changed", since=seq[a])
    assert bound_prefix(a) == f"{nbase}:10::/60", "m1 keeps its place in the new delegation"
    assert b.post("/v1/commands/renew").status == 200
    wait_event(b, "prefix.changed", since=seq[b])
    assert bound_prefix(b) == f"{nbase}:14::/62"
    wait_for(lambda: lan_prefix(b) == [f"{nbase}:15::/64"], 10, "m2's LAN renumbered")
    withdrawn = b.get("/v1/prefixes").json()["lans"][0]["withdrawn"]
    assert [w["prefix"] for w in withdrawn] == [f"{base}:15::/64"], "and the old one withdrawn"


# One UDP datagram from one LAN address to another and back: the routes down the
# tree and the default routes up it both work.
UDP_ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7777))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(100)
    s.sendto(b"echo", peer)
"""
UDP_ASK = r"""
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.settimeout(1)
s.sendto(b"ping", (sys.argv[2], 7777))
try:
    print(s.recv(100).decode())
except OSError:
    pass
"""


def lan_status_router(d):
    lan = d.get("/v1/prefixes").json()["lans"][0]
    return next(p["router"] for p in lan["prefixes"] if not p["ula"])


class ReplySniffer:
    """Records every REPLY the server sends to the requesting side (AF_PACKET):
    the client's DUID and the delegated prefix, to compare with the server's
    bindings after a crash."""

    def __init__(self, netns, ifname):
        self.helper = Helper(netns, SNIFFER6, [ifname], lambda line: tuple(line.split()))
        self.replies = self.helper.lines
        self.stop = self.helper.stop


SNIFFER6 = r'''
import ipaddress, socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x86dd))
s.bind((sys.argv[1], 0))
print("ready", flush=True)
def options(d):
    i = 0
    while i + 4 <= len(d):
        code, n = struct.unpack("!HH", d[i:i + 4])
        yield code, d[i + 4:i + 4 + n]
        i += 4 + n
while True:
    p = s.recv(4096)
    if len(p) < 48 or p[6] != 17 or struct.unpack("!H", p[42:44])[0] != 546:
        continue
    d = p[48:]
    if d[0] != 7:
        continue
    duid, prefixes = None, []
    for code, v in options(d[4:]):
        if code == 1:
            duid = v.hex(":")
        elif code == 25:
            for c2, v2 in options(v[12:]):
                if c2 == 26 and struct.unpack("!I", v2[4:8])[0] > 0:
                    prefixes.append(f"{ipaddress.IPv6Address(v2[9:25])}/{v2[8]}")
    for pr in prefixes:
        print(pr, duid, flush=True)
'''


@needs("perfdhcp")
def test_kill9_under_perfdhcp_loses_no_acknowledged_delegation(lab):
    root, cli = pair(lab, cli_if="cli0")
    wait_for(lambda: "tentative" not in cli.exec(["ip", "-6", "addr", "show", "dev", "cli0"]).stdout, 10, "link-local")
    d = start_dhcp6pd(lab, root, server_config(pools=[{"prefix": "2001:db8::/32", "delegated_length": 56}]))
    sniff = ReplySniffer(cli, "cli0")
    perf = cli.popen(["perfdhcp", "-6", "-e", "prefix-only", "-r", "600", "-R", "5000", "-p", "8", "-l", "cli0"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(sniff.replies) >= 300, 15, "perfdhcp to get some delegations")
    d.kill9()
    seen = list(sniff.replies)
    perf.wait(30)
    sniff.stop()
    d.start()
    held = {(x["prefix"], x["duid"]) for x in delegations(d, state="bound")}
    missing = [r for r in seen if r not in held]
    assert not missing, f"{len(missing)} acknowledged delegations lost, e.g. {missing[:3]}"
    owners = {}
    for prefix, duid in seen:
        owners.setdefault(prefix, set()).add(duid)
    assert all(len(o) == 1 for o in owners.values()), "a prefix was given to two routers"
    assert len(seen) >= 300
    # the routes came back with the bindings
    assert len(routes_via(root)) == len(held)


def power_campaign(lab, cuts, control=False):
    """The delegating server on powerfs under perfdhcp: the power is cut after a
    random number of REPLYs, the daemon restarted on what the disk kept, again
    and again. Returns (acknowledged, lost, given twice)."""
    import random
    from powerfs import PowerFS, nosync_env
    rng = random.Random(cuts + control)
    root, cli = pair(lab, cli_if="cli0")
    wait_for(lambda: "tentative" not in cli.exec(["ip", "-6", "addr", "show", "dev", "cli0"]).stdout, 10, "link-local")
    wrapper = ["env", *nosync_env("fdatasync")] if control else None
    d = lab.daemon("dhcp6pd", binary("dhcp6pd/arbor-dhcp6pd"),
                   server_config(pools=[{"prefix": "2001:db8::/32", "delegated_length": 56}]), netns=root,
                   wrapper=wrapper)
    disk = PowerFS(lab, d.state_dir)
    acked, lost, doubles = {}, 0, 0
    for cut in range(cuts + 1):
        d.start(timeout=30)
        held = {(x["prefix"], x["duid"]) for x in delegations(d, state="bound")}
        lost += sum((p, duid) not in held for p, duid in acked.items())
        if cut == cuts:
            break
        sniff = ReplySniffer(cli, "cli0")
        perf = cli.popen(["perfdhcp", "-6", "-e", "prefix-only", "-r", "400", "-R", "3000", "-l", "cli0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = rng.randint(20, 250)
        wait_for(lambda: len(sniff.replies) >= target, 30, f"{target} REPLYs")
        disk.cut(torn=rng.randrange(1 << 31) if rng.random() < 0.5 else None)
        d.kill9()
        perf.kill()
        perf.wait(10)
        sniff.stop()
        for prefix, duid in sniff.replies:
            doubles += acked.get(prefix, duid) != duid
            acked[prefix] = duid
        disk.remount()
    d.stop()
    return acked, lost, doubles


@needs("perfdhcp")
def test_power_cuts_lose_no_acknowledged_delegation(lab):
    acked, lost, doubles = power_campaign(lab, cuts=3)
    assert len(acked) >= 60 and lost == 0 and doubles == 0, (len(acked), lost, doubles)


@needs("perfdhcp")
def test_power_cuts_without_fdatasync_lose_delegations(lab):
    """The control: fdatasync made a no-op, the same campaign must find losses."""
    acked, lost, doubles = power_campaign(lab, cuts=2, control=True)
    assert lost > 0, f"without fdatasync acknowledged delegations must be lost ({len(acked)} acknowledged)"


# A requesting router in one datagram: SOLICIT with Rapid Commit, the REPLY's prefix.
RAPID_SOLICIT = r'''
import socket, struct, sys
ifname, tag = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
s.bind(("::", 546))
s.settimeout(1)
duid = bytes([0, 3, 0, 1, 2, 0, 0, 0, 0, tag])
msg = bytes([1, 0, 0, tag]) + struct.pack("!HH", 1, len(duid)) + duid + struct.pack("!HH", 14, 0) + \
    struct.pack("!HHIII", 25, 12, 1, 0, 0)
for attempt in range(5):  # the server's link-local may still be tentative at first
    s.sendto(msg, ("ff02::1:2", 547, 0, socket.if_nametoindex(ifname)))
    try:
        r = s.recv(2048)
        break
    except TimeoutError:
        continue
i = 4
while i + 4 <= len(r):
    code, n = struct.unpack("!HH", r[i:i + 4])
    if code == 25:
        v = r[i + 4:i + 4 + n]
        pv = v[12 + 4:]
        print(socket.inet_ntop(socket.AF_INET6, pv[9:25]) + "/" + str(pv[8]))
    i += 4 + n
'''


def rapid_solicit(ns, ifname, tag):
    return ns.exec(["/usr/bin/python3", "-c", RAPID_SOLICIT, ifname, str(tag)]).stdout.strip()


from contract import ContractSuite, DaemonSpec  # noqa: E402


class TestDhcp6pdContract(ContractSuite):
    @pytest.fixture
    def spec(self, lab):
        box = {}

        def netns(lab_):
            box["root"], box["cli"] = pair(lab_, cli_if="cli0")
            wait_for(lambda: "tentative" not in box["cli"].exec(["ip", "-6", "addr", "show", "dev", "cli0"]).stdout,
                     10, "link-local")
            return box["root"]

        def durable_change(d):
            box["tag"] = box.get("tag", 0) + 1
            prefix = rapid_solicit(box["cli"], "cli0", box["tag"])
            assert prefix.endswith("/56"), prefix
            return prefix

        def durable_check(d, prefix):
            assert [x["prefix"] for x in delegations(d, state="bound", prefix=prefix)] == [prefix]

        return DaemonSpec(name="dhcp6pd", binary=binary("dhcp6pd/arbor-dhcp6pd"), config=server_config(),
                          state_file="delegations.json", durable_change=durable_change,
                          durable_check=durable_check, netns=netns)
