"""The test endpoint in real Flask and FastAPI apps (in this process, with a real SDK client whose
transport collects envelopes) and in a real Django project (a child interpreter, since Django is
configured once per process, sending to the real test server)."""
import json
import textwrap

import pytest

from sentry_bootstrap.diagnostics import endpoint
from sentry_bootstrap.diagnostics.endpoint import DEFAULT_PATH, endpoint_status
from tests.support.child import ROOT, run_python
from tests.support.sentry_server import SentryServer
from tests.support.values import validated

TOKEN = "right-token-5f2c"
CFG = {"enabled": True, "path": DEFAULT_PATH, "token": TOKEN}
RIGHT = {"Authorization": "Bearer " + TOKEN}
WRONG = {"Authorization": "Bearer wrong-token"}


def _flask_app():
    from flask import Flask

    app = Flask("diagnostics_test")

    @app.route("/hello")
    def hello():
        return "hello"

    return app


def _fastapi_app():
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello")
    def hello():
        return {"hello": True}

    return app


class _FlaskClient(object):
    def __init__(self):
        self.client = _flask_app().test_client()

    def get(self, url, headers=None):
        response = self.client.get(url, headers=headers or {})
        return response.status_code, response.get_json(silent=True), response.headers


class _FastAPIClient(object):
    def __init__(self):
        from starlette.testclient import TestClient

        self.client = TestClient(_fastapi_app(), raise_server_exceptions=False)

    def get(self, url, headers=None):
        response = self.client.get(url, headers=headers or {})
        try:
            body = response.json()
        except ValueError:
            body = None
        return response.status_code, body, response.headers


FRAMEWORKS = {
    "flask": (endpoint.install_endpoint_flask, _FlaskClient),
    "fastapi": (endpoint.install_endpoint_starlette, _FastAPIClient),
}


@pytest.fixture(params=sorted(FRAMEWORKS))
def mounted(request):
    """`mounted(cfg) -> client` for Flask and FastAPI; the endpoint is unmounted afterwards."""
    install, client_cls = FRAMEWORKS[request.param]

    def mount(cfg=CFG):
        install(cfg)
        return client_cls()

    yield mount
    install({"enabled": False})


def test_no_token_is_401_with_a_bearer_challenge(mounted, sentry_client):
    """Without an Authorization header the answer is 401 and nothing is captured."""
    status, body, headers = mounted().get(DEFAULT_PATH)
    assert status == 401
    assert "Bearer" in headers["WWW-Authenticate"]
    assert sentry_client.events() == []


def test_wrong_token_is_403(mounted, sentry_client):
    """A wrong bearer token is refused with 403 and nothing is captured."""
    status, body, _ = mounted().get(DEFAULT_PATH, headers=WRONG)
    assert status == 403 and body == {"error": "wrong token"}
    assert sentry_client.events() == []


def test_right_token_captures_a_message_and_returns_its_id(mounted, sentry_client):
    """The right token sends a message event; the JSON answer carries its id."""
    status, body, headers = mounted().get(DEFAULT_PATH, headers=RIGHT)
    assert status == 200
    [event] = sentry_client.events()
    assert body == {"event_id": event["event_id"]}
    assert event["message"] == endpoint.TEST_MESSAGE
    assert event["tags"]["sentry_bootstrap.test"] == "endpoint"
    assert headers["Cache-Control"] == "no-store"


def test_path_without_trailing_slash_and_other_routes(mounted, sentry_client):
    """The path matches without its trailing slash; the app's own routes are untouched."""
    client = mounted()
    assert client.get(DEFAULT_PATH.rstrip("/"), headers=RIGHT)[0] == 200
    status, _, _ = client.get("/hello", headers=RIGHT)
    assert status == 200
    assert len(sentry_client.events()) == 1


def test_debug_true_captures_the_deliberate_error_and_returns_500(mounted, sentry_client):
    """debug=true raises a deliberate error, captures it, and answers 500 with the event id."""
    status, body, _ = mounted().get(DEFAULT_PATH + "?debug=true", headers=RIGHT)
    assert status == 500
    [event] = sentry_client.events()
    assert body["event_id"] == event["event_id"]
    [exc] = event["exception"]["values"]
    assert exc["type"] == "SentryBootstrapTestError"
    assert "debug=true" in exc["value"]


