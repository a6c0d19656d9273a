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


# --- The `slow` marker ----------------------------------------------------------------------------
# A test is `slow` when the code it runs starts another process: the test function, its fixtures, and
# the test-support functions they call (followed through their global names), reaching `subprocess`,
# `os.fork`, `multiprocessing` or `Popen`. Computed, not hand-kept, so a new test that starts a child is
# marked without anyone remembering to: `scripts/test -m "not slow"` is the quick in-process run.
import types

_STARTS_A_PROCESS = {"subprocess", "Popen", "fork", "multiprocessing", "run_python", "start_python"}


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _starts_a_process(function, seen):
    function = getattr(function, "__wrapped__", function)
    code = getattr(function, "__code__", None)
    if code is None or code in seen:
        return False
    seen.add(code)
    module = getattr(function, "__module__", "") or ""
    if not (module == "tests" or module.startswith("tests.") or module.startswith("conftest")):
        return False
    scope = getattr(function, "__globals__", {})
    for each in _code_objects(code):
        for name in each.co_names:
            if name in _STARTS_A_PROCESS:
                return True
            target = scope.get(name)
            if isinstance(target, type):
                target = getattr(target, "__init__", None)
            if callable(target) and _starts_a_process(target, seen):
                return True
    return False


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: starts a real process (computed in tests/conftest.py)")


def pytest_collection_modifyitems(config, items):
    seen_slow = {}
    for item in items:
        functions = [getattr(item, "function", None)]
        info = getattr(item, "_fixtureinfo", None)
        for defs in (info.name2fixturedefs.values() if info else ()):
            functions.extend(d.func for d in defs)
        slow = False
        for function in functions:
            if function is None:
                continue
            key = getattr(function, "__code__", function)
            if key not in seen_slow:
                seen_slow[key] = _starts_a_process(function, set())
            if seen_slow[key]:
                slow = True
                break
        if slow:
            item.add_marker("slow")
