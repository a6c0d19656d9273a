"""The opt-in test endpoint: `GET <diagnostics.endpoint.path>` (default `/api/v1/common/test-sentry/`)
sends a test event from inside the running application and answers with its id.

Mounted without touching the application, through the context middleware's own patch of each
framework (bootstrap/sentry_bootstrap/middleware/: each framework is patched in one place, there):
- Django: `install_endpoint_django(cfg)` registers `TestEndpointMiddleware` with
  `middleware.django.add_middleware` (after the authentication and context middleware). A request
  with `Authorization: Bearer <token>` (when a token is configured) needs nothing else. Otherwise
  the session decides: anonymous 401, not staff 403; and since a browser sends the session cookie
  with a cross-site request too, it must pass Django's CSRF check (`CsrfViewMiddleware`) before
  anything is sent: so a POST with the CSRF token (403 without it); a GET or HEAD, which Django's
  check lets through, is refused with 405.
- Flask: `install_endpoint_flask(cfg)` registers with `middleware.flask.set_endpoint` (every app).
- Starlette/FastAPI: `install_endpoint_starlette(cfg)` registers with
  `middleware.starlette.set_endpoint` (every app).
  Flask and Starlette need `Authorization: Bearer <diagnostics.endpoint.token>`, compared in
  constant time: none 401, a wrong one 403. With no token configured they are not mounted at all.
`cfg` is the `diagnostics.endpoint` section: {enabled, path, token}; nothing happens unless enabled.
The path matches with or without its trailing slash; any method is accepted.

Answers (JSON, `Cache-Control: no-store`):
- plain: a message event is captured; 200 `{"event_id": ...}`.
- `?debug=true`: a deliberate `SentryBootstrapTestError` is raised and captured here; 500
  `{"event_id": ..., "error": ...}`. It is not re-raised, so the framework's integration does not
  report it a second time and the caller still learns the id.
- `?celery=true`: `sentry_bootstrap.test_sentry_task` is enqueued on Celery's current app (its error
  arrives from the worker); the message event is captured too: 200 `{"event_id": ...,
  "celery_task_id": ...}`, or 503 with the reason when the task could not be enqueued.
- 503 when Sentry is not initialised in this process.
"""
import hmac
import json

from sentry_bootstrap._env import TRUE_WORDS
from sentry_bootstrap.config.defaults import ENDPOINT_PATH
from sentry_bootstrap.middleware.django import HybridMiddleware

DEFAULT_PATH = ENDPOINT_PATH  # the model's default, for tests and docs
TEST_MESSAGE = "sentry-bootstrap test endpoint"

# framework -> the endpoint section it was installed with (the latest install wins).
_config = {}


def _path(cfg):
    return str(cfg["path"])  # the validated section: complete


def matches(cfg_path, request_path):
    """True when `request_path` is the endpoint's path, with or without the trailing slash."""
    return bool(request_path) and request_path.rstrip("/") == cfg_path.rstrip("/")


def endpoint_status(values):
    """(active, note) for the startup report, from ResolvedConfig.values."""
    cfg = values["diagnostics"]["endpoint"]
    if not cfg["enabled"]:
        return False, "test endpoint off"
    if cfg.get("token"):
        return True, "test endpoint on at {} (Django: staff users; Flask/FastAPI: bearer token)".format(
            _path(cfg))
    return True, ("test endpoint on at {} for Django staff users only; off in Flask/FastAPI until "
                  "diagnostics.endpoint.token is set".format(_path(cfg)))


def _flag(query, name):
    values = query.get(name) or [""]
    return str(values[-1]).strip().lower() in TRUE_WORDS


def respond(query):
    """Do what the request asks; (HTTP status, JSON-able body). `query` maps names to value lists."""
    import sentry_sdk

    if not sentry_sdk.get_client().is_active():
        return 503, {"error": "Sentry is not initialised in this process"}
    body = {}
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("sentry_bootstrap.test", "endpoint")
        if _flag(query, "celery"):
            from sentry_bootstrap.diagnostics.celery_task import TASK_NAME, enqueue

            try:
                body["celery_task_id"] = enqueue()
            except Exception as exc:
                return 503, {"error": "could not enqueue {}: {}: {}".format(
                    TASK_NAME, type(exc).__name__, exc)}
            scope.set_tag("sentry_bootstrap.celery_task_id", body["celery_task_id"])
        if _flag(query, "debug"):
            from sentry_bootstrap.diagnostics.sample_event import SentryBootstrapTestError

            error = "deliberate error from the sentry-bootstrap test endpoint (debug=true)"
            try:
                raise SentryBootstrapTestError(error)
            except SentryBootstrapTestError:
                body.update(event_id=sentry_sdk.capture_exception(), error=error)
            return 500, body
        body["event_id"] = sentry_sdk.capture_message(TEST_MESSAGE)
    return 200, body


