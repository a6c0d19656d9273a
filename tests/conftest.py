"""Shared fixtures. Every test runs with its own per-user state directory and no SENTRY_* variables
from the developer's shell, so nothing leaks in or out."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# Fixtures that live with their support code.
pytest_plugins = ["tests.support.sentry_server", "tests.support.git", "tests.support.redis_server",
                  "tests.support.app", "tests.support.collecting", "tests.support.keyed_server"]


@pytest.fixture(autouse=True)
def isolated_environ(tmp_path, monkeypatch):
    """A private XDG_STATE_HOME and no inherited SENTRY_*/ENVIRONMENT variables (but the matrix's
    sentry-sdk 3 preview switch, which holds for the whole run)."""
    for name in list(os.environ):
        if (name.startswith("SENTRY_") and name != "SENTRY_BOOTSTRAP_SDK3_PREVIEW") or name == "ENVIRONMENT":
            monkeypatch.delenv(name, raising=False)
    state = tmp_path / "_state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state
