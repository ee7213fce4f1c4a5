"""Power loss, not kill -9: the daemons run on powerfs (tests/tools/powerfs),
which keeps nothing that was not synced when the power is cut. dhcp4d under
perfdhcp load loses no acknowledged lease over several cuts, and the same run
without fsync (the control) does; a full disk and a failed fdatasync in the
middle of the load lose nothing either."""
import json
import os
import uuid

import pytest

from arborlab import binary, wait_for
from contract import FollowStream
from powerfs import PowerFS
from powerloss import Dhcp4dCampaign

CUTS = int(os.environ.get("ARBOR_POWERLOSS_CUTS", "8"))


def test_dhcp4d_power_cuts_lose_no_acknowledged_lease(lab):
    c = Dhcp4dCampaign(lab, seed=CUTS)
    fig = c.run(CUTS)
    print(fig.line(c))
    assert fig.cuts == CUTS and len(c.acked) >= CUTS, fig.line(c)
    assert fig.losses == 0 and fig.doubles == 0 and fig.torn_files == 0, f"{fig.line(c)}: {fig.examples}"


def test_dhcp4d_control_without_fdatasync_loses_leases(lab):
    """The same campaign with fdatasync turned into a no-op (state files keep
    their fsync): if this found nothing, the campaign could not find anything
    either."""
    c = Dhcp4dCampaign(lab, seed=3, control=True)
    fig = c.run(2)
    print(fig.line(c))
    assert fig.losses > 0, f"without fsync acknowledged leases must be lost: {fig.line(c)}"


def journal_fault(command, counter):
    """A fault on the lease journal under load, then 100 more ACKs, then the
    power cut; what the clients were acknowledged must all come back."""
    def during(c, acks):
        c.disk.command(command)
        wait_for(lambda: c.disk.counters()[counter] >= 1, 30, f"the fault ({command}) to happen")
        wait_for(lambda: "could not be written" in str(c.daemon.get("/v1/healthz").json()), 10,
                 "dhcp4d to report the failed commit")
        c.disk.command("full off")
        seen = acks()
        wait_for(lambda: acks() >= seen + 100, 60, "100 more DHCPACKs after the fault")
    return during


def test_dhcp4d_short_write_on_a_full_disk_loses_nothing(lab):
    """The disk fills in the middle of a journal batch: a fragment of it is on
    disk. Written behind that fragment, every later record would be lost at
    replay; cut back first, none is."""
    c = Dhcp4dCampaign(lab, seed=11)
    c.cut_once(during=journal_fault("full 50 leases.json.journal", "enospc"))
    fig = c.run(0)
    assert fig.losses == 0 and fig.doubles == 0 and fig.torn_files == 0, f"{fig.line(c)}: {fig.examples}"
    assert fig.acks >= 100


def test_dhcp4d_failed_fdatasync_loses_nothing(lab):
    """A journal fdatasync fails as Linux fails it: the batch never reaches the
    disk and a later fdatasync succeeds anyway, leaving a hole before every
    later record. dhcp4d must rewrite its state from memory instead of going on
    appending to that file."""
    c = Dhcp4dCampaign(lab, seed=12)
    c.cut_once(during=journal_fault("fail-sync 1 leases.json.journal", "failed_syncs"))
    fig = c.run(0)
    assert fig.losses == 0 and fig.doubles == 0 and fig.torn_files == 0, f"{fig.line(c)}: {fig.examples}"
    assert fig.acks >= 100


# ---- the other state files: one cut and a restart each ----

def cut_and_restart(disk, d, torn=None, reboot=None):
    """Power cut under the running daemon, the machine down, a reboot on what
    the disk kept (reboot(): what else a reboot changes, such as the boot id);
    returns the disk's files (read while unmounted)."""
    disk.cut(torn)
    d.kill9()
    disk.unmount()
    files = {}
    for name in os.listdir(disk.backing):
        with open(disk.disk_path(name), "rb") as f:
            files[name] = f.read()
    if reboot:
        reboot()
    disk.mount()
    d.start()
    return files


def test_healthd_state_survives_a_power_cut(lab):
    flag = os.path.join(lab.mkdtemp("flag-"), "up")
    check = {"name": "flag", "kind": "exec", "command": ["/bin/sh", "-c", f"test -e {flag}"],
             "interval": 0.2, "timeout": 0.2, "rise": 1, "fall": 1}
    d = lab.daemon("healthd", binary("healthd/arbor-healthd"),
                   {"machine": {"name": "hd"}, "healthd": {"checks": [check]}})
    disk = PowerFS(lab, d.state_dir)
    d.start()
    wait_for(lambda: d.events(type="check.failing"), 10, "check.failing")
    open(flag, "w").close()
    passing = wait_for(lambda: d.events(type="check.passing"), 10, "check.passing")[-1]
    since = d.get("/v1/checks?name=flag").json()["checks"][0]["since"]
    files = cut_and_restart(disk, d)  # right after the event: what it announced is on disk
    saved = json.loads(files["state.json"])
    assert [(c["name"], c["state"]) for c in saved["checks"]] == [("flag", "passing")]
    c = d.get("/v1/checks?name=flag").json()["checks"][0]
    assert c["state"] == "passing" and c["since"] == since
    wait_for(lambda: d.get("/v1/checks?name=flag").json()["checks"][0]["runs"] >= 2, 10, "two runs after restart")
    again = [e for e in d.events(type="check.passing") if e["seq"] > passing["seq"]]
    assert not again, "a restored state is not announced (nor its actions run) again"


