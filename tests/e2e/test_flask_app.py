"""The Flask inventory service (tests/e2e/apps/flask_inventory) under gunicorn, with flask-login
users and PII allowed, reporting to a real bugsink."""
import os
import uuid

from tests.e2e.bugsink import free_port
from tests.e2e.deploy import (BIN, Server, assert_deployed, assert_no_secrets, deploy, exception_of,
                              find_event, http, with_tag, assert_hook_quiet)

BEARER = "tok-inventory-e2e-secret"  # the clerk's token, from the app's CLERKS table
PASSWORD = "supervisor-pw-e2e"
COOKIE = "cart-cookie-e2e-secret"


def test_reservation_error_is_stored_with_pii_user(bugsink, tmp_path):
    """Flask under gunicorn: the stored error has overlay, release, tags, URL rule, full user (PII on), no secrets."""
    project_id, dsn = bugsink.create_project("flask-inventory")
    app = deploy("flask_inventory", tmp_path / "inventory", dsn)
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    request_id = "inv-" + uuid.uuid4().hex
    argv = [os.path.join(BIN, "gunicorn"), "--no-control-socket", "--workers", "2",
            "--bind", "127.0.0.1:%d" % port, "app:app"]
    with Server(argv, app, name="gunicorn") as server:
        server.wait_http(base + "/health")
        status, _headers, body = http(
            base + "/stock/sku-1/reserve",
            data={"quantity": "5", "password": PASSWORD, "note": request_id},
            headers={"Authorization": "Bearer " + BEARER, "Cookie": "cart=" + COOKIE,
                     "X-Request-ID": request_id})
        assert status == 500, body
        event = find_event(bugsink, project_id, with_tag("request_id", request_id))

    assert_deployed(event, app, {"app": "inventory", "tier": "web"})
    assert exception_of(event)["type"] == "OutOfStock"
    assert event["transaction"] == "/stock/<sku>/reserve"
    assert event["transaction_info"] == {"source": "route"}
    assert event["tags"]["service"] == "stock"
    user = event["user"]
    assert {k: user.get(k) for k in ("id", "username", "email")} == {
        "id": "7", "username": "bob", "email": "bob@example.invalid"}
    assert user.get("ip_address") == "127.0.0.1"
    request = event["request"]
    assert (request["method"], request["url"]) == ("POST", base + "/stock/sku-1/reserve")
    assert request["data"]["note"] == request_id
    assert_no_secrets(event, [PASSWORD, BEARER, COOKIE])
    assert_hook_quiet(server.log())
