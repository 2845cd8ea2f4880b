import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from fake_api import FakeApi  # noqa: E402


@pytest.fixture
def api():
    server = FakeApi().start()
    yield server
    server.stop()
