"""`meson install` and the man pages, from the build tree under test.

meson installs into a temporary DESTDIR, and the tree it leaves is checked file
by file: every daemon with its unit, sysusers.d user and man page, arborctl
with its page and bash completion, the shared groups, /run/arbor and the
example configuration. Each man page renders with `man -l` and groff's
warnings on, without a warning (a broken page does warn: the check can fail).
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from arborlab import build_dir

DAEMONS = ["healthd", "dhcp4d", "dnsd", "overlayd", "wgd", "dhcp6pd"]


@pytest.fixture(scope="module")
def installed():
    dest = tempfile.mkdtemp(prefix="arbor-destdir-")
    try:
        r = subprocess.run(["meson", "install", "-C", build_dir(), "--destdir", dest, "--no-rebuild", "--quiet"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        files = set()
        for dirpath, _, filenames in os.walk(dest):
            files.update(os.path.join(dirpath, f)[len(dest):] for f in filenames)
        yield dest, files
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def one(files, suffix):
    found = [f for f in files if f.endswith(suffix)]
    assert len(found) == 1, f"{suffix}: {found}"
    return found[0]


def test_everything_is_installed(installed):
    dest, files = installed
    for d in DAEMONS:
        binary = one(files, f"/sbin/arbor-{d}")
        assert os.access(dest + binary, os.X_OK)
        unit = one(files, f"/systemd/system/arbor-{d}.service")
        text = open(dest + unit).read()
        # The unit points at the installed binary and configuration.
        assert f"ExecStart={binary} -c " in text and not re.search(r"@[a-z]+dir@", text), text
        one(files, f"/sysusers.d/arbor-{d}.conf")
        one(files, f"/man8/arbor-{d}.8")
    for suffix in ("/bin/arborctl", "/man8/arborctl.8", "/man5/arbor.json.5", "/sysusers.d/arbor.conf",
                   "/tmpfiles.d/arbor.conf", "/bash-completion/completions/arborctl", "etc/arbor/arbor.json"):
        one(files, suffix)


def test_example_config_is_the_commented_one(installed):
    dest, files = installed
    text = open(dest + one(files, "etc/arbor/arbor.json")).read()
    assert text.startswith("// /etc/arbor/arbor.json") and '"admin_group": "arbor-admin"' in text
    # Valid with the users the package creates: test_package.py runs --check-config on it.


def render(page):
    env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", LC_ALL="C.UTF-8")
    return subprocess.run(["man", "--warnings=w", "-l", page], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("page", ["arborctl.8", "arbor.json.5"] + [f"arbor-{d}.8" for d in DAEMONS])
def test_man_page_renders_without_warnings(page):
    path = os.path.join(build_dir(), "man", page)
    r = render(path)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    name = page.rsplit(".", 1)[0]
    assert r.stdout.lstrip().startswith(f"{name}({page.rsplit('.', 1)[1]})"), r.stdout[:200]
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
        assert f"\n{section}\n" in r.stdout, section
    if name.startswith("arbor-"):
        for section in ("CONFIGURATION", "ENDPOINTS", "EVENTS", "FILES", "SIGNALS", "EXIT STATUS"):
            assert f"\n{section}\n" in r.stdout, section


def test_a_broken_page_does_warn(tmp_path):
    bad = tmp_path / "bad.8"
    bad.write_text(".TH BAD 8\n.SH NAME\nbad \\- a page\n.NOSUCHMACRO x\n")
    assert "warning" in render(str(bad)).stderr


def test_every_installed_daemon_has_its_files():
    """A daemon with a binary but no unit, user or page is not installable."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for d in DAEMONS:
        for path in (f"dist/systemd/arbor-{d}.service.in", f"dist/sysusers.d/arbor-{d}.conf",
                     f"man/arbor-{d}.8.scd"):
            assert os.path.exists(os.path.join(root, path)), path
    units = sorted(os.path.basename(p)[len("arbor-"):-len(".service.in")]
                   for p in glob.glob(os.path.join(root, "dist/systemd/arbor-*.service.in")))
    assert units == sorted(DAEMONS), "a unit without its daemon in arbor_daemons (meson.build): %s" % units
