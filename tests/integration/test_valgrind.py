"""The fixture daemon under valgrind: every endpoint, streams, long-polls, a
rejected and an accepted reload, bad input and a stop — no memory errors, no
definite leaks."""
import os
import subprocess


from arborlab import binary, wait_for
from contract import FollowStream
from tools import needs


@needs("valgrind")
def test_fixture_valgrind_clean(lab):
    d = lab.daemon("fixture", binary("tests/arbor-fixtured"), {"machine": {"name": "vg"}, "fixture": {}},
                   wrapper=["valgrind", "--error-exitcode=99", "--leak-check=full",
                            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite", "-q"])
    d.start(timeout=60)
    assert "memcheck" in os.readlink(f"/proc/{d.pid()}/exe"), "the daemon runs under valgrind"
    follow = FollowStream(d.socket, "/v1/events?follow=1", timeout=30)
    for path in ("/v1/status", "/v1/healthz", "/v1/metrics", "/v1/events?since=0&type=*", "/v1/nothing",
                 "/v1/../x"):
        assert d.get(path, timeout=30).status in (200, 400, 404)
    assert d.post("/v1/commands/bump", body={"by": 2}, timeout=30).status == 200
    assert d.post("/v1/commands/bump", body="{bad", timeout=30).status == 400
    assert d.get("/v1/events?since=1000&wait=0.2", timeout=30).status == 200
    d.write_config("{broken")
    assert d.post("/v1/commands/reload", timeout=30).status == 409
    d.write_config({"machine": {"name": "vg"}, "fixture": {"greeting": "again"}})
    assert d.post("/v1/commands/reload", timeout=30).status == 200
    follow.read_until(lambda ls: any(e["type"] == "config.reloaded" for e in ls), timeout=30)
    r = d.post("/v1/commands/stop", timeout=30)
    assert r.status == 202
    rc = d.wait_exit(60)
    follow.close()
    assert rc == 0, f"valgrind reported errors (exit {rc}):\n{d.log()}"
    assert "definitely lost" not in d.log()


@needs("valgrind")
def test_healthd_valgrind_clean(lab):
    """healthd with every kind of check, an action, a reload and a stop."""
    fast = {"interval": 0.3, "timeout": 0.25, "rise": 1, "fall": 1}
    checks = [
        dict(fast, name="tcp", kind="tcp", target="127.0.0.1:1"),
        dict(fast, name="icmp", kind="icmp", target="127.0.0.1"),
        dict(fast, name="http", kind="http", target="http://127.0.0.1:1/"),
        dict(fast, name="dns", kind="dns", target="127.0.0.1:1", query={"name": "a.lab", "type": "A"}),
        dict(fast, name="self", kind="daemon", target="healthd"),
        dict(fast, name="exec", kind="exec", command=["/bin/sleep", "5"],
             on_change=[{"post": {"daemon": "nosuch", "command": "renew"}}, {"exec": ["/bin/true"]}]),
    ]
    cfg = {"machine": {"name": "vg"}, "healthd": {"checks": checks}}
    d = lab.daemon("healthd", binary("healthd/arbor-healthd"), cfg,
                   wrapper=["valgrind", "--error-exitcode=99", "--leak-check=full",
                            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite", "-q"])
    d.start(timeout=60)
    assert "memcheck" in os.readlink(f"/proc/{d.pid()}/exe")
    wait_for(lambda: len(d.events(type="action.*")) >= 2, 30, "both actions to report")
    wait_for(lambda: all(c["state"] == "failing" or c["name"] == "icmp"
                         for c in d.get("/v1/checks", timeout=30).json()["checks"]), 30, "checks to settle")
    d.write_config({"machine": {"name": "vg"}, "healthd": {"checks": checks[:3]}})
    assert d.post("/v1/commands/reload", timeout=30).status == 200
    assert d.post("/v1/commands/renew", timeout=30).status == 200
    assert d.post("/v1/commands/stop", timeout=30).status == 202
    rc = d.wait_exit(60)
    assert rc == 0, f"valgrind reported errors (exit {rc}):\n{d.log()}"


VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite", "-q"]


@needs("valgrind", "dig")
def test_dnsd_valgrind_clean(lab):
    """dnsd answering over UDP and TCP, a refused and a malformed query, a recursion
    to a child that does not answer, a reload, a renew and a stop."""
    from test_dnsd import dnsd_config, hdr, qname, udp_after, MALFORMED
    ns = lab.add_netns("vgdns")
    cfg = dnsd_config(children=[{"name": "m1", "interface": "lan0", "ipv4": "127.0.0.9"}], child_port=5399)
    d = lab.daemon("dnsd", binary("dnsd/arbor-dnsd"), cfg, netns=ns, wrapper=VALGRIND)
    d.start(timeout=60)
    for args in (["www.home.arpa"], ["+tcp", "chain.home.arpa"], ["example.com"], ["+norec", "x.m1.lan0.home.arpa"],
                 ["+time=6", "x.m1.lan0.home.arpa"], ["+edns=1", "www.home.arpa"], ["-x", "192.168.1.5"]):
        ns.exec(["dig", "@127.0.0.1", "+tries=1"] + args, check=False)
    # all of them dealt with before the stop: the query after them is answered
    udp_after(ns.name, list(MALFORMED.values()), hdr(id=0x4321) + qname("www.home.arpa") + b"\0\1\0\1", timeout=30)
    assert d.post("/v1/commands/reload", timeout=30).status == 200
    assert d.post("/v1/commands/renew", timeout=30).status == 200
    assert d.get("/v1/status", timeout=30).status == 200
    assert d.post("/v1/commands/stop", timeout=30).status == 202
    rc = d.wait_exit(60)
    assert rc == 0, f"valgrind reported errors (exit {rc}):\n{d.log()}"


@needs("valgrind")
def test_dhcp4d_server_and_client_valgrind_clean(lab):
    """Our DHCP server and our client, both under valgrind: bind, rebind, release,
    renew, stop."""
    from test_dhcp4d import dhcp4d_config, server_and_client
    from test_dhcp4d_client import client_config
    net = server_and_client(lab, "vgs", "vgc")
    srv = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), dhcp4d_config(), netns=net["srv"], wrapper=VALGRIND)
    srv.start(timeout=60)
    cli = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), client_config(), netns=net["cli"], wrapper=VALGRIND)
    cli.start(timeout=60)

    def state():
        return cli.get("/v1/status", timeout=30).json()["dhcp4d"]["clients"][0]["state"]
    wait_for(lambda: state() == "bound", 60, "the client to bind")
    assert cli.post("/v1/commands/rebind", timeout=30).status == 200
    wait_for(lambda: cli.events(type="lease.rebound"), 60, "the rebind")
    assert cli.post("/v1/commands/release", timeout=30).status == 200
    assert cli.post("/v1/commands/renew", timeout=30).status == 200
    wait_for(lambda: state() == "bound", 60, "the client to bind again")
    for d in (cli, srv):
        assert d.post("/v1/commands/stop", timeout=30).status == 202
        rc = d.wait_exit(60)
        assert rc == 0, f"valgrind reported errors (exit {rc}):\n{d.log()}"


