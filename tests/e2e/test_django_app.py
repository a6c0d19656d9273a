"""The Django shop (tests/e2e/apps/django_shop) under gunicorn, with a logged-in staff user, reporting
to a real bugsink: what the stored event holds, and that events raised while bugsink is down all
arrive once it is back."""
from http.cookies import SimpleCookie
import os
import re
import uuid

import pytest

from tests.e2e.bugsink import free_port
from tests.e2e.deploy import (BIN, Server, assert_deployed, assert_no_secrets, deploy, exception_of,
                              find_event, find_events, http, with_tag, assert_hook_quiet)
from tests.support.child import run_python

STAFF = {"username": "alice", "email": "alice@example.invalid", "password": "s3cret-login-pw-e2e"}
CARD_PASSWORD = "hunter2-card-pw-e2e"
BEARER = "tok-shop-e2e-secret"

CREATE_STAFF = """\
from django.contrib.auth import get_user_model
user = get_user_model().objects.create_user({username!r}, {email!r}, {password!r}, is_staff=True)
print(user.pk)
"""


@pytest.fixture(scope="module")
def shop(bugsink, tmp_path_factory):
    """The shop deployed once for this module: migrated SQLite database and one staff user, both
    made with the hook switched off (as an operator's one-off commands would be)."""
    project_id, dsn = bugsink.create_project("django-shop")
    app = deploy("django_shop", tmp_path_factory.mktemp("django") / "shop", dsn)
    off = {"SENTRY_BOOTSTRAP_DISABLED": "1"}
    migrated = run_python(["manage.py", "migrate", "--no-input", "-v", "0"], cwd=app.path, env=off,
                          hook=False, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    created = run_python(["manage.py", "shell", "-c", CREATE_STAFF.format(**STAFF)], cwd=app.path,
                         env=off, hook=False, timeout=60)
    assert created.returncode == 0, created.stderr
    app.project_id = project_id
    app.staff_id = created.stdout.split()[-1]
    return app


def gunicorn(app, port, preload=False):
    argv = [os.path.join(BIN, "gunicorn"), "--no-control-socket", "--workers", "2",
            "--bind", "127.0.0.1:%d" % port, "--graceful-timeout", "5"]
    argv += ["--preload"] if preload else []
    return Server(argv + ["shop.wsgi:application"], app, name="gunicorn")


def _cookies(headers):
    jar = SimpleCookie()
    for line in headers.get_all("Set-Cookie") or ():
        jar.load(line)
    return {name: morsel.value for name, morsel in jar.items()}


def log_in(base):
    """Log the staff user in through Django's login view; the cookies of the logged-in session."""
    status, headers, body = http(base + "/accounts/login/")
    assert status == 200, body
    cookies = _cookies(headers)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    status, headers, body = http(
        base + "/accounts/login/",
        data={"username": STAFF["username"], "password": STAFF["password"], "csrfmiddlewaretoken": token},
        headers={"Cookie": "csrftoken=%s" % cookies["csrftoken"], "Referer": base + "/accounts/login/"})
    assert status == 302, body
    cookies.update(_cookies(headers))
    assert cookies.get("sessionid"), cookies
    return cookies


def pay(base, cookies, request_id, order_id=17):
    """A card payment that the shop declines: the view raises. Carries a password in the body, the
    session cookie and an Authorization header."""
    return http(
        base + "/orders/%d/pay/" % order_id,
        data={"card_number": "4000000000000002", "password": CARD_PASSWORD, "note": request_id},
        headers={
            "Cookie": "; ".join("%s=%s" % item for item in sorted(cookies.items())),
            "Authorization": "Bearer " + BEARER,
            "X-Request-ID": request_id,
        })


@pytest.mark.parametrize("preload", [False, True], ids=["sync-workers", "preload"])
def test_declined_payment_is_stored_with_context(bugsink, shop, preload):
    """Django under gunicorn: the stored error has overlay, release, tags, route, user id only, no secrets."""
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    request_id = "shop-" + uuid.uuid4().hex
    with gunicorn(shop, port, preload) as server:
        server.wait_http(base + "/health/")
        cookies = log_in(base)
        status, _headers, body = pay(base, cookies, request_id)
        assert status == 500, body
        event = find_event(bugsink, shop.project_id, with_tag("request_id", request_id))

    assert_deployed(event, shop, {"app": "shop", "team": "payments", "tier": "web"})
    assert exception_of(event)["type"] == "PaymentDeclined"
    assert exception_of(event)["value"] == "order 17 declined (%s)" % request_id
    assert event["transaction"] == "/orders/{order_id}/pay/"
    assert event["transaction_info"] == {"source": "route"}
    assert event["tags"]["service"] == "payments"
    assert event["user"] == {"id": shop.staff_id}
    request = event["request"]
    assert (request["method"], request["url"]) == ("POST", base + "/orders/17/pay/")
    assert request["data"]["note"] == request_id
    assert request["data"]["password"] != CARD_PASSWORD
    assert_no_secrets(event, [CARD_PASSWORD, STAFF["password"], BEARER, cookies["sessionid"],
                              cookies["csrftoken"]])
    assert_hook_quiet(server.log())


def test_errors_while_bugsink_is_down_arrive_after_it_is_back(bugsink, shop):
    """Five view errors raised while bugsink is stopped are all stored, each once, after it starts again."""
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    batch = "outage-" + uuid.uuid4().hex[:8]
    request_ids = ["%s-%d" % (batch, n) for n in range(5)]
    with gunicorn(shop, port) as server:
        server.wait_http(base + "/health/")
        cookies = log_in(base)
        bugsink.stop()
        try:
            for request_id in request_ids:
                status, _headers, body = pay(base, cookies, request_id)
                assert status == 500, body
        finally:
            bugsink.start()
        stored = find_events(bugsink, shop.project_id,
                             lambda e: e["tags"].get("request_id", "").startswith(batch),
                             count=len(request_ids), timeout=30)
    assert sorted(e["tags"]["request_id"] for e in stored) == request_ids
    assert len({e["event_id"] for e in stored}) == len(request_ids)
    assert all(e["environment"] == "staging" and e["user"] == {"id": shop.staff_id} for e in stored)
