"""Helpers for overlayd's tests, benchmarks and the lab.

SpokeClient speaks the hub's signed join API on its own (Ed25519 from
python3-cryptography, HMAC and SHA-256 from the standard library): a second,
independent implementation of the protocol in docs/overlayd.md, so the tests
can also send what no well-behaved spoke sends (forged signatures, replays).

OverlayLab builds a hub and spokes on one underlay switch (a bridge in its own
namespace), each with a container namespace plugged into the spoke's bridge.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import subprocess
import time

from arborlab import binary, wait_for

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
except ImportError:  # python3-cryptography is in scripts/deps
    Ed25519PrivateKey = None

CTX_REQUEST = b"arbor-overlay request v1\0"
CTX_ANSWER = b"arbor-overlay answer v1\0"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_token(token):
    """(hub fingerprint, secret) from "arbor-ovl1.<fp>.<secret>"."""
    prefix, fp, secret = token.split(".")
    assert prefix == "arbor-ovl1"
    return unb64(fp), unb64(secret)


def token_id(secret):
    return hashlib.sha256(b"arbor-overlay token id v1\0" + secret).hexdigest()[:16]


def token_proof(secret, spoke_public):
    key = hashlib.sha256(b"arbor-overlay token proof key v1\0" + secret).digest()
    return hmac.new(key, spoke_public, hashlib.sha256).digest()


def joined_and_applied(status):
    """A spoke's status once it holds an assignment and its kernel caught up with it."""
    o = status["overlayd"]
    return o["spoke"]["state"] == "joined" and not o["kernel"]["pending"]


def hub_applied(status):
    """A hub's status once every answered join is in the kernel."""
    return not status["overlayd"]["kernel"]["pending"]


class SpokeClient:
    """A spoke's side of the protocol, against a hub at (host, port)."""

    def __init__(self, host, port, hostname, underlay, token=None, seed=None, hub_fp=None):
        self.host, self.port = host, port
        self.hostname, self.underlay = hostname, underlay
        self.key = Ed25519PrivateKey.from_private_bytes(seed or os.urandom(32))
        self.public = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.token = token
        self.hub_fp = hub_fp
        if token:
            self.hub_fp, self.secret = parse_token(token)
        self.pinned = None

    def payload(self, op="join", ts_ms=None, nonce=None, with_token=True, **extra):
        p = {"v": 1, "op": op, "hub": b64(self.hub_fp), "key": b64(self.public),
             "ts": int(time.time() * 1000) if ts_ms is None else ts_ms,
             "nonce": b64(nonce or os.urandom(16)), "hostname": self.hostname, "underlay": self.underlay}
        if op == "join" and self.token and with_token:
            p["token_id"] = token_id(self.secret)
            p["token_proof"] = b64(token_proof(self.secret, self.public))
        p.update(extra)
        return json.dumps(p, separators=(",", ":"))

    def envelope(self, payload, key=None):
        sig = (key or self.key).sign(CTX_REQUEST + payload.encode())
        return json.dumps({"payload": payload, "sig": b64(sig)})

    def post(self, path, body, timeout=10):
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def send(self, op="join", **kw):
        """Signs and sends; returns (status, answer payload dict or error dict, raw body, request payload)."""
        payload = self.payload(op, **kw)
        status, body = self.post(f"/v1/{op}", self.envelope(payload))
        return status, self.check_answer(status, body, payload), body, payload

    def check_answer(self, status, body, payload):
        doc = json.loads(body)
        if status != 200:
            return doc
        inner = doc["payload"].encode()
        answer = json.loads(inner)
        hub_key = unb64(answer["hub_key"])
        if self.pinned is None:
            assert hashlib.sha256(hub_key).digest() == self.hub_fp, "the hub's key has the token's fingerprint"
            self.pinned = hub_key
        assert hub_key == self.pinned
        Ed25519PublicKey.from_public_bytes(hub_key).verify(unb64(doc["sig"]), CTX_ANSWER + inner)
        assert answer["re"] == json.loads(payload)["nonce"], "the answer names our request"
        return answer


