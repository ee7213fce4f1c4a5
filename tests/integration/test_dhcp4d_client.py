"""The DHCP client of arbor-dhcp4d (dhcp4d.clients[]) against real servers in
network namespaces: dnsmasq, kea-dhcp4, and our own server. Each run checks what
the kernel got (address, broadcast, lifetime, routes, MTU), the lease file and the
events, through renew, NAK, rebinding and expiry."""
import json
import os
import subprocess
import time

import pytest

from arborlab import binary, wait_for
from tools import needs
from test_dhcp4d import NET, dhcp4d_config, server_and_client

METRIC = 700


def client_config(**client):
    c = {"interface": "cli0", "route_metric": METRIC}
    c.update(client)
    return {"machine": {"name": "m1"}, "dhcp4d": {"clients": [c]}}


@pytest.fixture
def net(lab):
    return server_and_client(lab, "csrv", "ccli")


def start_client(lab, net, config=None):
    d = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), config or client_config(), netns=net["cli"])
    return d.start()


def client_status(d):
    return d.status()["dhcp4d"]["clients"][0]


def addrs(ns, dev="cli0"):
    out = ns.exec(["ip", "-j", "-4", "addr", "show", "dev", dev]).stdout
    return [a for link in json.loads(out) for a in link.get("addr_info", []) if a["family"] == "inet"]


def routes(ns, dev="cli0"):
    out = ns.exec(["ip", "-j", "-4", "route", "show", "dev", dev, "proto", "dhcp"]).stdout
    return {(r["dst"], r.get("gateway"), r.get("metric", 0)) for r in json.loads(out)}


def mtu(ns, dev="cli0"):
    return json.loads(ns.exec(["ip", "-j", "link", "show", "dev", dev]).stdout)[0]["mtu"]


def lease_file(d):
    return json.loads(d.state_file("client-cli0.json"))


def bound(d):
    s = client_status(d)
    return s if s["state"] == "bound" and s.get("lease") else None


def wait_bound(d, timeout=20, other_than=None):
    def ok():
        s = bound(d)
        return s if s and s["lease"]["address"] != other_than else None
    return wait_for(ok, timeout, "the client to be bound")


def wait_event(d, type, count=1, timeout=20):
    return wait_for(lambda: len(d.events(type=type)) >= count and d.events(type=type), timeout, f"{count} {type}")


def check_applied(ns, lease, prefix=24, expect_routes=None, expect_mtu=None):
    a = [x for x in addrs(ns) if x["local"] == lease["address"]]
    assert a, addrs(ns)
    assert a[0]["prefixlen"] == prefix and a[0]["broadcast"] == f"{NET}.255"
    # The kernel holds the address only as long as the lease runs.
    assert 0 < a[0]["valid_life_time"] <= lease["lease_time"]
    if expect_routes is not None:
        assert routes(ns) == expect_routes
    if expect_mtu is not None:
        assert mtu(ns) == expect_mtu


def check_removed(ns, address):
    assert not [x for x in addrs(ns) if x["local"] == address]
    assert routes(ns) == set()


# ---- dnsmasq ----

def start_dnsmasq(lab, net, first, last, lease="2m"):
    tmp = lab.mkdtemp("dnsmasq-")
    argv = ["dnsmasq", "-k", "-C", "/dev/null", "--port=0", "--no-resolv", "--no-ping", "--interface=srv0",
            "--bind-interfaces", f"--dhcp-range={first},{last},255.255.255.0,{lease}",
            f"--dhcp-leasefile={tmp}/leases", f"--pid-file={tmp}/pid",
            f"--dhcp-option=option:router,{NET}.1", f"--dhcp-option=option:dns-server,{NET}.1,{NET}.2",
            "--dhcp-option=option:domain-name,lab.home.arpa", "--dhcp-option=option:mtu,1400",
            f"--dhcp-option=121,10.10.0.0/16,{NET}.1,0.0.0.0/0,{NET}.1", "--log-dhcp",
            f"--log-facility={tmp}/log"]
    p = net["srv"].popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(f"{tmp}/pid"), 10, "dnsmasq to start")
    return p


def stop(p):
    p.terminate()
    p.wait(10)


