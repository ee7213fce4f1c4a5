"""arbor-healthd against real targets in network namespaces: a TCP listener, an
HTTP server, dnsmasq, a namespace whose link goes down, another arbor daemon,
hanging programs; actions that reach another daemon; bad configs; and the
contract suite."""
import json
import os
import signal
import subprocess
import time

import pytest

from arborlab import ROOT, binary, wait_for
from contract import ContractSuite, DaemonSpec

TARGETS = os.path.join(ROOT, "tests", "lib", "targets.py")
FAST = {"interval": 0.2, "timeout": 0.15, "rise": 1, "fall": 1}


def check(name, kind, **kw):
    c = {"name": name, "kind": kind}
    c.update(FAST)
    c.update(kw)
    return c


def healthd_config(*checks, **extra):
    return {"machine": {"name": "hd"}, "healthd": dict({"checks": list(checks)}, **extra)}


@pytest.fixture
def net(lab):
    """healthd's namespace "hd" (10.9.0.1) and a target namespace "srv" (10.9.0.2)."""
    hd = lab.add_netns("hd")
    srv = lab.add_netns("srv")
    # veth names must be unique on the host while both ends are created there.
    a, b = f"h{os.getpid() % 100000}a", f"h{os.getpid() % 100000}b"
    lab.veth(hd, a, srv, b)
    hd.exec(["ip", "addr", "add", "10.9.0.1/24", "dev", a])
    srv.exec(["ip", "addr", "add", "10.9.0.2/24", "dev", b])
    return {"hd": hd, "srv": srv, "srv_if": b}


def start_healthd(lab, net, *checks, **extra):
    d = lab.daemon("healthd", binary("healthd/arbor-healthd"), healthd_config(*checks, **extra), netns=net["hd"])
    return d.start()


def state_of(d, name):
    r = d.get(f"/v1/checks?name={name}")
    assert r.status == 200, r
    return r.json()["checks"][0]


def wait_state(d, name, state, timeout=10):
    return wait_for(lambda: (lambda c: c if c["state"] == state else None)(state_of(d, name)), timeout,
                    f"check {name} to be {state}")


