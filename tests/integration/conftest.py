"""pytest fixtures shared by every integration test, and the skip policy
(tests/lib/tools.py, docs/testing.md): in a strict run (ARBOR_STRICT_SKIPS=1,
set by scripts/test) a skip fails the run unless its reason says the machine
lacks something no package provides."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from arborlab import Lab  # noqa: E402
import tools  # noqa: E402
from tools import pytest_runtest_makereport  # noqa: E402,F401  (the skip policy hook)

tools.add_sbin_to_path()


@pytest.fixture
def lab():
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()