ROUTES_121 = {("10.10.0.0/16", f"{NET}.1", METRIC), ("default", f"{NET}.1", METRIC)}


def test_against_dnsmasq(lab, net):
    """bound (address, 121 routes, MTU applied), renew, NAK → INIT → a new lease,
    server gone → rebinding → expiry removes it all. dnsmasq's shortest lease is
    two minutes, so the expiry part takes that long."""
    orig_mtu = mtu(net["cli"])
    srv = start_dnsmasq(lab, net, f"{NET}.50", f"{NET}.59")
    d = start_client(lab, net)
    s = wait_bound(d)
    lease = s["lease"]
    assert lease["address"].startswith(f"{NET}.5") and lease["server_id"] == f"{NET}.1"
    assert lease["dns_servers"] == [f"{NET}.1", f"{NET}.2"] and lease["domain_name"] == "lab.home.arpa"
    assert lease["lease_time"] == 120 and lease["mtu"] == 1400
    check_applied(net["cli"], lease, expect_routes=ROUTES_121, expect_mtu=1400)
    ev = wait_event(d, "lease.bound")[0]
    assert ev["data"]["address"] == lease["address"] and ev["data"]["interface"] == "cli0"
    f = lease_file(d)
    assert f["lease"]["address"] == lease["address"] and f["applied"]["address"] == lease["address"]
    assert f["applied"]["mtu_restore"] == orig_mtu

    # renew: unicast to the server, same address, later expiry
    r = d.post("/v1/commands/renew")
    assert r.status == 200, r
    wait_event(d, "lease.renewed")
    assert client_status(d)["lease"]["address"] == lease["address"]

    # NAK: the server now hands out another range; our address is not available
    stop(srv)
    srv = start_dnsmasq(lab, net, f"{NET}.60", f"{NET}.69")
    assert d.post("/v1/commands/renew").status == 200
    nak = wait_event(d, "lease.nak")[0]
    assert nak["data"]["address"] == lease["address"]
    s2 = wait_bound(d, other_than=lease["address"])
    assert s2["lease"]["address"].startswith(f"{NET}.6")
    assert not [x for x in addrs(net["cli"]) if x["local"] == lease["address"]]
    check_applied(net["cli"], s2["lease"], expect_routes=ROUTES_121)

    # server gone: renewing, rebinding, expiry; everything we added goes away
    stop(srv)
    wait_for(lambda: client_status(d)["state"] == "rebinding", 130, "rebinding")
    wait_event(d, "lease.expired", timeout=60)
    check_removed(net["cli"], s2["lease"]["address"])
    assert mtu(net["cli"]) == orig_mtu
    assert lease_file(d).get("lease") is None


# ---- kea ----

