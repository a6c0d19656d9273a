"""The context middleware in a real Django project (test client, sqlite in memory, the auth app)."""
import asyncio
import json
import os
import types

import pytest
from sentry_sdk.integrations.django import DjangoIntegration

from sentry_bootstrap.middleware.common import ContextPolicy
from sentry_bootstrap.middleware.django import (AUTH_MIDDLEWARE, DOTTED_PATH, insert_into_settings,
                                         install_django)
from tests.support.collecting import SDK3, named, segments_of, styled

SETTINGS = "tests.middleware.django_app.settings"
CONTEXT = {"user_fields": ["id", "username", "email"], "request_id_header": "X-Request-ID",
           "header_tags": {"X-Tenant-ID": "tenant"}}
# The peer is the test client's 127.0.0.1, a trusted proxy, so the public hop is the client.
HEADERS = {"X-Request-ID": "req-123", "X-Tenant-ID": "acme",
           "X-Forwarded-For": "81.2.69.160, 10.0.0.2"}


@pytest.fixture(scope="module")
def staff():
    """Django set up once for this module, with a staff user in the in-memory database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    import django
    from django.conf import settings

    django.setup()
    assert settings.ROOT_URLCONF == "tests.middleware.django_app.urls", \
        "Django was configured by another test module in this process"
    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    user = User.objects.filter(username="alice.staff").first()
    return user or User.objects.create_user(
        "alice.staff", email="alice@example.invalid", password="pw", is_staff=True)


def _client(user=None):
    from django.test import Client

    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def test_pii_allowed_adds_user_ip_request_and_tags(staff, sentry_init):
    """With PII allowed the event carries id, username, email, the proxied client IP, the route,
    the request id and header tags; the transaction follows transaction_style=url."""
    transport = sentry_init([styled(DjangoIntegration, "url")], send_default_pii=True)
    install_django(ContextPolicy.from_config(CONTEXT, send_default_pii=True))

    response = _client(staff).get("/items/7/fail/", headers=HEADERS)

    assert response.status_code == 500
    [event] = transport.events()
    assert event["user"] == {"id": str(staff.pk), "username": "alice.staff",
                             "email": "alice@example.invalid", "ip_address": "81.2.69.160"}
    assert event["contexts"]["request_info"] == {
        "method": "GET", "route": "/items/<int:pk>/fail/", "path": "/items/7/fail/"}
    assert event["tags"]["request_id"] == "req-123"
    assert event["tags"]["tenant"] == "acme"
    assert event["transaction"] == "/items/{pk}/fail/"


def test_pii_forbidden_keeps_only_user_id(staff, sentry_init):
    """With send_default_pii=False only the user id is added: username, email and IP are nowhere
    in the event; the transaction follows transaction_style=function_name."""
    transport = sentry_init([styled(DjangoIntegration, "function_name")])
    install_django(ContextPolicy.from_config(CONTEXT, send_default_pii=False))

    _client(staff).get("/items/7/fail/", headers=HEADERS)

    [event] = transport.events()
    assert event["user"] == {"id": str(staff.pk)}
    # Frame variables are the SDK's and the scrubber's business, not this middleware's.
    text = json.dumps({key: value for key, value in event.items() if key != "exception"})
    for pii in ("alice", "81.2.69.160", "127.0.0.1"):
        assert pii not in text
    assert event["tags"]["request_id"] == "req-123"
    assert event["contexts"]["request_info"]["route"] == "/items/<int:pk>/fail/"
    assert event["transaction"] == named("tests.middleware.django_app.views.fail", "/items/{pk}/fail/")


def test_middleware_lands_after_authentication_once(staff, sentry_init):
    """The handler's chain gets the middleware right after AuthenticationMiddleware, once, however
    many clients load the chain."""
    from django.conf import settings

    sentry_init([DjangoIntegration()])
    install_django(ContextPolicy.from_config(CONTEXT, send_default_pii=False))
    _client().get("/ok/")
    _client().get("/ok/")

    chain = list(settings.MIDDLEWARE)
    assert chain.count(DOTTED_PATH) == 1
    assert chain.index(DOTTED_PATH) == chain.index(AUTH_MIDDLEWARE) + 1


def test_insert_into_settings_shapes():
    """Insertion keeps tuples as tuples, goes first without AuthenticationMiddleware, is
    idempotent, and leaves settings without MIDDLEWARE alone."""
    with_tuple = types.SimpleNamespace(MIDDLEWARE=("a.B", AUTH_MIDDLEWARE, "c.D"))
    assert insert_into_settings(with_tuple)
    assert with_tuple.MIDDLEWARE == ("a.B", AUTH_MIDDLEWARE, DOTTED_PATH, "c.D")
    assert not insert_into_settings(with_tuple)

    without_auth = types.SimpleNamespace(MIDDLEWARE=["a.B"])
    insert_into_settings(without_auth)
    assert without_auth.MIDDLEWARE == [DOTTED_PATH, "a.B"]

    legacy = types.SimpleNamespace()
    assert not insert_into_settings(legacy)
    assert not hasattr(legacy, "MIDDLEWARE")


def test_quiet_request_leaves_session_untouched(staff, sentry_init):
    """A request that produces no event never reads the user, so the session is not touched and
    no `Vary: Cookie` appears."""
    transport = sentry_init([DjangoIntegration()], send_default_pii=True)
    install_django(ContextPolicy.from_config(CONTEXT, send_default_pii=True))

    response = _client(staff).get("/ok/", headers=HEADERS)

    assert response.status_code == 200
    assert "Cookie" not in response.get("Vary", "")
    assert transport.events() == []


def test_context_does_not_leak_between_requests(staff, sentry_init):
    """Tags of one request are absent from the next request's event."""
    transport = sentry_init([DjangoIntegration()])
    install_django(ContextPolicy.from_config(CONTEXT, send_default_pii=False))
    client = _client()

    client.get("/items/1/fail/", headers=HEADERS)
    client.get("/items/2/fail/")

    first, second = transport.events()
    assert first["tags"]["tenant"] == "acme"
    assert "tenant" not in second.get("tags", {})
    assert "request_id" not in second.get("tags", {})
    assert second["contexts"]["request_info"]["path"] == "/items/2/fail/"