@needs("valgrind", "rdisc6")
def test_dhcp6pd_valgrind_clean(lab):
    """dhcp6pd with all three parts: its client bound by another dhcp6pd, a LAN
    answering a router solicitation, its server delegating to a rapid-commit
    SOLICIT and refusing a malformed one, the commands, a reload and a stop."""
    from test_dhcp6pd_server import pair, rapid_solicit, server_config
    up = lab.add_netns("vgup")
    mid, down = pair(lab, srv_if="lan0", cli_if="cli0")
    lab.veth(up, "up0", mid, "wan0")
    for ns, dev in ((up, "up0"), (mid, "wan0")):
        wait_for(lambda: "tentative" not in ns.exec(["ip", "-6", "addr", "show", "dev", dev]).stdout, 10, "link-local")
    upstream = server_config(pools=[{"prefix": "2001:db8:100::/40", "delegated_length": 56}])
    upstream["dhcp6pd"]["servers"][0]["interface"] = "up0"
    lab.daemon("dhcp6pd", binary("dhcp6pd/arbor-dhcp6pd"), upstream, netns=up).start()
    cfg = {"machine": {"name": "vg", "machine_id": "00000000000000000000000000000005"},
           "dhcp6pd": {"clients": [{"interface": "wan0", "prefix_length_hint": 56}], "lans": [{"interface": "lan0"}],
                       "servers": [{"interface": "lan0",
                                    "pools": [{"prefix": "from_delegation", "delegated_length": 60}]}]}}
    d = lab.daemon("dhcp6pd", binary("dhcp6pd/arbor-dhcp6pd"), cfg, netns=mid, wrapper=VALGRIND)
    d.start(timeout=60)
    assert "memcheck" in os.readlink(f"/proc/{d.pid()}/exe")
    wait_for(lambda: d.events(type="prefix.bound"), 60, "the delegation from upstream")
    assert rapid_solicit(down, "cli0", 1).endswith("/60")
    assert "Prefix" in down.exec(["rdisc6", "-1", "-w", "3000", "cli0"], check=False).stdout
    down.exec(["/usr/bin/python3", "-c", "import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); "
               "s.sendto(b'\\x01\\x00\\x00\\x01\\x00\\x01\\x00\\xff', ('ff02::1:2', 547, 0, socket.if_nametoindex('cli0')))"])
    for path in ("/v1/status", "/v1/prefixes", "/v1/delegations", "/v1/delegations?state=nope", "/v1/metrics"):
        assert d.get(path, timeout=30).status in (200, 400)
    assert d.post("/v1/commands/renew", timeout=30).status == 200
    wait_for(lambda: d.events(type="prefix.renewed"), 60, "the renewal")
    d.write_config(cfg)
    assert d.post("/v1/commands/reload", timeout=30).status == 200
    assert d.post("/v1/commands/release", body={"interface": "wan0"}, timeout=30).status == 200
    wait_for(lambda: d.events(type="prefix.lost"), 60, "the release")
    assert d.post("/v1/commands/stop", timeout=30).status == 202
    rc = d.wait_exit(60)
    assert rc == 0, f"valgrind reported errors (exit {rc}):\n{d.log()}"