def start_kea(lab, net, pool, valid=12, reservations=()):
    tmp = lab.mkdtemp("kea-")
    conf = {"Dhcp4": {
        "interfaces-config": {"interfaces": ["srv0"]},
        "lease-database": {"type": "memfile", "persist": True, "name": f"{tmp}/leases.csv", "lfc-interval": 0},
        "valid-lifetime": valid, "renew-timer": valid // 2, "rebind-timer": valid * 7 // 8,
        "authoritative": True,
        "subnet4": [{"subnet": f"{NET}.0/24", "pools": [{"pool": pool}], "reservations": list(reservations),
                     "option-data": [{"name": "routers", "data": f"{NET}.1"},
                                     {"name": "domain-name-servers", "data": f"{NET}.1, {NET}.2"},
                                     {"name": "domain-name", "data": "kea.home.arpa"}]}],
        "loggers": [{"name": "kea-dhcp4", "severity": "DEBUG", "debuglevel": 40,
                     "output_options": [{"output": f"{tmp}/kea.log"}]}]}}
    with open(f"{tmp}/kea.json", "w") as f:
        json.dump(conf, f)
    env = dict(os.environ, KEA_PIDFILE_DIR=tmp, KEA_LOCKFILE_DIR=tmp)
    p = net["srv"].popen(["kea-dhcp4", "-c", f"{tmp}/kea.json"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    def started():
        with open(f"{tmp}/kea.log") as f:
            return "DHCP4_STARTED" in f.read()
    wait_for(started, 10, "kea-dhcp4 to start")
    return p, tmp


@needs("kea-dhcp4")
def test_against_kea(lab, net):
    srv, _ = start_kea(lab, net, f"{NET}.70 - {NET}.79")
    d = start_client(lab, net)
    lease = wait_bound(d)["lease"]
    assert lease["address"].startswith(f"{NET}.7") and lease["lease_time"] == 12
    assert lease["domain_name"] == "kea.home.arpa" and lease["dns_servers"] == [f"{NET}.1", f"{NET}.2"]
    check_applied(net["cli"], lease, expect_routes={("default", f"{NET}.1", METRIC)})
    # T1 is 6 s: the client renews by itself
    wait_event(d, "lease.renewed", timeout=15)
    assert d.post("/v1/commands/rebind").status == 200
    wait_event(d, "lease.rebound")

    # NAK: kea restarted with our address reserved for another host (kea drops,
    # rather than NAKs, a renewal of an address it has no pool for)
    stop(srv)
    srv, _ = start_kea(lab, net, f"{NET}.70 - {NET}.79",
                       reservations=[{"hw-address": "02:00:00:00:00:01", "ip-address": lease["address"]}])
    assert d.post("/v1/commands/renew").status == 200
    wait_event(d, "lease.nak")
    lease2 = wait_bound(d, other_than=lease["address"])["lease"]
    assert lease2["address"].startswith(f"{NET}.7")
    assert not [x for x in addrs(net["cli"]) if x["local"] == lease["address"]]

    # server gone: renewing at T1, rebinding at T2, expiry removes it all
    stop(srv)
    wait_for(lambda: client_status(d)["state"] == "rebinding", 15, "rebinding")
    exp = wait_event(d, "lease.expired", timeout=15)[0]
    assert exp["data"]["address"] == lease2["address"]
    check_removed(net["cli"], lease2["address"])
    assert client_status(d)["state"] in ("init", "selecting")


# ---- our own server ----

def test_against_our_server_with_init_reboot(lab, net):
    srv = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), dhcp4d_config(lease_time=30), netns=net["srv"]).start()
    d = start_client(lab, net)
    lease = wait_bound(d)["lease"]
    check_applied(net["cli"], lease, expect_routes=ROUTES_121, expect_mtu=1400)
    assert lease["ntp_servers"] == [f"{NET}.1"]
    sl = srv.get(f"/v1/leases?address={lease['address']}").json()["leases"][0]
    assert sl["state"] == "bound" and sl["hostname"] == "m1"

    # restart the client (kill -9: no goodbye): INIT-REBOOT keeps the address
    d.kill9()
    assert [x for x in addrs(net["cli"]) if x["local"] == lease["address"]]
    d3 = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), client_config(), netns=net["cli"])
    d3.state_dir = d.state_dir  # the lease file is what makes it INIT-REBOOT
    d3.start()
    s = wait_bound(d3)
    assert s["lease"]["address"] == lease["address"]
    ev = d3.events(type="lease.bound")
    assert ev and ev[-1]["data"]["address"] == lease["address"]
    # the server saw a REQUEST from INIT-REBOOT (no server id) and renewed the lease
    wait_for(lambda: srv.events(type="lease.renewed"), 5, "the server's renewal")

    # release: the server marks it released, the kernel loses it
    assert d3.post("/v1/commands/release").status == 200
    wait_for(lambda: srv.events(type="lease.released"), 5, "the release at the server")
    check_removed(net["cli"], lease["address"])
    assert client_status(d3)["state"] == "released"
    assert lease_file(d3).get("lease") is None
    # renew from released: a new exchange
    assert d3.post("/v1/commands/renew").status == 200
    wait_bound(d3)


def test_carrier_loss_and_return_reboots(lab, net):
    srv = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), dhcp4d_config(lease_time=60), netns=net["srv"]).start()
    d = start_client(lab, net)
    lease = wait_bound(d)["lease"]
    net["srv"].exec(["ip", "link", "set", "srv0", "down"])  # the peer goes: our carrier drops
    wait_for(lambda: client_status(d)["state"] == "no-carrier", 5, "no-carrier")
    net["srv"].exec(["ip", "link", "set", "srv0", "up"])
    wait_for(lambda: srv.events(type="lease.renewed"), 15, "INIT-REBOOT answered by the server")
    s = wait_bound(d)
    assert s["lease"]["address"] == lease["address"]


