"""The Debian package, installed and run under a booted systemd.

`dpkg-buildpackage -us -uc -b` builds the package from a copy of this tree,
lintian checks it, and a systemd-nspawn container running this machine's own
tree (tests/lib/booted.py) installs it. Then, as a user would:

  * installing creates the users and groups and enables nothing;
  * the shipped /etc/arbor/arbor.json passes --check-config for every daemon;
  * `systemd-analyze verify` passes and `systemd-analyze security` gives every
    unit an exposure of at most 2.0 (the figures are printed: pytest -s);
  * `systemctl enable --now arbor-dnsd` is all it takes: dnsd answers on port 53;
  * each daemon works under its unit's hardening, as its own user with only
    its capabilities, and ProtectSystem=strict leaves it only its state and
    runtime paths to write: dhcp4d serves udhcpc a lease, dnsd answers dig,
    healthd's icmp check passes, overlayd as a hub takes a spoke's join and
    makes its VXLAN device, route and nftables table, wgd runs wireguard-go
    (/dev/net/tun through PrivateDevices=) and gives a peer to it;
  * the lifecycle: Type=notify reaches active; `systemctl reload` is the
    contract's reload (a bad file: the reload fails, the unit stays active, the
    old configuration runs); stop is clean and quick; kill -9 is restarted;
    exit 2 (a bad configuration) is not; a hung loop (SIGSTOP) stops the
    WATCHDOG=1 pings and systemd restarts it;
  * remove keeps the configuration and state, purge leaves nothing behind but
    the system users.

The tests run in file order and share one container; each leaves the daemons
as the next expects.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from arborlab import ROOT, Lab, binary, wait_for
from booted import BootedMachine
from overlay import ping

DAEMONS = ["healthd", "dhcp4d", "dnsd", "overlayd", "wgd", "dhcp6pd"]
# What each daemon's process holds (CapEff): CAP_NET_BIND_SERVICE 10,
# CAP_NET_ADMIN 12, CAP_NET_RAW 13.
CAPS = {"healthd": 1 << 13, "dhcp4d": (1 << 10) | (1 << 12) | (1 << 13), "dnsd": 1 << 10, "overlayd": 1 << 12,
        "wgd": 1 << 12, "dhcp6pd": (1 << 10) | (1 << 12) | (1 << 13)}
MAX_EXPOSURE = 2.0
EXPOSURE_RE = re.compile(r"Overall exposure level for (\S+): ([0-9.]+)")


@pytest.fixture(scope="module")
def package():
    """Builds the .deb from a copy of the tree (dpkg-buildpackage writes next to it)."""
    work = tempfile.mkdtemp(prefix="arbor-deb-")
    try:
        files = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard", "-z"],
                               capture_output=True, check=True).stdout.split(b"\0")
        src = os.path.join(work, "arbor")
        for rel in filter(None, (f.decode() for f in files)):
            if os.path.exists(os.path.join(ROOT, rel)):
                os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
                shutil.copy2(os.path.join(ROOT, rel), os.path.join(src, rel))
        # The unit tests ran against build/ already; the package build skips them.
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=%d" % (os.cpu_count() or 1))
        r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env, capture_output=True,
                           text=True, timeout=1200)
        assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
        debs = [d for d in glob.glob(os.path.join(work, "arbor_*.deb"))]
        assert len(debs) == 1, os.listdir(work)
        yield {"dir": work, "deb": debs[0], "changes": glob.glob(os.path.join(work, "*.changes"))[0]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_lintian_clean(package):
    """No error, warning or info tag; the one override says why in debian/."""
    r = subprocess.run(["lintian", "--allow-root", "--info", "--fail-on", "error,warning,info",
                        package["changes"]], capture_output=True, text=True, timeout=600)
    print("\nlintian: %s" % (r.stdout.strip() or "clean"))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.fixture(scope="module")
def machine(package):
    m = BootedMachine(binds=[(package["dir"], "/mnt/arbor-pkg")])
    try:
        yield m
    finally:
        m.close()


def main_pid(m, daemon):
    return int(m.show(f"arbor-{daemon}", "MainPID")["MainPID"])


def status(m, daemon):
    return json.loads(m.run(["arborctl", "--json", "status", daemon]).stdout)


def wait_active(m, daemon, timeout=20):
    wait_for(lambda: m.show(f"arbor-{daemon}", "ActiveState")["ActiveState"] == "active", timeout,
             f"arbor-{daemon} to be active")


def test_install_creates_users_and_enables_nothing(machine):
    deb = machine.sh("ls /mnt/arbor-pkg/arbor_*.deb").stdout.strip()
    machine.run(["dpkg", "-i", deb])
    for group in ("arbor", "arbor-admin"):
        machine.run(["getent", "group", group])
    arbor_gid = machine.run(["getent", "group", "arbor"]).stdout.split(":")[2]
    for d in DAEMONS:
        entry = machine.run(["getent", "passwd", f"arbor-{d}"]).stdout.strip().split(":")
        assert entry[3] == arbor_gid, f"arbor-{d}'s group is the read group arbor: {entry}"
        assert entry[6] == "/usr/sbin/nologin"
        r = machine.run(["systemctl", "is-enabled", f"arbor-{d}"], check=False)
        assert r.stdout.strip() == "disabled", r.stdout
        assert machine.show(f"arbor-{d}", "ActiveState")["ActiveState"] == "inactive"
    st = machine.sh("stat -c '%a %U %G' /run/arbor").stdout.split()
    assert st == ["1775", "root", "arbor"], st


def test_shipped_config_passes_check_config(machine):
    for d in DAEMONS:
        r = machine.run([f"/usr/sbin/arbor-{d}", "--check-config", "-c", "/etc/arbor/arbor.json"], check=False)
        assert r.returncode == 0 and r.stdout.strip() == "/etc/arbor/arbor.json: ok", r.stdout + r.stderr


def test_units_verify_and_exposure(machine):
    r = machine.run(["systemd-analyze", "verify"] + [f"/lib/systemd/system/arbor-{d}.service" for d in DAEMONS],
                    check=False)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr
    figures = {}
    for d in DAEMONS:
        r = machine.run(["systemd-analyze", "security", "--no-pager", f"arbor-{d}.service"], check=False)
        m = EXPOSURE_RE.search(r.stdout)
        assert m, r.stdout + r.stderr
        figures[d] = float(m.group(2))
    print("\nsystemd-analyze security (booted): " + ", ".join(f"arbor-{d} {v:.1f}" for d, v in figures.items()))
    assert all(v <= MAX_EXPOSURE for v in figures.values()), figures


def test_enable_now_is_all_it_takes(machine):
    """dnsd with the shipped configuration: enable --now, and it answers on port 53."""
    machine.run(["systemctl", "enable", "--now", "arbor-dnsd"])
    wait_active(machine, "dnsd")
    r = machine.run(["dig", "+short", "+time=2", "@127.0.0.1", "arbor.home.arpa", "TXT"])
    assert r.stdout.strip() == '"served by arbor-dnsd"', r.stdout + r.stderr
    machine.run(["systemctl", "enable", "--now", "arbor-dhcp4d", "arbor-healthd", "arbor-overlayd", "arbor-wgd",
                 "arbor-dhcp6pd"])
    for d in DAEMONS:
        wait_active(machine, d)


@pytest.mark.parametrize("daemon", DAEMONS)
def test_runs_as_its_own_user_with_only_its_capabilities(machine, daemon):
    pid = main_pid(machine, daemon)
    uid = machine.run(["id", "-u", f"arbor-{daemon}"]).stdout.strip()
    proc = dict(line.split(":", 1) for line in machine.run(["cat", f"/proc/{pid}/status"]).stdout.splitlines())
    assert proc["Uid"].split() == [uid] * 4
    assert int(proc["CapEff"], 16) == CAPS[daemon] and int(proc["CapBnd"], 16) == CAPS[daemon], proc["CapEff"]
    assert proc["NoNewPrivs"].strip() == "1"
    sock = machine.sh(f"stat -c '%U %G %a' /run/arbor/{daemon}.sock").stdout.split()
    assert sock == [f"arbor-{daemon}", "arbor", "660"], sock


def test_who_may_do_what_on_the_installed_system(machine):
    """arborctl as an admin (in arbor-admin only), a reader (in arbor only), a stranger."""
    for name, groups in (("tadmin", "arbor-admin"), ("treader", "arbor"), ("tstranger", "")):
        machine.run(["useradd", "--system", "-M", "-N", "-g", "nogroup"] + (["-G", groups] if groups else [])
                    + [name])

    def ctl(user, *args):
        return machine.run(["setpriv", f"--reuid={user}", "--regid=nogroup", "--init-groups", "arborctl"]
                           + list(args), check=False)
    for d in DAEMONS:
        assert ctl("tadmin", "renew", d).returncode == 0
        assert ctl("treader", "status", d).returncode == 0
        r = ctl("treader", "renew", d)
        assert r.returncode == 1 and "refused" in r.stdout, r.stdout + r.stderr
        r = ctl("tstranger", "status", d)
        assert r.returncode == 3 and "permission denied" in r.stderr, r.stdout + r.stderr


@pytest.mark.parametrize("daemon", DAEMONS)
def test_protect_system_strict(machine, daemon):
    """In the daemon's own mount namespace even root writes only its paths."""
    pid = main_pid(machine, daemon)

    def write(path):
        return machine.run(["nsenter", "-t", str(pid), "-m", "sh", "-c", f'echo x > "{path}" && rm "{path}"'],
                           check=False)
    # The machine's subnet-id table is shared by the daemons that number interfaces.
    table = ["/var/lib/arbor/machine/probe"]
    numbers = daemon in ("dnsd", "dhcp6pd", "wgd")
    for path in [f"/var/lib/arbor/{daemon}/probe", "/run/arbor/probe"] + (table if numbers else []):
        r = write(path)
        assert r.returncode == 0, f"{path}: {r.stderr}"
    other = next(d for d in DAEMONS if d != daemon)
    for path in ["/etc/arbor/probe", "/usr/probe", "/var/lib/arbor/probe", f"/var/lib/arbor/{other}/probe",
                 "/var/probe", "/root/probe"] + ([] if numbers else table):
        r = write(path)
        assert r.returncode != 0 and ("Read-only file system" in r.stderr or "No such file" in r.stderr or
                                      "Permission denied" in r.stderr), f"{path}: {r.returncode} {r.stderr}"
        if path != "/root/probe":  # ProtectHome hides /root entirely
            assert "Read-only file system" in r.stderr, f"{path}: {r.stderr}"


