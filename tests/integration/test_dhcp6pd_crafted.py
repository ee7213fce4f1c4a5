"""Crafted DHCPv6 messages (built with scapy) at arbor-dhcp6pd, both ways.

The client, against a fake delegating router that answers its messages with
status codes at the message, IA and prefix level, T1 > T2, zero lifetimes, a
prefix length of 129, an option running past the end, and a transaction id that
is not the client's: malformed ones are counted and dropped, the rest handled as
RFC 8415 says (an IA_NA NoAddrsAvail beside a good IA_PD is accepted, NoBinding
sends a REQUEST, an IAPREFIX NoPrefixAvail or zero lifetimes end the prefix).

The server, from a fake relay and a fake requesting router: relayed SOLICITs one
and two levels deep answered with RELAY-REPL (Interface-ID echoed, the route via
the relay), 40 levels deep dropped, options past the end and prefix length 129
dropped, another server's id ignored; and it keeps answering."""
import json
import struct

from arborlab import wait_for
from test_dhcp6pd import Helper, client_status, isp_and_root, root_config, start_dhcp6pd, wait_event
from test_dhcp6pd_server import delegations, link_local, pair, routes_via, server_config

COMMON = r'''
import json, socket, struct, sys
from scapy.layers.dhcp6 import *

def options(d):
    i = 0
    while i + 4 <= len(d):
        code, n = struct.unpack("!HH", d[i:i + 4])
        yield code, d[i + 4:i + 4 + n]
        i += 4 + n

def udp(ifname, port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.bind(("::", port))
    mreq = socket.inet_pton(socket.AF_INET6, "ff02::1:2") + struct.pack("@I", socket.if_nametoindex(ifname))
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)  # not our own messages back
    return s
'''

# A delegating router that answers by plan: {"1": [[variant, ...], ...], "3": ...}:
# the n-th SOLICIT (1) gets the n-th list of answers, and so on.
FAKE_SERVER = COMMON + r"""
plan = json.loads(sys.argv[2])
s = udp(sys.argv[1], 547)
SERVER = DUID_LL(lladdr="02:00:00:00:00:99")
P1, P2 = "2001:db8:100::", "2001:db8:200::"
IAID = 0
seen = {}
print("ready", flush=True)

def build(t, xid, variant):
    kind = DHCP6_Advertise if t == 1 else DHCP6_Reply
    if variant == "foreign_xid":
        xid, variant = (xid + 1) & 0xffffff, "good"
    # scapy wants a DUID object for the client id: a placeholder, replaced by the client's own below
    p = kind(trid=xid) / DHCP6OptClientId(duid=DUID_LL(lladdr="02:00:00:00:00:01")) / DHCP6OptServerId(duid=SERVER)
    if variant == "msg_noaddrs":
        return bytes(p / DHCP6OptStatusCode(statuscode=2, statusmsg="none here"))
    if variant == "msg_success":
        p = p / DHCP6OptStatusCode(statuscode=0, statusmsg="fine")
    prefix, t1, t2, pref, valid, pstatus, iastatus = P1, 30, 48, 60, 120, None, None
    if variant == "ia_noprefix":
        iastatus = 6
    elif variant == "nobinding":
        iastatus = 3
    elif variant == "prefix_noprefix":
        pstatus, pref, valid = 6, 0, 0
    elif variant == "zero":
        pref, valid = 0, 0
    elif variant == "t1_gt_t2":
        t1, t2 = 50, 40
    if iastatus is None:
        sub = [DHCP6OptStatusCode(statuscode=pstatus, statusmsg="gone")] if pstatus is not None else []
        opts = [DHCP6OptIAPrefix(preflft=pref, validlft=valid, plen=56, prefix=prefix, iaprefopts=sub)]
    else:
        opts = [DHCP6OptStatusCode(statuscode=iastatus, statusmsg="ia status")]
    p = p / DHCP6OptIA_PD(iaid=IAID, T1=t1, T2=t2, iapdopt=opts)
    if variant == "good255":
        p = p / DHCP6OptIA_NA(iaid=IAID, ianaopts=[DHCP6OptStatusCode(statuscode=2, statusmsg="no addresses")])
        p = p / DHCP6OptPref(prefval=255)
    raw = bytearray(bytes(p))
    if variant == "plen129":
        raw[raw.find(bytes.fromhex("20010db80100")) - 1] = 129
    if variant == "past_end":
        raw += struct.pack("!HH", 23, 100) + b"\x20\x01"
    return bytes(raw)

def answer(t, xid, cid, variant):
    raw = build(t, xid, variant)
    i = 4
    while i + 4 <= len(raw):  # the placeholder client id becomes the client's DUID
        code, n = struct.unpack("!HH", raw[i:i + 4])
        if code == 1:
            return raw[:i] + struct.pack("!HH", 1, len(cid)) + cid + raw[i + 4 + n:]
        i += 4 + n
    return raw

while True:
    data, peer = s.recvfrom(4096)
    t, xid = data[0], int.from_bytes(data[1:4], "big")
    cid, named = b"", []
    for code, v in options(data[4:]):
        if code == 1:
            cid = v
        if code == 25:
            IAID = struct.unpack("!I", v[:4])[0]
            for c2, v2 in options(v[12:]):
                if c2 == 26:
                    named.append(socket.inet_ntop(socket.AF_INET6, v2[9:25]) + "/" + str(v2[8]))
    n = seen.get(t, 0)
    seen[t] = n + 1
    steps = plan.get(str(t), [])
    variants = steps[n] if n < len(steps) else []
    print(json.dumps({"type": t, "n": n, "named": named, "answers": variants}), flush=True)
    for v in variants:
        s.sendto(answer(t, xid, cid, v), peer)
"""


