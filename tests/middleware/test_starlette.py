"""The context middleware in real FastAPI (under uvicorn on 127.0.0.1) and Starlette apps."""
import json
import textwrap
import threading
import time
from contextlib import contextmanager

import httpx
import uvicorn
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from starlette.testclient import TestClient

from sentry_bootstrap.middleware.common import ContextPolicy
from sentry_bootstrap.middleware.starlette import install_starlette
from tests.middleware.asgi_apps import TOKEN, create_fastapi, create_starlette
from tests.support.child import HOOK_DIR, run_python
from tests.support.collecting import named, styled

CONTEXT = {"user_fields": ["id", "username", "email"], "request_id_header": "X-Request-ID",
           "header_tags": {"X-Tenant-ID": "tenant"}}
HEADERS = {"X-Request-ID": "req-789", "X-Tenant-ID": "acme",
           "X-Forwarded-For": "81.2.69.160, 10.0.0.2"}


def _integrations(style):
    return [styled(StarletteIntegration, style), styled(FastApiIntegration, style)]


@contextmanager
def serve(app):
    """Run `app` under a real uvicorn server on a free 127.0.0.1 port; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield "http://127.0.0.1:{}".format(port)
    finally:
        server.should_exit = True
        thread.join(10)


def test_fastapi_under_uvicorn_with_pii(sentry_init):
    """Under uvicorn with PII allowed the event carries the authenticated user's id, username and
    email, the proxied client IP, the route, the request id and header tags; transaction_style=url
    is kept."""
    transport = sentry_init(_integrations("url"), send_default_pii=True)
    install_starlette(ContextPolicy.from_config(CONTEXT, send_default_pii=True))

    with serve(create_fastapi()) as url:
        response = httpx.get(url + "/items/3/fail", headers=dict(HEADERS, Authorization=TOKEN))

    assert response.status_code == 500
    [event] = transport.wait_for_events()
    assert event["user"] == {"id": "7", "username": "carol.api", "email": "carol@example.invalid",
                             "ip_address": "81.2.69.160"}
    assert event["contexts"]["request_info"] == {
        "method": "GET", "route": "/items/{item_id}/fail", "path": "/items/3/fail"}
    assert event["tags"]["request_id"] == "req-789"
    assert event["tags"]["tenant"] == "acme"
    assert event["transaction"] == "/items/{item_id}/fail"


def test_fastapi_under_uvicorn_without_pii(sentry_init):
    """Under uvicorn with send_default_pii=False only the user id is added; username, email and
    IP are nowhere in the event; transaction_style=endpoint is kept."""
    transport = sentry_init(_integrations("endpoint"))
    install_starlette(ContextPolicy.from_config(CONTEXT, send_default_pii=False))

    with serve(create_fastapi()) as url:
        httpx.get(url + "/items/3/fail", headers=dict(HEADERS, Authorization=TOKEN))

    [event] = transport.wait_for_events()
    assert event["user"] == {"id": "7"}
    # Frame variables are the SDK's and the scrubber's business, not this middleware's.
    text = json.dumps({key: value for key, value in event.items() if key != "exception"})
    for pii in ("carol.api", "carol@", "81.2.69.160", "10.0.0.2"):
        assert pii not in text
    assert event["tags"]["request_id"] == "req-789"
    assert event["transaction"] == named("tests.middleware.asgi_apps.fail", "/items/{item_id}/fail")


def test_fastapi_test_client(sentry_init):
    """Through FastAPI's TestClient the same context lands (anonymous: no user; the test client's
    peer is not an address, so no IP)."""
    transport = sentry_init(_integrations("url"), send_default_pii=True)
    install_starlette(ContextPolicy.from_config(CONTEXT, send_default_pii=True))

    client = TestClient(create_fastapi(), raise_server_exceptions=False)
    assert client.get("/items/4/fail", headers=HEADERS).status_code == 500

    [event] = transport.wait_for_events()
    assert not event.get("user")  # the SDK may leave an empty user for an anonymous request
    assert event["contexts"]["request_info"]["route"] == "/items/{item_id}/fail"
    assert event["tags"]["tenant"] == "acme"


def test_starlette_mounted_route_and_user(sentry_init):
    """A plain Starlette app: the route inside a Mount is reported in full, and the user comes from
    AuthenticationMiddleware."""
    transport = sentry_init(_integrations("url"))
    install_starlette(ContextPolicy.from_config(CONTEXT, send_default_pii=False))

    client = TestClient(create_starlette(), raise_server_exceptions=False)
    response = client.get("/shop/orders/12", headers=dict(HEADERS, Authorization=TOKEN))

    assert response.status_code == 500
    [event] = transport.wait_for_events()
    assert event["user"] == {"id": "7"}
    assert event["contexts"]["request_info"] == {
        "method": "GET", "route": "/shop/orders/{order_id:int}", "path": "/shop/orders/12"}
    assert event["tags"]["request_id"] == "req-789"


def test_context_does_not_leak_between_requests(sentry_init):
    """Tags and user of one request are absent from the next request's event."""
    transport = sentry_init(_integrations("url"))
    install_starlette(ContextPolicy.from_config(CONTEXT, send_default_pii=False))
    client = TestClient(create_starlette(), raise_server_exceptions=False)

    client.get("/shop/orders/1", headers=dict(HEADERS, Authorization=TOKEN))
    client.get("/shop/orders/2")

    first, second = transport.wait_for_events(2)
    assert first["user"] == {"id": "7"}
    assert not second.get("user")
    assert "tenant" not in second.get("tags", {})


CHILD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {root!r})
    from sentry_bootstrap.middleware.common import ContextPolicy
    from sentry_bootstrap.middleware.starlette import install_starlette
    install_starlette(ContextPolicy.from_config({{"header_tags": {{"X-Tenant-ID": "tenant"}}}},
                                                send_default_pii=False))

    import sentry_sdk
    from sentry_sdk.integrations.starlette import StarletteIntegration
    from starlette.testclient import TestClient
    from tests.middleware.asgi_apps import TOKEN, create_starlette
    from tests.middleware.conftest import DSN, CollectingTransport

    from sentry_bootstrap.sdk_compat import init_with_pii  # 3.x: no user data, as 2.x by default

    transport = CollectingTransport()
    init_with_pii(False, dsn=DSN, transport=transport, integrations=[StarletteIntegration()],
                  default_integrations=False, auto_enabling_integrations=False)
    TestClient(create_starlette(), raise_server_exceptions=False).get(
        "/shop/orders/5", headers={{"Authorization": TOKEN, "X-Tenant-ID": "acme"}})
    [event] = transport.events()
    print(json.dumps([event["user"], event["tags"]["tenant"],
                      event["contexts"]["request_info"]["route"]]))
""")


def test_install_before_sdk_init():
    """Installed before sentry_sdk.init (so the SDK's own patch wraps ours), the context still
    reaches the captured event."""
    result = run_python(["-c", CHILD.format(root=HOOK_DIR)], hook=False)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"id": "7"}, "acme", "/shop/orders/{order_id:int}"]
