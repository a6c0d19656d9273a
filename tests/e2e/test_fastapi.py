"""The FastAPI billing service (tests/e2e/apps/fastapi_billing) under `uvicorn --workers 2`, with
Starlette's AuthenticationMiddleware and PII off, reporting to a real bugsink."""
import json
import os
import uuid

from tests.e2e.bugsink import free_port
from tests.e2e.deploy import (BIN, Server, assert_deployed, assert_no_secrets, deploy, exception_of,
                              find_event, http, with_tag, assert_hook_quiet)

BEARER = "tok-billing-e2e-secret"  # the accountant's token, from the app's TOKENS table
PASSWORD = "approver-pw-e2e"
COOKIE = "billing-session-e2e-secret"


def test_render_error_is_stored_with_user_id_only(bugsink, tmp_path):
    """FastAPI under uvicorn workers: the stored error has overlay, release, tags, route, user id only, no secrets."""
    project_id, dsn = bugsink.create_project("fastapi-billing")
    app = deploy("fastapi_billing", tmp_path / "billing", dsn)
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    request_id = "bill-" + uuid.uuid4().hex
    argv = [os.path.join(BIN, "uvicorn"), "main:app", "--workers", "2", "--host", "127.0.0.1",
            "--port", str(port)]
    with Server(argv, app, name="uvicorn") as server:
        server.wait_http(base + "/health", timeout=60)
        status, _headers, body = http(
            base + "/invoices/31/render",
            data=json.dumps({"password": PASSWORD, "note": request_id}).encode(),
            headers={"Authorization": "Bearer " + BEARER, "Cookie": "session=" + COOKIE,
                     "Content-Type": "application/json", "X-Request-ID": request_id})
        assert status == 500, body
        event = find_event(bugsink, project_id, with_tag("request_id", request_id))

    assert_deployed(event, app, {"app": "billing", "tier": "api"})
    assert exception_of(event)["type"] == "TemplateMissing"
    assert event["transaction"] == "/invoices/{invoice_id}/render"
    assert event["transaction_info"] == {"source": "route"}
    assert event["tags"]["service"] == "invoicing"
    assert event["user"] == {"id": "42"}
    request = event["request"]
    assert (request["method"], request["url"]) == ("POST", base + "/invoices/31/render")
    assert_no_secrets(event, [PASSWORD, BEARER, COOKIE])
    assert_hook_quiet(server.log())
