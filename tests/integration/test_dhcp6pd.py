"""arbor-dhcp6pd's PD client against real delegating routers in network
namespaces: kea-dhcp6 (pd-pools) and isc-dhcp-server (dhcpd -6, prefix6). What
the kernel got (the unreachable route, accept_ra=2), the lease file, the events,
renew at T1, rebind and expiry when the server is gone, renumbering by the ISP,
a restart that keeps the prefix, and the commands."""
import json
import os
import subprocess
import threading

import pytest

from tools import needs
from arborlab import binary, wait_for

ISP_NET = "2001:db8:ff::"


def kea6_config(tmp, iface="isp0", pool="2001:db8:100::", pool_len=40, delegated=56, preferred=20, valid=40,
                renew=10, rebind=16, reservations=()):
    return {"Dhcp6": {
        "interfaces-config": {"interfaces": [iface]},
        # A fixed server id (an ISP keeps its own across restarts); not persisted,
        # as /var/lib/kea is not ours to write.
        "server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "0123456789ab", "persist": False},
        "lease-database": {"type": "memfile", "persist": True, "name": f"{tmp}/leases6.csv", "lfc-interval": 0},
        "preferred-lifetime": preferred, "valid-lifetime": valid, "renew-timer": renew, "rebind-timer": rebind,
        "option-data": [{"name": "dns-servers", "data": f"{ISP_NET}53"},
                        {"name": "domain-search", "data": "isp.example"}],
        "subnet6": [{"id": 1, "subnet": f"{ISP_NET}/64", "interface": iface,
                     "pd-pools": [{"prefix": pool, "prefix-len": pool_len, "delegated-len": delegated}],
                     "reservations": list(reservations)}],
        "loggers": [{"name": "kea-dhcp6", "severity": "DEBUG", "debuglevel": 40,
                     "output_options": [{"output": f"{tmp}/kea.log"}]}]}}