class FakeServer(Helper):
    def __init__(self, ns, ifname, plan):
        super().__init__(ns, FAKE_SERVER, [ifname, json.dumps(plan)], json.loads)

    def received(self, t):
        return [x for x in self.lines if x["type"] == t]


SOLICIT, REQUEST, RENEW = 1, 3, 5


def test_client_against_crafted_answers(lab):
    isp, root = isp_and_root(lab)
    plan = {
        str(SOLICIT): [["msg_noaddrs", "ia_noprefix", "prefix_noprefix", "plen129", "past_end", "t1_gt_t2",
                        "foreign_xid", "good255"],
                       ["good255"]],
        str(REQUEST): [["foreign_xid", "good"], ["good"], ["msg_success"]],
        str(RENEW): [["nobinding"], ["t1_gt_t2", "prefix_noprefix"], ["zero"]],
    }
    fake = FakeServer(isp, "isp0", plan)
    d = start_dhcp6pd(lab, root, root_config())
    bound = wait_event(d, "prefix.bound", timeout=20)[0]
    assert bound["data"]["prefixes"][0]["prefix"] == "2001:db8:100::/56"
    s = client_status(d)
    assert s["packets"]["malformed"] == 2, "prefix length 129 and an option past the end: dropped, counted"
    # NoAddrsAvail (message), NoPrefixAvail (IA and prefix), T1 > T2, foreign xid (ADVERTISE and REPLY)
    assert s["packets"]["ignored"] >= 6, s["packets"]
    assert "NoPrefixAvail" in s["last_status"] or "NoAddrsAvail" in s["last_status"]
    assert fake.received(REQUEST)[0]["named"] == ["2001:db8:100::/56"], \
        "the ADVERTISE with IA_NA NoAddrsAvail and a good IA_PD was requested"

    # NoBinding in the RENEW's reply: a REQUEST for what it holds, then renewed
    seq = d.events()[-1]["seq"]
    assert d.post("/v1/commands/renew").status == 200
    wait_for(lambda: len(fake.received(REQUEST)) >= 2, 10, "the REQUEST after NoBinding")
    assert fake.received(REQUEST)[1]["named"] == ["2001:db8:100::/56"]
    wait_event(d, "prefix.renewed", since=seq)

    # T1 > T2 is ignored; NoPrefixAvail inside the IAPREFIX ends the prefix at once
    seq = d.events()[-1]["seq"]
    assert d.post("/v1/commands/renew").status == 200
    lost = wait_event(d, "prefix.lost", since=seq)[0]
    assert lost["data"]["old_prefixes"][0]["prefix"] == "2001:db8:100::/56"
    assert not d.events(since=seq, type="prefix.renewed"), "the T1 > T2 reply renewed nothing"
    # it solicits again (hinting the old prefix) and binds; a message-level Success is fine
    wait_event(d, "prefix.bound", since=seq, timeout=20)
    assert fake.received(SOLICIT)[1]["named"] == ["2001:db8:100::/56"]
    # zero lifetimes in a renewal: gone at once
    seq = d.events()[-1]["seq"]
    assert d.post("/v1/commands/renew").status == 200
    assert wait_event(d, "prefix.lost", since=seq)[0]["data"]["reason"] == "valid lifetime 0"
    fake.proc.kill()


