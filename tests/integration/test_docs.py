"""The documentation stands alone and tells the truth about the tests.

* Every relative link in a Markdown file points at a file of this repository,
  and nothing names a file outside it.
* docs/testing.md names every C unit test (tests/meson.build), every
  integration test file (tests/integration/) and every fuzz harness scripts/test
  runs.
"""
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def tracked_markdown():
    return [p for p in glob.glob(os.path.join(ROOT, "**", "*.md"), recursive=True)
            if not os.path.relpath(p, ROOT).startswith(("build", "obj-", "debian/arbor"))]


def test_links_stay_in_the_repository():
    bad = []
    for md in tracked_markdown():
        text = open(md, encoding="utf-8").read()
        for target in LINK.findall(text):
            if re.match(r"[a-z]+://|mailto:|#", target):
                continue
            path = os.path.normpath(os.path.join(os.path.dirname(md), target.split("#")[0]))
            if not path.startswith(ROOT + os.sep) and path != ROOT or not os.path.exists(path):
                bad.append(f"{os.path.relpath(md, ROOT)}: {target}")
        if re.search(r"\.\./shared|DESIGN\.md", text):
            bad.append(f"{os.path.relpath(md, ROOT)}: names a file outside the repository")
    assert bad == [], bad


def test_testing_md_lists_what_scripts_test_runs():
    doc = open(os.path.join(ROOT, "docs", "testing.md"), encoding="utf-8").read()
    meson = open(os.path.join(ROOT, "tests", "meson.build"), encoding="utf-8").read()
    units = set(re.findall(r"^\s*'(\w+)': \[", meson, re.M)) | {"netlink"}
    script = open(os.path.join(ROOT, "scripts", "test"), encoding="utf-8").read()
    loop = re.search(r"for harness in (.*?); do", script, re.S).group(1)
    harnesses = set(loop.replace("\\", " ").split())
    files = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "tests", "integration", "test_*.py"))}
    missing = sorted([f"test_{u}" for u in units if f"`test_{u}`" not in doc]
                     + [f"fuzz_{h}" for h in harnesses if f"`fuzz_{h}`" not in doc]
                     + [f for f in files if f"`{f}`" not in doc])
    assert missing == [], "docs/testing.md does not name: %s" % missing