class Kea6:
    """kea-dhcp6 in a namespace; restart() with another config keeps its lease file."""

    def __init__(self, lab, ns, **kw):
        self.lab, self.ns = lab, ns
        self.tmp = lab.mkdtemp("kea6-")
        self.proc = None
        self.start(**kw)

    def start(self, **kw):
        with open(f"{self.tmp}/kea.json", "w") as f:
            json.dump(kea6_config(self.tmp, **kw), f)
        if os.path.exists(f"{self.tmp}/kea.log"):
            os.rename(f"{self.tmp}/kea.log", f"{self.tmp}/kea.log.old")
        env = dict(os.environ, KEA_PIDFILE_DIR=self.tmp, KEA_LOCKFILE_DIR=self.tmp)
        self.proc = self.ns.popen(["kea-dhcp6", "-c", f"{self.tmp}/kea.json"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=env)

        def started():
            with open(f"{self.tmp}/kea.log") as f:
                return "DHCP6_STARTED" in f.read()
        wait_for(started, 15, "kea-dhcp6 to start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def restart(self, **kw):
        self.stop()
        self.start(**kw)


class Helper:
    """A python3 -c script in a namespace that prints "ready", then one line per
    thing it sees; a thread appends parse(line) to self.lines."""

    def __init__(self, ns, script, args, parse):
        self.proc = ns.popen(["/usr/bin/python3", "-c", script] + list(args), stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        self.lines = []
        self.thread = threading.Thread(target=self._read, args=(parse,), daemon=True)
        self.thread.start()

    def _read(self, parse):
        for line in self.proc.stdout:
            self.lines.append(parse(line))

    def stop(self):
        self.proc.terminate()
        self.thread.join(5)


def isp_and_root(lab):
    """isp (the delegating router, isp0 with 2001:db8:ff::1/64) and root (wan0)."""
    isp = lab.add_netns("isp")
    root = lab.add_netns("root")
    lab.veth(isp, "isp0", root, "wan0")
    isp.exec(["ip", "addr", "add", f"{ISP_NET}1/64", "dev", "isp0"])
    for ns, dev in ((isp, "isp0"), (root, "wan0")):
        wait_for(lambda: "tentative" not in ns.exec(["ip", "-6", "addr", "show", "dev", dev]).stdout
                 and "fe80" in ns.exec(["ip", "-6", "addr", "show", "dev", dev]).stdout, 10, f"{dev} link-local")
    return isp, root


def root_config(machine_id="0123456789abcdef0123456789abcdef", clients=None, lans=(), servers=(), **extra):
    section = {"clients": clients if clients is not None else [{"interface": "wan0", "prefix_length_hint": 56}]}
    if lans:
        section["lans"] = list(lans)
    if servers:
        section["servers"] = list(servers)
    section.update(extra)
    return {"machine": {"name": "root", "machine_id": machine_id}, "dhcp6pd": section}


def start_dhcp6pd(lab, ns, config, name="dhcp6pd", **kw):
    d = lab.daemon(name, binary("dhcp6pd/arbor-dhcp6pd"), config, netns=ns, **kw)
    return d.start()


def client_status(d, i=0):
    return d.status()["dhcp6pd"]["clients"][i]


def bound_prefix(d, other_than=None, timeout=20):
    def ok():
        s = client_status(d)
        if s["state"] != "bound" or not s.get("lease"):
            return None
        p = s["lease"]["prefixes"][0]["prefix"]
        return p if p != other_than else None
    return wait_for(ok, timeout, "a delegated prefix")


def routes6(ns, *match):
    out = ns.exec(["ip", "-j", "-6", "route", "show"] + list(match)).stdout
    return json.loads(out) if out.strip() else []


def unreachable(ns):
    return {r["dst"] for r in routes6(ns, "type", "unreachable")}


def wait_event(d, type, count=1, timeout=20, since=0):
    return wait_for(lambda: len(d.events(since=since, type=type)) >= count and d.events(since=since, type=type),
                    timeout, f"{count} {type}")


@pytest.fixture
def net(lab):
    isp, root = isp_and_root(lab)
    return {"isp": isp, "root": root}


@needs("kea-dhcp6")
def test_against_kea_bound_renew_rebind_expire(lab, net):
    kea = Kea6(lab, net["isp"], preferred=10, valid=20, renew=5, rebind=8)
    d = start_dhcp6pd(lab, net["root"], root_config())
    prefix = bound_prefix(d)
    assert prefix.startswith("2001:db8:1") and prefix.endswith("/56"), prefix
    s = client_status(d)
    assert s["lease"]["dns_servers"] == [f"{ISP_NET}53"] and s["lease"]["domain_search"] == ["isp.example."]
    # RFC 7084 WPD-5: the delegation is unreachable unless more specific routes say otherwise
    assert unreachable(net["root"]) == {prefix}
    assert net["root"].exec(["sysctl", "-n", "net.ipv6.conf.wan0.accept_ra"]).stdout.strip() == "2"
    ev = wait_event(d, "prefix.bound")[0]
    assert ev["data"]["interface"] == "wan0" and ev["data"]["prefixes"][0]["prefix"] == prefix
    lease = json.loads(d.state_file("client-wan0.json"))
    assert lease["lease"]["prefixes"][0]["prefix"] == prefix and lease["applied"]["unreachable"] == [prefix]
    # T1 is 5 s: renewed by itself, the same prefix
    wait_event(d, "prefix.renewed", timeout=20)
    assert client_status(d)["lease"]["prefixes"][0]["prefix"] == prefix
    # Kea gone: RENEW until T2, REBIND until the valid lifetime (20 s) ends, then all goes
    kea.stop()
    wait_for(lambda: client_status(d)["state"] == "rebinding", 20, "rebinding")
    lost = wait_event(d, "prefix.lost", timeout=30)[0]
    assert lost["data"]["reason"] == "expired" and lost["data"]["old_prefixes"][0]["prefix"] == prefix
    assert unreachable(net["root"]) == set()
    assert json.loads(d.state_file("client-wan0.json")).get("lease") is None
    # Kea back: SOLICIT hints the old prefix, and gets it again
    kea.start(preferred=10, valid=20, renew=5, rebind=8)
    assert bound_prefix(d, timeout=30) == prefix


@needs("kea-dhcp6")
def test_against_kea_restart_renumber_commands(lab, net):
    """kill -9 and restart: the same prefix, renewed at once, never released; the
    ISP renumbers (Kea's pool changes): prefix.changed; release and renew."""
    kea = Kea6(lab, net["isp"], preferred=300, valid=600, renew=150, rebind=240)
    d = start_dhcp6pd(lab, net["root"], root_config())
    prefix = bound_prefix(d)
    duid = client_status(d)["duid"]
    seq = d.events()[-1]["seq"]
    d.kill9()
    assert unreachable(net["root"]) == {prefix}, "the kernel keeps what a killed daemon applied"
    d.start()
    # restored, then RENEWed at once (not at T1 150 s later): prefix.renewed
    ev = wait_event(d, "prefix.renewed", since=seq)[0]
    assert ev["data"]["prefixes"][0]["prefix"] == prefix
    assert client_status(d)["duid"] == duid, "the DUID is the same after a restart"
    assert not d.events(since=seq, type="prefix.lost") and not d.events(since=seq, type="prefix.bound")
    with open(f"{kea.tmp}/kea.log") as f:
        log = f.read()
    assert "DHCP6_RELEASE" not in log, "no RELEASE on restart"

    # the ISP renumbers: a new pool; our RENEW gets the old prefix with lifetimes 0 and a new one
    kea.restart(pool="2001:db8:300::", preferred=300, valid=600, renew=150, rebind=240)
    seq = d.events()[-1]["seq"]
    assert d.post("/v1/commands/renew").status == 200
    ev = wait_event(d, "prefix.changed", since=seq)[0]
    new = ev["data"]["prefixes"][0]["prefix"]
    assert new.startswith("2001:db8:3") and ev["data"]["old_prefixes"][0]["prefix"] == prefix, ev
    assert unreachable(net["root"]) == {new}

    # release: gone here and at Kea; renew: a prefix again
    seq = d.events()[-1]["seq"]
    r = d.post("/v1/commands/release", body={"interface": "wan0"})
    assert r.status == 200, r
    lost = wait_event(d, "prefix.lost", since=seq)[0]
    assert lost["data"]["reason"] == "released" and unreachable(net["root"]) == set()
    assert client_status(d)["state"] == "released"
    assert d.post("/v1/commands/rebind").status == 409, "nothing to rebind"
    assert d.post("/v1/commands/release", body={"interface": "nope0"}).status == 404
    assert d.post("/v1/commands/renew").status == 200
    assert bound_prefix(d).startswith("2001:db8:3")


DHCPD6_CONF = """
default-lease-time 20;
preferred-lifetime 10;
max-lease-time 20;
option dhcp6.name-servers {net}53;
option dhcp6.domain-search "isc.example";
subnet6 {net}/64 {{
  prefix6 2001:db8:200:: 2001:db8:2ff:: /56;
}}
"""


@needs("dhcpd")
def test_against_isc_dhcpd(lab, net):
    """isc-dhcp-server as a second delegating router: bound, renewed, expired when it stops."""
    tmp = lab.mkdtemp("dhcpd6-")
    with open(f"{tmp}/dhcpd6.conf", "w") as f:
        f.write(DHCPD6_CONF.format(net=ISP_NET))
    open(f"{tmp}/leases", "w").close()
    srv = net["isp"].popen(["dhcpd", "-6", "-f", "-d", "-cf", f"{tmp}/dhcpd6.conf", "-lf", f"{tmp}/leases",
                            "-pf", f"{tmp}/pid", "isp0"], stdout=subprocess.DEVNULL,
                           stderr=open(f"{tmp}/log", "w"))
    d = start_dhcp6pd(lab, net["root"], root_config())
    prefix = bound_prefix(d, timeout=30)
    assert prefix.startswith("2001:db8:2") and prefix.endswith("/56"), prefix
    assert unreachable(net["root"]) == {prefix}
    assert client_status(d)["lease"]["domain_search"] == ["isc.example."]
    wait_event(d, "prefix.renewed", timeout=30)
    srv.terminate()
    srv.wait(10)
    wait_event(d, "prefix.lost", timeout=60)
    assert unreachable(net["root"]) == set()
