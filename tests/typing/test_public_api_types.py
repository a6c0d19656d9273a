"""The public API is typed: `py.typed` ships with the package, and mypy in strict mode sees through
every helper and decorator, which keep the decorated function's type (issue 15, point 9)."""
import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

from tests.support.child import HOOK_DIR, ROOT

# pyproject.toml installs mypy on Python 3.10+ only (mypy 2.x needs it): the 3.9 cells skip these.
needs_mypy = pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                                reason="mypy is installed on Python 3.10+ only")

SAMPLE = textwrap.dedent('''\
    """Uses the whole public API; checked with mypy --strict."""
    import asyncio
    from typing import Any, Dict, Iterator, Optional

    from typing_extensions import assert_type

    import sentry_bootstrap
    from sentry_bootstrap import (add_breadcrumb, capture_errors, capture_exception,
                                  capture_message, set_context, set_tag, set_tags,
                                  set_transaction, set_user, with_sentry_context)
    from sentry_bootstrap.decorators import monitor, monitor_config, trace


    @with_sentry_context("users")
    def load(user_id: int, *, fresh: bool = False) -> str:
        return str(user_id)


    @capture_errors("billing")
    async def charge(amount: float) -> int:
        return int(amount)


    @capture_errors("billing", reraise=False)
    def refund(amount: float) -> int:
        return int(amount)


    @capture_errors("billing", reraise=False)
    async def refund_later(amount: float) -> int:
        return int(amount)


    @trace(op="task", name="nightly")
    @monitor("nightly", schedule="0 3 * * *", timezone="UTC", checkin_margin=5, max_runtime=30)
    def nightly() -> Iterator[int]:
        yield 1


    class Service:
        @with_sentry_context("svc")
        def get(self, key: str) -> bytes:
            return key.encode()


    assert_type(load(1, fresh=True), str)
    assert_type(asyncio.run(charge(2.5)), int)
    assert_type(refund(1.0), Optional[int])
    assert_type(asyncio.run(refund_later(1.0)), Optional[int])
    assert_type(list(nightly()), list[int])
    assert_type(Service().get("k"), bytes)
    assert_type(capture_message("hello", level="warning"), Optional[str])
    assert_type(capture_exception(ValueError("x")), Optional[str])
    assert_type(monitor_config("0 3 * * *"), Optional[Dict[str, Any]])
    set_user({"id": "1", "email": "a@example.invalid"})
    set_user(None)
    set_context("order", {"id": 7})
    set_tag("team", "payments")
    set_tags({"tier": "web", "shard": 3})
    set_transaction("checkout")
    add_breadcrumb("paid", category="billing", level="info", data={"amount": 3})
    add_breadcrumb({"message": "whole crumb"})
    assert_type(sentry_bootstrap.capture_message("via the package"), Optional[str])
    ''')

WRONG = textwrap.dedent('''\
    from sentry_bootstrap import capture_errors, with_sentry_context


    @with_sentry_context("users")
    def load(user_id: int) -> str:
        return str(user_id)


    @capture_errors("users")
    def save(user_id: int) -> None:
        return None


    load("not an int")
    save(1, 2)
    ''')


def _mypy(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.10",
         "--follow-imports", "silent", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"),
         name],
        cwd=str(tmp_path), env=dict(os.environ, MYPYPATH=HOOK_DIR), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)


@needs_mypy
def test_mypy_strict_accepts_a_sample_using_the_whole_public_api(tmp_path):
    """mypy --strict on a program using every public helper and decorator: no error, and each
    decorated function keeps its signature and return type (assert_type)."""
    result = _mypy(tmp_path, "sample.py", SAMPLE)
    assert result.returncode == 0, result.stdout


@needs_mypy
def test_mypy_sees_through_the_decorators(tmp_path):
    """A wrong argument to a decorated function is a mypy error: the decorators keep the type."""
    result = _mypy(tmp_path, "wrong.py", WRONG)
    assert result.returncode == 1
    assert 'Argument 1 to "load" has incompatible type "str"; expected "int"' in result.stdout
    assert 'Too many arguments for "save"' in result.stdout


def test_py_typed_is_in_the_package_and_the_wheel():
    """The package carries `py.typed`, and the wheel's build configuration includes it."""
    assert os.path.isfile(os.path.join(HOOK_DIR, "sentry_bootstrap", "py.typed"))
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as handle:
        text = handle.read()
    assert 'packages = ["bootstrap/sentry_bootstrap"]' in text  # the whole directory, py.typed too
