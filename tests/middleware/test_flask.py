"""The context middleware in real Flask apps (test client, flask-login)."""
import json
import sys

import flask

from sentry_sdk.integrations.flask import FlaskIntegration

from sentry_bootstrap.middleware.common import ContextPolicy
from sentry_bootstrap.middleware.flask import install_flask
from tests.middleware import flask_app
from tests.middleware.flask_app import create_app
from tests.support.collecting import named, styled

CONTEXT = {"user_fields": ["id", "username", "email"], "request_id_header": "X-Request-ID",
           "header_tags": {"X-Tenant-ID": "tenant"}}
HEADERS = {"X-Request-ID": "req-456", "X-Tenant-ID": "acme",
           "X-Forwarded-For": "81.2.69.160, 10.0.0.2"}

# Created at import, before any test installs the middleware.
EARLY_APP = create_app()


def _logged_in(app):
    client = app.test_client()
    assert client.get("/login/42").status_code == 200
    return client


def test_pii_allowed_adds_login_user_ip_request_and_tags(sentry_init):
    """With PII allowed the event carries flask-login's user (id, username, email), the proxied
    client IP, the route, the request id and header tags; transaction_style=url is kept."""
    transport = sentry_init([styled(FlaskIntegration, "url")], send_default_pii=True)
    install_flask(ContextPolicy.from_config(CONTEXT, send_default_pii=True))

    response = _logged_in(create_app()).get("/items/5/fail", headers=HEADERS)

    assert response.status_code == 500
    [event] = transport.events()
    assert event["user"] == {"id": "42", "username": "bob.flask", "email": "bob@example.invalid",
                             "ip_address": "81.2.69.160"}
    assert event["contexts"]["request_info"] == {
        "method": "GET", "route": "/items/<int:item_id>/fail", "path": "/items/5/fail"}
    assert event["tags"]["request_id"] == "req-456"
    assert event["tags"]["tenant"] == "acme"
    assert event["transaction"] == "/items/<int:item_id>/fail"


def test_pii_forbidden_keeps_only_user_id(sentry_init):
    """With send_default_pii=False only the id is added; username, email and IP are nowhere in the
    event; transaction_style=endpoint is kept."""
    transport = sentry_init([styled(FlaskIntegration, "endpoint")])
    install_flask(ContextPolicy.from_config(CONTEXT, send_default_pii=False))

    _logged_in(create_app()).get("/items/5/fail", headers=HEADERS)

    [event] = transport.events()
    assert event["user"] == {"id": "42"}
    # Frame variables are the SDK's and the scrubber's business, not this middleware's.
    text = json.dumps({key: value for key, value in event.items() if key != "exception"})
    for pii in ("bob", "81.2.69.160", "127.0.0.1"):
        assert pii not in text
    assert event["tags"]["request_id"] == "req-456"
    assert event["transaction"] == named("fail", "/items/<int:item_id>/fail")


def test_app_created_before_install_is_covered(sentry_init):
    """An app created before install_flask gets the context too (the class is patched)."""
    transport = sentry_init([FlaskIntegration()])
    install_flask(ContextPolicy.from_config(CONTEXT, send_default_pii=False))

    EARLY_APP.test_client().get("/items/9/fail", headers=HEADERS)

    [event] = transport.events()
    assert event["contexts"]["request_info"]["route"] == "/items/<int:item_id>/fail"
    assert event["tags"]["tenant"] == "acme"
    assert "user" not in event  # anonymous


def test_context_does_not_leak_between_requests(sentry_init):
    """Tags and user of one request are absent from the next request's event."""
    transport = sentry_init([FlaskIntegration()])
    install_flask(ContextPolicy.from_config(CONTEXT, send_default_pii=False))
    app = create_app()

    _logged_in(app).get("/items/1/fail", headers=HEADERS)
    app.test_client().get("/items/2/fail")

    first, second = transport.events()
    assert first["user"] == {"id": "42"}
    assert "user" not in second
    assert "tenant" not in second.get("tags", {})


def test_quiet_request_never_loads_the_user(sentry_init):
    """A request that produces no event never asks flask-login for the user (no user_loader call,
    so no database query), and nothing is sent. (With send_default_pii=True the SDK's own Flask
    integration loads the user at request start, so the check runs without PII.)"""
    transport = sentry_init([FlaskIntegration()])
    install_flask(ContextPolicy.from_config(CONTEXT, send_default_pii=False))
    client = _logged_in(create_app())
    del flask_app.LOADS[:]

    response = client.get("/ok", headers=HEADERS)

    assert response.data == b"ok"
    assert flask_app.LOADS == []
    assert transport.events() == []


def test_without_flask_login(sentry_init, monkeypatch):
    """With flask-login not importable the request context still lands, with no user and no error."""
    monkeypatch.setitem(sys.modules, "flask_login", None)  # what `import flask_login` sees if absent
    transport = sentry_init([FlaskIntegration()], send_default_pii=True)
    install_flask(ContextPolicy.from_config(CONTEXT, send_default_pii=True))
    app = flask.Flask("plain")

    @app.route("/boom/<name>")
    def boom(name):
        raise RuntimeError(name)

    app.test_client().get("/boom/x", headers=HEADERS)

    [event] = transport.events()
    assert event["contexts"]["request_info"]["route"] == "/boom/<name>"
    assert event["tags"]["tenant"] == "acme"
    assert event["user"] == {"ip_address": "81.2.69.160"}


def test_public_peer_forwarded_for_is_ignored(sentry_init):
    """When the connection comes from a public address, its X-Forwarded-For is not trusted: the
    IP is the peer's, replacing the SDK's guess from the header."""
    transport = sentry_init([FlaskIntegration()], send_default_pii=True)
    install_flask(ContextPolicy.from_config(CONTEXT, send_default_pii=True))
    client = create_app().test_client()

    client.get("/items/3/fail", headers={"X-Forwarded-For": "203.0.113.9"},
               environ_base={"REMOTE_ADDR": "81.2.69.160"})

    [event] = transport.events()
    assert event["user"] == {"ip_address": "81.2.69.160"}