def test_dhcp6pd_writes_only_its_sysctls(machine):
    """dhcp6pd's unit keeps /proc/sys read-only but the IPv6 per-interface settings
    (forwarding, accept_ra), which rtnetlink cannot set."""
    pid = main_pid(machine, "dhcp6pd")

    def rewrite(key):  # the value it has: changes nothing, tells whether it may write
        return machine.run(["nsenter", "-t", str(pid), "-m", "sh", "-c", f"cat {key} > {key}"], check=False)
    assert rewrite("/proc/sys/net/ipv6/conf/all/forwarding").returncode == 0
    r = rewrite("/proc/sys/net/ipv4/ip_forward")
    assert r.returncode != 0 and "Read-only file system" in r.stderr, r.stderr


def test_dnsd_walkthrough_of_the_readme(machine):
    """README's five minutes: a record of one's own, reload, a bad file refused."""
    conf = machine.run(["cat", "/etc/arbor/arbor.json"]).stdout
    anchor = '{ "name": "arbor", "type": "TXT", "data": "\\"served by arbor-dnsd\\"" }'
    assert anchor in conf

    def with_nas(address):
        return conf.replace(anchor, anchor + ',\n      { "name": "nas", "type": "A", "data": "%s" }' % address)
    dig = ["dig", "+short", "+time=2", "@127.0.0.1", "nas.home.arpa"]
    try:
        machine.write("/etc/arbor/arbor.json", with_nas("192.168.1.5"))
        machine.run(["arbor-dnsd", "--check-config"])
        machine.run(["systemctl", "reload", "arbor-dnsd"])
        assert machine.run(dig).stdout.strip() == "192.168.1.5"
        gen = status(machine, "dnsd")["config"]["generation"]
        machine.write("/etc/arbor/arbor.json", with_nas("192.168.1.6"))
        machine.run(["systemctl", "reload", "arbor-dnsd"])
        assert status(machine, "dnsd")["config"]["generation"] == gen + 1
        assert machine.run(dig).stdout.strip() == "192.168.1.6"
        events = machine.run(["arborctl", "events", "dnsd"]).stdout
        assert "daemon.started" in events and "config.reloaded" in events, events
        # A bad file: the reload fails, the unit stays active, the old config runs.
        machine.write("/etc/arbor/arbor.json", with_nas("192.168.1.6").replace('"dnsd": {', '"dnsd": { "frobnicate": 1,'))
        r = machine.run(["systemctl", "reload", "arbor-dnsd"], check=False)
        assert r.returncode != 0
        assert machine.show("arbor-dnsd", "ActiveState")["ActiveState"] == "active"
        assert status(machine, "dnsd")["config"]["generation"] == gen + 1
        assert machine.run(dig).stdout.strip() == "192.168.1.6"
        rejected = machine.run(["arborctl", "--json", "events", "dnsd", "--type", "config.*"]).stdout
        assert "config.rejected" in rejected and "dnsd.frobnicate: unknown key" in rejected, rejected
        r = machine.run(["curl", "-s", "--unix-socket", "/run/arbor/dnsd.sock", "http://localhost/v1/status"])
        assert json.loads(r.stdout)["config"]["generation"] == gen + 1
    finally:
        machine.write("/etc/arbor/arbor.json", conf)
        machine.run(["systemctl", "reload", "arbor-dnsd"])