# A fake relay and requesting router on the server's link: crafted messages out,
# whatever comes back (within a second each) printed as hex.
FAKE_RELAY = COMMON + r'''
ifname = sys.argv[1]
relay = udp(ifname, 547)
client = udp(ifname, 546)
relay.settimeout(1)
client.settimeout(1)
dst = ("ff02::1:2", 547, 0, socket.if_nametoindex(ifname))
CID = DUID_LL(lladdr="02:00:00:00:00:42")

def solicit(xid, rapid=True, iaid=5):
    p = DHCP6_Solicit(trid=xid) / DHCP6OptClientId(duid=CID) / DHCP6OptElapsedTime()
    if rapid:
        p = p / DHCP6OptRapidCommit()
    return p / DHCP6OptIA_PD(iaid=iaid)

def wrap(inner, depth, tag):
    # scapy builds the relay header and options of each level; the levels are
    # nested by hand (scapy re-serialises nested messages once per level above).
    raw = bytes(inner)
    for i in reversed(range(depth)):
        head = bytes(DHCP6_RelayForward(hopcount=i, linkaddr="2001:db8:aa::1", peeraddr="fe80::1234") /
                     DHCP6OptIfaceId(ifaceid=(tag + str(i)).encode()))
        raw = head + struct.pack("!HH", 9, len(raw)) + raw
    return raw

def ask(sock, raw):
    sock.sendto(bytes(raw), dst)
    try:
        return sock.recvfrom(4096)[0].hex()
    except OSError:
        return None

out = {}
out["relay1"] = ask(relay, wrap(solicit(0x10), 1, "port"))
out["relay2"] = ask(relay, wrap(solicit(0x11, iaid=6), 2, "hop"))
out["relay40"] = ask(relay, wrap(solicit(0x12, iaid=7), 40, "deep"))
past = bytearray(bytes(solicit(0x13, iaid=8))) + struct.pack("!HH", 25, 200) + b"\x00" * 4
out["past_end"] = ask(client, past)
req = bytearray(bytes(DHCP6_Request(trid=0x14) / DHCP6OptClientId(duid=CID) /
                      DHCP6OptServerId(duid=DUID_LL(lladdr="02:00:00:00:00:43")) /
                      DHCP6OptIA_PD(iaid=9, iapdopt=[DHCP6OptIAPrefix(plen=56, prefix="2001:db8:100::")])))
at = req.find(bytes.fromhex("20010db80100"))
req[at - 1] = 129
out["plen129"] = ask(client, req)
out["other_server"] = ask(client, DHCP6_Request(trid=0x15) / DHCP6OptClientId(duid=CID) /
                          DHCP6OptServerId(duid=DUID_LL(lladdr="02:00:00:00:00:43")) / DHCP6OptIA_PD(iaid=9))
out["status_in_solicit"] = ask(client, solicit(0x16, rapid=False, iaid=10) / DHCP6OptStatusCode(statuscode=3))
out["plain"] = ask(client, solicit(0x17, rapid=False, iaid=11))
print(json.dumps(out), flush=True)
'''


def test_server_against_crafted_messages(lab):
    root, cli = pair(lab, cli_if="cli0")
    wait_for(lambda: "tentative" not in cli.exec(["ip", "-6", "addr", "show", "dev", "cli0"]).stdout, 10, "link-local")
    d = start_dhcp6pd(lab, root, server_config())
    r = cli.exec(["/usr/bin/python3", "-c", FAKE_RELAY, "cli0"], timeout=60)
    out = json.loads(r.stdout.strip().splitlines()[-1])

    def options(b):
        i = 0
        while i + 4 <= len(b):
            code, n = struct.unpack("!HH", b[i:i + 4])
            yield code, b[i + 4:i + 4 + n]
            i += 4 + n

    def unwrap(raw):
        chain = []
        while raw[0] == 13:
            ifid = inner = None
            for code, v in options(raw[34:]):
                if code == 18:
                    ifid = v
                if code == 9:
                    inner = v
            chain.append((raw[1], ifid))
            raw = inner
        return chain, raw
    assert out["relay1"], "a relayed SOLICIT is answered"
    chain, inner = unwrap(bytes.fromhex(out["relay1"]))
    assert chain == [(0, b"port0")] and inner[0] == 7 and inner[1:4] == b"\x00\x00\x10", \
        "RELAY-REPL with the Interface-ID echoed, a REPLY (rapid commit) inside"
    chain, inner = unwrap(bytes.fromhex(out["relay2"]))
    assert chain == [(0, b"hop0"), (1, b"hop1")] and inner[0] == 7, "two levels: both echoed"
    assert out["relay40"] is None, "40 levels deep: dropped"
    assert out["past_end"] is None and out["plen129"] is None and out["other_server"] is None
    assert out["status_in_solicit"] and bytes.fromhex(out["status_in_solicit"])[0] == 2, \
        "a status code in a client message changes nothing: ADVERTISE"
    assert out["plain"] and bytes.fromhex(out["plain"])[0] == 2, "and the server goes on answering"
    st = d.status()["dhcp6pd"]["server_packets"]
    assert st["malformed"] >= 3, st
    relayed = [x for x in delegations(d, state="bound") if x["iaid"] in (5, 6)]
    ll = link_local(cli, "cli0")
    assert len(relayed) == 2 and all(x["via"] == ll for x in relayed), "routes go via the relay"
    assert {(x["prefix"], ll) for x in relayed} <= routes_via(root)
