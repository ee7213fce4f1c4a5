"""WireGuard helpers for wgd's tests, benchmark and lab.

- unique_ifname(): a name no other test uses (wireguard-go's socket path,
  /run/wireguard/NAME.sock, ignores network namespaces);
- start_wireguard_go(): wireguard-go in a namespace, waited for;
- apply_wg_quick(): configure a "laptop" namespace from an exported wg-quick
  file exactly as wg-quick would (wg setconf of the stripped file, then the
  addresses, MTU and a route for each AllowedIPs prefix);
- qr_utf8_to_pgm()/qr_svg_to_pgm() and zbar_decode(): read a QR code back
  with zbarimg;
- fake_uapi.py (beside this file): a UAPI server that refuses on purpose.
"""
import itertools
import os
import socket
import subprocess
import tempfile

from arborlab import wait_for

_counter = itertools.count()
WG_QUICK_ONLY = {"address", "dns", "mtu", "table", "preup", "postup", "predown", "postdown", "saveconfig"}


def unique_ifname(tag="w"):
    return f"{tag}{os.getpid() % 100000}x{next(_counter)}"[:15]


def uapi_answers(ifname):
    path = f"/run/wireguard/{ifname}.sock"
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(path)
        s.sendall(b"get=1\n\n")
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return b"errno=0\n\n" in data
    except OSError:
        return False


def start_wireguard_go(ns, ifname):
    proc = ns.popen(["wireguard-go", "-f", ifname], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    env=dict(os.environ, WG_PROCESS_FOREGROUND="1"))
    wait_for(lambda: uapi_answers(ifname), 10, f"wireguard-go for {ifname}")
    return proc


def parse_wg_quick(text):
    """{'interface': {key: value}, 'peers': [{key: value}]} with lower-case keys."""
    out = {"interface": {}, "peers": []}
    section = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            section = line.strip("[]").lower()
            if section == "peer":
                out["peers"].append({})
            continue
        key, _, value = line.partition("=")
        target = out["interface"] if section == "interface" else out["peers"][-1]
        target[key.strip().lower()] = value.strip()
    return out


def strip_wg_quick(text):
    """What `wg-quick strip` prints: the file without wg-quick's own keys."""
    keep = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip().lower()
        if "=" in line and not line.lstrip().startswith("#") and key in WG_QUICK_ONLY:
            continue
        keep.append(line)
    return "\n".join(keep) + "\n"


def apply_wg_quick(ns, ifname, text, start=True):
    """Brings up ifname in ns from a wg-quick file; returns the wireguard-go process."""
    proc = start_wireguard_go(ns, ifname) if start else None
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(strip_wg_quick(text))
        path = f.name
    try:
        ns.exec(["wg", "setconf", ifname, path])
    finally:
        os.unlink(path)
    conf = parse_wg_quick(text)
    iface = conf["interface"]
    if start:
        for addr in filter(None, (a.strip() for a in iface.get("address", "").split(","))):
            ns.exec(["ip", "addr", "add", addr, "dev", ifname])
        ns.exec(["ip", "link", "set", ifname, "mtu", iface.get("mtu", "1420"), "up"])
        for peer in conf["peers"]:
            for prefix in filter(None, (p.strip() for p in peer.get("allowedips", "").split(","))):
                ns.exec(["ip", "-6" if ":" in prefix else "-4", "route", "replace", prefix, "dev", ifname])
    return proc


# ---- QR codes ----

def _pgm(rows, scale=4):
    h, w = len(rows) * scale, len(rows[0]) * scale
    data = bytearray(b"P5 %d %d 255\n" % (w, h))
    for r in rows:
        line = bytes(0 if dark else 255 for dark in r for _ in range(scale))
        data += line * scale
    return bytes(data)


def qr_utf8_to_pgm(text):
    """wgd's UTF-8 drawing (a block is a light module; two rows per line) to a PGM."""
    top = {"█": False, "▀": False, "▄": True, " ": True}     # is the upper module dark?
    bottom = {"█": False, "▀": True, "▄": False, " ": True}  # is the lower module dark?
    rows = []
    for line in text.rstrip("\n").split("\n"):
        rows.append([top[c] for c in line])
        rows.append([bottom[c] for c in line])
    return _pgm(rows)


def qr_svg_to_pgm(svg):
    """wgd's SVG (one path of 'M x y h n v1 h-n z' runs) to a PGM."""
    import re
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    rows = [[False] * size for _ in range(size)]
    for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
        for k in range(int(n)):
            rows[int(y)][int(x) + k] = True
    return _pgm(rows)


def zbar_decode(pgm):
    with tempfile.NamedTemporaryFile(suffix=".pgm", delete=False) as f:
        f.write(pgm)
        path = f.name
    try:
        r = subprocess.run(["zbarimg", "-q", "--raw", "-Sbinary", path], capture_output=True)
    finally:
        os.unlink(path)
    assert r.returncode == 0, f"zbarimg could not read the code: {r.stderr!r}"
    return r.stdout.decode()