def check_token(expected, authorization):
    """None when `authorization` carries `Bearer <expected>`, else (status, body, headers)."""
    challenge = [("WWW-Authenticate", 'Bearer realm="sentry-bootstrap"')]
    if not authorization:
        return 401, {"error": "an Authorization: Bearer <token> header is required"}, challenge
    scheme, _, given = str(authorization).strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8"), str(expected).encode("utf-8")):
        return 403, {"error": "wrong token"}, []
    return None


def _json_bytes(body):
    return json.dumps(body).encode("utf-8")


def _parse_query(text):
    from urllib.parse import parse_qs

    return parse_qs(text or "", keep_blank_values=True)


# -- Django -----------------------------------------------------------------------------------------

DJANGO_MIDDLEWARE = "sentry_bootstrap.diagnostics.endpoint.TestEndpointMiddleware"
_AFTER = ("sentry_bootstrap.middleware.django.SentryContextMiddleware",
          "django.contrib.auth.middleware.AuthenticationMiddleware")


class TestEndpointMiddleware(HybridMiddleware):
    """Answers the test endpoint's path for staff users; passes every other request through."""

    __test__ = False  # not a pytest test class

    def _wanted(self, request):
        cfg = _config.get("django")
        return cfg is not None and matches(_path(cfg), request.path_info)

    def __call__(self, request):
        if self._is_async:
            return self.__acall__(request)
        if not self._wanted(request):
            return self.get_response(request)
        return self._answer(request)

    async def __acall__(self, request):
        if not self._wanted(request):
            return await self.get_response(request)
        from asgiref.sync import sync_to_async

        return await sync_to_async(self._answer)(request)

    def _answer(self, request):
        from django.http import JsonResponse

        status, body, headers = self._refusal(request) or (None, None, [])
        if status is None:
            status, body = respond({k: request.GET.getlist(k) for k in request.GET})
        response = JsonResponse(body, status=status)
        response["Cache-Control"] = "no-store"
        for name, value in headers:
            response[name] = value
        return response

    def _refusal(self, request):
        """None when the request may use the endpoint, else (status, body, headers)."""
        token = (_config.get("django") or {}).get("token")
        authorization = request.META.get("HTTP_AUTHORIZATION")
        if token and authorization:
            return check_token(token, authorization)  # a token: no cookie, so no CSRF to check
        user = getattr(request, "user", None)
        if user is None:
            return 403, {"error": "needs django.contrib.auth's AuthenticationMiddleware"}, []
        if not user.is_authenticated:
            return 401, {"error": "log in as a staff user"}, []
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            # Django's CSRF check lets safe methods through, and a cross-site page can make a
            # logged-in browser send one with its session cookie.
            return 405, {"error": "with a session, use POST with Django's CSRF token (or "
                                  "Authorization: Bearer <diagnostics.endpoint.token>)"}, \
                [("Allow", "POST")]
        reason = _csrf_failure(request)
        if reason is not None:
            return 403, {"error": "CSRF check failed: {}".format(reason)}, []
        if not (user.is_staff or user.is_superuser):
            return 403, {"error": "only staff users may use the test endpoint"}, []
        return None


def _csrf_failure(request):
    """None when `request` passes Django's own CSRF check (`CsrfViewMiddleware`, with the project's
    CSRF settings), else Django's reason."""
    from django.middleware.csrf import CsrfViewMiddleware

    reasons = []

    class _Check(CsrfViewMiddleware):
        def _reject(self, request, reason):
            reasons.append(reason)
            return reason

    check = _Check(lambda r: None)
    check.process_request(request)
    # The endpoint answers before any view is resolved, so Django's middleware never ran this.
    check.process_view(request, _csrf_protected_view, (), {})
    return reasons[0] if reasons else None


