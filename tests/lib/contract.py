"""The contract suite: the same checks against every arbor daemon.

A daemon's tests subclass ContractSuite and give a DaemonSpec; pytest then runs
every check below against that daemon (architecture.md, "The daemon contract").
"""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

from arborlab import wait_for

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class DaemonSpec:
    """What the suite needs to know about a daemon.

    name: the daemon name (socket and section); binary: path to it;
    config: a valid config (dict) for it; state_file: its durable state file;
    durable_change(d) -> token: does something the daemon acknowledges as durable;
    durable_check(d, token): asserts it survived a restart.
    netns: optional namespace factory (lab -> Netns) for daemons that need one.
    health: the health `config` settles at (healthz must say so, with the
    status code the contract gives it); health_configs: optional
    {health: config} for the other states the daemon can be put in.
    """

    def __init__(self, name, binary, config, state_file, durable_change, durable_check, netns=None,
                 health="ok", health_configs=None):
        self.name = name
        self.binary = binary
        self.config = config
        self.state_file = state_file
        self.durable_change = durable_change
        self.durable_check = durable_check
        self.netns = netns
        self.health = health
        self.health_configs = dict(health_configs or {})


def with_control(config, **control):
    c = json.loads(json.dumps(config))
    c.setdefault("control", {}).update(control)
    return c


