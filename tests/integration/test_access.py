"""Who may do what on a daemon's socket, with real users and groups.

The daemon runs as its own unprivileged user whose group is the read group (as
the units run it: User=arbor-<daemon>, Group=arbor). Then:

  * a member of control.admin_group only (not of the read group) can connect and
    run commands: the socket's ACL lets the admin group in;
  * a member of the read group only can read (status) and gets 403 for commands;
  * a stranger cannot connect at all;
  * the daemon's own user may run commands;
  * a grant (control.grants) lets one user run one command of one daemon, and
    nothing else: healthd, as its own user, renews through its grant and is
    refused a stop;
  * one uid cannot hold every connection: long-polls and followers are capped
    per peer (control.http.max_streams_per_peer), other uids are not affected.

Users and groups are created for the test and removed afterwards, also when it
fails.
"""
import json
import os
import socket
import subprocess

import pytest

from arborlab import binary, wait_for

PREFIX = "arbt%d" % (os.getpid() % 10000)


class Accounts:
    """System users and groups made for one test; remove() deletes them all."""

    def __init__(self):
        self.users = []
        self.groups = []

    def group(self, short):
        name = f"{PREFIX}-{short}"
        subprocess.run(["groupadd", "--system", name], check=True)
        self.groups.append(name)
        return name

    def user(self, short, primary="nogroup", groups=()):
        name = f"{PREFIX}-{short}"
        argv = ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                "--shell", "/usr/sbin/nologin", "--gid", primary]
        if groups:
            argv += ["--groups", ",".join(groups)]
        subprocess.run(argv + [name], check=True)
        self.users.append(name)
        return name

    def remove(self):
        for name in reversed(self.users):
            subprocess.run(["userdel", name], check=False, capture_output=True)
        for name in reversed(self.groups):
            subprocess.run(["groupdel", name], check=False, capture_output=True)


@pytest.fixture
def accounts(lab):
    a = Accounts()
    try:
        yield a
    finally:
        lab.close()  # their processes first: userdel refuses a user still running
        a.remove()


def open_path(path):
    """Lets everyone traverse to path (the lab's directories are private)."""
    while path != "/":
        os.chmod(path, os.stat(path).st_mode | 0o011)
        path = os.path.dirname(path)


def start_as(lab, name, binary_path, config, user, group):
    """A daemon running as user:group (no supplementary groups), owning its dirs."""
    d = lab.daemon(name, binary_path, config,
                   wrapper=["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups"])
    for sub in ("run", "state"):
        os.makedirs(os.path.join(d.dir, sub), exist_ok=True)
        subprocess.run(["chown", "-R", f"{user}:{group}", os.path.join(d.dir, sub)], check=True)
    subprocess.run(["chown", f"{user}:{group}", d.config_path], check=True)
    open_path(d.dir)
    return d.start()


def ctl_as(d, user, *args):
    argv = ["setpriv", f"--reuid={user}", f"--regid={user if user == 'root' else 'nogroup'}", "--init-groups",
            binary("ctl/arborctl"), "--runtime-dir", d.runtime_dir] + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=20)


def test_read_group_admin_group_stranger_and_self(lab, accounts):
    read = accounts.group("read")
    admin = accounts.group("admin")
    daemon_user = accounts.user("dmn", primary=read)
    admin_user = accounts.user("adm", groups=[admin])
    reader = accounts.user("rdr", groups=[read])
    stranger = accounts.user("str")
    cfg = {"machine": {"name": "acc"}, "control": {"admin_group": admin}, "fixture": {}}
    d = start_as(lab, "fixture", binary("tests/arbor-fixtured"), cfg, daemon_user, read)
    st = os.stat(d.socket)
    assert st.st_uid == int(subprocess.check_output(["id", "-u", daemon_user])), "the socket is the daemon's"
    assert oct(st.st_mode & 0o777) == "0o660"

    # The admin group's member is not in the read group, yet connects and commands.
    r = ctl_as(d, admin_user, "status", "fixture")
    assert r.returncode == 0, r.stderr
    r = ctl_as(d, admin_user, "renew", "fixture")
    assert r.returncode == 0 and r.stdout.startswith("fixture: renew"), r.stdout + r.stderr

    # The read group reads, and is refused commands.
    r = ctl_as(d, reader, "status", "fixture")
    assert r.returncode == 0 and "fixture" in r.stdout, r.stderr
    r = ctl_as(d, reader, "renew", "fixture")
    assert r.returncode == 1 and "refused" in r.stdout and "commands need uid 0" in r.stdout, r.stdout + r.stderr
    uid = int(subprocess.check_output(["id", "-u", reader]))
    rejected = d.events(type="command.rejected")
    assert [e["data"]["uid"] for e in rejected] == [uid]

    # A stranger cannot connect at all.
    r = ctl_as(d, stranger, "status", "fixture")
    assert r.returncode == 3 and "permission denied" in r.stderr, r.stdout + r.stderr

    # The daemon's own user may command it.
    r = ctl_as(d, daemon_user, "renew", "fixture")
    assert r.returncode == 0, r.stdout + r.stderr

    # Without an admin group, its former member is a stranger again (reload
    # takes the ACL away).
    d.write_config({"machine": {"name": "acc"}, "fixture": {}})
    assert ctl_as(d, daemon_user, "reload", "fixture").returncode == 0
    r = ctl_as(d, admin_user, "status", "fixture")
    assert r.returncode == 3 and "permission denied" in r.stderr, r.stdout + r.stderr