class Overlay:
    """A hub and n spokes on one switch; containers on the spokes."""

    def __init__(self, lab, nspokes=3, hub_config=None, spoke_mtu=None, tag=None):
        self.lab = lab
        self.tag = tag or f"{os.getpid() % 1000}"
        self.sw = lab.add_netns("ovsw")
        lab.bridge(self.sw, "br0")
        self.hub_ns = lab.add_netns("ovhub")
        self._plug(self.hub_ns, "hub", "192.0.2.1/24")
        hub = {"listen": "192.0.2.1:4790", "network": "10.128.0.0/16", "heartbeat": 1}
        hub.update(hub_config or {})
        self.hub_cfg = {"machine": {"name": "hub"}, "overlayd": {"hub": hub}}
        self.hub = lab.daemon("overlayd", binary("overlayd/arbor-overlayd"), self.hub_cfg, netns=self.hub_ns)
        self.spokes = []
        self.spoke_ns = []
        self.containers = []
        self.nspokes = nspokes
        self.spoke_mtu = spoke_mtu or {}
        self.hub_started = False

    def _plug(self, ns, name, addr, mtu=None):
        a, b = f"p{self.tag}{name}"[:15], f"u{self.tag}{name}"[:15]
        self.lab.veth(self.sw, a, ns, b)
        self.sw.exec(["ip", "link", "set", a, "master", "br0"])
        ns.exec(["ip", "link", "set", b, "down"])
        ns.exec(["ip", "link", "set", b, "name", "up0"])
        if mtu:
            self.sw.exec(["ip", "link", "set", a, "mtu", str(mtu)])
            ns.exec(["ip", "link", "set", "up0", "mtu", str(mtu)])
        ns.exec(["ip", "link", "set", "up0", "up"])
        ns.exec(["ip", "addr", "add", addr, "dev", "up0"])

    def start_hub(self):
        self.hub_started = True
        return self.hub.start()

    def enroll(self, hostname=None, ttl=None):
        body = {}
        if hostname:
            body["hostname"] = hostname
        if ttl:
            body["ttl"] = ttl
        r = self.hub.post("/v1/commands/enroll", body=body)
        assert r.status == 200, r
        return r.json()["token"]

    def spoke_config(self, i, token, **spoke):
        s = {"hub": "192.0.2.1:4790", "token": token, "retry": 0.2}
        s.update(spoke)
        return {"machine": {"name": f"s{i}"}, "overlayd": {"spoke": s}}

    def add_spoke(self, i, **spoke):
        ns = self.lab.add_netns(f"ovs{i}")
        self._plug(ns, f"s{i}", f"192.0.2.{10 + i}/24", mtu=self.spoke_mtu.get(i))
        d = self.lab.daemon("overlayd", binary("overlayd/arbor-overlayd"),
                            self.spoke_config(i, self.enroll(f"s{i}"), **spoke), netns=ns)
        d.start()
        self.spoke_ns.append(ns)
        self.spokes.append(d)
        return d

    def start(self):
        self.start_hub()
        for i in range(1, self.nspokes + 1):
            self.add_spoke(i)
        for d, ns in zip(self.spokes, self.spoke_ns):
            wait_for(lambda: joined_and_applied(d.status()), 10, "the spoke to join and reconcile")
            # Once status says so, the device is there: no waiting for it.
            assert "ovl0" in ns.exec(["ip", "-o", "link", "show", "master", "ovbr0"]).stdout, \
                "joined, nothing pending, but no ovl0 in ovbr0"
        return self

    def assignment(self, i):
        return self.spokes[i - 1].status()["overlayd"]["spoke"]["assignment"]

    def add_container(self, i, address=None, mtu=1450):
        """A container namespace on spoke i, its eth0 in the spoke's bridge;
        with address (else the caller configures it, e.g. by DHCP)."""
        spoke = self.spoke_ns[i - 1]
        c = self.lab.add_netns(f"ovc{i}")
        host_end = f"vc{self.tag}{i}"[:15]
        self.lab.veth(spoke, host_end, c, f"e{self.tag}{i}"[:15])
        c.exec(["ip", "link", "set", f"e{self.tag}{i}"[:15], "down"])
        c.exec(["ip", "link", "set", f"e{self.tag}{i}"[:15], "name", "eth0"])
        c.exec(["ip", "link", "set", "eth0", "mtu", str(mtu)])
        c.exec(["ip", "link", "set", "eth0", "up"])
        spoke.exec(["ip", "link", "set", host_end, "master", "ovbr0"])
        if address:
            a = self.assignment(i)
            c.exec(["ip", "addr", "add", f"{address}/{a['subnet'].split('/')[1]}", "dev", "eth0"])
            c.exec(["ip", "route", "add", "default", "via", a["gateway"]])
        self.containers.append(c)
        return c


def tcp_transfer(lab, src, dst, address, size, port=5001):
    """size random bytes over TCP from src to dst (a socat sink on address:port that
    hashes what arrives); True when the SHA-256 matches. Returns (ok, seconds)."""
    sink = dst.popen(["socat", "-u", f"TCP-LISTEN:{port},reuseaddr", "SYSTEM:sha256sum"], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
    payload = os.path.join(lab.mkdtemp("ovdata-"), "blob")
    with open(payload, "wb") as f:
        f.write(os.urandom(size))
    with open(payload, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    t0 = time.monotonic()
    # Retried until the sink listens (it needs a moment to start).
    wait_for(lambda: src.exec(["socat", "-u", f"FILE:{payload}", f"TCP:{address}:{port},connect-timeout=2"],
                              check=False).returncode == 0, 60, "the transfer")
    got, _ = sink.communicate(timeout=60)
    return got.split()[0] == want, time.monotonic() - t0


def sniff(ns, ifname, count, *bpf):
    """tcpdump on ifname in ns for count packets matching bpf, returned once it is
    listening (it says so on stderr), so that what the caller sends next is seen.
    communicate() gives its output."""
    p = ns.popen(["tcpdump", "-l", "-nn", "-i", ifname, "-c", str(count)] + list(bpf), stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True)
    said = ""
    while "listening on" not in said:  # after "verbose output suppressed", or an error
        line = p.stderr.readline()
        assert line, f"tcpdump did not start: {said}"
        said += line
    return p


def ping(ns, address, count=2, timeout=10):
    """busybox ping (busybox comes with udhcpc): True when an answer came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = ns.exec(["busybox", "ping", "-c", str(count), "-W", "1", address], check=False)
        if r.returncode == 0:
            return True
    return False


def link_index(ns, name):
    out = ns.exec(["ip", "-o", "link", "show", name], check=False).stdout
    m = re.match(r"^(\d+):", out)
    return int(m.group(1)) if m else None


def vxlan_details(ns, name):
    """(vni, dstport, mtu) read back from `ip -d link`."""
    out = ns.exec(["ip", "-d", "link", "show", name]).stdout
    return (int(re.search(r"vxlan id (\d+)", out).group(1)), int(re.search(r"dstport (\d+)", out).group(1)),
            int(re.search(r"mtu (\d+)", out).group(1)))