def test_async_view_gets_context(staff, sentry_init):
    """Under Django's async handler the middleware runs async and the event still carries the
    request context and tags."""
    from django.test import AsyncClient

    transport = sentry_init([styled(DjangoIntegration, "url")])
    install_django(ContextPolicy.from_config(CONTEXT, send_default_pii=False))

    async def call():
        return await AsyncClient(raise_request_exception=False).get(
            "/async/blue/fail/", headers=HEADERS)

    response = asyncio.run(call())

    assert response.status_code == 500
    [event] = transport.events()
    assert event["contexts"]["request_info"] == {
        "method": "GET", "route": "/async/<slug:name>/fail/", "path": "/async/blue/fail/"}
    assert event["tags"]["tenant"] == "acme"
    assert "user" not in event
    assert event["transaction"] == "/async/{name}/fail/"


def test_wsgi_handler_event_and_transaction(staff, sentry_init):
    """Through Django's real WSGI handler (what gunicorn calls) the context lands in the SDK's
    per-request scope, so the error event and the transaction both carry it."""
    from django.core.wsgi import get_wsgi_application
    from werkzeug.test import Client as WsgiClient

    transport = sentry_init([styled(DjangoIntegration, "url")], traces_sample_rate=1.0)
    install_django(ContextPolicy.from_config(CONTEXT, send_default_pii=False))

    response = WsgiClient(get_wsgi_application()).get("/items/8/fail/", headers=HEADERS)

    assert response.status_code == 500
    [event] = transport.events()
    if SDK3:  # a segment span: no tags or contexts, the request's attributes
        import sentry_sdk

        sentry_sdk.flush()
        [segment] = segments_of(transport)
        assert segment["name"] == "/items/{pk}/fail/"
    captured_items = [event] if SDK3 else [event] + transport.transactions()
    for captured in captured_items:
        assert captured["tags"]["tenant"] == "acme"
        assert captured["contexts"]["request_info"]["route"] == "/items/<int:pk>/fail/"
        assert captured["transaction"] == "/items/{pk}/fail/"
