"""arbor-overlayd in network namespaces: a hub and three spokes on one underlay
switch, containers on the spokes reaching each other and the hub, tcpdump
reading the VNI off the wire, MTUs as computed, a 50 MB TCP transfer; kill -9
and restart renumbering nothing and recreating nothing; drift repaired; forged,
replayed and unknown requests and a stolen hostname refused with nothing
changed; the contract suite."""
import json
import os
import signal
import subprocess
import time

import pytest

from arborlab import binary, wait_for
from contract import ContractSuite, DaemonSpec
from overlay import Overlay, link_index, ping, sniff, tcp_transfer, vxlan_details


def spokes(hub):
    return {s["hostname"]: s for s in hub.get("/v1/spokes").json()["spokes"]}


@pytest.fixture
def overlay(lab):
    ov = Overlay(lab, nspokes=3, spoke_mtu={3: 9000}).start()
    for i in (1, 2, 3):
        a = ov.assignment(i)
        host = a["subnet"].split("/")[0].rsplit(".", 1)[0] + ".10"
        ov.add_container(i, host)
    return ov


def container_ip(ov, i):
    return ov.assignment(i)["subnet"].split("/")[0].rsplit(".", 1)[0] + ".10"


def test_hub_and_three_spokes(lab, overlay):
    ov = overlay
    hub_spokes = spokes(ov.hub)
    assert sorted(hub_spokes) == ["s1", "s2", "s3"]
    ids = {s["id"] for s in hub_spokes.values()}
    vnis = {s["vni"] for s in hub_spokes.values()}
    assert ids == {1, 2, 3} and vnis == {4097, 4098, 4099}, "VNI = 4096 + id"
    assert len({s["subnet"] for s in hub_spokes.values()}) == 3

    # The hub's devices: VNI, port 4789 set explicitly (read back), nolearning, local, remote, MTU.
    for name, s in hub_spokes.items():
        out = ov.hub_ns.exec(["ip", "-d", "link", "show", s["device"]]).stdout
        assert f"vxlan id {s['vni']} remote {s['underlay']} local 192.0.2.1" in out and "dstport 4789" in out
        assert "nolearning" in out
        vni, port, mtu = vxlan_details(ov.hub_ns, s["device"])
        # The underlay route to spoke 3 leaves by a 1500-byte link too (the hub's).
        assert mtu == 1450
        route = ov.hub_ns.exec(["ip", "route", "show", s["subnet"]]).stdout
        assert f"dev {s['device']} proto 165" in route
    for i, ns in enumerate(ov.spoke_ns, 1):
        a = ov.assignment(i)
        vni, port, mtu = vxlan_details(ns, "ovl0")
        assert vni == a["vni"] and port == 4789
        # Spoke 3's underlay is a 9000-byte link: 9000 - 50.
        assert mtu == (8950 if i == 3 else 1450)
        out = ns.exec(["ip", "-d", "link", "show", "ovl0"]).stdout
        assert "remote 192.0.2.1 local 192.0.2.1" in out.replace(f"local 192.0.2.{10 + i}", "local 192.0.2.1")
        assert "nolearning" in out and "master ovbr0" in out
        assert a["gateway"] in ns.exec(["ip", "-o", "addr", "show", "ovbr0"]).stdout

    c1, c2, c3 = ov.containers
    assert ping(c1, container_ip(ov, 2)), "container on s1 reaches the one on s2"
    assert ping(c2, container_ip(ov, 3)), "s2 to s3 (a jumbo underlay)"
    assert ping(c1, "10.128.0.1"), "and the hub"
    assert ping(ov.hub_ns, container_ip(ov, 3)), "the hub reaches the containers"

    # tcpdump on the hub's underlay: UDP 4789 carrying spoke 1's VNI.
    dump = sniff(ov.hub_ns, "up0", 2, "udp", "port", "4789", "and", "src", "host", "192.0.2.11")
    c1.exec(["busybox", "ping", "-c", "3", "-W", "1", "10.128.0.1"], check=False)
    out, err = dump.communicate(timeout=15)
    vni1 = hub_spokes["s1"]["vni"]
    assert "192.0.2.11" in out and f"VXLAN, flags [I] (0x08), vni {vni1}" in out, out + err

    # 50 MB over TCP from the container on s1 to the one on s2, through the hub.
    ok, took = tcp_transfer(lab, c1, c2, container_ip(ov, 2), 50 * 1024 * 1024)
    assert ok, "50 MB arrived whole"
    print(f"50 MB in {took:.2f} s")


