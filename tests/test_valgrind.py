"""The fixture daemon under valgrind: every endpoint, streams, long-polls, a
rejected and an accepted reload, bad input and a stop — no memory errors, no
definite leaks."""
import os
import shutil
import subprocess

import pytest

from arborlab import binary, wait_for
from contract import FollowStream


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_fixture_valgrind_clean(lab):
    d = lab.daemon("fixture", binary("tests/arbor-fixtured"), {"machine": {"name": "vg"}, "fixture": {}},
                   wrapper=["valgrind", "--error-exitcode=99", "--leak-check=full",
                            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite", "-q"])
    d.start(timeout=60)
    assert "memcheck" in os.readlink(f"/proc/{d.pid()}/exe"), "the daemon runs under valgrind"
    follow = FollowStream(d.socket, "/v1/events?follow=1", timeout=30)
    for path in ("/v1/status", "/v1/healthz", "/v1/metrics", "/v1/events?since=0&type=*", "/v1/nothing",
                 "/v1/../x"):
        assert d.get(path, timeout=30).status in (200, 400, 404)
    assert d.post("/v1/commands/bump", body={"by": 2}, timeout=30).status == 200
    assert d.post("/v1/commands/bump", body="{bad", timeout=30).status == 400
    assert d.get("/v1/events?since=1000&wait=0.2", timeout=30).status == 200
    d.write_config("{broken")
    assert d.post("/v1/commands/reload", timeout=30).status == 409
    d.write_config({"machine": {"name": "vg"}, "fixture": {"greeting": "again"}})
    assert d.post("/v1/commands/reload", timeout=30).status == 200
    follow.read_until(lambda ls: any(e["type"] == "config.reloaded" for e in ls), timeout=30)
    r = d.post("/v1/commands/stop", timeout=30)
    assert r.status == 202
    rc = d.wait_exit(60)
    follow.close()
    assert rc == 0, f"valgrind reported errors (exit {rc}):\n{d.log()}"
    assert "definitely lost" not in d.log()
