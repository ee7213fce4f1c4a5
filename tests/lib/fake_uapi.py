#!/usr/bin/python3
"""A UAPI server for one interface that keeps a device's state the way
wireguard-go does (lines applied as they are read) and refuses on purpose:

  fake_uapi.py IFNAME --fail-on KEY [--state FILE]

A set whose line KEY=... comes is refused there with errno=-22, after the
lines before it were applied (as wireguard-go would leave it: half-applied).
The state is written to FILE after every operation so a test can see what the
device holds. Prints "ready" once it listens.
"""
import json
import os
import socket
import sys

ifname = sys.argv[1]
fail_on = sys.argv[sys.argv.index("--fail-on") + 1] if "--fail-on" in sys.argv else None
state_file = sys.argv[sys.argv.index("--state") + 1] if "--state" in sys.argv else None
path = f"/run/wireguard/{ifname}.sock"
os.makedirs("/run/wireguard", exist_ok=True)
if os.path.exists(path):
    os.unlink(path)
dev = {"private_key": None, "listen_port": 0, "peers": {}}


def save():
    if state_file:
        with open(state_file + ".tmp", "w") as f:
            json.dump(dev, f)
        os.rename(state_file + ".tmp", state_file)


def get():
    out = []
    if dev["private_key"]:
        out.append(f"private_key={dev['private_key']}")
    out.append(f"listen_port={dev['listen_port']}")
    for key, p in dev["peers"].items():
        out += [f"public_key={key}", f"preshared_key={p['psk']}", "protocol_version=1",
                "last_handshake_time_sec=0", "last_handshake_time_nsec=0", "tx_bytes=0", "rx_bytes=0",
                f"persistent_keepalive_interval={p['keepalive']}"]
        out += [f"allowed_ip={a}" for a in p["allowed"]]
    return "\n".join(out) + "\nerrno=0\n\n"


def set_(lines):
    peer = None
    for line in lines:
        key, _, value = line.partition("=")
        if key == fail_on:
            return -22
        if key == "private_key":
            dev["private_key"] = value
        elif key == "listen_port":
            dev["listen_port"] = int(value)
        elif key == "replace_peers":
            dev["peers"] = {}
        elif key == "public_key":
            peer = value
            dev["peers"].setdefault(peer, {"psk": "0" * 64, "keepalive": 0, "allowed": []})
        elif key == "remove":
            dev["peers"].pop(peer, None)
        elif key == "preshared_key":
            dev["peers"][peer]["psk"] = value
        elif key == "persistent_keepalive_interval":
            dev["peers"][peer]["keepalive"] = int(value)
        elif key == "replace_allowed_ips":
            dev["peers"][peer]["allowed"] = []
        elif key == "allowed_ip":
            dev["peers"][peer]["allowed"].append(value)
    return 0


srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(16)
save()
print("ready", flush=True)
while True:
    conn, _ = srv.accept()
    f = conn.makefile("rwb")
    op = f.readline().decode()
    lines = []
    while True:
        line = f.readline().decode()
        if line in ("\n", ""):
            break
        lines.append(line.rstrip("\n"))
    if op == "get=1\n":
        f.write(get().encode())
    elif op == "set=1\n":
        f.write(f"errno={set_(lines)}\n\n".encode())
    save()
    f.flush()
    conn.close()
