"""arbor-dnsd in network namespaces, checked with dig, kdig and unbound: the zone,
a tree of three machines (recursion inside the tree and referrals), unbound
following our delegations, DHCP leases (from dhcp4d's contract, udhcpc as the
client) becoming A records, child glue that a LAN host cannot take over,
response rate limiting, RFC 8906-style protocol checks, malformed input, TCP
limits, config errors and the contract."""
import json
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

from arborlab import binary, wait_for
from contract import ContractSuite, DaemonSpec
from tools import needs

MID_ROOT = "0123456789abcdef0123456789abcdef"
# The machine's subnet-id table where machine.subnets6_dir is not set: "machine"
# beside the state directory (the lab gives each daemon <dir>/state).
MACHINE_TABLE = "../machine/subnets6.json"
MID_M1 = "00000000000000000000000000000001"
MID_M2 = "5b3f0a4e9c8d7e6f1a2b3c4d5e6f7a8b"

needs_dig = needs("dig")
needs_kdig = needs("kdig")


def dnsd_config(domain="home.arpa", name="root", mid=MID_ROOT, **dnsd):
    c = {"listen": ["127.0.0.1"], "records": [
        {"name": "www", "type": "A", "data": "192.168.1.10"},
        {"name": "alias", "type": "CNAME", "data": "www"},
        {"name": "chain", "type": "CNAME", "data": "alias"},
        {"name": "mail", "type": "MX", "data": "10 www"},
        {"name": "txt", "type": "TXT", "data": "\"v=spf1 -all\" \"second\""},
        {"name": "_http._tcp", "type": "SRV", "data": "0 5 80 www"},
        {"name": "@", "type": "CAA", "data": "0 issue \"ca.example\""},
        {"name": "v6", "type": "AAAA", "data": "fd00::1"},
    ] + [{"name": "big", "type": "TXT", "data": f"\"{'x' * 200} {i}\""} for i in range(6)],
        "hosts": [{"name": "nas", "interface": "lan0", "host_id": "nas", "ipv4": "192.168.1.5"}],
        "reverse_zones": ["192.168.1.0/24"],
        "allow_recursion": ["127.0.0.0/8", "10.0.0.0/8"]}
    c.update(dnsd)
    return {"machine": {"name": name, "domain": domain, "machine_id": mid}, "dnsd": c}


def start(lab, ns, config):
    return lab.daemon("dnsd", binary("dnsd/arbor-dnsd"), config, netns=ns).start()


def dig(ns, *args, server="127.0.0.1", port=53):
    r = ns.exec(["dig", f"@{server}", "-p", str(port), "+time=2", "+tries=1"] + list(args), check=False)
    return r.stdout


def dig_short(ns, *args, **kw):
    return dig(ns, "+short", *args, **kw).split()


def header(out):
    """status and flags from dig's output."""
    for line in out.splitlines():
        if "->>HEADER<<-" in line:
            status = line.split("status: ")[1].split(",")[0]
        if line.startswith(";; flags:"):
            flags = line.split("flags: ")[1].split(";")[0].split()
            return status, set(flags)
    raise AssertionError(out)


@pytest.fixture
def one(lab):
    ns = lab.add_netns("dns1")
    return ns, start(lab, ns, dnsd_config())


# ---- the zone ----

@needs_dig
def test_authoritative_answers(lab, one):
    ns, d = one
    out = dig(ns, "www.home.arpa", "A")
    assert header(out)[0] == "NOERROR" and "aa" in header(out)[1]
    assert dig_short(ns, "www.home.arpa") == ["192.168.1.10"]
    assert dig_short(ns, "chain.home.arpa") == ["alias.home.arpa.", "www.home.arpa.", "192.168.1.10"]
    assert dig_short(ns, "mail.home.arpa", "MX") == ["10", "www.home.arpa."]
    assert dig_short(ns, "txt.home.arpa", "TXT") == ['"v=spf1', '-all"', '"second"']
    assert dig_short(ns, "_http._tcp.home.arpa", "SRV") == ["0", "5", "80", "www.home.arpa."]
    assert dig_short(ns, "home.arpa", "CAA") == ["0", "issue", '"ca.example"']
    assert dig_short(ns, "v6.home.arpa", "AAAA") == ["fd00::1"]
    soa = dig_short(ns, "home.arpa", "SOA")
    assert soa[0] == "ns.home.arpa." and int(soa[2]) > 1700000000
    assert dig_short(ns, "home.arpa", "NS") == ["ns.home.arpa."]
    assert dig_short(ns, "ns.home.arpa") == ["127.0.0.1"]
    # the host from config: its A, its derived AAAA (docs/addressing.md), its PTR
    assert dig_short(ns, "nas.lan0.home.arpa") == ["192.168.1.5"]
    aaaa = dig_short(ns, "nas.lan0.home.arpa", "AAAA")
    assert len(aaaa) == 1 and aaaa[0].startswith("fd5a:965f:8fee:")
    assert dig_short(ns, "-x", "192.168.1.5") == ["nas.lan0.home.arpa."]
    assert dig_short(ns, "-x", "192.168.1.10") == ["www.home.arpa."]
    assert dig_short(ns, "-x", aaaa[0]) == ["nas.lan0.home.arpa."]


