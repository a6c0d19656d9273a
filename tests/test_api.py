"""The public helpers and the package's exported names: in process with an in-memory transport, and the
issue's examples as written in a real child interpreter sending to a real HTTP server."""
import textwrap

import pytest
import sentry_sdk

import sentry_bootstrap
from tests.support.child import HOOK_DIR, run_python

EXPORTED = ["add_breadcrumb", "capture_errors", "capture_exception", "capture_message", "set_context",
            "set_tag", "set_tags", "set_transaction", "set_user", "with_sentry_context"]


def test_all_lists_exactly_the_public_names_and_each_resolves():
    """`sentry_bootstrap.__all__` is the agreed list, each name resolves to a callable, and dir() shows them."""
    assert sorted(sentry_bootstrap.__all__) == EXPORTED
    for name in sentry_bootstrap.__all__:
        assert callable(getattr(sentry_bootstrap, name)), name
    assert set(EXPORTED) <= set(dir(sentry_bootstrap))
    with pytest.raises(AttributeError):
        sentry_bootstrap.not_a_helper


def test_import_sentry_bootstrap_imports_no_sentry_sdk():
    """A bare `import sentry_bootstrap` (what the hook does) loads neither sentry_sdk, wrapt, pydantic nor yaml."""
    code = textwrap.dedent("""
        import sys
        sys.path.insert(0, {root!r})
        import sentry_bootstrap
        heavy = [m for m in ("sentry_sdk", "wrapt", "pydantic", "yaml") if m in sys.modules]
        print(heavy)
        sentry_bootstrap.capture_message
        print("sentry_sdk" in sys.modules)
    """).format(root=HOOK_DIR)
    result = run_python(["-c", code], hook=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "True"]


def test_helpers_are_silent_no_ops_when_sentry_is_off():
    """With no client every helper returns without effect or error, and captures return None."""
    assert not sentry_sdk.get_client().is_active()
    with sentry_sdk.isolation_scope() as scope:
        assert sentry_bootstrap.capture_message("hello") is None
        assert sentry_bootstrap.capture_exception(ValueError("x")) is None
        sentry_bootstrap.set_user({"id": 1})
        sentry_bootstrap.set_context("c", {"a": 1})
        sentry_bootstrap.set_transaction("t")
        sentry_bootstrap.set_tag("k", "v")
        sentry_bootstrap.set_tags({"a": "b"})
        sentry_bootstrap.add_breadcrumb(message="m")
        assert scope._tags == {} and scope._user is None and not scope._breadcrumbs
        assert sentry_sdk.get_current_scope()._transaction is None


def test_helpers_never_raise_into_the_caller(sentry):
    """Bad arguments are swallowed: a non-mapping user, context or tag set doesn't raise."""
    sentry_bootstrap.set_user(42)
    sentry_bootstrap.set_context("c", 5)
    sentry_bootstrap.set_tags(["not", "a", "mapping"])
    sentry_bootstrap.add_breadcrumb(message="ok", data={"n": 1}, kind="extra")
    assert sentry_bootstrap.capture_message("still fine", level="warning")
    (event,) = sentry.events
    assert event["level"] == "warning"
    assert event["breadcrumbs"]["values"][0]["kind"] == "extra"


def test_helpers_shape_the_events(sentry):
    """Each helper lands where Sentry shows it: level, user, context, transaction, tags, breadcrumbs."""
    sentry_bootstrap.set_user({"id": 3, "email": "a@example.invalid", "username": "ann"})
    sentry_bootstrap.set_context("operation_details", {"account_id": 1, "amount": 10})
    sentry_bootstrap.set_transaction("process_payment")
    sentry_bootstrap.set_tag("team", "payments")
    sentry_bootstrap.set_tags({"region": "eu", "tier": 2})
    sentry_bootstrap.add_breadcrumb(message="charged", category="payment", data={"amount": 10})
    sentry_bootstrap.add_breadcrumb({"message": "as a dict", "level": "debug"})
    message_id = sentry_bootstrap.capture_message("Operation completed successfully", level="info")
    try:
        raise ValueError("bad amount")
    except ValueError:
        exception_id = sentry_bootstrap.capture_exception()
    other_id = sentry_bootstrap.capture_exception(KeyError("k"))

    message, error, other = sentry.events
    assert [message_id, exception_id, other_id] == [e["event_id"] for e in sentry.events]
    assert message["message"] == "Operation completed successfully" and message["level"] == "info"
    assert message["user"] == {"id": 3, "email": "a@example.invalid", "username": "ann"}
    assert message["contexts"]["operation_details"] == {"account_id": 1, "amount": 10}
    assert message["transaction"] == "process_payment"
    assert message["transaction_info"] == {"source": "custom"}
    assert message["tags"] == {"team": "payments", "region": "eu", "tier": 2}
    crumbs = message["breadcrumbs"]["values"]
    assert [(c["message"], c.get("category"), c["level"]) for c in crumbs] == [
        ("charged", "payment", "info"), ("as a dict", None, "debug")]
    assert error["exception"]["values"][0]["value"] == "bad amount"
    assert other["exception"]["values"][0]["type"] == "KeyError"
    sentry_bootstrap.set_user(None)
    sentry_bootstrap.capture_message("anonymous")
    assert "user" not in sentry.events[-1]


ISSUE_EXAMPLE = """
import sys
sys.path.insert(0, {root!r})
import sentry_sdk
sentry_sdk.init(dsn={dsn!r}, default_integrations=False)

from sentry_bootstrap import (capture_errors, capture_message, set_context, set_transaction, set_user,
                       with_sentry_context)


class User:
    id, email, username = 42, "ann@example.invalid", "ann"


user = User()

capture_message("Operation completed successfully", level="info")
set_user({{'id': user.id, 'email': user.email, 'username': user.username}})
set_context("operation_details", {{"account_id": 1, "operation_type": "transfer", "amount": 10}})
set_transaction("process_payment")
capture_message("with the scope")

@with_sentry_context("user_service")
def process_user_data(user_id):
    capture_message("processing %s" % user_id)
    return user_id

@capture_errors("payment_service", reraise=True)
def process_payment(payment_id):
    raise RuntimeError("payment %s declined" % payment_id)

assert process_user_data(7) == 7
try:
    process_payment(9)
except RuntimeError:
    print("re-raised")
sentry_sdk.flush(5)
"""


def test_issue_examples_run_as_written_in_a_child_against_a_real_server(sentry_server):
    """The issue's lines, run in a real interpreter, deliver the described events to an HTTP server."""
    code = ISSUE_EXAMPLE.format(root=HOOK_DIR, dsn=sentry_server.dsn)
    result = run_python(["-c", code], hook=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["re-raised"]
    sentry_server.wait_for_events(4, timeout=10)

    first, scoped, processing, payment = sorted(
        sentry_server.events, key=lambda e: e["timestamp"])
    assert first["message"] == "Operation completed successfully" and first["level"] == "info"
    assert "user" not in first
    assert scoped["user"] == {"id": 42, "email": "ann@example.invalid", "username": "ann"}
    assert scoped["contexts"]["operation_details"] == {
        "account_id": 1, "operation_type": "transfer", "amount": 10}
    assert scoped["transaction"] == "process_payment"
    assert processing["message"] == "processing 7"
    assert processing["tags"]["service"] == "user_service"
    assert processing["transaction"] == "user_service.process_user_data"
    assert processing["user"]["id"] == 42
    assert payment["tags"]["service"] == "payment_service"
    assert payment["exception"]["values"][0]["value"] == "payment 9 declined"