def test_dhcp4d_serves_a_lease(machine):
    lab = Lab(prefix="arbpkg")
    conf = machine.run(["cat", "/etc/arbor/arbor.json"]).stdout
    server, client = f"arbs{os.getpid() % 10000}", f"arbc{os.getpid() % 10000}"
    try:
        ns = lab.add_netns("cli")
        subprocess.run(["ip", "link", "add", client, "netns", ns.name, "type", "veth", "peer", "name", server,
                        "netns", str(machine.pid1)], check=True)
        machine.run(["ip", "addr", "add", "192.168.77.1/24", "dev", server])
        machine.run(["ip", "link", "set", server, "up"])
        ns.exec(["ip", "link", "set", client, "up"])
        machine.write("/etc/arbor/arbor.json", conf.replace(
            '"dhcp4d": {\n  }', '"dhcp4d": { "servers": [ { "interface": "%s", "subnet": "192.168.77.0/24" } ] }'
            % server))
        machine.run(["systemctl", "reload", "arbor-dhcp4d"])
        r = ns.exec(["udhcpc", "-f", "-q", "-n", "-t", "10", "-T", "1", "-i", client, "-s", "/bin/true"],
                    check=False, timeout=30)
        assert "obtained" in r.stdout + r.stderr, r.stdout + r.stderr
        leases = json.loads(machine.run(["arborctl", "get", "dhcp4d", "/v1/leases"]).stdout)
        assert [le["address"] for le in leases["leases"] if le["state"] == "bound"], leases
    finally:
        machine.write("/etc/arbor/arbor.json", conf)
        machine.run(["systemctl", "reload", "arbor-dhcp4d"], check=False)
        machine.run(["ip", "link", "del", server], check=False)
        lab.close()