def test_no_token_configured_leaves_the_endpoint_off(mounted, sentry_client):
    """With no token configured the path is the app's (404), and the startup note says why."""
    status, _, _ = mounted({"enabled": True, "path": DEFAULT_PATH, "token": None}).get(
        DEFAULT_PATH, headers=RIGHT)
    assert status == 404
    assert sentry_client.events() == []
    active, note = endpoint_status(validated(diagnostics={"endpoint": {"enabled": True}}))
    assert "off in Flask/FastAPI" in note and "diagnostics.endpoint.token" in note


def test_custom_path(mounted, sentry_client):
    """A configured path replaces the default one."""
    client = mounted(dict(CFG, path="/ops/sentry-check"))
    assert client.get("/ops/sentry-check", headers=RIGHT)[0] == 200
    assert client.get(DEFAULT_PATH, headers=RIGHT)[0] == 404


def test_sentry_not_initialised_is_503(mounted):
    """Without an active Sentry client the endpoint says so with 503."""
    status, body, _ = mounted().get(DEFAULT_PATH, headers=RIGHT)
    assert status == 503 and "not initialised" in body["error"]


def test_endpoint_status_notes():
    """Off by default; with a token it is on for every framework."""
    assert endpoint_status(validated()) == (False, "test endpoint off")
    active, note = endpoint_status(validated(diagnostics={"endpoint": CFG}))
    assert active and DEFAULT_PATH in note and "bearer token" in note


def test_token_from_a_file_variable(tmp_path, monkeypatch):
    """diagnostics.endpoint.token can come from SENTRY_DIAGNOSTICS__ENDPOINT__TOKEN_FILE."""
    from sentry_bootstrap.config.loader import load_config

    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SENTRY_DIAGNOSTICS__ENDPOINT__TOKEN_FILE", str(secret))
    monkeypatch.setenv("SENTRY_DIAGNOSTICS__ENDPOINT__ENABLED", "true")
    values = load_config().values
    assert values["diagnostics"]["endpoint"]["token"] == TOKEN
    assert endpoint_status(values)[0] is True


# -- Django ------------------------------------------------------------------------------------------

DJANGO_SCRIPT = textwrap.dedent("""\
    import asyncio, json, os, sys
    sys.path.insert(0, {root!r})
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.middleware.django_app.settings"
    import sentry_sdk
    sentry_sdk.init(dsn=sys.argv[1], default_integrations=False, auto_enabling_integrations=False)
    import django
    from django.conf import settings
    # A file, not :memory:: the async client reaches the database from another thread.
    settings.DATABASES["default"]["NAME"] = sys.argv[2]
    from sentry_bootstrap.diagnostics.endpoint import install_endpoint_django
    install_endpoint_django({{"enabled": True, "path": "{path}", "token": "{token}"}})
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import AsyncClient, Client
    call_command("migrate", verbosity=0)
    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    boss = User.objects.create_superuser("boss", password="pw")
    plain = User.objects.create_user("plain", password="pw")
    CSRF = "a" * 32  # a well-formed CSRF secret, as the cookie and the header carry it

    def call(user=None, query="", client_cls=Client, method="post", csrf=True, headers=None):
        # enforce_csrf_checks: the test client would otherwise mark every request exempt.
        client = client_cls(raise_request_exception=False, enforce_csrf_checks=True)
        extra = dict(headers or {{}})
        if user is not None:
            client.force_login(user)
        if csrf:
            client.cookies[settings.CSRF_COOKIE_NAME] = CSRF
            extra["X-CSRFToken"] = CSRF
        response = getattr(client, method)("{path}" + query, headers=extra)
        if client_cls is AsyncClient:
            response = asyncio.run(response)
        return [response.status_code, json.loads(response.content or b"null")]

    results = {{
        "anonymous": call(),
        "plain": call(plain),
        "staff": call(staff),
        "superuser": call(boss),
        "debug": call(staff, "?debug=true"),
        "async_staff": call(staff, client_cls=AsyncClient),
        "staff_get": call(staff, method="get"),
        "staff_get_debug": call(staff, "?debug=true", method="get"),
        "staff_without_csrf": call(staff, csrf=False),
        "token_get": call(method="get", csrf=False,
                          headers={{"Authorization": "Bearer {token}"}}),
        "wrong_token": call(staff, method="get", csrf=False,
                            headers={{"Authorization": "Bearer wrong"}}),
        "other_route": [Client().get("/ok/").status_code, None],
    }}
    sentry_sdk.flush(5)
    print(json.dumps(results))
    """)