def test_kill9_restart_renumbers_and_recreates_nothing(lab, overlay):
    ov = overlay
    before = spokes(ov.hub)
    index = {n: link_index(ov.hub_ns, s["device"]) for n, s in before.items()}
    writes = ov.hub.status()["overlayd"]["kernel"]["writes"]
    assert writes > 0
    ov.hub.kill9()
    ov.hub.start()
    after = spokes(ov.hub)
    assert {n: (s["id"], s["vni"], s["subnet"]) for n, s in after.items()} == \
        {n: (s["id"], s["vni"], s["subnet"]) for n, s in before.items()}
    assert {n: link_index(ov.hub_ns, s["device"]) for n, s in after.items()} == index, "no device recreated"
    k = ov.hub.status()["overlayd"]["kernel"]
    assert k["writes"] == 0 and k["reconciles"] >= 1, "a restart with nothing changed writes nothing"
    assert ping(ov.containers[0], container_ip(ov, 2)), "traffic resumes"
    wait_for(lambda: ov.hub.status()["overlayd"]["hub"]["up"] == 3, 10, "heartbeats to mark every spoke up")
    # A spoke killed and restarted: same assignment, nothing recreated on its side.
    s1_index = link_index(ov.spoke_ns[0], "ovl0")
    ov.spokes[0].kill9()
    ov.spokes[0].start()
    assert ov.spokes[0].status()["overlayd"]["spoke"]["assignment"]["id"] == before["s1"]["id"]
    assert link_index(ov.spoke_ns[0], "ovl0") == s1_index
    assert ov.spokes[0].status()["overlayd"]["kernel"]["writes"] == 0


def test_deleted_device_is_back_within_a_second(lab, overlay):
    ov = overlay
    s2 = spokes(ov.hub)["s2"]
    last = ov.hub.status()["events"]["last_seq"]
    ov.hub_ns.exec(["ip", "link", "del", s2["device"]])
    t0 = time.monotonic()
    wait_for(lambda: link_index(ov.hub_ns, s2["device"]), 1.0, "the device to come back")
    print(f"back after {time.monotonic() - t0:.3f} s")
    ev = wait_for(lambda: ov.hub.events(since=last, type="drift.repaired"), 2, "drift.repaired")
    assert ev[0]["data"]["links_created"] == 1 and ev[0]["data"]["routes"] == 1
    assert s2["subnet"] in ov.hub_ns.exec(["ip", "route", "show", "dev", s2["device"]]).stdout
    assert ping(ov.containers[0], container_ip(ov, 2))
    # A route of ours deleted by hand, and a device set down: both repaired.
    last = ov.hub.status()["events"]["last_seq"]
    ov.hub_ns.exec(["ip", "route", "del", spokes(ov.hub)["s1"]["subnet"]])
    ov.hub_ns.exec(["ip", "link", "set", spokes(ov.hub)["s3"]["device"], "down"])
    wait_for(lambda: spokes(ov.hub)["s1"]["subnet"] in ov.hub_ns.exec(["ip", "route"]).stdout
             and "UP" in ov.hub_ns.exec(["ip", "-o", "link", "show", spokes(ov.hub)["s3"]["device"]]).stdout,
             1.0, "the route and the link state to be repaired")
    wait_for(lambda: ov.hub.events(since=last, type="drift.repaired"), 2, "drift.repaired")
    # Someone else's device and route are never touched.
    ov.hub_ns.exec(["ip", "link", "add", "vxother", "type", "vxlan", "id", "77", "dstport", "4789", "local", "192.0.2.1"])
    ov.hub_ns.exec(["ip", "route", "add", "10.128.200.0/24", "dev", "up0"])
    ov.hub.post("/v1/commands/renew")
    assert link_index(ov.hub_ns, "vxother") and "10.128.200.0/24" in ov.hub_ns.exec(["ip", "route"]).stdout


def snapshot(ov):
    entries = {n: (s["id"], s["vni"], s["subnet"], s["underlay"], s["key"]) for n, s in spokes(ov.hub).items()}
    journal = [l for l in ov.hub.state_file("registry.json.journal").splitlines() if '"spoke"' in l]
    return entries, ov.hub.state_file("registry.json"), journal, ov.hub_ns.exec(["ip", "-o", "link"]).stdout