def test_healthd_pings_as_its_own_user(machine):
    """The shipped icmp check of 127.0.0.1 passes: a raw socket through the unit's CAP_NET_RAW."""
    machine.run(["arborctl", "renew", "healthd"])  # the first run is otherwise spread over the interval

    def result():
        checks = json.loads(machine.run(["arborctl", "get", "healthd", "/v1/checks"]).stdout)["checks"]
        return (next(c for c in checks if c["name"] == "loopback")["last"] or {}).get("result")
    assert wait_for(result, 20, "the icmp check to run") == "pass"


ESCAPING_REPORT = """
import json, os, sys, time
out = sys.argv[1]
env = sorted(kv.split("=", 1)[0] for kv in open("/proc/self/environ").read().split("\\0") if kv)
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
caps = {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")}
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(w, b"%d" % os.getpid())
        time.sleep(1000)
    os._exit(0)
grandchild = int(os.read(r, 32))
json.dump({"env": env, "caps": caps, "grandchild": grandchild}, open(out + ".tmp", "w"))
os.rename(out + ".tmp", out)
time.sleep(1000)
"""


def test_healthd_exec_checks_under_the_unit(machine):
    """As arbor-healthd under the sandbox: a clean environment, no capabilities
    (healthd's ambient CAP_NET_RAW is not passed on), and a setsid() grandchild
    killed at the timeout."""
    conf = machine.run(["cat", "/etc/arbor/arbor.json"]).stdout
    report = "/var/lib/arbor/healthd/exec-report.json"
    check = {"name": "escape", "kind": "exec", "command": ["/usr/bin/python3", "-c", ESCAPING_REPORT, report],
             "interval": 5, "timeout": 1, "fall": 1}
    assert '"checks": [' in conf
    try:
        machine.write("/etc/arbor/arbor.json", conf.replace('"checks": [', '"checks": [ %s,' % json.dumps(check), 1))
        machine.run(["systemctl", "reload", "arbor-healthd"])
        machine.run(["arborctl", "renew", "healthd"])

        def escape():
            checks = json.loads(machine.run(["arborctl", "get", "healthd", "/v1/checks"]).stdout)["checks"]
            return next(c for c in checks if c["name"] == "escape")
        wait_for(lambda: escape()["state"] == "failing", 20, "the exec check to time out")
        assert escape()["last"]["error"].startswith("timed out"), escape()
        got = json.loads(machine.run(["cat", report]).stdout)
        assert got["env"] == ["ARBOR_CHECK", "PATH"], got
        assert all(int(v, 16) == 0 for v in got["caps"].values()), got
        wait_for(lambda: machine.run(["test", "-e", "/proc/%d" % got["grandchild"]], check=False).returncode != 0,
                 10, "the setsid grandchild to be killed")
    finally:
        machine.write("/etc/arbor/arbor.json", conf)
        machine.run(["systemctl", "reload", "arbor-healthd"])
        machine.run(["rm", "-f", report])


