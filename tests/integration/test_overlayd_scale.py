"""1,000 spokes joining one hub (tests/overlay_load signing real join requests;
their underlay addresses need not exist): every id, VNI and subnet distinct,
all of it on disk before the answers, the kernel reconciled to match, a kill -9
and restart that recreates nothing, and the same keys joining again changing
nothing. ARBOR_OVERLAY_SPOKES sets the count (scripts/test uses fewer; the
benchmark runs the full count)."""
import json
import os
import re

from arborlab import binary, wait_for

COUNT = int(os.environ.get("ARBOR_OVERLAY_SPOKES", "1000"))


def load(ns, tokens_file, count, **kw):
    argv = [binary("tests/overlay_load"), "--hub", "192.0.2.1:4790", "--count", str(count), "--tokens", tokens_file]
    for k, v in kw.items():
        argv += [f"--{k}", str(v)]
    r = ns.exec(argv, check=False, timeout=600)
    result = json.loads(r.stdout)
    return result


def test_many_spokes(lab):
    ns = lab.add_netns("ovscale")
    lab.bridge(ns, "up0")
    ns.exec(["ip", "addr", "add", "192.0.2.1/24", "dev", "up0"])
    ns.exec(["ip", "route", "add", "198.51.100.0/22", "via", "192.0.2.254", "dev", "up0", "onlink"])
    cfg = {"machine": {"name": "hub"}, "overlayd": {"hub": {"listen": "192.0.2.1:4790"}}}
    hub = lab.daemon("overlayd", binary("overlayd/arbor-overlayd"), cfg, netns=ns).start()
    r = hub.post("/v1/commands/enroll", body={"count": COUNT}, timeout=60)
    assert r.status == 200
    tokens = r.json()["tokens"]
    assert len(tokens) == COUNT == len(set(tokens))
    tokens_file = os.path.join(lab.mkdtemp("ovtokens-"), "tokens")
    with open(tokens_file, "w") as f:
        f.write("\n".join(tokens) + "\n")

    result = load(ns, tokens_file, COUNT, concurrency=64)
    assert result["ok"] == COUNT and result["bad_answers"] == 0, result
    print(f"{COUNT} joins: {result['per_second']:.0f}/s")

    listed = hub.get("/v1/spokes", timeout=30).json()["spokes"]
    assert len(listed) == COUNT
    assert sorted(s["id"] for s in listed) == list(range(1, COUNT + 1)), "ids 1..N, none twice"
    assert len({s["vni"] for s in listed}) == COUNT and all(s["vni"] == 4096 + s["id"] for s in listed)
    assert len({s["subnet"] for s in listed}) == COUNT and len({s["hostname"] for s in listed}) == COUNT

    # Persisted: every entry is in the files already (the answers waited for the commits).
    on_disk = hub.state_file("registry.json") + hub.state_file("registry.json.journal")
    assert all(f'"hostname":"{s["hostname"]}"' in on_disk for s in listed)

    # The kernel follows: one VXLAN device per spoke with its VNI and remote, one route each.
    def devices():
        out = ns.exec(["ip", "-d", "-o", "link", "show", "type", "vxlan"]).stdout
        return {m.group(1): (int(m.group(2)), m.group(3)) for m in
                re.finditer(r"^\d+: (ovh\w+): .*? vxlan id (\d+) remote (\S+) local 192\.0\.2\.1 .*?dstport 4789",
                            out, re.M)}
    wait_for(lambda: len(devices()) == COUNT, 60, "every device")
    dev = devices()
    by_id = {s["id"]: s for s in listed}
    assert all(dev[s["device"]] == (s["vni"], s["underlay"]) for s in listed)
    wait_for(lambda: len(ns.exec(["ip", "route", "show", "proto", "165"]).stdout.splitlines()) == COUNT, 60,
             "every route")
    status = hub.status()["overlayd"]
    assert status["kernel"]["conflicts"] == [] and status["hub"]["spokes"] == COUNT

    # kill -9 and restart: nothing recreated, nothing written, all still there.
    index = ns.exec(["ip", "-o", "link", "show", "type", "vxlan"]).stdout
    hub.kill9()
    hub.start(timeout=60)
    k = hub.status()["overlayd"]["kernel"]
    assert k["writes"] == 0, hub.events(type="drift.*")
    assert k["writes"] == 0 and len(hub.get("/v1/spokes", timeout=30).json()["spokes"]) == COUNT
    print(f"reconcile after restart: {k['last_reconcile_ms']} ms")
    assert ns.exec(["ip", "-o", "link", "show", "type", "vxlan"]).stdout == index

    # The same keys again: known, answered, nothing new.
    again = load(ns, tokens_file, COUNT, concurrency=64)
    assert again["ok"] == COUNT, again
    assert hub.status()["overlayd"]["hub"]["spokes"] == COUNT
    k = hub.status()["overlayd"]["kernel"]
    if k["writes"]:
        for e in hub.events(type="drift.*"):
            print(e["seq"], e["time"], e["message"], e["data"])
        print(hub.log())
    assert k["writes"] == 0
    assert by_id[1]["subnet"] == hub.get("/v1/spokes").json()["spokes"][0]["subnet"]
