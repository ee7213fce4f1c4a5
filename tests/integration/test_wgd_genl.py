"""wgd's kernel backend codec against wg(8), on a machine without the
WireGuard module: tests/wg_genl_shim.so, preloaded into wg, answers for the
generic netlink family "wireguard" (records what wg sends, replays dumps), so
the real tool speaks the real protocol.

- SET_DEVICE: `wg setconf` of a device (a key, a port, a fwmark, a preshared
  key, endpoints in both families, a keepalive, 400 allowed IPs on one peer so
  that it is cut over several messages) and wgd's builder for the same device
  give the same bytes, message for message (sequence numbers aside).
- GET_DEVICE: a dump laid out as drivers/net/wireguard/netlink.c writes it
  (raw keys, the __kernel_timespec, u64 counters behind alignment padding,
  one peer's allowed IPs split over two messages) reads the same through
  wgd's parser as through `wg show IFNAME dump`.
"""
import base64
import ipaddress
import os
import struct
import subprocess

import pytest

from arborlab import binary, build_dir
from tools import NOT_HERE, needs

SHIM = os.path.join(build_dir(), "tests", "wg_genl_shim.so")
pytestmark = [
    needs("wg"),
    pytest.mark.skipif(not os.path.exists(SHIM), reason=NOT_HERE + "the shim is not built with sanitizers (a library "
                       "preloaded into an uninstrumented wg cannot carry ASan); the plain build runs this"),
]
FAMILY = 0x1d


def wg(*args, env=None, input=None):
    e = dict(os.environ, LD_PRELOAD=SHIM, **(env or {}))
    r = subprocess.run(["wg"] + list(args), env=e, input=input, capture_output=True, text=isinstance(input, str))
    assert r.returncode == 0, r.stderr
    return r.stdout


def genkey():
    return subprocess.run(["wg", "genkey"], capture_output=True, text=True).stdout.strip()


def pubkey(k):
    return subprocess.run(["wg", "pubkey"], input=k + "\n", capture_output=True, text=True).stdout.strip()


def hexkey(b64):
    return base64.b64decode(b64).hex()


def frames(data):
    out, off = [], 0
    while off + 4 <= len(data):
        (n,) = struct.unpack_from("<I", data, off)
        out.append(data[off + 4:off + 4 + n])
        off += 4 + n
    return out


def normalized(msg):
    """Sequence number and port id zeroed (wg numbers with time(NULL))."""
    return msg[:8] + b"\0" * 8 + msg[16:]