def test_overlayd_hub_under_the_unit(machine):
    """overlayd as a hub under its unit (arbor-overlayd, CAP_NET_ADMIN only, the
    sandbox): `arborctl overlay enroll` gives a token, a spoke (the build tree's
    overlayd, in a namespace outside the container) joins over a veth, and the hub
    creates the spoke's VXLAN device (VNI, dstport 4789), its route and its
    nftables table through netlink and libnftables; the spoke pings the hub's
    overlay address through the tunnel."""
    lab = Lab(prefix="arbpkg")
    conf = machine.run(["cat", "/etc/arbor/arbor.json"]).stdout
    hub_end, spoke_end = f"arbh{os.getpid() % 10000}", f"arbk{os.getpid() % 10000}"
    device = None
    try:
        ns = lab.add_netns("spk")
        subprocess.run(["ip", "link", "add", spoke_end, "netns", ns.name, "type", "veth", "peer", "name", hub_end,
                        "netns", str(machine.pid1)], check=True)
        machine.run(["ip", "addr", "add", "192.168.78.1/24", "dev", hub_end])
        machine.run(["ip", "link", "set", hub_end, "up"])
        ns.exec(["ip", "addr", "add", "192.168.78.2/24", "dev", spoke_end])
        ns.exec(["ip", "link", "set", spoke_end, "up"])
        machine.write("/etc/arbor/arbor.json", conf.replace(
            '"overlayd": {\n  }',
            '"overlayd": { "hub": { "listen": "192.168.78.1:4790", "network": "10.210.0.0/16" } }'))
        # Taking the hub role is a restart, not a reload (arbor-overlayd(8)).
        machine.run(["systemctl", "restart", "arbor-overlayd"])
        wait_active(machine, "overlayd")
        token = machine.run(["arborctl", "overlay", "enroll", "pkgspoke"]).stdout.strip()
        assert token.startswith("arbor-ovl1."), token
        spoke = lab.daemon("overlayd", binary("overlayd/arbor-overlayd"),
                           {"machine": {"name": "pkgspoke"},
                            "overlayd": {"spoke": {"hub": "192.168.78.1:4790", "token": token, "retry": 0.2}}},
                           netns=ns)
        spoke.start()
        wait_for(lambda: spoke.status()["overlayd"]["spoke"]["state"] == "joined", 15, "the spoke to join")
        a = spoke.status()["overlayd"]["spoke"]["assignment"]
        spokes = json.loads(machine.run(["arborctl", "get", "overlayd", "/v1/spokes"]).stdout)["spokes"]
        assert [(s["hostname"], s["vni"], s["subnet"]) for s in spokes] == [("pkgspoke", a["vni"], a["subnet"])]
        device = spokes[0]["device"]
        # The join is answered once the entry is on disk; the kernel follows: the
        # device, then the route over it, and the firewall's set of spokes.
        def route():
            r = machine.run(["ip", "route", "show", a["subnet"]]).stdout
            return r if f"dev {device}" in r else None
        routes = wait_for(route, 10, "the route over the spoke's device", interval=0.1)
        assert "proto 165" in routes, routes
        link = machine.run(["ip", "-d", "link", "show", device]).stdout
        assert f"vxlan id {a['vni']} " in link and "dstport 4789 " in link, link
        wait_for(lambda: "192.168.78.2" in machine.run(["nft", "list", "table", "inet", "arbor_overlay"],
                                                        check=False).stdout, 10, "the spoke in the nftables table", interval=0.1)
        assert ping(ns, a["hub_address"]), "the hub's overlay address through the tunnel"
        st = status(machine, "overlayd")["overlayd"]["kernel"]
        assert not st.get("conflicts"), st
    finally:
        machine.write("/etc/arbor/arbor.json", conf)
        machine.run(["systemctl", "restart", "arbor-overlayd"], check=False)
        # Stopping leaves a data plane in place (by design); the test takes its own away.
        if device:
            machine.run(["ip", "link", "del", device], check=False)
        machine.run(["nft", "delete", "table", "inet", "arbor_overlay"], check=False)
        machine.run(["ip", "link", "del", hub_end], check=False)
        lab.close()


