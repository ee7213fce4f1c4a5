"""arborctl against the fixture daemon: output, --json, exit codes, messages."""
import json
import os
import subprocess

import pytest

from arborlab import binary, wait_for
from contract import with_control


def ctl(d_or_dir, *args, user=None):
    runtime = d_or_dir if isinstance(d_or_dir, str) else d_or_dir.runtime_dir
    argv = [binary("ctl/arborctl"), "--runtime-dir", runtime] + list(args)
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + argv
    return subprocess.run(argv, capture_output=True, text=True, timeout=20)


@pytest.fixture
def fixture(lab):
    return lab.daemon("fixture", binary("tests/arbor-fixtured"), {"machine": {"name": "ctl"}, "fixture": {}}).start()


def test_status_table_and_full(fixture):
    r = ctl(fixture, "status")
    assert r.returncode == 0, r.stderr
    header, row = r.stdout.splitlines()[:2]
    assert header.split()[:3] == ["DAEMON", "HEALTH", "PID"]
    assert row.split()[:3] == ["fixture", "ok", str(fixture.pid())]
    r = ctl(fixture, "status", "fixture")
    assert r.returncode == 0 and "greeting: hello" in r.stdout and "generation: 1" in r.stdout
    r = ctl(fixture, "--json", "status", "fixture")
    assert json.loads(r.stdout)["daemon"] == "fixture"
    r = ctl(fixture, "--json", "status")
    assert json.loads(r.stdout)[0]["pid"] == fixture.pid()


def test_health(fixture, lab):
    assert ctl(fixture, "health").stdout.split() == ["fixture", "ok"]
    fixture.write_config({"machine": {"name": "ctl"}, "fixture": {"health": "degraded"}})
    assert ctl(fixture, "reload", "fixture").returncode == 0
    r = ctl(fixture, "health")
    assert r.returncode == 1 and "degraded" in r.stdout and "fixture.health" in r.stdout


def test_commands_and_exit_codes(fixture):
    r = ctl(fixture, "renew", "fixture")
    assert r.returncode == 0 and r.stdout.startswith("fixture: renew")
    r = ctl(fixture, "renew", "all")
    assert r.returncode == 0
    fixture.write_config("{broken")
    r = ctl(fixture, "reload", "fixture")
    assert r.returncode == 1 and "refused" in r.stdout and "invalid JSON" in r.stdout
    r = ctl(fixture, "post", "fixture", "/v1/commands/bump", '{"by": 3}')
    assert r.returncode == 0 and json.loads(r.stdout)["accepted"]
    r = ctl(fixture, "get", "fixture", "/v1/counter")
    assert json.loads(r.stdout) == {"counter": 3}
    r = ctl(fixture, "get", "fixture", "/v1/nothing")
    assert r.returncode == 1
    r = ctl(fixture, "post", "fixture", "/v1/commands/bump", "{not json")
    assert r.returncode == 2
    assert ctl(fixture, "frobnicate").returncode == 2
    assert ctl(fixture, "status", "bad/name").returncode == 2
    r = ctl(fixture, "stop", "fixture")
    assert r.returncode == 0
    assert fixture.wait_exit(10) == 0


def test_events_and_follow(fixture):
    ctl(fixture, "renew", "fixture")
    r = ctl(fixture, "events", "fixture")
    assert "daemon.started" in r.stdout and "fixture.renewed" in r.stdout
    r = ctl(fixture, "events", "fixture", "--type", "fixture.*")
    assert "daemon.started" not in r.stdout and "fixture.renewed" in r.stdout
    r = ctl(fixture, "--json", "events", "fixture", "--since", "1")
    assert [e["seq"] for e in json.loads(r.stdout)["events"]] == [2]
    p = subprocess.Popen([binary("ctl/arborctl"), "--runtime-dir", fixture.runtime_dir, "--json", "events",
                          "fixture", "-f", "--type", "config.*"], stdout=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: "arbor_http_streams 1" in fixture.get("/v1/metrics").body.decode(), 5, "the follower")
        ctl(fixture, "reload", "fixture")
        line = p.stdout.readline()
        assert json.loads(line)["type"] == "config.reloaded"
    finally:
        p.terminate()
        p.wait(5)


def test_no_daemon_and_permission_messages(lab, fixture):
    empty = lab.mkdtemp("empty-")
    r = ctl(empty, "status")
    assert r.returncode == 3 and "no daemon sockets" in r.stderr
    r = ctl(empty, "status", "fixture")
    assert r.returncode == 3 and "no such socket" in r.stderr and "is the daemon running" in r.stderr
    r = ctl(empty, "renew", "dnsd")
    assert r.returncode == 3
    # A socket nobody may open: a one-line message that says what to do.
    path = fixture.runtime_dir
    while path != "/":
        os.chmod(path, os.stat(path).st_mode | 0o011)
        path = os.path.dirname(path)
    r = ctl(fixture, "status", "fixture", user=65534)
    assert r.returncode == 3 and "permission denied" in r.stderr and "root" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_forbidden_command_exit_1(lab):
    cfg = with_control({"machine": {"name": "ctl"}, "fixture": {}}, socket_mode="0666")
    d = lab.daemon("fixture", binary("tests/arbor-fixtured"), cfg).start()
    path = d.runtime_dir
    while path != "/":
        os.chmod(path, os.stat(path).st_mode | 0o011)
        path = os.path.dirname(path)
    r = ctl(d, "renew", "fixture", user=65534)
    assert r.returncode == 1 and "refused" in r.stdout and "commands need uid 0" in r.stdout
    assert ctl(d, "status", "fixture", user=65534).returncode == 0


def test_stale_socket_reported(fixture):
    fixture.kill9()
    r = ctl(fixture, "status", "fixture")
    assert r.returncode == 3 and "stale socket" in r.stderr