def test_set_device_messages_equal_wg_setconf(tmp_path):
    ifname = f"gs{os.getpid() % 100000}"
    priv = genkey()
    psk = genkey()
    peers = [
        {"key": pubkey(genkey()), "psk": psk, "endpoint": "192.0.2.7:40000", "keepalive": 25,
         "allowed": ["10.200.0.2/32", "fd00:1:2:3::2/128"]},
        {"key": pubkey(genkey()), "allowed": [f"10.{i // 250}.{i % 250}.0/24" for i in range(300)] +
                                             [f"fd00:{i:x}::/64" for i in range(100)]},
        {"key": pubkey(genkey()), "endpoint": "[2001:db8::1]:51820", "allowed": ["192.168.50.0/24"]},
        {"key": pubkey(genkey())},
    ]
    conf = [f"[Interface]\nPrivateKey = {priv}\nListenPort = 51820\nFwMark = 0x20\n"]
    uapi = [f"private_key={hexkey(priv)}", "listen_port=51820", "fwmark=32"]
    for p in peers:
        conf.append(f"[Peer]\nPublicKey = {p['key']}\n")
        uapi.append(f"public_key={hexkey(p['key'])}")
        if "psk" in p:
            conf.append(f"PresharedKey = {p['psk']}\n")
            uapi.append(f"preshared_key={hexkey(p['psk'])}")
        if "endpoint" in p:
            conf.append(f"Endpoint = {p['endpoint']}\n")
            uapi.append(f"endpoint={p['endpoint']}")
        if "keepalive" in p:
            conf.append(f"PersistentKeepalive = {p['keepalive']}\n")
            uapi.append(f"persistent_keepalive_interval={p['keepalive']}")
        if p.get("allowed"):
            conf.append(f"AllowedIPs = {', '.join(p['allowed'])}\n")
            uapi += [f"allowed_ip={a}" for a in p["allowed"]]
    (tmp_path / "wg.conf").write_text("".join(conf))
    record = tmp_path / "wg.bin"
    wg("setconf", ifname, str(tmp_path / "wg.conf"), env={"WGSHIM_RECORD": str(record)})
    theirs = frames(record.read_bytes())
    r = subprocess.run([binary("tests/wgd_genl_tool"), "set", ifname], input="\n".join(uapi).encode() + b"\nerrno=0\n\n",
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    ours = frames(r.stdout)
    assert len(theirs) > 2, "the big peer is cut over several messages"
    assert len(ours) == len(theirs), f"{len(ours)} messages, wg sends {len(theirs)}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert normalized(a) == normalized(b), f"message {i} differs from wg's"


# ---- a dump laid out as the kernel writes it ----

def attr(t, data):
    n = 4 + len(data)
    return struct.pack("<HH", n, t) + data + b"\0" * (-n % 4)


def nest(t, body):
    return struct.pack("<HH", 4 + len(body), t | 0x8000) + body


def u64_padded(t, v):
    """nla_put_u64_64bit on an architecture that aligns: a pad attribute first."""
    return attr(0, b"") + attr(t, struct.pack("<Q", v))


def allowed(prefix):
    net = ipaddress.ip_network(prefix)
    fam = 2 if net.version == 4 else 10
    return nest(0, attr(3, bytes([net.prefixlen])) + attr(1, struct.pack("<H", fam)) + attr(2, net.network_address.packed))


def sockaddr(ep):
    host, port = ep.rsplit(":", 1)
    host = host.strip("[]")
    a = ipaddress.ip_address(host)
    if a.version == 4:
        return struct.pack("<H", 2) + struct.pack(">H", int(port)) + a.packed + b"\0" * 8
    return struct.pack("<H", 10) + struct.pack(">H", int(port)) + b"\0" * 4 + a.packed + b"\0" * 4


def peer_head(key, psk, hs, rx, tx, keepalive, ep):
    body = attr(1, key) + attr(2, psk) + attr(6, struct.pack("<qq", hs, 123)) + attr(5, struct.pack("<H", keepalive))
    body += u64_padded(8, tx) + u64_padded(7, rx) + attr(10, struct.pack("<I", 1))
    if ep:
        body += attr(4, sockaddr(ep))
    return body


def message(body, genl=True, typ=FAMILY):
    payload = (bytes([0, 1, 0, 0]) if genl else b"") + body
    return struct.pack("<IHHII", 16 + len(payload), typ, 2, 0, 0) + payload


def test_get_device_dump_reads_as_wg_reads_it(tmp_path):
    ifname = f"gd{os.getpid() % 100000}"
    priv = base64.b64decode(genkey())
    pub = base64.b64decode(pubkey(base64.b64encode(priv).decode()))
    k = [base64.b64decode(pubkey(genkey())) for _ in range(3)]
    psk = base64.b64decode(genkey())
    dev = attr(6, struct.pack("<H", 51820)) + attr(7, struct.pack("<I", 0x20)) + attr(1, struct.pack("<I", 17))
    dev += attr(2, ifname.encode() + b"\0") + attr(3, priv) + attr(4, pub)
    many = [f"10.{i // 250}.{i % 250}.0/24" for i in range(60)]
    p0 = peer_head(k[0], psk, 1760000000, 2296, 1184, 25, "192.0.2.7:40000")
    p0 += nest(9, b"".join(allowed(a) for a in ["10.200.0.2/32", "fd00::2/128"] + many[:30]))
    m1 = message(dev + nest(8, nest(0, p0)))
    # The kernel ran out of room: the same peer goes on with its key only.
    p0b = attr(1, k[0]) + nest(9, b"".join(allowed(a) for a in many[30:]))
    p1 = peer_head(k[1], b"\0" * 32, 0, 0, 0, 0, "[2001:db8::1]:51820") + nest(9, allowed("192.168.50.0/24"))
    p2 = peer_head(k[2], b"\0" * 32, 1760000100, 5, 7, 0, None)
    m2 = message(nest(8, nest(0, p0b) + nest(0, p1) + nest(0, p2)))
    done = message(struct.pack("<i", 0), genl=False, typ=3)
    blob = b"".join(struct.pack("<I", len(m)) + m for m in (m1, m2, done))
    (tmp_path / "dump.bin").write_bytes(blob)
    theirs = wg("show", ifname, "dump", env={"WGSHIM_DUMP": str(tmp_path / "dump.bin")}).decode()
    r = subprocess.run([binary("tests/wgd_genl_tool"), "get"], input=blob, capture_output=True)
    assert r.returncode == 0, r.stderr
    ours = r.stdout.decode()
    assert len(theirs.splitlines()) == 4, theirs
    assert ours == theirs
    assert ",".join(["10.200.0.2/32", "fd00::2/128"] + many) in ours, "the split peer's allowed IPs, in order"