@pytest.fixture(scope="module")
def django_run(tmp_path_factory):
    """One child Django process that makes every request; (results by case, events by id)."""
    server = SentryServer().start()
    try:
        where = tmp_path_factory.mktemp("django")
        script = where / "run.py"
        script.write_text(DJANGO_SCRIPT.format(root=ROOT, path=DEFAULT_PATH, token=TOKEN))
        result = run_python([str(script), server.dsn, str(where / "db.sqlite3")], hook=False,
                            timeout=60)
        assert result.returncode == 0, result.stderr
        results = json.loads(result.stdout.splitlines()[-1])
        server.wait_for_events(5)
        events = {e["event_id"]: e for e in server.events}
    finally:
        server.stop()
    return results, events


def test_django_anonymous_gets_401(django_run):
    """An anonymous request is refused with 401."""
    results, _ = django_run
    assert results["anonymous"][0] == 401


def test_django_non_staff_gets_403(django_run):
    """A logged-in user who is not staff is refused with 403."""
    results, _ = django_run
    assert results["plain"] == [403, {"error": "only staff users may use the test endpoint"}]


def test_django_staff_and_superuser_send_a_message(django_run):
    """Staff and superusers get 200 and the id of the message event that reached the server."""
    results, events = django_run
    for case in ("staff", "superuser", "async_staff"):
        status, body = results[case]
        assert status == 200, case
        assert events[body["event_id"]]["message"] == endpoint.TEST_MESSAGE


def test_django_debug_true_error_reaches_the_server(django_run):
    """debug=true answers 500 with the id of the deliberate error's event, which arrived."""
    results, events = django_run
    status, body = results["debug"]
    assert status == 500
    event = events[body["event_id"]]
    assert event["exception"]["values"][-1]["type"] == "SentryBootstrapTestError"


def test_django_session_requests_must_pass_the_csrf_check(django_run):
    """A request authenticated only by its session cookie sends nothing unless it passes Django's
    CSRF check: a GET (which the check lets through) is 405, a POST without the token 403."""
    results, events = django_run
    assert results["staff_get"][0] == results["staff_get_debug"][0] == 405
    assert results["staff_without_csrf"][0] == 403
    assert "CSRF" in results["staff_without_csrf"][1]["error"]
    sent = {results[c][1]["event_id"] for c in ("staff", "superuser", "debug", "async_staff",
                                                 "token_get")}
    assert set(events) == sent  # nothing from the refused requests


def test_django_token_requests_need_no_session_or_csrf(django_run):
    """With diagnostics.endpoint.token set, `Authorization: Bearer <token>` is enough, even on a
    GET; a wrong token is 403 whatever the session."""
    results, events = django_run
    status, body = results["token_get"]
    assert status == 200 and events[body["event_id"]]["message"] == endpoint.TEST_MESSAGE
    assert results["wrong_token"] == [403, {"error": "wrong token"}]


def test_django_other_routes_untouched(django_run):
    """The project's own routes still answer as before."""
    results, _ = django_run
    assert results["other_route"][0] == 200


def test_register_mounts_what_the_configuration_asks(sentry_client):
    """register(values) mounts nothing by default, and the endpoint when enabled (through the
    post-import hook, at once for an already imported framework)."""
    from sentry_bootstrap.diagnostics import register

    assert register(validated()) == []
    # Imported first, so each hook runs at once and none is left waiting for a later test's import.
    import django.core.handlers.base  # noqa: F401
    import flask.app  # noqa: F401
    import starlette.applications  # noqa: F401

    try:
        assert register(validated(diagnostics={"endpoint": CFG})) == ["endpoint"]
        status, body, _ = _FlaskClient().get(DEFAULT_PATH, headers=RIGHT)
    finally:
        endpoint.install_endpoint_flask({"enabled": False})
        endpoint.install_endpoint_starlette({"enabled": False})
        endpoint.install_endpoint_django({"enabled": False})
    assert status == 200 and body["event_id"] == sentry_client.events()[0]["event_id"]