def test_stop_with_release_removes_everything(lab, net):
    lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), dhcp4d_config(), netns=net["srv"]).start()
    d = start_client(lab, net, client_config(release_on_stop=True))
    lease = wait_bound(d)["lease"]
    assert d.stop() == 0
    check_removed(net["cli"], lease["address"])


def test_client_bad_config(lab):
    cfg = {"dhcp4d": {"clients": [{"interface": "x", "route_metric": -1, "bogus": 1},
                                  {"interface": "x", "client_id": "zz"}]}}
    d = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), cfg)
    r = subprocess.run(d.argv(), capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, r.stderr
    assert "dhcp4d.clients[0].bogus" in r.stderr
    assert "dhcp4d.clients[0].route_metric" in r.stderr
    assert "dhcp4d.clients[1].interface" in r.stderr and "already has a client" in r.stderr
    assert "dhcp4d.clients[1].client_id" in r.stderr


def test_missing_uplink_is_a_clear_start_failure(lab):
    d = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), client_config(interface="nosuch0"))
    r = subprocess.run(d.argv(), capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "nosuch0" in r.stderr, r.stderr


# ---- reload: clients added, changed, removed ----

NET2 = "192.168.79"


def client_metric(d, ifname, outcome="sent"):
    """A client's packet counter (arbor_dhcp4d_client_packets_total)."""
    want = f'arbor_dhcp4d_client_packets_total{{interface="{ifname}",outcome="{outcome}"}} '
    lines = [l for l in d.get("/v1/metrics").body.decode().splitlines() if l.startswith(want)]
    return int(lines[0].split()[-1]) if lines else None


def clients_by_name(d):
    return {c["interface"]: c for c in d.status()["dhcp4d"]["clients"]}


def start_dnsmasq_plain(lab, ns, ifname, prefix):
    """dnsmasq serving prefix.50-59 on ifname (router prefix.1), 10-minute leases:
    no renewal (T1 = 5 min) falls inside a test, so every packet a client sends
    is one the test caused."""
    tmp = lab.mkdtemp("dnsmasq-")
    p = ns.popen(["dnsmasq", "-k", "-C", "/dev/null", "--port=0", "--no-resolv", "--no-ping", f"--interface={ifname}",
                  "--bind-interfaces", f"--dhcp-range={prefix}.50,{prefix}.59,255.255.255.0,10m",
                  f"--dhcp-leasefile={tmp}/leases", f"--pid-file={tmp}/pid",
                  f"--dhcp-option=option:router,{prefix}.1", "--log-dhcp", f"--log-facility={tmp}/log"],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: os.path.exists(f"{tmp}/pid"), 10, "dnsmasq to start")
    return tmp


def dnsmasq_leases(tmp):
    """dnsmasq's lease file: address → hostname."""
    try:
        with open(f"{tmp}/leases") as f:
            return {l.split()[2]: l.split()[3] for l in f if l.strip()}
    except FileNotFoundError:
        return {}


def test_reload_adds_changes_and_removes_clients(lab, net):
    """dhcp4d.clients[] follows a reload: against dnsmasq on two uplinks, a
    client added by reload starts (also when the daemon had none, so no netlink
    socket yet), one whose settings changed applies them without a packet, one
    whose identity changed (hostname) starts over with INIT-REBOOT and keeps its
    address, one removed stops as at a graceful stop (its lease stays, or is
    released with release_on_stop), and every client the reload did not change
    sends nothing. A reload naming a missing interface changes nothing."""
    srv2 = lab.add_netns("csr2")
    lab.veth(srv2, "srv1", net["cli"], "cli1")
    srv2.exec(["ip", "addr", "add", f"{NET2}.1/24", "dev", "srv1"])
    leases0 = start_dnsmasq_plain(lab, net["srv"], "srv0", NET)
    leases1 = start_dnsmasq_plain(lab, srv2, "srv1", NET2)

    def config(*clients):
        return {"machine": {"name": "m1"}, "dhcp4d": {"clients": list(clients)}}

    cli0 = {"interface": "cli0", "route_metric": METRIC}
    cli1 = {"interface": "cli1", "route_metric": METRIC}
    d = start_client(lab, net, config())
    assert d.status()["dhcp4d"]["clients"] == []

    def reload(cfg, status=200):
        d.write_config(cfg)
        r = d.post("/v1/commands/reload")
        assert r.status == status, r.json()
        return r.json()

    def wait_client_bound(ifname):
        return wait_for(lambda: (clients_by_name(d).get(ifname) or {}).get("state") == "bound" and
                        clients_by_name(d)[ifname]["lease"], 20, f"{ifname} bound")

    # Added (the daemon had no client: the reload opens the netlink socket too).
    reload(config(cli0))
    a0 = wait_client_bound("cli0")["address"]
    assert a0.startswith(f"{NET}.5") and routes(net["cli"]) == {("default", f"{NET}.1", METRIC)}
    reload(config(cli0, cli1))
    a1 = wait_client_bound("cli1")["address"]
    assert a1.startswith(f"{NET2}.5") and routes(net["cli"], "cli1") == {("default", f"{NET2}.1", METRIC)}
    sent0, events = client_metric(d, "cli0"), len(d.events(type="lease.*"))

    # Changed settings (route_metric): applied to the lease it holds, no packet, no event.
    reload(config(dict(cli0, route_metric=METRIC + 100), cli1))
    wait_for(lambda: routes(net["cli"]) == {("default", f"{NET}.1", METRIC + 100)}, 5, "the new metric")
    assert lease_file(d)["applied"]["metric"] == METRIC + 100
    assert [x["local"] for x in addrs(net["cli"])] == [a0], "the address did not flap"
    assert client_metric(d, "cli0") == sent0 and len(d.events(type="lease.*")) == events
    sent1 = client_metric(d, "cli1")

    # Changed identity (hostname): a new client on cli1, INIT-REBOOT with the kept
    # lease; the server learns the name and the address stays. cli0 is untouched.
    reload(config(dict(cli0, route_metric=METRIC + 100), dict(cli1, hostname="renamed")))
    wait_for(lambda: dnsmasq_leases(leases1).get(a1) == "renamed", 20, "dnsmasq to learn the new hostname")
    assert wait_client_bound("cli1")["address"] == a1
    assert client_metric(d, "cli0") == sent0
    assert [x["local"] for x in addrs(net["cli"], "cli1")] == [a1]

    # A reload that cannot open a new client changes nothing, cli0's metric included.
    sent1 = client_metric(d, "cli1")
    r = reload(config(cli0, dict(cli1, hostname="renamed"), {"interface": "nosuch0"}), status=409)
    assert "nosuch0" in r["message"]
    assert set(clients_by_name(d)) == {"cli0", "cli1"}
    assert routes(net["cli"]) == {("default", f"{NET}.1", METRIC + 100)}
    assert client_metric(d, "cli0") == sent0 and client_metric(d, "cli1") == sent1

    # Removed, release_on_stop false (the default): it stops like at a graceful
    # stop; the lease stays (the kernel drops the address when it ends), so
    # adding it back is an INIT-REBOOT to the same address.
    reload(config(dict(cli0, route_metric=METRIC + 100)))
    assert set(clients_by_name(d)) == {"cli0"}
    assert [x["local"] for x in addrs(net["cli"], "cli1")] == [a1]
    assert json.loads(d.state_file("client-cli1.json"))["lease"]["address"] == a1
    assert a1 in dnsmasq_leases(leases1), "no RELEASE"
    reload(config(dict(cli0, route_metric=METRIC + 100), dict(cli1, hostname="renamed", release_on_stop=True)))
    assert wait_client_bound("cli1")["address"] == a1
    # Removed with release_on_stop: RELEASE, and what it applied goes.
    reload(config(dict(cli0, route_metric=METRIC + 100)))
    wait_for(lambda: a1 not in dnsmasq_leases(leases1), 10, "dnsmasq to see the RELEASE")
    assert addrs(net["cli"], "cli1") == [] and routes(net["cli"], "cli1") == set()
    assert client_metric(d, "cli0") == sent0 and [x["local"] for x in addrs(net["cli"])] == [a0]