class ContractSuite:
    """Subclasses provide a `spec` fixture returning a DaemonSpec."""

    def start(self, lab, spec, config=None, **kw):
        ns = spec.netns(lab) if spec.netns else None
        d = lab.daemon(spec.name, spec.binary, config if config is not None else spec.config, netns=ns, **kw)
        return d.start()

    # ---- status, healthz, metrics, routing ----

    def test_status_fields(self, lab, spec):
        d = self.start(lab, spec)
        s = d.status()
        assert s["daemon"] == spec.name
        assert re.match(r"^\d+\.\d+\.\d+", s["version"])
        assert isinstance(s["pid"], int) and s["pid"] > 0
        assert RFC3339.match(s["started_at"])
        assert isinstance(s["uptime_s"], (int, float)) and s["uptime_s"] >= 0
        assert s["health"] in ("ok", "degraded", "failed")
        assert ("health_reasons" in s) == (s["health"] != "ok"), "health_reasons exactly when not ok"
        assert s["config"]["path"] == d.config_path
        assert s["config"]["generation"] == 1
        assert RFC3339.match(s["config"]["loaded_at"])
        scanned = d.get("/v1/events?since=0").json()["next"]
        assert 1 <= s["events"]["last_seq"] <= scanned <= d.status()["events"]["last_seq"]
        r = d.get("/v1/status")
        assert r.headers["Content-Type"] == "application/json"
        # HEAD is accepted wherever GET is: the same head, no body.
        h = d.request("HEAD", "/v1/status")
        assert h.status == 200 and h.body == b"" and h.headers["Content-Type"] == "application/json"

    def test_healthz(self, lab, spec):
        # Each state the spec can put the daemon in: healthz answers 200 with
        # exactly {"health":"ok"} when ok and 503 with the state and its
        # reasons otherwise, and agrees with /v1/status.
        cases = dict(spec.health_configs)
        cases[spec.health] = spec.config
        for want, config in sorted(cases.items()):
            d = self.start(lab, spec, config)
            r = wait_for(lambda: (lambda r: r if r.json()["health"] == want else None)(d.get("/v1/healthz")),
                         15, f"{spec.name} to be {want}")
            body = r.json()
            s = d.status()
            assert s["health"] == want
            if want == "ok":
                assert r.status == 200 and body == {"health": "ok"}, r
                assert "health_reasons" not in s
            else:
                assert r.status == 503, f"{want}: {r}"
                assert set(body) == {"health", "reasons"}, r
                assert body["reasons"] and all(isinstance(x, str) and x for x in body["reasons"]), r
                assert s["health_reasons"] and all(isinstance(x, str) and x for x in s["health_reasons"])
            d.stop()

    def test_metrics(self, lab, spec):
        d = self.start(lab, spec)
        r = d.get("/v1/metrics")
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
        text = r.body.decode()
        assert f'arbor_info{{daemon="{spec.name}"' in text
        typed = set()
        samples = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                # One family, one TYPE line (a second server's counters under the same names would be
                # a second family, and which sample counts would be anyone's guess).
                assert line.split()[2] not in typed, f"{line.split()[2]} typed twice"
                typed.add(line.split()[2])
                continue
            assert line.startswith("#") or re.match(r"^[a-z_:][a-z0-9_:]*(\{[^}]*\})? [0-9.eE+-]+$", line), line
            if not line.startswith("#"):
                name = re.match(r"^[a-z_:][a-z0-9_:]*", line).group(0)
                assert name in typed, f"{name} has no # TYPE line before it"
                assert line.rsplit(" ", 1)[0] not in samples, f"{line.rsplit(' ', 1)[0]} twice"
                samples[line.rsplit(" ", 1)[0]] = float(line.rsplit(" ", 1)[1])
        # What the contract lists, every daemon alike.
        for name in ("arbor_uptime_seconds", "arbor_config_generation", 'arbor_config_reloads_total{result="applied"}',
                     'arbor_config_reloads_total{result="rejected"}', "arbor_commands_rejected_total",
                     "arbor_events_total", "arbor_events_last_seq", 'arbor_http_responses_total{class="2xx"}',
                     'arbor_http_responses_total{class="4xx"}', "arbor_http_streams", "arbor_http_waiting"):
            assert name in samples, f"no {name} in /v1/metrics"
        s = d.status()
        assert samples["arbor_config_generation"] == s["config"]["generation"] == 1
        assert samples['arbor_config_reloads_total{result="applied"}'] == 0
        assert samples["arbor_events_last_seq"] <= s["events"]["last_seq"]
        assert samples["arbor_http_streams"] == 0 and samples["arbor_http_waiting"] == 0
        # The counters count: a 404 and a reload move them.
        d.get("/v1/no-such-thing")
        assert d.post("/v1/commands/reload").status == 200
        after = {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1])
                 for l in d.get("/v1/metrics").body.decode().splitlines() if not l.startswith("#")}
        assert after['arbor_http_responses_total{class="4xx"}'] >= samples['arbor_http_responses_total{class="4xx"}'] + 1
        assert after['arbor_config_reloads_total{result="applied"}'] == 1
        assert after["arbor_config_generation"] == 2
        assert after["arbor_events_total"] > samples["arbor_events_total"]

    def test_not_found_and_method_not_allowed(self, lab, spec):
        d = self.start(lab, spec)
        r = d.get("/v1/no-such-thing")
        assert r.status == 404 and r.json()["error"]["code"] == "not_found"
        r = d.post("/v1/status")
        assert r.status == 405 and "GET" in r.headers["Allow"]
        assert r.json()["error"]["code"] == "method_not_allowed"
        r = d.get("/v1/commands/reload")
        assert r.status == 405 and r.headers["Allow"] == "POST"
        r = d.post("/v1/commands/no-such-command")
        assert r.status == 404 and r.json()["error"]["code"] == "not_found"
        r = d.request("GET", "/v1/../v1/status")
        assert r.status == 400 and r.json()["error"]["code"] == "bad_path"
        r = d.post("/v1/commands/renew", body="{not json", headers={"Content-Type": "application/json"})
        assert r.status == 400 and r.json()["error"]["code"] == "bad_json"

    # ---- authorization ----

    def test_command_from_another_uid_is_forbidden(self, lab, spec):
        d = self.start(lab, spec, with_control(spec.config, socket_mode="0666"))
        # The test's temporary directories are private; let nobody reach the socket.
        path = d.runtime_dir
        while path != "/":
            os.chmod(path, os.stat(path).st_mode | 0o011)
            path = os.path.dirname(path)
        before = d.status()["events"]["last_seq"]
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-s", "-o", "-",
                     "-w", "\n%{http_code}", "--unix-socket", d.socket]
        r = subprocess.run(as_nobody + ["-X", "POST", "http://localhost/v1/commands/renew"],
                           capture_output=True, text=True, timeout=10)
        body, code = r.stdout.rsplit("\n", 1)
        assert code == "403", r.stdout + r.stderr
        assert json.loads(body)["error"]["code"] == "forbidden"
        r = subprocess.run(as_nobody + ["http://localhost/v1/status"], capture_output=True, text=True, timeout=10)
        assert r.stdout.rsplit("\n", 1)[1] == "200", "reads are open to whoever can connect"
        ev = d.events(since=before, type="command.rejected")
        assert len(ev) == 1 and ev[0]["data"]["uid"] == 65534 and ev[0]["data"]["path"] == "/v1/commands/renew"

    # ---- events ----

    def test_events_since_type_limit(self, lab, spec):
        d = self.start(lab, spec)
        first = d.events()
        assert first and first[0]["type"] == "daemon.started" and first[0]["daemon"] == spec.name
        for key in ("seq", "time", "daemon", "type", "severity", "subject", "message", "data"):
            assert key in first[0]
        assert RFC3339.match(first[0]["time"])
        last = first[-1]["seq"]
        for _ in range(3):
            assert d.post("/v1/commands/renew").status in (200, 409)  # 409: this daemon cannot now
        assert d.post("/v1/commands/reload").status == 200
        body = d.get(f"/v1/events?since={last}").json()
        seqs = [e["seq"] for e in body["events"]]
        assert seqs == sorted(set(seqs)) and all(s > last for s in seqs) and body["next"] == seqs[-1]
        typed = d.get(f"/v1/events?since={last}&type=config.*").json()
        assert [e["type"] for e in typed["events"]] == ["config.reloaded"]
        # next is the last seq scanned, matched or not: passed back, it finds nothing again
        # (the daemon may have emitted more of its own since: next only moves on).
        early = d.get("/v1/events?since=0&type=daemon.started").json()
        assert [e["seq"] for e in early["events"]] == [first[0]["seq"]] and early["next"] >= seqs[-1]
        again = d.get(f"/v1/events?since={early['next']}&type=daemon.started").json()
        assert again["events"] == [] and again["next"] >= early["next"]
        limited = d.get("/v1/events?since=0&limit=1").json()
        assert len(limited["events"]) == 1 and limited["next"] == limited["events"][0]["seq"] == first[0]["seq"]
        for bad in ("since=abc", "wait=-1", "limit=100001", "wait=3601", "follow=2"):
            r = d.get(f"/v1/events?{bad}")
            assert r.status == 400 and r.json()["error"]["code"] == "bad_query", (bad, r)

    def test_events_long_poll(self, lab, spec):
        d = self.start(lab, spec)
        last = d.status()["events"]["last_seq"]
        t0 = time.monotonic()
        # (a type no event has: the daemon may be busy with its own job meanwhile)
        empty = d.get(f"/v1/events?since={last}&type=contract.none&wait=0.3").json()
        assert empty["events"] == [] and time.monotonic() - t0 >= 0.25
        result = {}

        def poll():
            result["r"] = d.get(f"/v1/events?since={last}&type=config.rejected&wait=60", timeout=90)

        t = threading.Thread(target=poll)
        t.start()
        wait_for(lambda: "arbor_http_waiting 1" in d.get("/v1/metrics").body.decode(), 5, "the long-poll to wait")
        # An event of another type must not end the wait. The reload's answer
        # says config.reloaded is emitted; the metrics asked after it (the
        # daemon has run its wake by then) say the poll still waits.
        assert d.post("/v1/commands/reload").status == 200
        assert d.events(since=last, type="config.reloaded")
        assert "arbor_http_waiting 1" in d.get("/v1/metrics").body.decode(), "a config.reloaded ended the wait"
        assert t.is_alive()
        d.write_config("{")
        assert d.post("/v1/commands/reload").status == 409
        t.join(30)
        assert not t.is_alive(), "the matching event did not end the wait"
        assert result["r"].status == 200
        events = result["r"].json()["events"]
        assert [e["type"] for e in events] == ["config.rejected"]
        d.write_config(spec.config)

    def test_events_follow(self, lab, spec):
        d = self.start(lab, spec)
        before = d.status()["events"]["last_seq"]
        streams = [FollowStream(d.socket, "/v1/events?follow=1") for _ in range(4)]
        typed = FollowStream(d.socket, "/v1/events?follow=1&type=config.*")
        since = FollowStream(d.socket, "/v1/events?follow=1&since=0")
        wait_for(lambda: "arbor_http_streams 6" in d.get("/v1/metrics").body.decode(), 5, "six followers")
        d.post("/v1/commands/renew")
        assert d.post("/v1/commands/reload").status == 200
        for s in streams:
            lines = s.read_until(lambda ls: any(e["type"] == "config.reloaded" for e in ls))
            seqs = [e["seq"] for e in lines]
            assert seqs[0] > before, "follow without since starts at new events"
            assert seqs == sorted(set(seqs)), "each event once, in order"
        got = typed.read_until(lambda ls: len(ls) >= 1)
        assert [e["type"] for e in got] == ["config.reloaded"]
        old = since.read_until(lambda ls: any(e["type"] == "config.reloaded" for e in ls))
        # since=0 replays what memory holds, from the first event on, then goes on live.
        served = d.events(since=0)
        assert [e["seq"] for e in old] == [e["seq"] for e in served][:len(old)]
        assert old[0]["type"] == "daemon.started" and old[0]["seq"] == served[0]["seq"]
        for s in streams + [typed, since]:
            s.close()

    # ---- reload ----

    def test_reload_rejects_broken_config(self, lab, spec):
        d = self.start(lab, spec)
        before = d.status()
        d.write_config('{"machine": {"name": "ok"}, "control": {"socket_mode": "0999"}, ')
        r = d.post("/v1/commands/reload")
        assert r.status == 409
        body = r.json()
        assert body["command"] == "reload" and body["accepted"] is False and "arbor.json" in body["message"]
        after = d.status()
        assert after["config"]["generation"] == before["config"]["generation"]
        ev = d.events(type="config.rejected")
        assert ev and ev[-1]["data"]["errors"]
        # Unknown key: rejected with the key path named.
        bad = json.loads(json.dumps(spec.config))
        bad.setdefault(spec.name, {})["no_such_key"] = 1
        d.write_config(bad)
        r = d.post("/v1/commands/reload")
        assert r.status == 409 and f"{spec.name}.no_such_key: unknown key" in r.json()["message"]
        # A good file is taken, by command and by SIGHUP.
        d.write_config(spec.config)
        r = d.post("/v1/commands/reload")
        assert r.status == 200 and r.json()["accepted"] is True
        assert d.status()["config"]["generation"] == before["config"]["generation"] + 1
        d.signal(signal.SIGHUP)
        wait_for(lambda: d.status()["config"]["generation"] == before["config"]["generation"] + 2, 5, "SIGHUP reload")

    # ---- lifecycle ----

    def test_stop_command(self, lab, spec):
        d = self.start(lab, spec)
        r = d.post("/v1/commands/stop")
        assert r.status == 202 and r.json() == {"command": "stop", "accepted": True, "message": "stopping"}
        assert d.wait_exit(10) == 0
        assert not os.path.exists(d.socket)
        with open(os.path.join(d.state_dir, "events.jsonl")) as f:
            assert json.loads(f.read().splitlines()[-1])["type"] == "daemon.stopping"

    def test_sigterm(self, lab, spec):
        d = self.start(lab, spec)
        d.signal(signal.SIGTERM)
        assert d.wait_exit(10) == 0
        assert not os.path.exists(d.socket)
        with open(os.path.join(d.state_dir, "events.jsonl")) as f:
            assert json.loads(f.read().splitlines()[-1])["type"] == "daemon.stopping"

    def test_sigkill_restart_keeps_state_and_seq(self, lab, spec):
        d = self.start(lab, spec)
        token = spec.durable_change(d)
        last = d.status()["events"]["last_seq"]
        d.kill9()
        assert os.path.exists(d.socket), "a killed daemon leaves its socket behind"
        d.start()  # the stale socket is replaced
        json.loads(d.state_file(spec.state_file))  # intact and parseable
        spec.durable_check(d, token)
        started = d.events(since=last, type="daemon.started")
        assert started and started[0]["seq"] == last + 1, "seq continues across restarts"

    def test_second_instance_refused(self, lab, spec):
        d = self.start(lab, spec)
        r = subprocess.run(d.argv(), capture_output=True, text=True, timeout=10)
        assert r.returncode == 1 and "another instance" in r.stderr
        assert d.get("/v1/status").status == 200

    # ---- invocation ----

    def test_invocation(self, lab, spec):
        d = lab.daemon(spec.name, spec.binary, spec.config)
        base = [spec.binary, "-c", d.config_path, "--runtime-dir", d.runtime_dir, "--state-dir", d.state_dir]
        r = subprocess.run(base + ["--check-config"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        bad = json.loads(json.dumps(spec.config))
        bad.setdefault("machine", {})["name"] = "not a label"
        d.write_config(bad)
        r = subprocess.run(base + ["--check-config"], capture_output=True, text=True)
        assert r.returncode == 1 and f"{d.config_path}: machine.name:" in r.stderr
        assert not os.path.exists(d.state_dir), "--check-config touches nothing"
        r = subprocess.run(base, capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and "machine.name" in r.stderr
        r = subprocess.run([spec.binary, "--version"], capture_output=True, text=True)
        assert r.returncode == 0 and re.search(r"\d+\.\d+\.\d+", r.stdout)
        r = subprocess.run([spec.binary, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "--check-config" in r.stdout
        r = subprocess.run([spec.binary, "--no-such-flag"], capture_output=True, text=True)
        assert r.returncode == 2
        r = subprocess.run([spec.binary, "-c", "/nonexistent/arbor.json"], capture_output=True, text=True)
        assert r.returncode == 2 and "/nonexistent/arbor.json" in r.stderr


class FollowStream:
    """A raw HTTP/1.1 client for ?follow=1: reads chunked NDJSON incrementally."""

    def __init__(self, sock_path, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(sock_path)
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        self.buf = b""
        self.headers_done = False
        self.lines = []
        self.text = b""

    def _pump(self):
        data = self.s.recv(65536)
        if not data:
            raise EOFError("stream closed")
        self.buf += data
        if not self.headers_done:
            if b"\r\n\r\n" not in self.buf:
                return
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 200"), head
            assert b"chunked" in head.lower()
            self.headers_done = True
        while True:  # decode as many chunks as are complete
            if b"\r\n" not in self.buf:
                return
            size_line, rest = self.buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                raise EOFError("stream ended")
            if len(rest) < size + 2:
                return
            self.text += rest[:size]
            self.buf = rest[size + 2:]
            while b"\n" in self.text:
                line, self.text = self.text.split(b"\n", 1)
                self.lines.append(json.loads(line))

    def read_until(self, cond, timeout=10):
        deadline = time.monotonic() + timeout
        while not cond(self.lines):
            if time.monotonic() > deadline:
                raise AssertionError(f"stream: condition not met; got {self.lines}")
            self._pump()
        return self.lines

    def close(self):
        self.s.close()