@needs("valgrind")
def test_overlayd_valgrind_clean(lab):
    """An overlayd hub and a spoke, both under valgrind: enroll, a signed join and
    heartbeats, a refused request, drift repaired, the nftables table, a reload,
    a renew, forget, and a stop of each."""
    from overlay import Overlay
    supp = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "valgrind", "libnftables.supp")
    vg = VALGRIND[:1] + [f"--suppressions={supp}"] + VALGRIND[1:]
    ov = Overlay(lab, nspokes=0)
    ov.hub.wrapper = vg
    ov.hub.start(timeout=60)
    token = ov.hub.post("/v1/commands/enroll", body={"hostname": "s1"}, timeout=30).json()["token"]
    ns = lab.add_netns("ovvgs")
    ov._plug(ns, "vgs", "192.0.2.11/24")
    spoke = lab.daemon("overlayd", binary("overlayd/arbor-overlayd"), ov.spoke_config(1, token), netns=ns,
                       wrapper=vg)
    spoke.start(timeout=60)
    wait_for(lambda: spoke.get("/v1/status", timeout=30).json()["overlayd"]["spoke"]["state"] == "joined", 60,
             "the spoke to join")
    wait_for(lambda: ov.hub.get("/v1/status", timeout=30).json()["overlayd"]["hub"]["requests"]["heartbeats"] >= 2,
             60, "heartbeats")
    r = subprocess.run(["ip", "netns", "exec", ns.name, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X",
                        "POST", "-d", '{"payload":"{}","sig":"x"}', "http://192.0.2.1:4790/v1/join"],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout == "400"
    last = ov.hub.get("/v1/status", timeout=30).json()["events"]["last_seq"]
    ov.hub_ns.exec(["ip", "link", "del", "ovh1"])
    wait_for(lambda: ov.hub.get(f"/v1/events?since={last}&type=drift.repaired", timeout=30).json()["events"], 60,
             "the repair")
    for d in (ov.hub, spoke):
        assert d.post("/v1/commands/reload", timeout=30).status == 200
        assert d.post("/v1/commands/renew", timeout=30).status == 200
        assert d.get("/v1/metrics", timeout=30).status == 200
    assert ov.hub.get("/v1/spokes", timeout=30).status == 200
    assert ov.hub.post("/v1/commands/forget", body={"hostname": "s1"}, timeout=30).status == 200
    for d in (spoke, ov.hub):
        assert d.post("/v1/commands/stop", timeout=30).status == 202
        rc = d.wait_exit(60)
        assert rc == 0, f"valgrind reported errors (exit {rc}):\n{d.log()}"


@needs("valgrind", "wireguard-go", "wg")
def test_wgd_valgrind_clean(lab):
    """wgd running wireguard-go: every peers endpoint, an export and both QR
    forms, a refused body, rotate-key, a peer removed by hand (reconcile), a
    reload, a renew and a stop."""
    from test_wgd import wgd_config
    from wgtools import unique_ifname
    ns = lab.add_netns("vgwg")
    wgif = unique_ifname("vg")
    d = lab.daemon("wgd", binary("wgd/arbor-wgd"), wgd_config(wgif), netns=ns, wrapper=VALGRIND)
    d.start(timeout=60)
    r = d.post("/v1/peers", {"name": "laptop", "preshared_key": True, "allowed_ips": ["192.168.50.0/24"]}, timeout=30)
    assert r.status == 201
    key = r.json()["peer"]["public_key"]
    assert d.post("/v1/peers", {"name": "phone"}, timeout=30).status == 201
    assert d.post("/v1/peers", {"name": "bad", "public_key": "abc"}, timeout=30).status == 400
    for path in ("/v1/peers", "/v1/peers/laptop", "/v1/peers/laptop/config", "/v1/peers/laptop/qr",
                 "/v1/peers/laptop/qr?format=utf8", "/v1/status", "/v1/metrics", "/v1/peers/none"):
        assert d.get(path, timeout=30).status in (200, 404)
    assert d.request("PATCH", "/v1/peers/phone", {"enabled": False}, timeout=30).status == 200
    assert d.request("DELETE", "/v1/peers/phone", timeout=30).status == 200
    assert d.post("/v1/commands/rotate-key", timeout=30).status == 200
    ns.exec(["wg", "set", wgif, "peer", key, "remove"])
    wait_for(lambda: d.events(type="device.repaired"), 30, "the reconcile to restore the peer")
    assert d.post("/v1/commands/reload", timeout=30).status == 200
    assert d.post("/v1/commands/renew", timeout=30).status == 200
    assert d.post("/v1/commands/stop", timeout=30).status == 202
    rc = d.wait_exit(60)
    assert rc == 0, f"valgrind reported errors (exit {rc}):\n{d.log()}"
