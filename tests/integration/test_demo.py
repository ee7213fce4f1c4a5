"""The lab of scripts/demo (scripts/lab.py) runs to the end in the suite.

The demo is the project's main job and nothing else ran it: it once raced
overlayd's reconcile (waited for "joined", used ovbr0 before it existed) and
only a person watching it saw. Here it must exit 0, refuse a configuration
only where it means to (the section that shows a broken config rejected), and
leave no namespace behind."""
import os
import re
import signal
import subprocess
import sys

from arborlab import ROOT, build_dir

BROKEN_CONFIG_SECTION = "a broken config is rejected and the old one keeps running"


def sections(output):
    """{section title: its text}, split at the lab's "## title" lines."""
    out, title = {}, ""
    for line in output.splitlines():
        m = re.match(r"^\x1b\[1m## (.*)\x1b\[0m$", line)
        if m:
            title = m.group(1)
            continue
        out[title] = out.get(title, "") + line + "\n"
    return out


def lab_namespaces(pid):
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [n for n in names.split() if n.startswith(f"arbordemo{pid % 10000}-")]


def test_demo_lab_runs_to_the_end():
    env = dict(os.environ, ARBOR_BUILD=build_dir())
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "lab.py")], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)  # KeyboardInterrupt: the lab's finally removes what it made
        out, _ = p.communicate(timeout=60)
        raise AssertionError("the lab ran over 300 s:\n" + out[-4000:])
    assert p.returncode == 0, f"the lab exited {p.returncode}:\n" + out[-4000:]
    assert out.rstrip().endswith("lab removed."), out[-2000:]
    parts = sections(out)
    assert BROKEN_CONFIG_SECTION in parts, "the lab no longer shows a rejected config"
    assert "refused" in parts[BROKEN_CONFIG_SECTION]
    unexpected = {t: [l for l in text.splitlines() if "refused:" in l]
                  for t, text in parts.items() if t != BROKEN_CONFIG_SECTION}
    assert not any(unexpected.values()), {t: l for t, l in unexpected.items() if l}
    assert lab_namespaces(p.pid) == [], "the lab left namespaces behind"