def test_wgd_runs_wireguard_go_under_the_unit(machine):
    """The userspace backend as arbor-wgd: wireguard-go started with the unit's
    CAP_NET_ADMIN, /dev/net/tun bound in past PrivateDevices=, its socket in
    /run/wireguard; a peer added with arborctl is on the device."""
    conf = machine.run(["cat", "/etc/arbor/arbor.json"]).stdout
    assert '"wgd": {\n  }' in conf
    # On a machine udev makes /dev/net/tun 0666 (50-udev-default.rules); the
    # container's, made by systemd-nspawn, is 0600 root's.
    machine.run(["chmod", "0666", "/dev/net/tun"])
    try:
        machine.write("/etc/arbor/arbor.json", conf.replace(
            '"wgd": {\n  }', '"wgd": { "interfaces": [ { "name": "wg0", "address": "10.200.0.1/24", '
            '"endpoint": "192.0.2.1:51820", "backend": "userspace" } ] }'))
        r = machine.run(["systemctl", "reload", "arbor-wgd"], check=False)
        assert r.returncode == 0, machine.run(["journalctl", "-u", "arbor-wgd", "--no-pager", "-o", "cat"]).stdout[-3000:]
        st = status(machine, "wgd")["wgd"]["interfaces"][0]
        assert st["up"] and st["backend"] == "userspace" and st["wireguard_go_pid"] > 0, st
        # No subnet_id given: numbered in the machine's one table, which other
        # daemons' users share (the file stays group arbor's, readable by all).
        table = json.loads(machine.run(["cat", "/var/lib/arbor/machine/subnets6.json"]).stdout)["subnets"]
        assert table["wg0"] == st["subnet_id"] > 0, (table, st)
        assert machine.sh("stat -c '%G %a' /var/lib/arbor/machine").stdout.split() == ["arbor", "2770"]
        assert machine.sh("stat -c '%G' /var/lib/arbor/machine/subnets6.json").stdout.strip() == "arbor"
        wggo = dict(line.split(":", 1) for line in
                    machine.run(["cat", f"/proc/{st['wireguard_go_pid']}/status"]).stdout.splitlines())
        uid = machine.run(["id", "-u", "arbor-wgd"]).stdout.strip()
        assert wggo["Uid"].split()[0] == uid, "wireguard-go runs as arbor-wgd"
        sock = machine.sh("stat -c '%U %a' /run/wireguard/wg0.sock").stdout.split()
        assert sock[0] == "arbor-wgd", sock
        config = machine.run(["arborctl", "wg", "add", "laptop"]).stdout
        assert "PrivateKey = " in config and "Endpoint = 192.0.2.1:51820" in config, config
        key = json.loads(machine.run(["arborctl", "get", "wgd", "/v1/peers/laptop"]).stdout)["public_key"]
        assert machine.run(["wg", "show", "wg0", "peers"]).stdout.split() == [key]
        assert "10.200.0.1/24" in machine.run(["ip", "addr", "show", "wg0"]).stdout
        machine.run(["arborctl", "wg", "del", "laptop"])
    finally:
        machine.write("/etc/arbor/arbor.json", conf)
        machine.run(["systemctl", "reload", "arbor-wgd"])
    assert machine.run(["test", "-e", "/run/wireguard/wg0.sock"], check=False).returncode != 0, \
        "removing the interface stopped its wireguard-go"


