"""Check dist/completion/arborctl.bash by calling its completion function.

Bash sets COMP_WORDS/COMP_CWORD and calls the function registered with
`complete -F`; here a plain non-interactive bash sources the file, sets those
variables the way readline would, calls _arborctl and prints COMPREPLY. The
script does not use the bash-completion package (_init_completion and
friends), so nothing is skipped when that package is missing.
"""

import os
import socket
import subprocess
import tempfile

import pytest

from tools import tool

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "dist", "completion", "arborctl.bash")
BASH = tool("bash")  # bash is Essential in Debian: never skipped
FALLBACK = ["healthd", "dhcp4d", "dhcp6pd", "dnsd", "overlayd", "wgd"]
COMMANDS = ["status", "health", "events", "reload", "renew", "stop", "get", "post", "addr", "overlay", "wg", "help"]

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
    """Completions for the command line `words`, the last word being completed."""
    r = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", DRIVER, "bash", SCRIPT, *words],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"},
    )
    assert r.returncode == 0, r.stderr
    # compopt outside a real completion says so on stderr; that is fine.
    return r.stdout.splitlines()


@pytest.fixture
def rundir():
    """A runtime directory with two live sockets and a decoy regular file."""
    with tempfile.TemporaryDirectory(prefix="arbor-compl-") as d:
        socks = []
        try:
            for name in ("dnsd", "custom"):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.bind(os.path.join(d, name + ".sock"))
                socks.append(s)
            open(os.path.join(d, "notasocket.sock"), "w").close()
            os.mkdir(os.path.join(d, "sub"))
            yield d
        finally:
            for s in socks:
                s.close()


def test_registered():
    r = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", 'source "$1" && complete -p arborctl', "bash", SCRIPT],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    assert "-F _arborctl" in r.stdout


def test_commands_and_global_options():
    assert complete("arborctl", "") == COMMANDS
    assert complete("arborctl", "re") == ["reload", "renew"]
    assert complete("arborctl", "--") == ["--runtime-dir", "--json"]
    assert complete("arborctl", "--json", "--") == ["--runtime-dir"]
    assert complete("arborctl", "--json", "s") == ["status", "stop"]
    assert complete("arborctl", "help", "") == []
    assert complete("arborctl", "health", "") == []
    assert complete("arborctl", "overlay", "") == ["enroll", "forget", "spokes"]


def test_daemons_from_runtime_dir(rundir):
    assert complete("arborctl", "--runtime-dir", rundir, "status", "") == ["custom", "dnsd"]
    # "--runtime-dir=DIR" reaches the function split at "=".
    assert complete("arborctl", "--runtime-dir", "=", rundir, "status", "") == ["custom", "dnsd"]
    assert complete("arborctl", "--runtime-dir", rundir, "--json", "stop", "") == [
        "custom",
        "dnsd",
        "all",
    ]
    assert complete("arborctl", "--runtime-dir", rundir, "status", "dnsd", "") == []


def test_daemons_fallback_list():
    missing = "/nonexistent/arbor-runtime"
    assert complete("arborctl", "--runtime-dir", missing, "status", "") == FALLBACK
    assert complete("arborctl", "--runtime-dir", missing, "reload", "") == FALLBACK + ["all"]
    assert complete("arborctl", "--runtime-dir", missing, "renew", "d") == [
        "dhcp4d",
        "dhcp6pd",
        "dnsd",
    ]


def test_runtime_dir_completes_directories(rundir):
    assert complete("arborctl", "--runtime-dir", os.path.join(rundir, "s")) == [
        os.path.join(rundir, "sub")
    ]
    assert complete("arborctl", "--runtime-dir", "=", os.path.join(rundir, "s")) == [
        os.path.join(rundir, "sub")
    ]


def test_wg_verbs_and_options():
    assert complete("arborctl", "wg", "") == ["list", "show", "add", "set", "del", "config", "qr", "rotate-key", "help"]
    assert complete("arborctl", "wg", "add", "laptop", "--p") == ["--public-key", "--psk"]
    assert complete("arborctl", "wg", "set", "laptop", "--keepalive", "5", "--n") == ["--no-allowed-ips", "--never"]
    assert complete("arborctl", "wg", "qr", "laptop", "-") == ["--svg"]


def test_events():
    base = ["arborctl", "--runtime-dir", "/nonexistent"]
    assert complete(*base, "events", "") == FALLBACK
    assert complete(*base, "events", "wgd", "-") == ["-f", "--since", "--type"]
    assert complete(*base, "events", "wgd", "-f", "--") == ["--since", "--type"]
    assert complete(*base, "events", "wgd", "--since", "") == []
    assert complete(*base, "events", "wgd", "--type", "") == []
    # Options before the daemon do not count as the daemon.
    assert complete(*base, "events", "-f", "--since", "3", "ov") == ["overlayd"]
    assert complete(*base, "events", "wgd", "") == []


def test_get_and_post_paths():
    base = ["arborctl", "--runtime-dir", "/nonexistent"]
    paths = ["/v1/status", "/v1/healthz", "/v1/events", "/v1/metrics", "/v1/commands/"]
    assert complete(*base, "get", "dh") == ["dhcp4d", "dhcp6pd"]
    assert complete(*base, "get", "dnsd", "") == paths
    assert complete(*base, "get", "dnsd", "/v1/") == paths
    assert complete(*base, "get", "dnsd", "/v1/s") == ["/v1/status"]
    assert complete(*base, "post", "dnsd", "/v1/c") == ["/v1/commands/"]
    assert complete(*base, "post", "dnsd", "/v1/commands/re") == [
        "/v1/commands/reload",
        "/v1/commands/renew",
    ]
    assert complete(*base, "post", "dnsd", "/v1/commands/reload", "") == []