def test_grant_lets_one_user_run_one_command(lab, accounts):
    read = accounts.group("read")
    daemon_user = accounts.user("dmn", primary=read)
    operator = accounts.user("op")  # in no arbor group: the grant alone lets it connect
    cfg = {"machine": {"name": "acc"},
           "control": {"grants": [{"user": operator, "daemons": ["fixture"], "commands": ["bump"]}]},
           "fixture": {}}
    d = start_as(lab, "fixture", binary("tests/arbor-fixtured"), cfg, daemon_user, read)
    r = ctl_as(d, operator, "post", "fixture", "/v1/commands/bump", '{"by": 2}')
    assert r.returncode == 0 and json.loads(r.stdout)["accepted"], r.stdout + r.stderr
    r = ctl_as(d, operator, "renew", "fixture")
    assert r.returncode == 1 and "refused" in r.stdout and "grant of renew" in r.stdout, r.stdout + r.stderr
    assert d.get("/v1/counter").json() == {"counter": 2}

    # A grant naming a command the daemon does not have is a config error.
    bad = dict(cfg, control={"grants": [{"user": operator, "daemons": ["fixture"], "commands": ["bmup"]}]})
    d.write_config(bad)
    r = ctl_as(d, daemon_user, "reload", "fixture")
    assert r.returncode == 1 and "control.grants[0].commands: \"bmup\" is not a command of fixture" in r.stdout
    check = subprocess.run([binary("tests/arbor-fixtured"), "--check-config", "-c", d.config_path],
                           capture_output=True, text=True)
    assert check.returncode == 1 and "is not a command of fixture" in check.stderr


def test_healthd_acts_through_its_own_grant(lab, accounts):
    """healthd as its own user: its grant lets it bump the fixture, not stop it."""
    read = accounts.group("read")
    fixture_user = accounts.user("fix", primary=read)
    healthd_user = accounts.user("hd", primary=read)
    fx = start_as(lab, "fixture", binary("tests/arbor-fixtured"),
                  {"machine": {"name": "acc"},
                   "control": {"grants": [{"user": healthd_user, "daemons": ["fixture"], "commands": ["bump"]}]},
                   "fixture": {}},
                  fixture_user, read)
    actions = [{"when": "failing", "post": {"socket": fx.socket, "command": "bump", "body": {"by": 5}}},
               {"when": "failing", "post": {"socket": fx.socket, "command": "stop"}}]
    hd = start_as(lab, "healthd", binary("healthd/arbor-healthd"),
                  {"machine": {"name": "acc"},
                   "healthd": {"checks": [{"name": "down", "kind": "exec", "command": ["/bin/false"],
                                           "interval": 0.2, "timeout": 0.2, "fall": 1,
                                           "on_change": actions}]}},
                  healthd_user, read)
    results = wait_for(lambda: (lambda ev: ev if len(ev) == 2 else None)(hd.events(type="action.*")), 10,
                       "both actions")
    by_action = {e["data"]["action"]: e for e in results}
    bump = by_action["POST /v1/commands/bump to %s" % fx.socket]
    stop = by_action["POST /v1/commands/stop to %s" % fx.socket]
    assert bump["type"] == "action.succeeded", bump
    assert stop["type"] == "action.failed" and "status 403" in stop["data"]["result"], stop
    assert fx.get("/v1/counter").json() == {"counter": 5}
    assert fx.proc.poll() is None, "the fixture still runs"


def follow(sock_path, extra=""):
    """Opens a follower; returns the socket and the status line it got."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall(f"GET /v1/events?follow=1{extra} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = b""
    while b"\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    return s, head.split(b"\r\n", 1)[0].decode()


def test_streams_capped_per_peer(lab, accounts):
    read = accounts.group("read")
    other = accounts.user("oth", groups=[read])
    cfg = {"machine": {"name": "acc"}, "control": {"http": {"max_streams_per_peer": 3}}, "fixture": {}}
    d = lab.daemon("fixture", binary("tests/arbor-fixtured"), cfg,
                   wrapper=["setpriv", f"--regid={read}", "--clear-groups"]).start()
    open_path(d.runtime_dir)
    held = []
    try:
        # Two followers and a long-poll fill root's three slots.
        for _ in range(2):
            s, status = follow(d.socket)
            assert status == "HTTP/1.1 200 OK", status
            held.append(s)
        poll = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        poll.connect(d.socket)
        poll.sendall(b"GET /v1/events?since=1000&wait=60 HTTP/1.1\r\nHost: x\r\n\r\n")
        held.append(poll)
        wait_for(lambda: "arbor_http_waiting 1" in d.get("/v1/metrics").body.decode(), 5, "the long-poll")
        # A fourth is refused with 429; plain reads still work.
        s, status = follow(d.socket)
        assert status.startswith("HTTP/1.1 429"), status
        s.close()
        r = d.get("/v1/events?since=1000&wait=30")
        assert r.status == 429 and r.json()["error"]["code"] == "too_many_streams"
        assert "max_streams_per_peer" in r.json()["error"]["message"]
        assert d.get("/v1/status").status == 200
        assert "arbor_http_streams_refused_total 2" in d.get("/v1/metrics").body.decode()
        # Another uid is not affected.
        r = subprocess.run(["setpriv", f"--reuid={other}", "--regid=nogroup", "--init-groups", "curl", "-s",
                            "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1", "--unix-socket", d.socket,
                            "http://x/v1/events?since=1000&wait=0.5"], capture_output=True, text=True)
        assert r.stdout == "200", r.stdout + r.stderr
        # A slot comes back when its holder leaves (a quiet stream notices at
        # the next event, which the renew makes).
        held.pop(0).close()
        assert d.post("/v1/commands/renew").status == 200
        wait_for(lambda: "arbor_http_streams 1" in d.get("/v1/metrics").body.decode(), 5, "the closed follower")
        s, status = follow(d.socket)
        held.append(s)
        assert status == "HTTP/1.1 200 OK", status
    finally:
        for s in held:
            s.close()