def test_dhcp4d_client_lease_file_survives_a_power_cut(lab):
    srv = lab.add_netns("plcs")
    cli = lab.add_netns("plcc")
    lab.veth(srv, "srv0", cli, "cli0")
    srv.exec(["ip", "addr", "add", "10.78.0.1/24", "dev", "srv0"])
    server = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"),
                        {"machine": {"name": "s"}, "dhcp4d": {"servers": [
                            {"interface": "srv0", "subnet": "10.78.0.0/24",
                             "pools": [{"start": "10.78.0.100", "end": "10.78.0.199"}], "lease_time": 600}]}},
                        netns=srv).start()
    d = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"),
                   {"machine": {"name": "c"}, "dhcp4d": {"clients": [{"interface": "cli0"}]}}, netns=cli)
    disk = PowerFS(lab, d.state_dir)
    d.start()
    bound = wait_for(lambda: d.events(type="lease.bound"), 20, "the client's lease")[-1]["data"]["address"]
    files = cut_and_restart(disk, d)
    assert json.loads(files["client-cli0.json"])["lease"]["address"] == bound
    wait_for(lambda: d.events(type="lease.bound"), 20, "the lease again after the reboot")
    assert d.status()["dhcp4d"]["clients"][0]["lease"]["address"] == bound
    wait_for(lambda: server.events(type="lease.renewed"), 10, "INIT-REBOOT: the server renews, not a new lease")


def test_dhcp4d_subnets_json_survives_a_power_cut(lab):
    ns = lab.add_netns("plsa")
    lab.bridge(ns, "srv0")
    cfg = {"machine": {"name": "auto"}, "dhcp4d": {"servers": [{"interface": "srv0", "subnet": "auto",
                                                                 "prefix_length": 24}]}}
    d = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), cfg, netns=ns)
    disk = PowerFS(lab, d.state_dir)
    d.start()
    subnet = d.status()["dhcp4d"]["servers"][0]["subnet"]
    files = cut_and_restart(disk, d)
    saved = json.loads(files["subnets.json"])
    assert [(a["key"], a["prefix"]) for a in saved["allocations"]] == [("srv0", subnet)]
    # Lost, the allocation would be made again around the address it put on
    # srv0, which the machine now "uses": another subnet.
    assert d.status()["dhcp4d"]["servers"][0]["subnet"] == subnet


def test_dnsd_subnet_ids_survive_a_power_cut(lab):
    ns = lab.add_netns("plds")
    cfg = {"machine": {"name": "root", "domain": "home.arpa", "machine_id": "0" * 31 + "1"},
           "dnsd": {"listen": ["127.0.0.1"]}}
    d = lab.daemon("dnsd", binary("dnsd/arbor-dnsd"), cfg, netns=ns)
    cfg["machine"]["subnets6_dir"] = d.state_dir  # the table on the power-cut disk too
    d.write_config(cfg)
    disk = PowerFS(lab, d.state_dir)
    d.start()
    ids = {}
    for name in ("vbr7", "vbr8"):
        lab.bridge(ns, name)
        ns.exec(["ip", "addr", "add", f"10.{79 + len(ids)}.0.1/24", "dev", name])
        assert d.post("/v1/commands/renew").status == 200  # answered once the id is on disk
        with open(os.path.join(d.state_dir, "subnets6.json")) as f:
            ids[name] = json.load(f)["subnets"][name]
    files = cut_and_restart(disk, d)
    assert {k: v for k, v in json.loads(files["subnets6.json"])["subnets"].items() if k in ids} == ids
    with open(os.path.join(d.state_dir, "subnets6.json")) as f:
        assert {k: v for k, v in json.load(f)["subnets"].items() if k in ids} == ids


def test_event_log_torn_line_after_a_power_cut(lab):
    """Events are not synced one by one (contract.md): a cut may keep part of
    the last line. The restart drops it, seq continues from the last whole
    line, and the fixture's acknowledged bumps are all there."""
    d = lab.daemon("fixture", binary("tests/arbor-fixtured"),
                   {"machine": {"name": "fx"}, "fixture": {"greeting": "hello"}})
    disk = PowerFS(lab, d.state_dir)
    d.start()
    counter, torn = 0, 0
    for seed in range(1, 21):
        for _ in range(10):
            assert d.post("/v1/commands/renew").status == 200
        assert d.post("/v1/commands/bump").status == 200
        counter += 1
        files = cut_and_restart(disk, d, torn=seed)
        lines = files["events.jsonl"].split(b"\n")
        whole = [json.loads(l) for l in lines[:-1]]
        torn += lines[-1] != b""
        assert d.status()["fixture"]["counter"] == counter, "every acknowledged bump"
        with open(os.path.join(d.state_dir, "events.jsonl"), "rb") as f:
            now = f.read()
        assert now.endswith(b"\n") and all(json.loads(l) for l in now.splitlines())
        started = d.events(type="daemon.started")[-1]
        assert started["seq"] == whole[-1]["seq"] + 1, "seq continues from the last whole line"
        if torn >= 2:
            break
    assert torn >= 2, "the torn cuts should have left a torn line at least twice in 20 tries"