@pytest.mark.parametrize("daemon", DAEMONS)
def test_lifecycle(machine, daemon):
    unit = f"arbor-{daemon}"
    # Stop: clean (exit 0) and well inside TimeoutStopSec.
    t0 = time.monotonic()
    machine.run(["systemctl", "stop", unit])
    took = time.monotonic() - t0
    s = machine.show(unit, "ActiveState", "Result", "ExecMainStatus", "TimeoutStopUSec")
    assert s["ActiveState"] == "inactive" and s["Result"] == "success" and s["ExecMainStatus"] == "0", s
    assert took < 10, f"stop took {took:.1f} s"
    machine.run(["systemctl", "start", unit])
    wait_active(machine, daemon)

    # kill -9: restarted.
    pid = main_pid(machine, daemon)
    restarts = int(machine.show(unit, "NRestarts")["NRestarts"])
    machine.run(["kill", "-9", str(pid)])
    wait_for(lambda: int(machine.show(unit, "NRestarts")["NRestarts"]) == restarts + 1
             and machine.show(unit, "ActiveState")["ActiveState"] == "active", 30, "the restart after kill -9")
    assert main_pid(machine, daemon) != pid

    # Exit 2 (a bad configuration): failed, not restarted.
    conf = machine.run(["cat", "/etc/arbor/arbor.json"]).stdout
    machine.write("/etc/arbor/arbor.json", "{broken")
    try:
        assert machine.run(["systemctl", "restart", unit], check=False).returncode != 0
        s = machine.show(unit, "ActiveState", "SubState", "Result", "ExecMainStatus", "NRestarts")
        # "failed", not "auto-restart": systemd decided not to restart it.
        assert (s["ActiveState"], s["SubState"], s["Result"], s["ExecMainStatus"]) == \
            ("failed", "failed", "exit-code", "2"), s
        assert s["NRestarts"] == "0", s  # counted since this (manual) restart
    finally:
        machine.write("/etc/arbor/arbor.json", conf)
    machine.run(["systemctl", "reset-failed", unit])

    # The watchdog, shortened for the test: pings arrive, and a stopped loop is restarted.
    dropin = f"/run/systemd/system/{unit}.service.d"
    machine.run(["mkdir", "-p", dropin])
    machine.write(f"{dropin}/50-watchdog-test.conf",
                  "[Service]\nWatchdogSec=2s\nTimeoutAbortSec=1s\nRestartSec=1s\nLimitCORE=0\n")
    try:
        machine.run(["systemctl", "daemon-reload"])
        machine.run(["systemctl", "start", unit])
        wait_active(machine, daemon)
        first = machine.show(unit, "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"]
        wait_for(lambda: machine.show(unit, "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"] != first,
                 10, "a WATCHDOG=1 ping")
        pid = main_pid(machine, daemon)
        restarts = int(machine.show(unit, "NRestarts")["NRestarts"])
        machine.run(["kill", "-STOP", str(pid)])
        wait_for(lambda: int(machine.show(unit, "NRestarts")["NRestarts"]) == restarts + 1
                 and machine.show(unit, "ActiveState")["ActiveState"] == "active", 30,
                 "the watchdog to restart the stopped daemon")
        assert main_pid(machine, daemon) != pid
        log = machine.run(["journalctl", "-u", unit, "--no-pager", "-o", "cat"]).stdout
        assert "Watchdog timeout" in log, log[-2000:]
    finally:
        machine.run(["rm", "-rf", dropin])
        machine.run(["systemctl", "daemon-reload"])
    machine.run(["systemctl", "restart", unit])
    wait_active(machine, daemon)