def _csrf_protected_view(request):  # what process_view is asked about: not csrf_exempt
    return None


def install_endpoint_django(cfg):
    """Serve the endpoint in every Django handler (bearer token, or staff with CSRF). No-op unless
    `cfg["enabled"]`."""
    from sentry_bootstrap.middleware import django as middleware

    if not cfg.get("enabled"):
        _config.pop("django", None)
        middleware.remove_middleware(DJANGO_MIDDLEWARE)
        return False
    _config["django"] = dict(cfg)
    middleware.add_middleware(DJANGO_MIDDLEWARE, _AFTER, at_end=True)
    return True


# -- Flask (WSGI) -----------------------------------------------------------------------------------

def _wsgi_answer(cfg, environ, start_response):
    denied = check_token(cfg["token"], environ.get("HTTP_AUTHORIZATION"))
    if denied is not None:
        status, body, headers = denied
    else:
        status, body = respond(_parse_query(environ.get("QUERY_STRING")))
        headers = []
    data = _json_bytes(body)
    from http import HTTPStatus

    start_response("{} {}".format(status, HTTPStatus(status).phrase), [
        ("Content-Type", "application/json"), ("Content-Length", str(len(data))),
        ("Cache-Control", "no-store")] + list(headers))
    return [data]


def _flask_endpoint(environ, start_response):
    cfg = _config.get("flask")
    if cfg is None or not matches(_path(cfg), environ.get("PATH_INFO", "")):
        return None
    return _wsgi_answer(cfg, environ, start_response)


def install_endpoint_flask(cfg):
    """Serve the endpoint in every Flask app, behind the bearer token. No-op unless enabled and a
    token is configured (then one info line says it stays off). True when mounted."""
    from sentry_bootstrap.middleware import flask as middleware

    if not _ready(cfg, "Flask"):
        _config.pop("flask", None)
        if "flask" in _mounted:
            middleware.set_endpoint(None)
            _mounted.discard("flask")
        return False
    _config["flask"] = dict(cfg)
    middleware.set_endpoint(_flask_endpoint)
    _mounted.add("flask")
    return True


_mounted = set()


def _ready(cfg, framework):
    if not cfg.get("enabled"):
        return False
    if not cfg.get("token"):
        from sentry_bootstrap import _log

        _log.report("info", "test endpoint stays off in {}: set diagnostics.endpoint.token".format(
            framework))
        return False
    return True


# -- Starlette / FastAPI (ASGI) ---------------------------------------------------------------------

def _asgi_header(scope, name):
    wanted = name.lower().encode("latin-1")
    for key, value in scope.get("headers") or ():
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


async def _asgi_answer(cfg, scope, receive, send):
    denied = check_token(cfg["token"], _asgi_header(scope, "authorization"))
    if denied is not None:
        status, body, headers = denied
    else:
        import asyncio
        import contextvars

        query = _parse_query((scope.get("query_string") or b"").decode("latin-1"))
        # Enqueueing talks to the broker: off the event loop, in this request's Sentry scope.
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        status, body = await loop.run_in_executor(None, context.run, respond, query)
        headers = []
    data = _json_bytes(body)
    raw_headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(data)).encode("latin-1")),
                   (b"cache-control", b"no-store")]
    raw_headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers)
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": data})


async def _starlette_endpoint(scope, receive, send):
    cfg = _config.get("starlette")
    if cfg is None or not matches(_path(cfg), scope.get("path", "")):
        return False
    await _asgi_answer(cfg, scope, receive, send)
    return True


def install_endpoint_starlette(cfg):
    """Serve the endpoint in every Starlette/FastAPI app, behind the bearer token. No-op unless
    enabled and a token is configured. True when mounted."""
    from sentry_bootstrap.middleware import starlette as middleware

    if not _ready(cfg, "Starlette/FastAPI"):
        _config.pop("starlette", None)
        if "starlette" in _mounted:
            middleware.set_endpoint(None)
            _mounted.discard("starlette")
        return False
    _config["starlette"] = dict(cfg)
    middleware.set_endpoint(_starlette_endpoint)
    _mounted.add("starlette")
    return True