@needs_dig
def test_nxdomain_nodata_and_refused(lab, one):
    ns, d = one
    out = dig(ns, "nope.home.arpa")
    status, flags = header(out)
    assert status == "NXDOMAIN" and "aa" in flags and "SOA" in out.split("AUTHORITY SECTION")[1]
    out = dig(ns, "www.home.arpa", "MX")
    status, flags = header(out)
    assert status == "NOERROR" and "ANSWER: 0" in out and "SOA" in out.split("AUTHORITY SECTION")[1]
    out = dig(ns, "example.com")
    assert header(out)[0] == "REFUSED"  # outside the tree, no forwarders: never an open resolver
    # the question's case is echoed
    assert "WwW.HoMe.ArPa." in dig(ns, "WwW.HoMe.ArPa")


@needs_dig
def test_any_is_minimal(lab, one):
    ns, d = one
    out = dig(ns, "www.home.arpa", "ANY")
    answers = [l for l in out.split("ANSWER SECTION:")[1].split("\n\n")[0].splitlines() if l.strip()]
    assert len(answers) == 1


@needs_dig
def test_rfc8906_checks(lab, one):
    ns, d = one
    # unknown type: NODATA, not an error
    status, flags = header(dig(ns, "www.home.arpa", "TYPE65000"))
    assert status == "NOERROR" and "aa" in flags
    # unknown opcode
    assert header(dig(ns, "+opcode=15", "www.home.arpa"))[0] == "NOTIMP"
    # EDNS version 1 → BADVERS
    assert header(dig(ns, "+edns=1", "+noednsneg", "www.home.arpa"))[0] == "BADVERS"
    # unknown EDNS option and flags: ignored
    out = dig(ns, "+ednsopt=100:abcd", "+ednsflags=0x40", "www.home.arpa")
    assert header(out)[0] == "NOERROR" and "192.168.1.10" in out
    # DO=1 echoed
    out = dig(ns, "+dnssec", "www.home.arpa")
    assert header(out)[0] == "NOERROR" and "flags: do" in out
    # header flags: AD and CD on the query do not break the answer
    assert header(dig(ns, "+adflag", "+cdflag", "www.home.arpa"))[0] == "NOERROR"
    # TC over UDP without EDNS, the full answer over TCP
    out = dig(ns, "+noedns", "+ignore", "big.home.arpa", "TXT")
    assert "tc" in header(out)[1]
    out = dig(ns, "+tcp", "big.home.arpa", "TXT")
    assert "tc" not in header(out)[1] and len([l for l in out.splitlines() if "\tTXT\t" in l and not l.startswith(";")]) == 6


@needs_kdig
def test_kdig_checks(lab, one):
    ns, d = one
    r = ns.exec(["kdig", "@127.0.0.1", "+tcp", "+keepopen", "www.home.arpa", "alias.home.arpa", "nope.home.arpa"],
                check=False)
    assert r.stdout.count("status: NOERROR") == 2 and "status: NXDOMAIN" in r.stdout
    r = ns.exec(["kdig", "@127.0.0.1", "+edns=1", "www.home.arpa"], check=False)
    assert "BADVERS" in r.stdout


# ---- malformed input ----

def udp_after(ns_name, payloads, probe, timeout=5):
    """Sends payloads, then probe, from one socket (SO_REUSEPORT keeps one
    sender on one serving thread, so they are handled in order); returns every
    reply that came before the probe's answer, and that answer. Waiting for the
    probe's answer, not for a timeout, proves the payloads were dealt with."""
    code = (f"import socket,sys;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout({timeout})\n"
            "for p in sys.argv[1:]:\n s.sendto(bytes.fromhex(p),('127.0.0.1',53))\n"
            "probe=bytes.fromhex(sys.argv[-1])\n"
            "while True:\n d=s.recv(65535);print(d.hex(),flush=True)\n if d[:2]==probe[:2]: break")
    r = subprocess.run(["ip", "netns", "exec", ns_name, "/usr/bin/python3", "-c", code] +
                       [p.hex() for p in payloads + [probe]], capture_output=True, text=True, timeout=timeout + 10)
    assert r.returncode == 0, f"no answer to the probe query: {r.stderr}"
    replies = [bytes.fromhex(l) for l in r.stdout.split()]
    return replies[:-1], replies[-1]


