"""Our BLAKE3 (common/blake3.c, through tests/blake3_tool) against b3sum, the
reference implementation's command, on random inputs of every length class:
empty, one byte, around the block (64) and chunk (1024) edges, several chunks
(the tree with an odd number of leaves), and about 1 MiB; hash and derive_key
modes; default and extended output lengths. The unit test test_blake3 checks
the official vectors; this one checks inputs nobody chose.
"""
import os
import random
import subprocess

import pytest

from arborlab import binary
from tools import needs, tool

B3SUM = tool("b3sum")
pytestmark = needs("b3sum")

LENGTHS = [0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 2049, 3073, 5 * 1024 + 1, 8 * 1024,
           31 * 1024 + 17, (1 << 20) - 1, 1 << 20, (1 << 20) + 1025]
SEED = int(os.environ.get("ARBOR_BLAKE3_SEED", "20261"))


def run(argv, data):
    r = subprocess.run(argv, input=data, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode().strip()


def ours(data, *args):
    return run([binary("tests/blake3_tool"), *args], data)


def reference(data, *args):
    return run([B3SUM, "--no-names", *args], data)


@pytest.fixture(scope="module")
def inputs():
    rng = random.Random(SEED)
    return {n: rng.randbytes(n) for n in LENGTHS}


@pytest.mark.parametrize("n", LENGTHS)
def test_hash(inputs, n):
    data = inputs[n]
    assert ours(data) == reference(data), f"length {n}, seed {SEED}"


@pytest.mark.parametrize("n", LENGTHS)
def test_derive_key(inputs, n):
    data = inputs[n]
    for context in ("arbor 2026 machine prefix v1", "arbor 2026 interface id v1", "x" * 200):
        args = ["--derive-key", context]
        assert ours(data, *args) == reference(data, *args), f"length {n}, context {context!r}, seed {SEED}"


@pytest.mark.parametrize("outlen", [0, 1, 5, 8, 31, 33, 64, 65, 131, 1000, 4096])
def test_output_lengths(inputs, outlen):
    for n in (0, 1025, 5 * 1024 + 1):
        data = inputs[n]
        args = ["--length", str(outlen)]
        assert ours(data, *args) == reference(data, *args), f"length {n}, output {outlen}"
        args += ["--derive-key", "arbor 2026 interface id v1"]
        assert ours(data, *args) == reference(data, *args), f"length {n}, output {outlen}, derive_key"


def test_tool_usage():
    r = subprocess.run([binary("tests/blake3_tool"), "--length", "-1"], capture_output=True, timeout=10)
    assert r.returncode == 2
    r = subprocess.run([binary("tests/blake3_tool"), "extra"], capture_output=True, timeout=10)
    assert r.returncode == 2