def target(net, *args):
    p = net["srv"].popen(["/usr/bin/python3", TARGETS] + list(args), stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def transitions(d, name):
    return [e for e in d.events(type="check.*") if e["subject"] == name]


def test_tcp_listener_goes_away_and_comes_back(lab, net):
    d = start_healthd(lab, net, check("web", "tcp", target="10.9.0.2:8080"))
    wait_state(d, "web", "failing")
    listener = target(net, "tcp", "10.9.0.2", "8080")
    wait_state(d, "web", "passing")
    listener.kill()
    listener.wait()
    c = wait_state(d, "web", "failing")
    assert "Connection refused" in c["last"]["error"]
    target(net, "tcp", "10.9.0.2", "8080")
    wait_state(d, "web", "passing")
    runs = state_of(d, "web")["runs"]
    wait_for(lambda: state_of(d, "web")["runs"] >= runs + 3, 5, "three more probes")
    ev = transitions(d, "web")
    assert [e["type"] for e in ev] == ["check.failing", "check.passing", "check.failing", "check.passing"], \
        "events only on transitions, not on every probe"
    failing = ev[2]
    assert failing["data"]["reason"].startswith("connect to 10.9.0.2:8080") and "latency_ms" in failing["data"]


def test_http_200_then_500_and_body(lab, net):
    status = os.path.join(lab.mkdtemp("http-"), "status")
    with open(status, "w") as f:
        f.write("200 all good")
    target(net, "http", "10.9.0.2", "8081", status)
    d = start_healthd(lab, net, check("api", "http", target="http://10.9.0.2:8081/health"),
                      check("api-body", "http", target="http://10.9.0.2:8081/health",
                            expect={"status": 200, "body_contains": "good"}))
    wait_state(d, "api", "passing")
    wait_state(d, "api-body", "passing")
    with open(status, "w") as f:
        f.write("500 broken")
    assert wait_state(d, "api", "failing")["last"]["error"] == "status 500"
    assert wait_state(d, "api-body", "failing")["last"]["error"] == "status 500, expected 200"
    with open(status, "w") as f:
        f.write("200 not so")
    wait_state(d, "api", "passing")
    assert "does not contain" in wait_state(d, "api-body", "failing")["last"]["error"]


def test_dns_against_dnsmasq_then_stopped(lab, net):
    dnsmasq = net["srv"].popen(["dnsmasq", "-k", "-C", "/dev/null", "--no-resolv", "--no-hosts",
                                "--listen-address=10.9.0.2", "--bind-interfaces", "--port=53",
                                "--address=/www.lab/10.9.0.80", "--address=/nx.lab/", "--log-facility=-"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = start_healthd(lab, net,
                      check("dns", "dns", target="10.9.0.2", query={"name": "www.lab", "type": "A"},
                            expect={"rcode": "NOERROR", "answer": "10.9.0.80"}),
                      check("dns-wrong", "dns", target="10.9.0.2", query={"name": "www.lab", "type": "A"},
                            expect={"answer": "10.9.0.99"}),
                      check("dns-nx", "dns", target="10.9.0.2:53", query={"name": "nope.nx.lab", "type": "A"},
                            expect={"rcode": "NXDOMAIN"}))
    wait_state(d, "dns", "passing")
    wait_state(d, "dns-nx", "passing")
    assert "no A answer \"10.9.0.99\" (10.9.0.80)" in wait_state(d, "dns-wrong", "failing")["last"]["error"]
    dnsmasq.terminate()
    dnsmasq.wait(5)
    err = wait_state(d, "dns", "failing")["last"]["error"]
    assert "Connection refused" in err or "timed out" in err


def test_icmp_to_a_namespace_whose_link_goes_down(lab, net):
    d = start_healthd(lab, net, check("ping", "icmp", target="10.9.0.2"),
                      check("ping6", "icmp", target="::1", interval=0.2))
    wait_state(d, "ping", "passing")
    wait_state(d, "ping6", "passing")
    net["srv"].exec(["ip", "link", "set", net["srv_if"], "down"])
    assert "timed out" in wait_state(d, "ping", "failing")["last"]["error"]
    net["srv"].exec(["ip", "link", "set", net["srv_if"], "up"])
    wait_state(d, "ping", "passing")


def test_daemon_check_follows_another_daemon(lab, net):
    d = start_healthd(lab, net, check("fx", "daemon", target="fixture"))
    fx = lab.daemon("fixture", binary("tests/arbor-fixtured"), {"fixture": {}})
    fx.runtime_dir = d.runtime_dir  # same runtime directory, as on a real machine
    assert "no such socket" in wait_state(d, "fx", "failing")["last"]["error"]
    fx.start()
    wait_state(d, "fx", "passing")
    fx.write_config({"fixture": {"health": "degraded"}})
    fx.post("/v1/commands/reload")
    assert wait_state(d, "fx", "failing")["last"]["error"].startswith("degraded")
    fx.post("/v1/commands/stop")
    fx.wait_exit(10)
    wait_state(d, "fx", "failing")
    fx.write_config({"fixture": {}})
    fx.start()
    wait_state(d, "fx", "passing")


def test_exec_that_hangs_past_its_timeout_is_killed(lab, net):
    marker = "7.3141"  # a unique argument to find the program with pgrep
    d = start_healthd(lab, net, check("hang", "exec", command=["/bin/sleep", marker], interval=0.4, timeout=0.2),
                      check("ok", "exec", command=["/bin/true"]),
                      check("says", "exec", command=["/usr/bin/python3", "-c", "print('disk full'); exit(3)"]))
    assert wait_state(d, "hang", "failing")["last"]["error"] == "timed out after 0.20 s"
    assert wait_state(d, "says", "failing")["last"]["error"] == "exit 3: disk full"
    wait_state(d, "ok", "passing")

    def sleepers():
        r = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True)
        return len(r.stdout.split())

    # Runs overlap at most one at a time: killed programs do not pile up.
    for _ in range(20):
        assert sleepers() <= 1
        d.get("/v1/status")
    d.post("/v1/commands/stop")
    assert d.wait_exit(10) == 0
    wait_for(lambda: sleepers() == 0, 5, "no program left behind after stop")


def test_actions_post_to_another_daemon_and_run_programs(lab, net):
    out = os.path.join(lab.mkdtemp("action-"), "env.json")
    fx = lab.daemon("fixture", binary("tests/arbor-fixtured"), {"fixture": {}})
    cfg = check("uplink", "tcp", target="10.9.0.2:8082", critical=True, on_change=[
        {"when": "failing", "post": {"daemon": "fixture", "command": "renew"}},
        {"when": "failing", "post": {"daemon": "missing", "command": "renew"}},
        {"when": "any", "exec": ["/usr/bin/python3", "-c",
                                 f"import os,json; open({out!r},'a').write(json.dumps("
                                 "{k: v for k, v in os.environ.items() if k.startswith('ARBOR_')})+'\\n')"]},
    ])
    d = start_healthd(lab, net, cfg)
    fx.runtime_dir = d.runtime_dir
    fx.start()
    d.write_config(healthd_config(cfg))  # unchanged: reload keeps the state
    wait_state(d, "uplink", "failing")
    renewed = wait_for(lambda: fx.events(type="fixture.renewed"), 10, "the fixture to be renewed by the action")
    assert len(renewed) == 1
    ok = wait_for(lambda: d.events(type="action.succeeded"), 10, "action events")
    assert any("POST /v1/commands/renew to fixture" in e["data"]["action"] for e in ok)
    failed = wait_for(lambda: d.events(type="action.failed"), 10, "the failed action")
    assert "no such socket" in failed[0]["data"]["result"] and failed[0]["data"]["check"] == "uplink"
    env = wait_for(lambda: os.path.exists(out) and [json.loads(l) for l in open(out)], 10, "the program to run")
    assert env[0]["ARBOR_CHECK"] == "uplink" and env[0]["ARBOR_STATE"] == "failing"
    assert env[0]["ARBOR_PREVIOUS_STATE"] == "unknown" and "refused" in env[0]["ARBOR_REASON"]
    h = d.get("/v1/healthz")
    assert h.status == 503 and h.json()["health"] == "failed"


def test_healthz_critical_and_noncritical(lab, net):
    d = start_healthd(lab, net, check("soft", "tcp", target="10.9.0.2:1"),
                      check("hard", "exec", command=["/bin/true"], critical=True))
    wait_state(d, "soft", "failing")
    wait_state(d, "hard", "passing")
    h = d.get("/v1/healthz")
    assert h.status == 503 and h.json()["health"] == "degraded"
    assert "non-critical check soft is failing" in h.json()["reasons"][0]


def test_empty_checks_is_healthy(lab, net):
    d = start_healthd(lab, net)
    assert d.get("/v1/healthz").json() == {"health": "ok"}
    assert d.status()["healthd"]["checks"] == []


def test_renew_runs_every_check_now(lab, net):
    d = start_healthd(lab, net, check("slow1", "exec", command=["/bin/true"], interval=3600, timeout=1),
                      check("slow2", "exec", command=["/bin/true"], interval=3600, timeout=1))
    before = {c: state_of(d, c)["runs"] for c in ("slow1", "slow2")}
    r = d.post("/v1/commands/renew")
    assert r.status == 200 and "2 checks" in r.json()["message"]
    wait_for(lambda: all(state_of(d, c)["runs"] > before[c] for c in before), 5, "both checks to run")


def test_reload_keeps_unchanged_checks(lab, net):
    keep = check("keep", "exec", command=["/bin/false"])
    change = check("change", "exec", command=["/bin/false"])
    d = start_healthd(lab, net, keep, change)
    wait_state(d, "keep", "failing")
    since = wait_state(d, "change", "failing")["since"]
    keep_since = state_of(d, "keep")["since"]
    d.write_config(healthd_config(keep, dict(change, command=["/bin/true"]), check("new", "exec", command=["/bin/true"])))
    assert d.post("/v1/commands/reload").status == 200
    assert state_of(d, "keep")["since"] == keep_since and state_of(d, "keep")["state"] == "failing"
    assert state_of(d, "change")["state"] in ("unknown", "passing")
    wait_state(d, "change", "passing")
    wait_state(d, "new", "passing")
    assert state_of(d, "change")["since"] != since


def test_state_survives_kill9(lab, net):
    d = start_healthd(lab, net, check("down", "exec", command=["/bin/false"], interval=0.2))
    since = wait_state(d, "down", "failing")["since"]
    d.kill9()
    d.start()
    c = state_of(d, "down")
    assert c["state"] == "failing" and c["since"] == since, "restored, not unknown"
    assert [e["type"] for e in transitions(d, "down")] == ["check.failing"], "no second failing event"


def test_target_that_accepts_and_never_answers(lab, net):
    target(net, "silent", "10.9.0.2", "8083")
    d = start_healthd(lab, net, check("mute", "http", target="http://10.9.0.2:8083/", interval=60, timeout=5))
    assert d.post("/v1/commands/renew").status == 200
    # While the probe waits on the silent target (it ran, no result yet) the loop
    # answers at once; a loop stuck on it would answer only after the 5 s timeout.
    wait_for(lambda: (lambda c: c["runs"] >= 1 and c["last"] is None)(state_of(d, "mute")), 5, "the probe to start")
    t0 = time.monotonic()
    assert d.get("/v1/status").status == 200
    assert time.monotonic() - t0 < 2.5, "the loop is never stuck"
    assert state_of(d, "mute")["last"] is None, "the probe was still waiting"
    assert "timed out" in wait_state(d, "mute", "failing", timeout=15)["last"]["error"]


def test_unresolvable_target_fails_clearly(lab, net):
    d = start_healthd(lab, net, check("nx", "tcp", target="no-such-host.invalid:80", interval=1, timeout=0.8))
    err = wait_state(d, "nx", "failing")["last"]["error"]
    # The lab has no working name server: either the resolver says no, or the
    # probe's timeout ends the lookup; both name what could not be resolved.
    assert err.startswith("cannot resolve no-such-host.invalid") or \
        err == "timed out after 0.80 s resolving no-such-host.invalid", err
    # Stopping with a lookup in flight frees it (LeakSanitizer fails the exit code otherwise).
    state_of(d, "nx")
    assert d.post("/v1/commands/stop").status == 202 and d.wait_exit(10) == 0


@pytest.mark.parametrize("bad,message", [
    (check("x", "smtp", target="a:25"), 'healthd.checks[0].kind: "smtp" is not a check kind'),
    (dict(check("x", "tcp", target="a:1"), interval=0), "healthd.checks[0].interval: 0 must be more than 0"),
    (dict(check("x", "tcp", target="a:1"), interval=-1), "healthd.checks[0].interval: -1 must be more than 0"),
    (dict(check("x", "tcp", target="a:1"), interval=1, timeout=2), "healthd.checks[0].timeout: 2 s is longer than the interval"),
    (check("x", "tcp", target="a"), 'healthd.checks[0].target: "a" is not host:port'),
    (check("x", "http", target="https://a/"), "https is not supported"),
    (check("x", "exec", command=["sleep", "1"]), "must be an absolute path"),
    (check("x", "dns", target="10.0.0.1"), "healthd.checks[0].query: missing"),
    (check("x", "tcp", target="a:1", on_change=[{"post": {"command": "renew"}}]),
     "healthd.checks[0].on_change[0].post: give exactly one of"),
    (check("x", "tcp", target="a:1", bogus=1), "healthd.checks[0].bogus: unknown key for a tcp check"),
    (check("x y", "tcp", target="a:1"), "healthd.checks[0].name"),
])
def test_bad_config(lab, bad, message):
    d = lab.daemon("healthd", binary("healthd/arbor-healthd"), healthd_config(bad))
    r = subprocess.run([d.binary, "-c", d.config_path, "--check-config"], capture_output=True, text=True)
    assert r.returncode == 1 and message in r.stderr, r.stderr


def test_duplicate_names(lab):
    d = lab.daemon("healthd", binary("healthd/arbor-healthd"),
                   healthd_config(check("a", "tcp", target="x:1"), check("a", "tcp", target="y:1")))
    r = subprocess.run([d.binary, "-c", d.config_path, "--check-config"], capture_output=True, text=True)
    assert r.returncode == 1 and 'healthd.checks[1].name: "a" is already the name of checks[0]' in r.stderr


# ---- the contract suite ----

def make_failing(d):
    c = wait_state(d, "probe", "failing")
    return c["since"]


def still_failing(d, since):
    state = json.loads(d.state_file("state.json"))
    assert state["checks"][0]["state"] == "failing"
    c = state_of(d, "probe")
    assert c["state"] == "failing" and c["since"] == since


@pytest.fixture
def spec():
    return DaemonSpec(
        name="healthd",
        binary=binary("healthd/arbor-healthd"),
        config=healthd_config(check("probe", "exec", command=["/bin/false"])),
        state_file="state.json",
        durable_change=make_failing,
        durable_check=still_failing,
        health="degraded",  # the probe fails and is not critical
        health_configs={"ok": healthd_config(),
                        "failed": healthd_config(check("probe", "exec", command=["/bin/false"], critical=True))},
    )


class TestHealthdContract(ContractSuite):
    pass
