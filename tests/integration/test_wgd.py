"""arbor-wgd against wireguard-go and wg(8) in network namespaces.

A "laptop" namespace configured only from the wg-quick file wgd exports (the
way wg-quick applies it) reaches the gateway, a host behind it and dnsd
through the tunnel; honest status goes online and offline within its stated
bound; totals survive a restart, a kill -9 and a re-created device; a peer
removed by hand comes back and a stray one goes; the QR codes decode (zbarimg)
to the config text; bad keys, duplicates, an exhausted pool and a device
answering errno != 0 are refused with nothing half-applied. The kernel
backend's live test runs where the kernel has WireGuard.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from arborlab import ROOT, binary, run, wait_for  # noqa: E402
from contract import ContractSuite, DaemonSpec  # noqa: E402
from tools import needs, not_here  # noqa: E402
from wgtools import (apply_wg_quick, parse_wg_quick, qr_svg_to_pgm, qr_utf8_to_pgm, start_wireguard_go,  # noqa: E402
                     unique_ifname, zbar_decode)

MID = "0123456789abcdef0123456789abcdef"
ZERO_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
pytestmark = needs("wireguard-go", "wg", "zbarimg", "dig")


def wgd_config(ifname, port=51820, address="10.200.0.1/24", poll=0.5, **iface):
    i = {"name": ifname, "listen_port": port, "address": address, "backend": "userspace",
         "endpoint": f"192.0.2.1:{port}", "subnet_id": 7, "client_allowed_ips": ["192.168.77.0/24"]}
    i.update(iface)
    return {"machine": {"name": "root", "domain": "home.arpa", "machine_id": MID},
            "wgd": {"interfaces": [i], "poll_interval": poll, "counters_save_interval": 1}}


def topology(lab, tag):
    """gw --inet-- laptop, gw --lan-- host (192.168.77.10)."""
    gw, laptop, host = lab.add_netns(f"{tag}g"), lab.add_netns(f"{tag}l"), lab.add_netns(f"{tag}h")
    lab.veth(gw, "inet0", laptop, "inet1")
    gw.exec(["ip", "addr", "add", "192.0.2.1/24", "dev", "inet0"])
    laptop.exec(["ip", "addr", "add", "192.0.2.2/24", "dev", "inet1"])
    lab.veth(gw, "lan0", host, "eth0")
    gw.exec(["ip", "addr", "add", "192.168.77.1/24", "dev", "lan0"])
    host.exec(["ip", "addr", "add", "192.168.77.10/24", "dev", "eth0"])
    host.exec(["ip", "route", "add", "default", "via", "192.168.77.1"])
    gw.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"])
    return gw, laptop, host


def start_wgd(lab, ns, config, **kw):
    return lab.daemon("wgd", binary("wgd/arbor-wgd"), config, netns=ns, **kw).start()


def ctl(d, *args, check=True):
    r = subprocess.run([binary("ctl/arborctl"), "--runtime-dir", d.runtime_dir] + list(args),
                       capture_output=True, text=True, timeout=30)
    if check:
        assert r.returncode == 0, f"arborctl {' '.join(args)}: {r.returncode} {r.stderr}"
    return r


def peer(d, name):
    r = d.get(f"/v1/peers/{name}")
    assert r.status == 200, r
    return r.json()


def device_peers(ns, ifname):
    return ns.exec(["wg", "show", ifname, "peers"]).stdout.split()


PING = ["ping"] if shutil.which("ping") else ["busybox", "ping"]


def pings(ns, addr, count=1, size=56):
    """True when every echo is answered (-A: the next as soon as one returns)."""
    cmd = PING + ["-6" if ":" in addr else "-4", "-A", "-c", str(count), "-W", "1", "-s", str(size), addr]
    r = ns.exec(cmd, check=False)
    # iputils says "1 received", busybox "1 packets received"
    return r.returncode == 0 and re.search(rf"\b{count} (packets )?received", r.stdout) is not None


# ---- the laptop joins ----

def test_laptop_joins_with_the_exported_config(lab):
    gw, laptop, host = topology(lab, "wj")
    wgif, ltif = unique_ifname("wg"), unique_ifname("lt")
    d = start_wgd(lab, gw, wgd_config(wgif))
    gw6 = d.status()["wgd"]["interfaces"][0]["address6"].split("/")[0]
    dnsd = lab.daemon("dnsd", binary("dnsd/arbor-dnsd"), {
        "machine": {"name": "root", "domain": "home.arpa", "machine_id": MID},
        "dnsd": {"listen": ["10.200.0.1"], "records": [{"name": "nas", "type": "A", "data": "192.168.77.10"}]}},
        netns=gw).start()
    config = ctl(d, "wg", "add", "laptop", "--keepalive", "2").stdout
    conf = parse_wg_quick(config)
    assert conf["interface"]["privatekey"] and conf["interface"]["dns"] == "10.200.0.1"
    assert conf["peers"][0]["endpoint"] == "192.0.2.1:51820"
    assert "192.168.77.0/24" in conf["peers"][0]["allowedips"]
    p = peer(d, "laptop")
    assert "private_key" not in p and p["status"] == {**p["status"], "online": False, "reason": "never seen"}
    laptop_wg = apply_wg_quick(laptop, ltif, config)
    wait_for(lambda: pings(laptop, "10.200.0.1"), 15, "a ping to the gateway through the tunnel")
    assert pings(laptop, "192.168.77.10", 3), "the host behind the gateway answers"
    assert pings(laptop, gw6), "the gateway's derived IPv6 address answers"
    r = laptop.exec(["dig", "@10.200.0.1", "+short", "+time=2", "+tries=2", "nas.home.arpa"])
    assert r.stdout.split() == ["192.168.77.10"], "a lab name resolves through the tunnel"
    wait_for(lambda: peer(d, "laptop")["status"]["online"], 5, "the peer to be online")
    st = peer(d, "laptop")["status"]
    assert st["endpoint"].startswith("192.0.2.2:") and st["last_handshake_age_s"] < 30 and st["rx_bytes"] > 0
    online = d.events(type="peer.online")
    assert online and online[-1]["data"]["name"] == "laptop" and online[-1]["data"]["ipv4"] == "10.200.0.2"
    listing = ctl(d, "wg", "list").stdout
    assert re.search(r"^laptop\s+\S+\s+10\.200\.0\.2\s+online", listing, re.M), listing
    metrics = d.get("/v1/metrics").body.decode()
    assert f'arbor_wgd_peer_online{{interface="{wgif}",peer="laptop"}} 1' in metrics

    # The laptop stops: offline within the stated bound (2 keepalives + a poll).
    bound = peer(d, "laptop")["status"]["offline_after_s"]
    assert bound == 4.5
    laptop_wg.kill()
    t0 = time.monotonic()
    since = d.status()["events"]["last_seq"]
    wait_for(lambda: d.events(since=since, type="peer.offline"), bound + 10, "peer.offline")
    took = time.monotonic() - t0
    ev = d.events(since=since, type="peer.offline")[0]
    assert ev["data"]["reason"] == "stale" and peer(d, "laptop")["status"]["reason"] == "stale"
    # The stated bound from the last packet (at most the kill): 2 K + 3 polls
    # (docs/wgd.md), with 2 s for a loaded machine.
    assert took <= 2 * 2 + 3 * 0.5 + 2.0, f"offline after {took:.1f}s, bound {bound}s"
    dnsd.stop()


# ---- totals ----

def totals(d, name="laptop"):
    s = peer(d, name)["status"]
    return s["rx_bytes"], s["tx_bytes"]


def test_totals_survive_restart_kill_and_recreated_device(lab):
    gw, laptop, _ = topology(lab, "wt")
    wgif, ltif = unique_ifname("wg"), unique_ifname("lt")
    d = start_wgd(lab, gw, wgd_config(wgif))
    config = ctl(d, "wg", "add", "laptop", "--keepalive", "1").stdout
    apply_wg_quick(laptop, ltif, config)
    wait_for(lambda: pings(laptop, "10.200.0.1"), 15, "the tunnel")
    assert pings(laptop, "10.200.0.1", 10, 1000)
    wait_for(lambda: totals(d)[0] > 10 * 1000, 5, "the pings counted")
    t1 = totals(d)

    # A restart (wgd stops its wireguard-go: the device is new afterwards).
    d.stop()
    d.start()
    t2 = totals(d)
    assert t2[0] >= t1[0] and t2[1] >= t1[1], f"totals after a restart {t2} < before {t1}"
    apply_wg_quick(laptop, ltif, config, start=False)  # the laptop reconnects
    wait_for(lambda: pings(laptop, "10.200.0.1"), 15, "the tunnel after the restart")
    assert pings(laptop, "10.200.0.1", 10, 1000)
    wait_for(lambda: totals(d)[0] > t2[0] + 10 * 1000, 5, "new traffic counted on top")
    t3 = totals(d)

    # The device re-created under a running wgd: wireguard-go killed.
    st = d.status()["wgd"]["interfaces"][0]
    since = d.status()["events"]["last_seq"]
    os.kill(st["wireguard_go_pid"], signal.SIGKILL)
    wait_for(lambda: d.events(since=since, type="interface.up"), 15, "the device to come back")
    st2 = d.status()["wgd"]["interfaces"][0]
    assert st2["ifindex"] != st["ifindex"] and st2["restarts"] == 1
    assert device_peers(gw, wgif) == [peer(d, "laptop")["public_key"]], "its peers applied again"
    assert totals(d)[0] >= t3[0]
    apply_wg_quick(laptop, ltif, config, start=False)
    wait_for(lambda: pings(laptop, "10.200.0.1"), 15, "the tunnel after the re-creation")
    assert pings(laptop, "10.200.0.1", 10, 1000)
    wait_for(lambda: totals(d)[0] > t3[0] + 10 * 1000, 5, "counting goes on")
    t4 = totals(d)
    dump = gw.exec(["wg", "show", wgif, "transfer"]).stdout.split()
    assert int(dump[1]) < t4[0], "the device counts since its creation, the totals since the peer's"

    # kill -9: the orphaned wireguard-go is adopted; nothing is counted twice or lost.
    saved_before = d.state_file("counters.json")
    dev_before = gw.exec(["wg", "show", wgif, "dump"]).stdout
    d.kill9()
    assert wait_for(lambda: len(device_peers(gw, wgif)) == 1, 5, "the device still running")
    d.start()
    st3 = d.status()["wgd"]["interfaces"][0]
    assert st3["adopted"] is True and st3["ifindex"] == st2["ifindex"]
    t5 = totals(d)
    assert t5[0] >= t4[0] - 2000 and t5[1] >= t4[1] - 2000, \
        f"at most the last unsaved second: {t4} -> {t5}\n{saved_before}\n{dev_before}\n{gw.exec(['wg', 'show', wgif, 'dump']).stdout}\n{d.log()}"


# ---- the registry is the truth ----

def test_hand_removed_peer_restored_and_stray_removed(lab):
    gw = lab.add_netns("wr")
    wgif = unique_ifname("wg")
    d = start_wgd(lab, gw, wgd_config(wgif))
    assert d.post("/v1/peers", {"name": "site", "allowed_ips": ["192.168.50.0/24"]}).status == 201
    key = peer(d, "site")["public_key"]
    assert "192.168.50.0/24 dev %s proto 87" % wgif in gw.exec(["ip", "route"]).stdout
    since = d.status()["events"]["last_seq"]
    gw.exec(["wg", "set", wgif, "peer", key, "remove"])
    stray = subprocess.run(["wg", "pubkey"], input=subprocess.run(["wg", "genkey"], capture_output=True,
                                                                      text=True).stdout, capture_output=True,
                           text=True).stdout.strip()
    gw.exec(["wg", "set", wgif, "peer", stray, "allowed-ips", "10.9.9.9/32"])
    wait_for(lambda: device_peers(gw, wgif) == [key], 5, "the registry's peers only")
    ev = d.events(since=since, type="device.repaired")
    restored = [n for e in ev for n in e["data"]["restored"]]
    removed = [k for e in ev for k in e["data"]["removed"]]
    assert "site" in restored and stray in removed
    allowed = gw.exec(["wg", "show", wgif, "allowed-ips"]).stdout
    assert "192.168.50.0/24" in allowed and "10.200.0.2/32" in allowed
    # A route removed by hand comes back too.
    gw.exec(["ip", "route", "del", "192.168.50.0/24", "dev", wgif])
    wait_for(lambda: "192.168.50.0/24" in gw.exec(["ip", "route"]).stdout, 5, "the route back")


# ---- names in dnsd ----

def test_dnsd_names_enabled_peers(lab):
    """dnsd publishes <peer>.<interface>.<zone> (A and AAAA) for each enabled
    peer, learned from wgd's contract (the peers view and peer.* events), and
    drops it when the peer is disabled or deleted."""
    gw = lab.add_netns("wn")
    wgif = unique_ifname("wg")
    d = start_wgd(lab, gw, wgd_config(wgif))
    laptop = d.post("/v1/peers", {"name": "laptop"}).json()["peer"]
    dnsd = lab.daemon("dnsd", binary("dnsd/arbor-dnsd"), {
        "machine": {"name": "root", "domain": "home.arpa", "machine_id": MID},
        "dnsd": {"listen": ["127.0.0.1"], "wgd_socket": d.socket, "dhcp4d_socket": ""}}, netns=gw).start()

    def dig(name, rtype="A"):
        return gw.exec(["dig", "@127.0.0.1", "+short", "+time=2", "+tries=2", name, rtype]).stdout.split()
    name = f"laptop.{wgif}.home.arpa"
    wait_for(lambda: dig(name) == ["10.200.0.2"], 5, "laptop's A record from the snapshot")
    assert dig(name, "AAAA") == [laptop["ipv6"]]
    assert d.post("/v1/peers", {"name": "phone"}).status == 201
    wait_for(lambda: dig(f"phone.{wgif}.home.arpa") == ["10.200.0.3"], 5, "a new peer's name (peer.added)")
    assert d.request("PATCH", "/v1/peers/laptop", {"enabled": False}).status == 200
    wait_for(lambda: dig(name) == [], 5, "a disabled peer's name to go")
    assert d.request("PATCH", "/v1/peers/laptop", {"enabled": True}).status == 200
    wait_for(lambda: dig(name) == ["10.200.0.2"], 5, "an enabled peer's name to come back")
    assert d.request("DELETE", "/v1/peers/phone").status == 200
    wait_for(lambda: dig(f"phone.{wgif}.home.arpa") == [], 5, "a deleted peer's name to go")
    # wgd restarts: dnsd sees daemon.started and reads the peers again.
    d.stop()
    d.start()
    assert d.post("/v1/peers", {"name": "tablet"}).status == 201
    wait_for(lambda: dig(f"tablet.{wgif}.home.arpa") == ["10.200.0.3"], 10, "names after wgd restarted")
    assert dig(name) == ["10.200.0.2"]
    feed = dnsd.status()["dnsd"]["peer_feed"]
    assert feed["state"] == "following" and feed["snapshots"] >= 2


# ---- QR ----

def test_qr_decodes_to_the_config(lab):
    gw = lab.add_netns("wq")
    wgif = unique_ifname("wg")
    d = start_wgd(lab, gw, wgd_config(wgif))
    r = d.post("/v1/peers", {"name": "phone", "preshared_key": True})
    assert r.status == 201
    created = r.json()
    assert zbar_decode(qr_utf8_to_pgm(created["qr"])) == created["config"], "the creation QR carries the full config"
    text = d.get("/v1/peers/phone/config").body.decode()
    assert "PresharedKey = " in text and "# PrivateKey = " in text and "\nPrivateKey" not in text
    assert zbar_decode(qr_utf8_to_pgm(d.get("/v1/peers/phone/qr?format=utf8").body.decode())) == text
    svg = d.get("/v1/peers/phone/qr").body.decode()
    assert svg.startswith("<?xml") and zbar_decode(qr_svg_to_pgm(svg)) == text
    printed = ctl(d, "wg", "qr", "phone").stdout
    assert zbar_decode(qr_utf8_to_pgm(printed)) == text, "arborctl wg qr prints a code that scans"
    assert d.get("/v1/peers/phone/qr?format=png").status == 400
    # Exports carry the preshared key: only for those allowed to run commands.
    path = d.runtime_dir
    while path != "/":
        os.chmod(path, os.stat(path).st_mode | 0o011)
        path = os.path.dirname(path)
    os.chmod(d.socket, 0o666)
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-s", "-o", "/dev/null",
                 "-w", "%{http_code}", "--unix-socket", d.socket]
    assert subprocess.run(as_nobody + ["http://localhost/v1/peers/phone/config"], capture_output=True,
                          text=True).stdout == "403"
    assert subprocess.run(as_nobody + ["http://localhost/v1/peers/phone"], capture_output=True,
                          text=True).stdout == "200"


# ---- bad input ----

def registry_file(d):
    try:
        return json.loads(d.state_file("peers.json"))["peers"]
    except FileNotFoundError:
        return []


def test_bad_input_changes_nothing(lab):
    gw = lab.add_netns("wb")
    wgif = unique_ifname("wg")
    d = start_wgd(lab, gw, wgd_config(wgif, address="10.201.0.1/29"))
    cases = [
        ({"name": "a", "public_key": "abc"}, "must be 44 characters"),
        ({"name": "a", "public_key": "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK0!="}, "not valid base64"),
        ({"name": "a", "public_key": ZERO_KEY}, "all-zero"),
        ({"name": "a", "preshared_key": ZERO_KEY}, "all-zero"),
        ({"name": "A"}, "name must be"),
        ({"name": "a", "allowed_ips": ["10.0.0.1/24"]}, "allowed_ips[0]"),
        ({"name": "a", "colour": "red"}, "unknown key"),
        ({"name": "a", "interface": "nope0"}, "no interface nope0"),
    ]
    for body, word in cases:
        r = d.post("/v1/peers", body)
        assert r.status in (400, 404) and word in r.json()["error"]["message"], (body, r)
    assert d.post("/v1/peers", body="{not json").status == 400
    assert d.get("/v1/peers").json()["peers"] == [] and registry_file(d) == [] and device_peers(gw, wgif) == []
    # Five addresses in a /29 (.1 is the gateway): the sixth peer is refused.
    for n in range(5):
        assert d.post("/v1/peers", {"name": f"p{n}"}).status == 201
    r = d.post("/v1/peers", {"name": "p5"})
    assert r.status == 409 and r.json()["error"]["code"] == "pool_exhausted"
    assert "10.201.0.0/29 is exhausted" in r.json()["error"]["message"]
    r = d.post("/v1/peers", {"name": "p1"})
    assert r.status == 409 and "a peer named p1 exists" in r.json()["error"]["message"]
    key = peer(d, "p0")["public_key"]
    r = d.post("/v1/peers", {"name": "other", "public_key": key})
    assert r.status == 409 and "already p0's" in r.json()["error"]["message"]
    assert d.request("PATCH", "/v1/peers/p2", {"allowed_ips": ["10.201.0.0/30"]}).status == 409, "overlaps the subnet"
    assert d.request("PATCH", "/v1/peers/p2", {"allowed_ips": ["192.168.50.0/24"]}).status == 200
    r = d.request("PATCH", "/v1/peers/p3", {"allowed_ips": ["192.168.50.128/25"]})
    assert r.status == 409 and "of peer p2" in r.json()["error"]["message"]
    assert d.request("PATCH", "/v1/peers/nobody", {"enabled": False}).status == 404
    assert d.request("DELETE", "/v1/peers/nobody").status == 404
    assert d.request("PUT", "/v1/peers/p1").status == 405
    assert len(registry_file(d)) == 5 and len(device_peers(gw, wgif)) == 5
    assert ctl(d, "wg", "add", "p6", check=False).returncode == 1
    # A prefix behind a peer that a LAN of the gateway already routes: refused,
    # the LAN's route untouched, the peer off the device again.
    lab.bridge(gw, "lanx")
    gw.exec(["ip", "addr", "add", "192.168.90.1/24", "dev", "lanx"])
    r = d.request("PATCH", "/v1/peers/p4", {"allowed_ips": ["192.168.90.0/24"]})
    assert r.status == 502 and "not wgd's" in r.json()["error"]["message"], r
    assert "192.168.90.0/24 dev lanx" in gw.exec(["ip", "route"]).stdout
    assert "192.168.90.0/24" not in gw.exec(["wg", "show", wgif, "allowed-ips"]).stdout
    assert peer(d, "p4")["allowed_ips"] == []


def test_device_refusing_a_change_leaves_nothing_half_applied(lab):
    """A UAPI device that answers errno=-22 half-way through a set (after it
    created the peer, at its first allowed_ip line, as wireguard-go applies
    lines): the API says so, the registry is unchanged and the device is put
    back as it was."""
    gw = lab.add_netns("wf")
    wgif = unique_ifname("wf")
    lab.bridge(gw, wgif)  # the fake's "device"
    state = os.path.join(lab.mkdtemp("fake-"), "state.json")
    fake = gw.popen([sys.executable, os.path.join(ROOT, "tests", "lib", "fake_uapi.py"), wgif,
                     "--fail-on", "allowed_ip", "--state", state], stdout=subprocess.PIPE, text=True)
    assert fake.stdout.readline().strip() == "ready"
    d = start_wgd(lab, gw, wgd_config(wgif))
    assert d.status()["wgd"]["interfaces"][0]["adopted"] is True
    r = d.post("/v1/peers", {"name": "laptop"})
    assert r.status == 502 and r.json()["error"]["code"] == "device_refused"
    assert "errno=-22" in r.json()["error"]["message"]
    with open(state) as f:
        assert json.load(f)["peers"] == {}, "the half-created peer was removed again"
    assert d.get("/v1/peers").json()["peers"] == [] and registry_file(d) == []


def test_port_in_use_is_a_clear_start_error(lab):
    gw = lab.add_netns("wp")
    wgif = unique_ifname("wg")
    blocker = gw.popen([sys.executable, "-c", "import socket,sys,time\ns=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n"
                        "s.bind(('::',51999));print('ready',flush=True);time.sleep(600)"], stdout=subprocess.PIPE, text=True)
    assert blocker.stdout.readline().strip() == "ready"
    d = lab.daemon("wgd", binary("wgd/arbor-wgd"), wgd_config(wgif, port=51999), netns=gw)
    d.start(wait=False)
    assert d.wait_exit(20) == 1
    assert "errno=-98" in d.log() and "Address already in use" in d.log()
    wait_for(lambda: not os.path.exists(f"/run/wireguard/{wgif}.sock"), 5, "no wireguard-go left")


def test_bad_config_exits_2_naming_the_key(lab):
    wgif = unique_ifname("wg")
    for iface, word in (({"backend": "magic"}, "backend"), ({"address": "10.0.0.0/24"}, "address"),
                        ({"endpoint": "no-port"}, "endpoint"), ({"mtu": 100}, "mtu")):
        d = lab.daemon("wgd", binary("wgd/arbor-wgd"), wgd_config(wgif, **iface))
        r = subprocess.run(d.argv(), capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and f"wgd.interfaces[0].{word}" in r.stderr, r.stderr


# ---- the rest of the API ----

def test_rotate_key_disable_expire_and_reload(lab):
    gw = lab.add_netns("wk")
    wgif = unique_ifname("wg")
    d = start_wgd(lab, gw, wgd_config(wgif))
    assert d.post("/v1/peers", {"name": "laptop"}).status == 201
    old = d.status()["wgd"]["interfaces"][0]["public_key"]
    assert gw.exec(["wg", "show", wgif, "public-key"]).stdout.strip() == old
    keyfile = os.path.join(d.state_dir, f"{wgif}.key")
    with open(keyfile) as f:
        private = f.read().strip()
    assert os.stat(keyfile).st_mode & 0o777 == 0o600 and len(private) == 44
    assert private not in d.log() and private not in json.dumps(d.status()), "the private key is never shown"
    assert subprocess.run(["wg", "pubkey"], input=private + "\n", capture_output=True, text=True).stdout.strip() == old
    out = ctl(d, "wg", "rotate-key").stdout
    new = d.status()["wgd"]["interfaces"][0]["public_key"]
    assert new != old and new in out and gw.exec(["wg", "show", wgif, "public-key"]).stdout.strip() == new
    ev = d.events(type="key.rotated")[-1]
    assert ev["data"]["stale_exports"] == 1 and ev["data"]["public_key"] == new
    assert peer(d, "laptop")["export_stale"] is True
    assert f"PublicKey = {new}" in d.get("/v1/peers/laptop/config").body.decode()
    assert peer(d, "laptop")["export_stale"] is False, "exported again"

    # Disable and enable: off the device and back, with events.
    r = d.request("PATCH", "/v1/peers/laptop", {"enabled": False})
    assert r.status == 200 and r.json()["status"]["reason"] == "disabled" and device_peers(gw, wgif) == []
    assert d.events(type="peer.updated")[-1]["data"]["enabled"] is False
    assert ctl(d, "wg", "set", "laptop", "--enable").returncode == 0 and len(device_peers(gw, wgif)) == 1
    # Expiry: off the device once the time has come.
    r = d.post("/v1/peers", {"name": "guest", "expires": int(time.time()) + 2})
    assert r.status == 201 and len(device_peers(gw, wgif)) == 2
    wait_for(lambda: len(device_peers(gw, wgif)) == 1, 6, "the expired peer to leave the device")
    assert peer(d, "guest")["status"]["reason"] == "expired"
    wait_for(lambda: d.events(type="peer.expired"), 3, "peer.expired")
    assert ctl(d, "wg", "del", "guest").returncode == 0
    assert d.events(type="peer.removed")[-1]["data"]["name"] == "guest"

    # Reload: an interface with peers cannot go; a new one comes up.
    wg2 = unique_ifname("wg")
    two = wgd_config(wgif)
    two["wgd"]["interfaces"] = []
    d.write_config(two)
    r = d.post("/v1/commands/reload")
    assert r.status == 409 and "still has peers" in r.json()["message"]
    cfg = wgd_config(wgif)
    cfg["wgd"]["interfaces"].append(dict(cfg["wgd"]["interfaces"][0], name=wg2, listen_port=51821,
                                         address="10.202.0.1/24", subnet_id=8))
    d.write_config(cfg)
    assert d.post("/v1/commands/reload").status == 200
    wait_for(lambda: len(d.status()["wgd"]["interfaces"]) == 2 and d.status()["wgd"]["interfaces"][1]["up"], 5,
             "the second interface")
    assert "10.202.0.1/24" in gw.exec(["ip", "addr", "show", wg2]).stdout
    assert d.post("/v1/peers", {"name": "b", "interface": wg2}).json()["peer"]["ipv4"] == "10.202.0.2"


def test_subnet_id_from_the_machine_table(lab):
    """Without subnet_id the interface is numbered in the machine's subnet
    table (shared with dnsd): a virtual interface, first come first served."""
    gw = lab.add_netns("ws")
    wgif = unique_ifname("wg")
    table = lab.mkdtemp("subnets-")
    with open(os.path.join(table, "subnets6.json"), "w") as f:
        json.dump({"version": 1, "subnets": {"eth0": 1, "br-lab": 2}}, f)
    cfg = wgd_config(wgif)
    del cfg["wgd"]["interfaces"][0]["subnet_id"]
    cfg["machine"]["subnets6_dir"] = table
    d = start_wgd(lab, gw, cfg)
    st = d.status()["wgd"]["interfaces"][0]
    assert st["subnet_id"] == 3
    with open(os.path.join(table, "subnets6.json")) as f:
        assert json.load(f)["subnets"][wgif] == 3
    want = ctl(d, "addr", "--machine-id", MID, "--subnet-id", "3", "--host", MID).stdout
    assert f"address {st['address6'].split('/')[0]}" in want
    p = d.post("/v1/peers", {"name": "laptop"}).json()["peer"]
    want = ctl(d, "addr", "--machine-id", MID, "--subnet-id", "3", "--host", "laptop").stdout
    assert f"address {p['ipv6']}" in want, "a peer's IPv6 address is derived from its name"


def test_kernel_backend_live(lab):
    ns = lab.add_netns("wkl")
    probe = ns.exec(["ip", "link", "add", "wgprobe", "type", "wireguard"], check=False)
    if probe.returncode != 0:
        not_here("this kernel has no WireGuard module (`ip link add type wireguard`: "
                 f"{probe.stderr.strip()}); the kernel backend's messages are tested against wg(8) in "
                 "test_wgd_genl.py and unit/test_wgd_genl_wire.c")
    ns.exec(["ip", "link", "del", "wgprobe"])
    d = start_wgd(lab, ns, wgd_config("wgk0", backend="kernel"))
    assert d.status()["wgd"]["interfaces"][0]["backend"] == "kernel"
    assert d.post("/v1/peers", {"name": "laptop", "allowed_ips": ["192.168.50.0/24"]}).status == 201
    assert device_peers(ns, "wgk0") == [peer(d, "laptop")["public_key"]]


# ---- the contract ----

class TestWgdContract(ContractSuite):
    @pytest.fixture
    def spec(self, lab):
        wgif = unique_ifname("wc")

        def netns(lab_):
            return lab_.add_netns("wc")

        def durable_change(d):
            r = d.post("/v1/peers", {"name": "durable"})
            assert r.status == 201
            return r.json()["peer"]["public_key"]

        def durable_check(d, key):
            assert peer(d, "durable")["public_key"] == key

        return DaemonSpec(name="wgd", binary=binary("wgd/arbor-wgd"), config=wgd_config(wgif),
                          state_file="peers.json", durable_change=durable_change, durable_check=durable_check,
                          netns=netns)
