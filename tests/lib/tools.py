"""Finding the real peers the tests drive, and the skip policy (docs/testing.md).

Tools such as unbound, kea-dhcp4, dhcpd, perfdhcp, dnsmasq and dhclient live in
/usr/sbin, which a non-root PATH (or a CI runner's) may leave out: tool() looks
there too, and add_sbin_to_path() makes a bare name work in subprocesses.

Two kinds of skip, told apart by their reason:

  needs("unbound")      skips when the tool is missing. scripts/deps installs
                        every tool in PACKAGES, so in a strict run
                        (ARBOR_STRICT_SKIPS=1, what scripts/test sets) such a
                        skip is a broken install and fails the run.
  not_here("...")       a legitimate skip: something no package provides (a
                        kernel feature, the machine's own state). Its reason
                        starts with NOT_HERE, the one prefix a strict run lets
                        through.

The policy itself is the pytest hook at the end, which conftest.py takes in.
"""
import os
import shutil

import pytest

SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")

# tool -> the Debian package scripts/deps installs it with
# (test_skip_policy.py checks that each is in ARBOR_TEST_DEPS).
PACKAGES = {
    "b3sum": "b3sum",
    "dhclient": "isc-dhcp-client",
    "dhcpcd": "dhcpcd-base",
    "dig": "bind9-dnsutils",
    "dnsmasq": "dnsmasq-base",
    "kdig": "knot-dnsutils",
    "kea-dhcp4": "kea-dhcp4-server",
    "nginx": "nginx-light",
    "perfdhcp": "kea-admin",
    "systemd-analyze": "systemd",
    "udhcpc": "udhcpc",
    "unbound": "unbound",
    "valgrind": "valgrind",
    "wg": "wireguard-tools",
    "wireguard-go": "wireguard-go",
    "zbarimg": "zbar-tools",
}

NOT_HERE = "not on this machine: "


def tool(name):
    """The absolute path of a program, from PATH or the sbin directories; None if absent."""
    found = shutil.which(name)
    if found:
        return found
    return shutil.which(name, path=os.pathsep.join(SBIN_DIRS))


def add_sbin_to_path():
    """Appends the sbin directories PATH lacks, so `ip netns exec NS unbound` works too."""
    parts = os.environ.get("PATH", "").split(os.pathsep)
    os.environ["PATH"] = os.pathsep.join(parts + [d for d in SBIN_DIRS if d not in parts])


def missing_reason(*names):
    missing = [n for n in names if tool(n) is None]
    if not missing:
        return None
    return "; ".join(f"{n} is not installed (Debian package {PACKAGES.get(n, '?')}, which scripts/deps installs)"
                     for n in missing)


def needs(*names):
    """A skipif marker for tests that drive these programs."""
    for n in names:
        assert n in PACKAGES, f"{n}: add it to tools.PACKAGES and its package to scripts/deps"
    reason = missing_reason(*names)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def not_here(reason):
    """Skips for something no package provides; allowed in a strict run."""
    pytest.skip(NOT_HERE + reason)


def is_allowed_skip(reason):
    """Whether a strict run lets this skip reason through."""
    return reason.startswith(NOT_HERE) or reason.startswith("Skipped: " + NOT_HERE)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In a strict run, a skip whose reason is not NOT_HERE becomes a failure."""
    outcome = yield
    rep = outcome.get_result()
    if os.environ.get("ARBOR_STRICT_SKIPS") != "1" or not rep.skipped or hasattr(rep, "wasxfail"):
        return
    reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
    if is_allowed_skip(reason):
        return
    rep.outcome = "failed"
    rep.longrepr = (f"skipped in a strict run (ARBOR_STRICT_SKIPS=1): {reason}\n"
                    "scripts/deps installs what the tests need, so this is a broken install; a skip for "
                    "something no package provides says so with tools.not_here()")