def qname(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"


def hdr(qd=1, an=0, ns=0, ar=0, flags=0x0100, id=0x1234):
    return struct.pack("!HHHHHH", id, flags, qd, an, ns, ar)


MALFORMED = {
    "qdcount_2": hdr(qd=2) + qname("www.home.arpa") + b"\0\1\0\1" + qname("www.home.arpa") + b"\0\1\0\1",
    "qdcount_0": hdr(qd=0),
    "pointer_loop": hdr() + b"\xc0\x0c" + b"\0\1\0\1",
    "pointer_forward": hdr() + b"\xc0\x20" + b"\0\1\0\1" + b"\0" * 20,
    "pointer_past_end": hdr() + b"\xc3\xff" + b"\0\1\0\1",
    "label_over_63": hdr() + bytes([64]) + b"a" * 64 + b"\0" + b"\0\1\0\1",
    "name_over_255": hdr() + (bytes([63]) + b"a" * 63) * 4 + b"\0" + b"\0\1\0\1",
    "truncated_question": hdr() + qname("www.home.arpa")[:5],
    "truncated_opt": hdr(ar=1) + qname("www.home.arpa") + b"\0\1\0\1" + b"\0\0\x29\x04",
    "trailing_garbage": hdr() + qname("www.home.arpa") + b"\0\1\0\1" + b"junk",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_queries(lab, one, name):
    ns, d = one
    q0 = d.status()["dnsd"]["queries"]
    # The malformed query, then one too short for a header and a response: the
    # first gets FORMERR or nothing, the others nothing (the answer to a later
    # query from the same socket comes first); each is counted; still serving.
    before, good = udp_after(ns.name, [MALFORMED[name], b"\x12\x34\x01",
                                       hdr(flags=0x8000) + qname("www.home.arpa") + b"\0\1\0\1"],
                             hdr(id=0x4321) + qname("www.home.arpa") + b"\0\1\0\1")
    assert len(before) <= 1, [b.hex() for b in before]
    for reply in before:
        rid, flags = struct.unpack("!HH", reply[:4])
        assert rid == 0x1234 and flags & 0x8000 and flags & 0xf == 1, reply.hex()  # FORMERR
    assert struct.unpack("!H", good[6:8])[0] == 1
    q = d.status()["dnsd"]["queries"]
    assert q["formerr"] == q0["formerr"] + len(before)
    assert q["dropped"] == q0["dropped"] + 2 + (1 - len(before))


def test_tcp_slow_client_and_oversized_length(lab, one):
    ns, d = one
    d.write_config(dnsd_config(tcp={"idle_timeout": 1, "max_connections": 4}))
    code = """
import socket, struct, sys, time
def conn():
    s = socket.create_connection(("127.0.0.1", 53)); s.settimeout(5); return s
q = bytes.fromhex(sys.argv[1])
# pipelined: two queries in one write, two answers
s = conn(); s.sendall(struct.pack("!H", len(q)) + q + struct.pack("!H", len(q)) + q)
n = 0; buf = b""
while n < 2:
    buf += s.recv(65535)
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
        buf = buf[2 + struct.unpack("!H", buf[:2])[0]:]; n += 1
print("pipelined", n)
# one byte, then nothing: closed after the idle timeout (1 s here, 10 s by default)
s = conn(); s.settimeout(30); s.sendall(b"\\x00"); t = time.monotonic()
print("slow-closed", s.recv(10) == b"", round(time.monotonic() - t))
# a length prefix that is not a query we would answer: closed at once
s = conn(); s.sendall(b"\\xff\\xff" + b"x" * 100); print("oversized-closed", s.recv(10) == b"")
"""
    d.stop()
    d.start()
    q = (hdr() + qname("www.home.arpa") + b"\0\1\0\1").hex()
    r = subprocess.run(["ip", "netns", "exec", ns.name, "/usr/bin/python3", "-c", code, q], capture_output=True,
                       text=True, timeout=30)
    assert "pipelined 2" in r.stdout and "slow-closed True" in r.stdout and "oversized-closed True" in r.stdout, \
        r.stdout + r.stderr
    secs = int(r.stdout.split("slow-closed True ")[1].split()[0])
    assert secs < 8, "closed at the configured 1 s (with room for a loaded machine), not the 10 s default"
    assert d.status()["dnsd"]["tcp"]["timeouts"] >= 1


# ---- a tree of machines ----

def tree(lab):
    """root (10.1.0.1) — m1 (10.1.0.2 | 10.2.0.1) — m2 (10.2.0.2), each running dnsd."""
    root, m1, m2 = lab.add_netns("troot"), lab.add_netns("tm1"), lab.add_netns("tm2")
    tag = os.getpid() % 10000
    lab.veth(root, f"r{tag}", m1, f"u{tag}")
    lab.veth(m1, f"d{tag}", m2, f"w{tag}")
    for ns, old, new, addr in ((root, f"r{tag}", "lan0", "10.1.0.1/24"), (m1, f"u{tag}", "wan0", "10.1.0.2/24"),
                               (m1, f"d{tag}", "lan0", "10.2.0.1/24"), (m2, f"w{tag}", "wan0", "10.2.0.2/24")):
        ns.exec(["ip", "link", "set", old, "down"])
        ns.exec(["ip", "link", "set", old, "name", new])
        ns.exec(["ip", "link", "set", new, "up"])
        ns.exec(["ip", "addr", "add", addr, "dev", new])
    root.exec(["ip", "route", "add", "10.2.0.0/24", "via", "10.1.0.2"])
    m1.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"])  # m1 routes between its uplink and its LAN
    m2.exec(["ip", "route", "add", "default", "via", "10.2.0.1"])
    base = {"records": [], "hosts": [], "reverse_zones": [], "allow_recursion": ["127.0.0.0/8", "10.0.0.0/8"]}
    cr = dnsd_config(**dict(base, listen=["10.1.0.1", "127.0.0.1"],
                            children=[{"name": "m1", "interface": "lan0", "ipv4": "10.1.0.2", "machine_id": MID_M1}]))
    c1 = dnsd_config(domain="m1.lan0.home.arpa", name="m1", mid=MID_M1,
                     **dict(base, listen=["10.1.0.2", "10.2.0.1", "127.0.0.1"],
                            records=[{"name": "files", "type": "A", "data": "10.2.0.50"}],
                            children=[{"name": "m2", "interface": "lan0", "ipv4": "10.2.0.2"}]))
    c2 = dnsd_config(domain="m2.lan0.m1.lan0.home.arpa", name="m2", mid=MID_M2,
                     **dict(base, listen=["10.2.0.2", "127.0.0.1"],
                            records=[{"name": "www", "type": "A", "data": "10.2.0.80"},
                                     {"name": "web", "type": "CNAME", "data": "www"}]))
    d2 = start(lab, m2, c2)
    d1 = start(lab, m1, c1)
    d0 = start(lab, root, cr)
    return root, (d0, d1, d2)


@needs_dig
def test_tree_recursion_and_referrals(lab):
    root, (d0, d1, d2) = tree(lab)
    name = "www.m2.lan0.m1.lan0.home.arpa"
    out = dig(root, name, server="10.1.0.1")
    status, flags = header(out)
    assert status == "NOERROR" and "ra" in flags and "10.2.0.80" in out
    assert dig_short(root, "files.m1.lan0.home.arpa", server="10.1.0.1") == ["10.2.0.50"]
    # a CNAME two levels down, and NXDOMAIN from the child passed on
    assert dig_short(root, "web.m2.lan0.m1.lan0.home.arpa", server="10.1.0.1")[-1] == "10.2.0.80"
    assert header(dig(root, "nope.m2.lan0.m1.lan0.home.arpa", server="10.1.0.1"))[0] == "NXDOMAIN"
    # RD=0: the referral to m1 with glue (A from config, AAAA derived from m1's machine id)
    out = dig(root, "+norec", name, server="10.1.0.1")
    status, flags = header(out)
    assert status == "NOERROR" and "aa" not in flags and "ANSWER: 0" in out
    auth = out.split("AUTHORITY SECTION:")[1]
    assert "m1.lan0.home.arpa." in auth and "NS" in auth and "ns.m1.lan0.home.arpa." in auth
    add = out.split("ADDITIONAL SECTION:")[1]
    assert "10.1.0.2" in add and "fd12:6415:2275:" in add
    # the cache: asked again, answered without m2 (stopped now)
    d2.stop()
    assert "10.2.0.80" in dig(root, name, server="10.1.0.1")
    # a child that does not answer: SERVFAIL in bounded time (the resolver's
    # 4 s total timeout, with room for a loaded machine, well before dig gives up)
    t = time.monotonic()
    out = dig(root, "other.m2.lan0.m1.lan0.home.arpa", "+time=20", server="10.1.0.1")
    assert header(out)[0] == "SERVFAIL" and time.monotonic() - t < 12
    st = d0.status()["dnsd"]
    assert st["queries"]["recursed"] >= 3


@needs("unbound")
@needs_dig
def test_unbound_follows_our_delegations(lab):
    root, (d0, d1, d2) = tree(lab)
    tmp = lab.mkdtemp("unbound-")
    conf = f"""server:
  interface: 127.0.0.53
  port: 53
  do-daemonize: no
  use-syslog: no
  logfile: "{tmp}/log"
  pidfile: "{tmp}/pid"
  chroot: ""
  username: ""
  directory: "{tmp}"
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  local-zone: "home.arpa." nodefault
  domain-insecure: "home.arpa."
  module-config: "iterator"
  qname-minimisation: no
stub-zone:
  name: "home.arpa."
  stub-addr: 10.1.0.1
"""
    with open(f"{tmp}/unbound.conf", "w") as f:
        f.write(conf)
    root.exec(["ip", "addr", "add", "127.0.0.53/8", "dev", "lo"], check=False)
    root.popen(["unbound", "-d", "-c", f"{tmp}/unbound.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def answers():
        if dig_short(root, "ns.home.arpa", server="127.0.0.53") == ["10.1.0.1"]:
            return True
        with open(f"{tmp}/log") as f:
            print(f.read()[-2000:])
    wait_for(answers, 10, "unbound to answer from the root")
    assert dig_short(root, "www.m2.lan0.m1.lan0.home.arpa", server="127.0.0.53") == ["10.2.0.80"]
    assert dig_short(root, "files.m1.lan0.home.arpa", server="127.0.0.53") == ["10.2.0.50"]
    # unbound asked with RD=0 and followed the referrals: no recursion by our root for it
    assert d0.status()["dnsd"]["queries"]["referrals"] >= 1


@needs("unbound")
@needs_dig
def test_forwarding_only_for_allowed_clients(lab):
    """Names outside the tree go to the forwarder (unbound serving example.test)
    for clients in allow_recursion, from the cache after that; anyone else gets
    REFUSED; a forwarder that stops answering raises upstream.down."""
    ns = lab.add_netns("fwd")
    ns.exec(["ip", "addr", "add", "127.0.0.53/8", "dev", "lo"], check=False)
    ns.exec(["ip", "addr", "add", "10.9.9.9/32", "dev", "lo"])
    tmp = lab.mkdtemp("unbound-fwd-")
    with open(f"{tmp}/unbound.conf", "w") as f:
        f.write(f"""server:
  interface: 127.0.0.53
  do-daemonize: no
  use-syslog: no
  logfile: "{tmp}/log"
  pidfile: "{tmp}/pid"
  chroot: ""
  username: ""
  directory: "{tmp}"
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "example.test." static
  local-data: "www.example.test. 300 IN A 198.51.100.7"
""")
    ub = ns.popen(["unbound", "-d", "-c", f"{tmp}/unbound.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: dig_short(ns, "www.example.test", server="127.0.0.53") == ["198.51.100.7"], 10, "unbound")
    d = start(lab, ns, dnsd_config(forwarders=["127.0.0.53"], allow_recursion=["127.0.0.0/8"]))
    out = dig(ns, "www.example.test")
    status, flags = header(out)
    assert status == "NOERROR" and "ra" in flags and "aa" not in flags and "198.51.100.7" in out
    # not an open resolver: another client address is refused
    out = dig(ns, "-b", "10.9.9.9", "www.example.test")
    assert header(out)[0] == "REFUSED" and "198.51.100.7" not in out
    # our own zone still answers that client authoritatively
    assert dig_short(ns, "-b", "10.9.9.9", "www.home.arpa") == ["192.168.1.10"]
    # the cache answers while the forwarder is gone; a new name fails and is reported
    ub.terminate()
    ub.wait(10)
    assert dig_short(ns, "www.example.test") == ["198.51.100.7"]
    for i in range(3):
        dig(ns, "+time=6", f"n{i}.example.test")
    ev = wait_for(lambda: d.events(type="upstream.down"), 10, "upstream.down")
    assert "127.0.0.53" in ev[0]["data"]["upstream"]
    fw = d.status()["dnsd"]["forwarders"]
    assert fw and fw[0]["state"] == "down"


# ---- response rate limiting ----

FLOOD = """
import json, socket, struct, sys
src, count, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def q(i, n, t=1):
    return struct.pack("!HHHHHH", i, 0, 1, 0, 0, 0) + b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) \\
        + b"\\0" + struct.pack("!HH", t, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(10)
for i in range(count):
    s.sendto(q(i, name), ("127.0.0.1", 53))
s.sendto(q(65535, "mail.home.arpa", 15), ("127.0.0.1", 53))  # another account: answered, and last
got = {}
while True:
    d = s.recv(65535)
    rid, flags, qd, an = struct.unpack("!HHHH", d[:8])
    if rid == 65535:
        break
    got[rid] = "truncated" if flags & 0x0200 and an == 0 else "answer" if an else "other"
print(json.dumps(got))
"""


def flood(ns, src, count, name="www.home.arpa"):
    """count queries for name from src as fast as they go; {id: "answer" | "truncated"} of what came back."""
    r = ns.exec(["/usr/bin/python3", "-c", FLOOD, src, str(count), name], timeout=30)
    return {int(k): v for k, v in json.loads(r.stdout).items()}


def test_rrl_limits_and_slips_a_flood_and_not_others(lab):
    """Answers to a client outside allow_recursion are rate limited per network:
    a flood from one source gets 5 answers a second, and of the rest every
    second one truncated (TC, so a real client retries over TCP) and the others
    dropped; a client in another network, and one allowed to recurse, are not
    limited."""
    ns = lab.add_netns("rrl")
    for a in ("10.1.0.5/32", "10.2.0.5/32"):
        ns.exec(["ip", "addr", "add", a, "dev", "lo"])
    d = start(lab, ns, dnsd_config(allow_recursion=["127.0.0.0/8"],
                                   rrl={"responses_per_second": 5, "window": 2, "slip": 2}))
    got = flood(ns, "10.1.0.5", 200)
    answers = sum(v == "answer" for v in got.values())
    truncated = sum(v == "truncated" for v in got.values())
    assert 1 <= answers <= 10, got
    limited = 200 - answers
    assert abs(truncated - limited / 2) <= 1 and len(got) == answers + truncated, (answers, truncated, len(got))
    rrl = d.status()["dnsd"]["rrl"]
    assert rrl["slipped"] == truncated and rrl["dropped"] == limited - truncated, rrl
    metrics = d.get("/v1/metrics").body.decode()
    assert f'arbor_dnsd_rrl_responses_total{{action="dropped"}} {limited - truncated}' in metrics
    # Another network, at a normal rate: every answer, while the flooder is still limited.
    assert flood(ns, "10.2.0.5", 4) == {i: "answer" for i in range(4)}
    assert "answer" not in flood(ns, "10.1.0.5", 3).values()
    # A client allowed to recurse is not limited at all.
    assert flood(ns, "127.0.0.1", 100) == {i: "answer" for i in range(100)}
    # Over TCP (where a truncated answer sends a real client) the flooder is answered.
    assert dig_short(ns, "+tcp", "-b", "10.1.0.5", "www.home.arpa") == ["192.168.1.10"]


# ---- leases from dhcp4d ----

@needs_dig
def test_lease_becomes_a_record_and_goes_on_release(lab):
    from test_dhcp4d import dhcp4d_config, env_script, read_envs, server_and_client
    net = server_and_client(lab, "lsrv", "lcli")
    srv = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), dhcp4d_config(), netns=net["srv"]).start()
    cfg = dnsd_config(dhcp4d_socket=srv.socket, reverse_zones=["192.168.77.0/24"])
    d = start(lab, net["srv"], cfg)
    script, out = env_script(lab)
    p = net["cli"].popen(["udhcpc", "-i", "cli0", "-f", "-s", script, "-x", "hostname:laptop", "-t", "5", "-T", "1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ip = wait_for(lambda: read_envs(out, "bound"), 15, "udhcpc to bind")[0]["ip"]
    # Within 5 s: the lease files are looked at every 250 ms; a slower path fails.
    got = wait_for(lambda: dig_short(net["srv"], "laptop.srv0.home.arpa"), 5, "the A record")
    assert got == [ip]
    assert dig_short(net["srv"], "-x", ip) == ["laptop.srv0.home.arpa."]
    aaaa = dig_short(net["srv"], "laptop.srv0.home.arpa", "AAAA")
    assert len(aaaa) == 1 and aaaa[0].startswith("fd5a:965f:8fee:")
    wait_for(lambda: [e for e in d.events(type="zone.updated") if e["data"]["zone"] == "home.arpa."], 5,
             "zone.updated for home.arpa.")
    p.send_signal(signal.SIGUSR2)  # udhcpc: release
    wait_for(lambda: header(dig(net["srv"], "laptop.srv0.home.arpa"))[0] == "NXDOMAIN", 5, "the record to go")
    p.terminate()


def lease_pair(lab, short, **dnsd):
    """dhcp4d serving srv0 and dnsd following it, in one namespace, and a client namespace."""
    from test_dhcp4d import dhcp4d_config, server_and_client
    net = server_and_client(lab, f"{short}s", f"{short}c")
    srv = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), dhcp4d_config(lease_time=600), netns=net["srv"]).start()
    d = start(lab, net["srv"], dnsd_config(dhcp4d_socket=srv.socket, **dnsd))
    return net, srv, d


def udhcpc(lab, ns, hostname, iface="cli0"):
    """udhcpc asking for hostname; returns (process, its bound address)."""
    from test_dhcp4d import env_script, read_envs
    script, out = env_script(lab)
    p = ns.popen(["udhcpc", "-i", iface, "-f", "-s", script, "-x", f"hostname:{hostname}", "-t", "5", "-T", "1"],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, wait_for(lambda: read_envs(out, "bound"), 15, f"udhcpc ({hostname}) to bind")[0]["ip"]


@needs_dig
def test_unacknowledged_journal_record_is_not_published(lab):
    """A lease record in dhcp4d's journal that dhcp4d never acknowledged (written
    but not yet synced, or from a crash before the ACK) is not dnsd's to publish:
    dnsd takes leases from dhcp4d's contract, which announces a lease only after
    its record is on disk."""
    net, srv, d = lease_pair(lab, "u")
    p, ip = udhcpc(lab, net["cli"], "laptop")
    wait_for(lambda: dig_short(net["srv"], "laptop.srv0.home.arpa") == [ip], 5, "laptop's A record")
    # A record as dhcp4d writes them, for another address and host, appended behind dhcp4d's back.
    journal = os.path.join(srv.state_dir, "leases.json.journal")
    with open(journal) as f:
        line = next(json.loads(l) for l in f if f'"{ip}"' in l)
    line.update(address="192.168.77.150", hostname="ghost", mac="02:00:00:00:00:99", client_id="01:02:00:00:00:00:99",
                state="bound", ends=time.time() + 600)
    with open(journal, "a") as f:
        f.write(json.dumps(line, separators=(",", ":")) + "\n")
    # A later change that dnsd does see (the release): the ghost record was on the disk before it.
    p.send_signal(signal.SIGUSR2)
    wait_for(lambda: header(dig(net["srv"], "laptop.srv0.home.arpa"))[0] == "NXDOMAIN", 5, "the release")
    assert header(dig(net["srv"], "ghost.srv0.home.arpa"))[0] == "NXDOMAIN"
    assert dig_short(net["srv"], "-x", "192.168.77.150") == []
    assert d.status()["dnsd"]["leases"] == 0
    p.terminate()


@needs_dig
def test_leases_kept_while_dhcp4d_is_down_and_resynchronised(lab):
    """dhcp4d killed: dnsd keeps serving the committed lease (the client keeps its
    address until the lease ends) and says it is retrying; dhcp4d back: dnsd
    reads its leases again and follows its events (a release goes at once)."""
    net, srv, d = lease_pair(lab, "r")
    p, ip = udhcpc(lab, net["cli"], "laptop")
    wait_for(lambda: dig_short(net["srv"], "laptop.srv0.home.arpa") == [ip], 5, "laptop's A record")
    snapshots = d.status()["dnsd"]["lease_feed"]["snapshots"]
    srv.kill9()
    wait_for(lambda: d.status()["dnsd"]["lease_feed"].get("last_error"), 10, "dnsd to notice dhcp4d is gone")
    assert dig_short(net["srv"], "laptop.srv0.home.arpa") == [ip]
    srv.start()
    wait_for(lambda: d.status()["dnsd"]["lease_feed"]["snapshots"] > snapshots, 10, "dnsd to read the leases again")
    feed = d.status()["dnsd"]["lease_feed"]
    assert feed["state"] == "following" and "last_error" not in feed
    assert dig_short(net["srv"], "laptop.srv0.home.arpa") == [ip]
    p.send_signal(signal.SIGUSR2)
    wait_for(lambda: header(dig(net["srv"], "laptop.srv0.home.arpa"))[0] == "NXDOMAIN", 5, "the release")
    p.terminate()


@needs_dig
def test_a_lan_host_cannot_take_a_childs_delegation(lab):
    """A child's glue comes from a DHCP lease only when the lease is the child's by
    something the client cannot choose (here its MAC); a host on the LAN that asks
    DHCP for the child's name gets neither the delegation nor the name."""
    from test_dhcp4d import NET, dhcp4d_config
    root, rogue, child = lab.add_netns("hroot"), lab.add_netns("hrogue"), lab.add_netns("hchild")
    lab.bridge(root, "lan0")
    root.exec(["ip", "addr", "add", f"{NET}.1/24", "dev", "lan0"])
    tag = os.getpid() % 10000
    for ns, port, mac in ((rogue, f"hr{tag}", "52:54:00:00:0e:01"), (child, f"hc{tag}", "52:54:00:00:0c:01")):
        lab.veth(root, port, ns, "cli0")
        root.exec(["ip", "link", "set", port, "master", "lan0"])
        ns.exec(["ip", "link", "set", "cli0", "address", mac])
    srv = lab.daemon("dhcp4d", binary("dhcp4d/arbor-dhcp4d"), dhcp4d_config(interface="lan0", lease_time=600),
                     netns=root).start()
    cfg = dnsd_config(dhcp4d_socket=srv.socket, listen=[f"{NET}.1", "127.0.0.1"],
                      children=[{"name": "m1", "interface": "lan0"}])
    d = start(lab, root, cfg)
    # The rogue asks for the child's name: its lease is dnsd's, but it names nothing.
    p1, rogue_ip = udhcpc(lab, rogue, "m1")
    wait_for(lambda: d.status()["dnsd"]["leases"] == 1, 5, "dnsd to have the rogue's lease")
    for flags in (["+norec"], []):
        out = dig(rogue, *flags, "m1.lan0.home.arpa", "NS", server=f"{NET}.1")
        assert header(out)[0] == "NXDOMAIN" and rogue_ip not in out, out
    assert d.status()["dnsd"]["zones"][0]["delegations"] == 0
    # The child named by its MAC (a reservation would do the same): its lease gives the glue.
    cfg["dnsd"]["children"][0]["mac"] = "52:54:00:00:0c:01"
    d.write_config(cfg)
    assert d.post("/v1/commands/reload").status == 200
    p2, child_ip = udhcpc(lab, child, "m1")
    def glue():
        out = dig(rogue, "+norec", "m1.lan0.home.arpa", "NS", server=f"{NET}.1")
        return out if "ADDITIONAL SECTION" in out else None
    out = wait_for(glue, 5, "the referral with the child's glue")
    assert child_ip in out.split("ADDITIONAL SECTION:")[1] and rogue_ip not in out, out
    assert "m1.lan0.home.arpa." in out.split("AUTHORITY SECTION:")[1]
    # the rogue's name still goes nowhere: the child's zone answers for it (a referral)
    assert rogue_ip not in dig(root, "m1.lan0.home.arpa", "A")
    # Named by its client id instead (udhcpc sends 01 and its MAC): the same glue.
    del cfg["dnsd"]["children"][0]["mac"]
    cfg["dnsd"]["children"][0]["client_id"] = "01:52:54:00:00:0c:01"
    d.write_config(cfg)
    assert d.post("/v1/commands/reload").status == 200
    out = dig(rogue, "+norec", "m1.lan0.home.arpa", "NS", server=f"{NET}.1")
    assert child_ip in out.split("ADDITIONAL SECTION:")[1] and rogue_ip not in out, out
    p1.terminate()
    p2.terminate()


# ---- config ----

@pytest.mark.parametrize("bad, message", [
    ({"records": [{"name": "x", "type": "SRV", "data": "1 2"}]}, "dnsd.records[0].data"),
    ({"records": [{"name": "x", "type": "BOGUS", "data": "1"}]}, "dnsd.records[0].type"),
    ({"listen": ["300.1.1.1"]}, "dnsd.listen[0]"),
    ({"allow_recursion": ["10.0.0.0/33"]}, "dnsd.allow_recursion[0]"),
    ({"children": [{"name": "a.b", "interface": "lan0"}]}, "dnsd.children[0].name"),
    ({"reverse_zones": ["10.1.2.0/23"]}, "dnsd.reverse_zones"),
    ({"bogus": 1}, "dnsd.bogus"),
    ({"leases": "/var/lib/arbor/dhcp4d"}, "dnsd.leases: is no longer read"),
    ({"rrl": {"slip": 11}}, "dnsd.rrl.slip"),
    ({"rrl": {"ipv6_prefix": 129}}, "dnsd.rrl.ipv6_prefix"),
    ({"rrl": {"rate": 5}}, "dnsd.rrl.rate"),
    ({"children": [{"name": "m1", "interface": "lan0", "mac": "52:54:zz"}]}, "dnsd.children[0].mac"),
])
def test_bad_config(lab, bad, message):
    d = lab.daemon("dnsd", binary("dnsd/arbor-dnsd"), dnsd_config(**bad))
    r = subprocess.run(d.argv(), capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_reload_changes_records_and_rejects_listen_change(lab, one):
    ns, d = one
    serial = d.status()["dnsd"]["zones"][0]["serial"]
    cfg = dnsd_config()
    cfg["dnsd"]["records"].append({"name": "new", "type": "A", "data": "192.168.1.99"})
    d.write_config(cfg)
    assert d.post("/v1/commands/reload").status == 200
    z = d.status()["dnsd"]["zones"][0]
    assert z["serial"] > serial
    assert dig_short(ns, "new.home.arpa") == ["192.168.1.99"]
    cfg["dnsd"]["listen"] = ["127.0.0.2"]
    d.write_config(cfg)
    assert d.post("/v1/commands/reload").status != 200
    assert d.status()["dnsd"]["listen"] == ["127.0.0.1:53"]


# ---- the contract ----

class TestDnsdContract(ContractSuite):
    @pytest.fixture
    def spec(self, lab):
        box = {}

        def netns(lab_):
            box["ns"] = lab_.add_netns("dnsc")
            return box["ns"]

        def durable_change(d):
            # a new virtual interface gets a subnet id, persisted before renew answers
            box["ns"].exec(["ip", "link", "add", "vbr7", "type", "bridge"])
            box["ns"].exec(["ip", "addr", "add", "10.77.0.1/24", "dev", "vbr7"])
            box["ns"].exec(["ip", "link", "set", "vbr7", "up"])
            assert d.post("/v1/commands/renew").status == 200
            return json.loads(d.state_file(MACHINE_TABLE))["subnets"]["vbr7"]

        def durable_check(d, sid):
            assert json.loads(d.state_file(MACHINE_TABLE))["subnets"]["vbr7"] == sid

        return DaemonSpec(name="dnsd", binary=binary("dnsd/arbor-dnsd"), config=dnsd_config(),
                          state_file=MACHINE_TABLE, durable_change=durable_change,
                          durable_check=durable_check, netns=netns)
