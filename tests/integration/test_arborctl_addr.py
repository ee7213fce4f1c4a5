"""`arborctl addr`: the IPv6 derivation from the command line, checked against
the test vectors published in docs/addressing.md (parsed from that file, so
the docs and the code cannot drift apart), and, when b3sum is installed,
against b3sum itself. Then the subnet-id table lookup (--iface), --json, the
usage errors (exit 2), the runtime errors (exit 1), and bash completion.
"""
import ipaddress
import json
import os
import re
import subprocess

import pytest

from arborlab import binary
from tools import needs, not_here, tool

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(REPO, "docs", "addressing.md")
B3SUM = tool("b3sum")
BASH = tool("bash")
PREFIX_CONTEXT = "arbor 2026 machine prefix v1"
IID_CONTEXT = "arbor 2026 interface id v1"
M1 = "0123456789abcdef0123456789abcdef"


def ctl(*args):
    return subprocess.run([binary("ctl/arborctl"), *args], capture_output=True, text=True, timeout=20)


def doc_table(header):
    """Rows of the markdown table whose header row starts with `header`, cells
    with backticks and parenthesised notes removed."""
    lines = open(DOC, encoding="utf-8").read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| " + header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append([re.sub(r"\s*\(.*\)$", "", c).replace("`", "").strip() for c in cells])
    assert rows, f"no rows under {header!r} in {DOC}"
    return rows


PREFIXES = doc_table("machine-id | b3sum | /48")
SUBNETS = doc_table("subnet id | /64")
IIDS = doc_table("host-id | b3sum | interface id")
ADDRESSES = doc_table("machine-id | subnet id | host-id | address")


def b3sum(data, context, length):
    r = subprocess.run([B3SUM, "--no-names", "--derive-key", context, "--length", str(length)],
                       input=data.encode(), capture_output=True, timeout=20, check=True)
    return r.stdout.decode().strip()


def test_doc_tables_parsed():
    assert len(PREFIXES) >= 4 and len(SUBNETS) >= 4 and len(IIDS) >= 5 and len(ADDRESSES) >= 5


@pytest.mark.parametrize("machine_id,hexout,prefix", PREFIXES)
def test_prefix_vectors(machine_id, hexout, prefix):
    r = ctl("addr", "--machine-id", machine_id)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"prefix {prefix}\n"


@pytest.mark.parametrize("subnet_id,subnet", SUBNETS)
def test_subnet_vectors(subnet_id, subnet):
    r = ctl("addr", "--machine-id", M1, "--subnet-id", subnet_id)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["prefix fd5a:965f:8fee::/48", f"subnet {subnet}"]


@pytest.mark.parametrize("host,hexout,iid", IIDS)
def test_interface_id_vectors(host, hexout, iid):
    r = ctl("addr", "--machine-id", M1, "--host", host)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["prefix fd5a:965f:8fee::/48", f"interface-id {iid}"]


@pytest.mark.parametrize("machine_id,subnet_id,host,address", ADDRESSES)
def test_address_vectors(machine_id, subnet_id, host, address):
    r = ctl("addr", "--machine-id", machine_id, "--subnet-id", subnet_id, "--host", host)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == f"address {address}"
    assert [line.split()[0] for line in lines] == ["prefix", "subnet", "interface-id", "address"]


@needs("b3sum")
def test_doc_vectors_match_b3sum():
    """The published tables, recomputed from scratch with b3sum."""
    for machine_id, hexout, prefix in PREFIXES:
        assert b3sum(machine_id, PREFIX_CONTEXT, 5) == hexout
        net = ipaddress.IPv6Network((bytes.fromhex("fd" + hexout) + bytes(10), 48))
        assert str(net) == prefix
    for host, hexout, iid in IIDS:
        assert b3sum(host, IID_CONTEXT, 8) == hexout
        assert iid == ":".join(hexout[i:i + 4] for i in range(0, 16, 4))
    g = b3sum(M1, PREFIX_CONTEXT, 5)
    for subnet_id, subnet in SUBNETS:
        net = ipaddress.IPv6Network((bytes.fromhex("fd" + g) + int(subnet_id).to_bytes(2, "big") + bytes(8), 64))
        assert str(net) == subnet
    for machine_id, subnet_id, host, address in ADDRESSES:
        raw = (bytes.fromhex("fd" + b3sum(machine_id, PREFIX_CONTEXT, 5)) + int(subnet_id).to_bytes(2, "big")
               + bytes.fromhex(b3sum(host, IID_CONTEXT, 8)))
        assert str(ipaddress.IPv6Address(raw)) == address


@needs("b3sum")
def test_random_host_ids_match_b3sum():
    for host in ["x", "vm-" + "9" * 300, "host with spaces", "ünïcödé", "a=b", "-leading-dash"]:
        r = ctl("addr", "--machine-id", M1, "--subnet-id", "7", f"--host={host}")
        assert r.returncode == 0, r.stderr
        expect = b3sum(host, IID_CONTEXT, 8)
        assert r.stdout.splitlines()[2] == "interface-id " + ":".join(expect[i:i + 4] for i in range(0, 16, 4))


def test_default_machine_id_file():
    try:
        text = open("/etc/machine-id").read().strip()
    except OSError:
        text = ""
    r = ctl("addr")
    if not re.fullmatch(r"[0-9a-fA-F]{32}", text) or set(text) == {"0"}:
        assert r.returncode == 1 and "machine-id" in r.stderr
        not_here("no valid /etc/machine-id (a container may have none)")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ctl("addr", "--machine-id", text).stdout


def test_machine_id_forms():
    upper = ctl("addr", "--machine-id", M1.upper()).stdout
    assert upper == "prefix fd5a:965f:8fee::/48\n"
    assert ctl("addr", "--machine-id", f" {M1}\n").stdout == upper


def test_json():
    r = ctl("--json", "addr", "--machine-id", M1, "--subnet-id", "4660", "--host", "container-42")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "machine_id": M1,
        "prefix": "fd5a:965f:8fee::/48",
        "subnet_id": 4660,
        "subnet": "fd5a:965f:8fee:1234::/64",
        "host_id": "container-42",
        "interface_id": "2c20:6ca3:e028:3d07",
        "address": "fd5a:965f:8fee:1234:2c20:6ca3:e028:3d07",
    }
    r = ctl("addr", "--json", "--machine-id", M1)
    assert json.loads(r.stdout) == {"machine_id": M1, "prefix": "fd5a:965f:8fee::/48"}


@pytest.fixture
def state(tmp_path):
    (tmp_path / "subnets6.json").write_text(json.dumps({"version": 1, "subnets": {"enp1s0": 1, "br-lab": 4660}}))
    return str(tmp_path)


def test_iface_from_table(state):
    r = ctl("addr", "--machine-id", M1, "--iface", "br-lab", "--state", state, "--host", "container-42")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "prefix fd5a:965f:8fee::/48",
        "subnet fd5a:965f:8fee:1234::/64",
        "interface-id 2c20:6ca3:e028:3d07",
        "address fd5a:965f:8fee:1234:2c20:6ca3:e028:3d07",
    ]
    r = ctl("addr", "--json", "--machine-id", M1, "--iface", "enp1s0", "--state", state)
    doc = json.loads(r.stdout)
    assert doc["interface"] == "enp1s0" and doc["subnet_id"] == 1 and doc["subnet"] == "fd5a:965f:8fee:1::/64"
    assert "address" not in doc


def test_iface_not_in_table(state, tmp_path):
    r = ctl("addr", "--machine-id", M1, "--iface", "eth9", "--state", state)
    assert r.returncode == 1 and r.stdout == ""
    assert "eth9 has no subnet id" in r.stderr and "subnets6.json" in r.stderr
    assert len(r.stderr.splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    r = ctl("addr", "--machine-id", M1, "--iface", "eth0", "--state", str(empty))
    assert r.returncode == 1 and "eth0 has no subnet id" in r.stderr


def test_damaged_table(state):
    with open(os.path.join(state, "subnets6.json"), "w") as f:
        f.write('{"version": 1, "subnets": {"eth0": 0}}')
    r = ctl("addr", "--machine-id", M1, "--iface", "eth0", "--state", state)
    assert r.returncode == 1 and "subnets.eth0" in r.stderr and r.stdout == ""


@pytest.mark.parametrize("args", [
    ["--machine-id", "0123"],
    ["--machine-id", M1 + "0"],
    ["--machine-id", "g" * 32],
    ["--machine-id", "0" * 32],
    ["--machine-id", "01234567-89ab-cdef-0123-456789abcdef"],
    ["--subnet-id", "65536"],
    ["--subnet-id", "-1"],
    ["--subnet-id", "0x10"],
    ["--subnet-id", ""],
    ["--subnet-id", "1e3"],
    ["--subnet-id", "99999999999999999999999"],
    ["--iface", "eth0", "--subnet-id", "1"],
    ["--state", "/tmp"],
    ["--iface", "a/b"],
    ["--iface", "sixteen-chars-xx"],
    ["--host", ""],
    ["extra"],
    ["--bogus"],
    ["--host"],
])
def test_usage_errors(args):
    r = ctl("addr", "--machine-id", M1, *args) if args[0] != "--machine-id" else ctl("addr", *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_usage_mentions_addr():
    assert "addr [--machine-id ID]" in ctl("--help").stdout


def test_subnet_id_edges():
    assert ctl("addr", "--machine-id", M1, "--subnet-id", "0").stdout.splitlines()[1] == "subnet fd5a:965f:8fee::/64"
    assert ctl("addr", "--machine-id", M1, "--subnet-id", "65535").returncode == 0
    assert ctl("addr", "--machine-id", M1, "--subnet-id", "00001").stdout.splitlines()[1] == \
        "subnet fd5a:965f:8fee:1::/64"


# Bash completion (dist/completion/arborctl.bash), the same driver as
# test_completion.py.
SCRIPT = os.path.join(REPO, "dist", "completion", "arborctl.bash")
DRIVER = r"""
source "$1" || exit 99
shift
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_arborctl arborctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" || exit 98
for w in "${COMPREPLY[@]}"; do printf '%s\n' "$w"; done
"""


def complete(*words):
    r = subprocess.run([BASH, "--norc", "--noprofile", "-c", DRIVER, "bash", SCRIPT, *words],
                       capture_output=True, text=True, timeout=30,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"})
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_completion(tmp_path):
    assert complete("arborctl", "ad") == ["addr"]
    assert complete("arborctl", "addr", "--") == ["--machine-id", "--iface", "--subnet-id", "--host", "--state",
                                                 "--json"]
    assert complete("arborctl", "--json", "addr", "--") == ["--machine-id", "--iface", "--subnet-id", "--host",
                                                           "--state"]
    assert complete("arborctl", "addr", "--iface", "eth0", "--") == ["--machine-id", "--host", "--state", "--json"]
    assert complete("arborctl", "addr", "--iface", "=", "eth0", "--") == ["--machine-id", "--host", "--state",
                                                                        "--json"]
    assert complete("arborctl", "addr", "--subnet-id", "3", "--") == ["--machine-id", "--host", "--json"]
    assert complete("arborctl", "addr", "--machine-id", "") == []
    assert complete("arborctl", "addr", "--host", "") == []
    assert "lo" in complete("arborctl", "addr", "--iface", "")
    assert complete("arborctl", "addr", "--iface", "=", "l") == ["lo"]
    (tmp_path / "statedir").mkdir()
    assert complete("arborctl", "addr", "--state", str(tmp_path / "st")) == [str(tmp_path / "statedir")]
    assert complete("arborctl", "addr", "--machine-id", M1, "") == []
