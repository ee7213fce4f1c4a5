"""healthd's exec checks cannot escape: a clean environment, no capabilities,
and a process tree that a timeout kills whole, setsid() or not.

Each check program writes what it wants to prove into a file of the test's and
the test reads it back; no network is needed.
"""
import json
import os
import subprocess
import textwrap

import pytest

from arborlab import binary, wait_for

CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def start_healthd(lab, checks, wrapper=(), owner=None):
    cfg = {"machine": {"name": "hx"}, "healthd": {"checks": checks}}
    d = lab.daemon("healthd", binary("healthd/arbor-healthd"), cfg, wrapper=list(wrapper))
    if owner:
        for sub in ("run", "state"):
            os.makedirs(os.path.join(d.dir, sub), exist_ok=True)
            subprocess.run(["chown", "-R", owner, os.path.join(d.dir, sub)], check=True)
        path = d.dir
        while path != "/":
            os.chmod(path, os.stat(path).st_mode | 0o011)
            path = os.path.dirname(path)
    return d.start()


def check_state(d, name):
    return next(c for c in d.get("/v1/checks").json()["checks"] if c["name"] == name)


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def program(code):
    return ["/usr/bin/python3", "-c", textwrap.dedent(code)]


def escaping(tail):
    """ESCAPES with the program's own part (after the escape) filled in."""
    return program(ESCAPES.replace("    %s\n", textwrap.indent(textwrap.dedent(tail).strip() + "\n", "    ")))


@pytest.fixture
def pidfile(lab):
    """Where the escaping programs record their grandchildren; those still alive
    after the test (a failure) are killed."""
    path = os.path.join(lab.mkdtemp("exec-pids-"), "pids")
    try:
        yield path
    finally:
        for pid in pids_in(path):
            if alive(pid):
                os.kill(pid, 9)


def pids_in(path):
    try:
        with open(path) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


REPORT = """
    import json, sys
    env = [kv.split("=", 1)[0] for kv in open("/proc/self/environ").read().split("\\0") if kv]
    status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
    caps = {k: status[k].strip() for k in %r}
    json.dump({"env": env, "caps": caps, "nnp": status["NoNewPrivs"].strip()}, open(sys.argv[1], "w"))
""" % (CAPS,)


@pytest.mark.parametrize("who", ["root", "unprivileged with ambient CAP_NET_RAW"])
def test_clean_environment_and_no_capabilities(lab, who):
    out = os.path.join(lab.mkdtemp("exec-out-"), "report.json")
    os.chmod(os.path.dirname(out), 0o777)
    # Something in healthd's environment that must not reach the program.
    wrapper = ["env", "ARBOR_TEST_SECRET=leak", "HOME=/root"]
    owner = None
    if who != "root":
        # What the unit does: its own user, CAP_NET_RAW as an ambient capability.
        wrapper += ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                    "--inh-caps=+net_raw", "--ambient-caps=+net_raw"]
        owner = "nobody:nogroup"
    d = start_healthd(lab, [{"name": "report", "kind": "exec", "command": program(REPORT) + [out],
                             "interval": 0.5, "timeout": 0.5, "rise": 1}], wrapper, owner)
    own = open(f"/proc/{d.pid()}/status").read()
    if who != "root":
        assert "CapAmb:\t0000000000002000" in own, "healthd itself holds CAP_NET_RAW (ambient)"
    report = wait_for(lambda: os.path.exists(out) and json.load(open(out)), 10, "the program's report")
    assert sorted(report["env"]) == ["ARBOR_CHECK", "PATH"], report
    assert all(int(report["caps"][k], 16) == 0 for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")), report
    # Only root may shrink the bounding set (CAP_SETPCAP); for anyone else
    # no_new_privs is what keeps a setuid or file-capability binary from
    # raising anything in it (and the unit's CapabilityBoundingSet= bounds it).
    assert int(report["caps"]["CapBnd"], 16) == 0 or who != "root", report
    assert report["nnp"] == "1"
    wait_for(lambda: check_state(d, "report")["state"] == "passing", 10, "the check to pass")


ESCAPES = """
    import os, sys, time
    pidfile = sys.argv[1]
    if os.fork() == 0:
        os.setsid()                 # out of the program's session and group
        if os.fork() == 0:          # and orphaned: its parent exits at once
            with open(pidfile, "a") as f:
                f.write("%d\\n" % os.getpid())
            time.sleep(1000)
        os._exit(0)
    %s
"""


WAIT_FOR_GRANDCHILD = """
    while not os.path.exists(pidfile):
        time.sleep(0.01)
"""


def run_escaping(lab, pidfile, tail, state, **check):
    """healthd with one check running ESCAPES + tail; waits for the check's
    state and returns healthd and the grandchildren's pids."""
    d = start_healthd(lab, [dict({"name": "escape", "kind": "exec", "command": escaping(tail) + [pidfile],
                                  "interval": 3}, **check)])
    wait_for(lambda: check_state(d, "escape")["state"] == state, 15, f"the check to be {state}")
    return d, wait_for(lambda: pids_in(pidfile), 5, "the grandchild's pid")


def test_setsid_grandchild_is_killed_at_the_timeout(lab, pidfile):
    d, pids = run_escaping(lab, pidfile, "time.sleep(1000)", "failing", timeout=1, fall=1)
    assert check_state(d, "escape")["last"]["error"].startswith("timed out")
    wait_for(lambda: not any(alive(p) for p in pids), 5, "the setsid grandchild to be killed")


def test_leftovers_die_with_a_program_that_exits(lab, pidfile):
    _, pids = run_escaping(lab, pidfile, WAIT_FOR_GRANDCHILD, "passing", timeout=2, rise=1)
    wait_for(lambda: not any(alive(p) for p in pids), 5, "what the program left behind to be killed")


def test_program_that_kills_its_supervisor_still_loses_its_tree(lab, pidfile):
    d, pids = run_escaping(lab, pidfile, WAIT_FOR_GRANDCHILD + """
import signal
os.kill(os.getppid(), signal.SIGKILL)
time.sleep(1000)
""", "failing", timeout=2, fall=1)
    assert "killed by signal 9" in check_state(d, "escape")["last"]["error"]
    wait_for(lambda: not any(alive(p) for p in pids), 5, "the orphaned grandchild to be killed by healthd")
    assert d.proc.poll() is None
