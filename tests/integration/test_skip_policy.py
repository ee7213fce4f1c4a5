"""The skip policy (tests/lib/tools.py): every tool a test may skip for is
installed by scripts/deps, a strict run fails on such a skip, and lets a
not_here() skip through."""
import os
import subprocess
import sys

from arborlab import ROOT
import tools

LIB = os.path.join(ROOT, "tests", "lib")


def test_every_tool_is_installed_by_scripts_deps():
    r = subprocess.run(["bash", "-c", '. scripts/deps; printf "%s\\n" "${ARBOR_TEST_DEPS[@]}"'], cwd=ROOT,
                       capture_output=True, text=True, check=True)
    deps = set(r.stdout.split())
    assert {pkg for pkg in tools.PACKAGES.values()} <= deps, "add these to ARBOR_TEST_DEPS"


def test_sbin_tools_are_found_whatever_path_says(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    found = tools.tool("dnsmasq")
    assert found and os.path.dirname(found) in tools.SBIN_DIRS
    tools.add_sbin_to_path()
    assert "/usr/sbin" in os.environ["PATH"].split(os.pathsep)


SAMPLE = '''
import pytest
import tools

def test_broken_install():
    pytest.skip(tools.missing_reason("no-such-tool-for-the-policy-test"))

def test_kernel_lacks_it():
    tools.not_here("this kernel has no such link type")

def test_passes():
    pass
'''


def run_sample(tmp_path, strict):
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = dict(os.environ, PYTHONPATH=LIB, ARBOR_STRICT_SKIPS="1" if strict else "0")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfs", "-p", "no:cacheprovider", "-p", "tools",
                           str(tmp_path / "test_sample.py")], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)


def test_strict_run_fails_on_a_missing_tool_and_allows_not_here(tmp_path):
    r = run_sample(tmp_path, strict=True)
    assert r.returncode == 1, r.stdout
    assert "1 failed, 1 passed, 1 skipped" in r.stdout, r.stdout
    assert "FAILED test_sample.py::test_broken_install" in r.stdout and "broken install" in r.stdout
    assert "not on this machine: this kernel has no such link type" in r.stdout  # -rs prints the reason


def test_local_run_skips_both(tmp_path):
    r = run_sample(tmp_path, strict=False)
    assert r.returncode == 0 and "1 passed, 2 skipped" in r.stdout, r.stdout