def run_client(ns, code):
    """Runs SpokeClient code in a namespace (the hub listens on the underlay);
    the code prints one JSON line."""
    lib = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")
    script = f"import json, sys, time\nsys.path.insert(0, {lib!r})\nfrom overlay import *\n" + code
    r = ns.exec(["/usr/bin/python3", "-c", script])
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_refusals_change_nothing(lab, overlay):
    ov = overlay
    last = ov.hub.status()["events"]["last_seq"]
    before = snapshot(ov)
    fp = ov.hub.status()["overlayd"]["hub"]["fingerprint"].split(":", 1)[1]
    client = ov.spoke_ns[0]
    results = run_client(client, f"""
fp = unb64({fp!r})
out = {{}}
m = SpokeClient("192.0.2.1", 4790, "s9", "192.0.2.99", hub_fp=fp)
o = SpokeClient("192.0.2.1", 4790, "s9", "192.0.2.99", hub_fp=fp)
out["forged"] = m.post("/v1/join", m.envelope(m.payload(), key=o.key))[0]
out["unknown"] = m.post("/v1/join", m.envelope(m.payload()))[0]
out["unknown_heartbeat"] = m.post("/v1/heartbeat", m.envelope(m.payload("heartbeat")))[0]
out["stale"] = m.post("/v1/join", m.envelope(m.payload(ts_ms=int(time.time() * 1000) - 600000)))[0]
wrong = SpokeClient("192.0.2.1", 4790, "s9", "192.0.2.99", hub_fp=bytes(32))
out["other_hub"] = wrong.post("/v1/join", wrong.envelope(wrong.payload()))[0]
out["garbage"] = m.post("/v1/join", "{{not json")[0]
print(json.dumps(out))
""")
    assert results == {"forged": 401, "unknown": 401, "unknown_heartbeat": 401, "stale": 401, "other_hub": 401,
                       "garbage": 400}, results

    # A replay: s1's own signed heartbeat (made with its key), captured and sent again.
    key_file = os.path.join(ov.spokes[0].state_dir, "spoke.key")
    replay = run_client(client, f"""
seed = unb64(json.load(open({key_file!r}))["seed"])
c = SpokeClient("192.0.2.1", 4790, "s1", "192.0.2.11", hub_fp=unb64({fp!r}), seed=seed)
body = c.envelope(c.payload("heartbeat"))
print(json.dumps({{"first": c.post("/v1/heartbeat", body)[0], "again": c.post("/v1/heartbeat", body)[0]}}))
""")
    assert replay == {"first": 200, "again": 401}, replay

    # A second spoke claiming s1's hostname, with a valid token: refused, and it says why.
    token = ov.enroll()
    thief_ns = lab.add_netns("ovthief")
    ov._plug(thief_ns, "thief", "192.0.2.50/24")
    thief = lab.daemon("overlayd", binary("overlayd/arbor-overlayd"),
                       {"machine": {"name": "s1"}, "overlayd": {"spoke": {"hub": "192.0.2.1:4790", "token": token}}},
                       netns=thief_ns).start()
    wait_for(lambda: thief.status()["overlayd"]["spoke"]["state"] == "refused", 10, "the thief to be refused")
    assert "hostname s1 belongs to spoke" in thief.status()["overlayd"]["spoke"]["last_error"]
    assert thief.get("/v1/healthz").status == 503
    assert "ovl0" not in thief_ns.exec(["ip", "-o", "link"]).stdout

    reasons = [e["data"]["reason"] for e in ov.hub.events(since=last, type="spoke.refused")]
    for why in ("bad signature", "unknown key", "nonce already used", "timestamp", "belongs to spoke",
                "another hub"):
        assert any(why in r for r in reasons), (why, reasons)
    after = snapshot(ov)
    assert after[0] == before[0], "every entry as it was"
    assert after[1] == before[1] and after[2] == before[2], "no record of a refused join on disk"
    assert after[3] == before[3], "no device created or removed"


@pytest.fixture
def spec():
    def netns(lab):
        ns = lab.add_netns("ovct")
        return ns

    def durable_change(d):
        r = d.post("/v1/commands/enroll", body={"hostname": "later"})
        assert r.status == 200
        return r.json()["token_id"]

    def durable_check(d, token_id):
        assert d.status()["overlayd"]["hub"]["tokens"] == 1
        assert token_id in d.state_file("registry.json") + d.state_file("registry.json.journal")

    cfg = {"machine": {"name": "ct"}, "overlayd": {"hub": {"listen": "127.0.0.1:4790"}}}
    return DaemonSpec(name="overlayd", binary=binary("overlayd/arbor-overlayd"), config=cfg,
                      state_file="registry.json", durable_change=durable_change, durable_check=durable_check,
                      netns=netns)