@pytest.mark.parametrize("boot_id", ["kernel", "runtime-dir"])
def test_event_seq_is_not_reused_after_a_power_cut(lab, boot_id):
    """Event lines are not synced one by one, so a power cut takes the last
    ones after a follower saw them. After the reboot every new event's seq must
    be above every seq the follower saw, or a follower asking since=N would
    miss the first new events. A powerfs cut does not reboot the machine, so
    the test presents a new boot itself (common/boot_id.h): a new kernel boot
    id (ARBOR_TEST_BOOT_ID_FILE), or, where /proc/sys is hidden as under the
    units, an emptied runtime directory (/run is a tmpfs)."""
    home = lab.mkdtemp("boot-")
    boot_file = os.path.join(home, "boot_id" if boot_id == "kernel" else "hidden")
    d = lab.daemon("fixture", binary("tests/arbor-fixtured"),
                   {"machine": {"name": "fx"}, "fixture": {"greeting": "hello"}},
                   wrapper=["env", f"ARBOR_TEST_BOOT_ID_FILE={boot_file}"])
    token = os.path.join(d.runtime_dir, "fixture.boot")

    def reboot():
        if boot_id == "kernel":
            with open(boot_file, "w") as f:
                f.write(f"{uuid.uuid4()}\n")
        else:
            os.unlink(token)

    if boot_id == "kernel":
        reboot()
    disk = PowerFS(lab, d.state_dir)
    d.start()
    if boot_id == "runtime-dir":
        assert os.path.exists(token), "the token of this boot is in the runtime directory"
    follower = FollowStream(d.socket, "/v1/events?follow=1&since=0")
    for cut in range(3):
        for _ in range(20):
            assert d.post("/v1/commands/renew").status == 200
        want = 20 + (5 if cut else 0)  # and the 5 it saw after the last cut
        seen = follower.read_until(lambda lines: sum(e["type"] == "fixture.renewed" for e in lines) >= want)
        highest = max(e["seq"] for e in seen)
        follower.close()
        files = cut_and_restart(disk, d, reboot=reboot)
        kept = [json.loads(l)["seq"] for l in files.get("events.jsonl", b"").splitlines()]
        assert not kept or max(kept) < highest, "the cut took lines the follower saw (else this proves nothing)"
        started = d.events(type="daemon.started")[-1]["seq"]
        assert started > highest, f"seq {started} after the cut: the follower saw up to {highest}"
        # The follower comes back where it was.
        follower = FollowStream(d.socket, f"/v1/events?follow=1&since={highest}")
        for _ in range(5):
            assert d.post("/v1/commands/renew").status == 200
        new = follower.read_until(lambda lines: sum(e["type"] == "fixture.renewed" for e in lines) >= 5)
        assert new[0]["type"] == "daemon.started", "the first event after the cut reaches the follower"
        assert all(e["seq"] > highest for e in new), f"a seq the follower saw ({highest}) was handed out again"
        skipped = new[0]["data"]["seq_skipped"]
        assert skipped["to"] >= highest and skipped["from"] == (max(kept) if kept else 0) + 1
    follower.close()
    # A clean stop syncs the log: the next boot continues right after its last line.
    last = d.status()["events"]["last_seq"]
    assert d.stop() == 0
    reboot()
    d.start()
    started = d.events(since=last, type="daemon.started")
    assert started[0]["seq"] == last + 2 and "seq_skipped" not in started[0]["data"], \
        "after a clean stop (daemon.stopping is last + 1) no gap"


def test_leftover_temporaries_are_removed_at_start(lab):
    """What a crash between write and rename leaves (statefile.c's .NAME.tmp.PID)
    goes at the next start; files that only look alike stay."""
    d = lab.daemon("fixture", binary("tests/arbor-fixtured"),
                   {"machine": {"name": "fx"}, "fixture": {"greeting": "hello"}})
    os.makedirs(d.state_dir)
    left = [".state.json.tmp.4242", ".leases.json.journal.tmp.17"]
    alike = [".state.json.tmp.", "state.json.tmp.12", ".notes"]
    for name in left + alike:
        with open(os.path.join(d.state_dir, name), "w") as f:
            f.write("half")
    d.start()
    names = os.listdir(d.state_dir)
    assert not set(left) & set(names) and set(alike) <= set(names)
    assert "removed 2 temporary file(s)" in d.log()