def test_remove_then_purge_leave_nothing_behind(machine):
    units = [f"arbor-{d}" for d in DAEMONS]
    machine.run(["systemctl", "disable", "--now"] + units)
    machine.run(["dpkg", "-r", "arbor"])
    # remove: configuration and state stay, the rest goes.
    machine.run(["test", "-f", "/etc/arbor/arbor.json"])
    machine.run(["test", "-d", "/var/lib/arbor/dnsd"])
    for path in ("/run/arbor", "/usr/sbin/arbor-dnsd", "/lib/systemd/system/arbor-dnsd.service",
                 "/usr/share/man/man8/arbor-dnsd.8.gz"):
        assert machine.run(["test", "-e", path], check=False).returncode != 0, path
    machine.run(["dpkg", "-P", "arbor"])
    # Everything the container changed on its disk: nothing of arbor's is left
    # but the system users and groups (Debian keeps system accounts). man-db's
    # own cache of formatted pages (/var/cache/man, made when systemd-analyze
    # verify looked at Documentation=) is man-db's to expire.
    left = []
    for dirpath, dirnames, filenames in os.walk(machine.upper):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)[len(machine.upper):]
            if "arbor" in path and not path.startswith(("/tmp/", "/mnt/", "/var/cache/man/")):
                left.append(path)
    assert left == [], left
    for d in DAEMONS:
        machine.run(["getent", "passwd", f"arbor-{d}"])