class TestOverlaydContract(ContractSuite):
    pass


def test_bad_config_names_the_key(lab):
    cases = [
        ({"hub": {}}, "overlayd.hub.listen: required"),
        ({"hub": {"listen": "0.0.0.0:4790"}}, "overlayd.hub.underlay: required when listen is a wildcard"),
        ({"hub": {"listen": "192.0.2.1", "network": "10.0.0.1/8"}}, "overlayd.hub.network"),
        ({"hub": {"listen": "192.0.2.1", "subnet_length": 8, "network": "10.0.0.0/16"}}, "overlayd.hub.subnet_length"),
        ({"hub": {"listen": "192.0.2.1", "device_prefix": "a-very-long-prefix"}}, "overlayd.hub.device_prefix"),
        ({"spoke": {"hub": "192.0.2.1", "token": "nope"}}, "overlayd.spoke.token"),
        ({"spoke": {}}, "overlayd.spoke.hub: required"),
        ({"registry": {"backend": "zookeeper"}}, "overlayd.registry.backend"),
        ({"shims": [{"parent": "eth0", "name": "shim0", "address": "192.168.1.250"}]}, "overlayd.shims[0].address"),
        ({"hub": {"listen": "192.0.2.1", "colour": "red"}}, "overlayd.hub.colour: unknown key"),
    ]
    for section, message in cases:
        d = lab.daemon("overlayd", binary("overlayd/arbor-overlayd"), {"machine": {"name": "x"}, "overlayd": section})
        r = subprocess.run(d.argv(), capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and message in r.stderr and d.config_path in r.stderr, (section, r.stderr)


def arborctl(d, *args):
    return subprocess.run([binary("ctl/arborctl"), "--runtime-dir", d.runtime_dir] + list(args), capture_output=True,
                          text=True, timeout=30)


def test_arborctl_enroll_spokes_forget(lab, overlay):
    ov = overlay
    r = arborctl(ov.hub, "overlay", "enroll", "newhost", "--ttl", "60")
    assert r.returncode == 0 and r.stdout.startswith("arbor-ovl1.") and "newhost" in r.stderr
    r = arborctl(ov.hub, "overlay", "spokes")
    assert r.returncode == 0 and all(f" s{i} " in r.stdout for i in (1, 2, 3)) and "up" in r.stdout
    s3 = spokes(ov.hub)["s3"]
    # A spoke that stops heartbeating is down after down_after (3 s with a 1 s heartbeat).
    last = ov.hub.status()["events"]["last_seq"]
    ov.spokes[2].proc.send_signal(signal.SIGSTOP)
    down = wait_for(lambda: ov.hub.events(since=last, type="spoke.down"), 6, "spoke.down")
    assert down[0]["subject"] == "s3" and spokes(ov.hub)["s3"]["state"] == "down"
    ov.spokes[2].proc.send_signal(signal.SIGCONT)
    wait_for(lambda: ov.hub.events(since=down[0]["seq"], type="spoke.up"), 6, "spoke.up again")
    last = ov.hub.status()["events"]["last_seq"]
    r = arborctl(ov.hub, "overlay", "forget", "s3")
    assert r.returncode == 0, r.stderr
    assert "s3" not in spokes(ov.hub)
    ev = ov.hub.events(since=last, type="spoke.forgotten")
    assert ev and ev[0]["data"]["subnet"] == s3["subnet"]
    wait_for(lambda: link_index(ov.hub_ns, s3["device"]) is None, 2, "its device to go")
    assert s3["subnet"] not in ov.hub_ns.exec(["ip", "route"]).stdout
    # The forgotten spoke's next heartbeat is refused: it says so and fails its health.
    wait_for(lambda: ov.spokes[2].status()["overlayd"]["spoke"]["state"] == "refused", 10, "s3 to learn it")
    assert "unknown key" in ov.spokes[2].status()["overlayd"]["spoke"]["last_error"]
    assert arborctl(ov.hub, "overlay", "forget", "s3").returncode == 1
    assert arborctl(ov.hub, "overlay", "frobnicate").returncode == 2
