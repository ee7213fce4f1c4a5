"""The contract suite against the fixture daemon (tests/fixture), plus the
fixture's own durability check: every acknowledged bump survives kill -9."""
import json

import pytest

from arborlab import binary
from contract import ContractSuite, DaemonSpec


def bump(d):
    for i in range(5):
        r = d.post("/v1/commands/bump", body={"by": 2})
        assert r.status == 200 and r.json()["accepted"]
    return d.get("/v1/counter").json()["counter"]


def check(d, counter):
    assert d.get("/v1/counter").json()["counter"] == counter
    assert json.loads(d.state_file("state.json"))["counter"] == counter


@pytest.fixture
def spec():
    return DaemonSpec(
        name="fixture",
        binary=binary("tests/arbor-fixtured"),
        config={"machine": {"name": "contract"}, "fixture": {"greeting": "hello"}},
        state_file="state.json",
        durable_change=bump,
        durable_check=check,
        health_configs={h: {"machine": {"name": "contract"}, "fixture": {"health": h}} for h in ("degraded", "failed")},
    )


class TestFixtureContract(ContractSuite):
    pass
