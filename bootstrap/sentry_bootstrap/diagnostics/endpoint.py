"""The opt-in test endpoint: `GET <diagnostics.endpoint.path>` (default `/api/v1/common/test-sentry/`)
sends a test event from inside the running application and answers with its id.

Mounted without touching the application, like the context middleware (bootstrap/sentry_bootstrap/middleware/):
- Django: `install_endpoint_django(cfg)` adds `TestEndpointMiddleware` to `settings.MIDDLEWARE`
  (after the authentication and context middleware) whenever a handler loads its middleware.
  Only authenticated staff or superusers: anonymous 401, others 403.
- Flask: `install_endpoint_flask(cfg)` wraps `Flask.wsgi_app` on the class (every app).
- Starlette/FastAPI: `install_endpoint_starlette(cfg)` wraps `Starlette.__call__` on the class.
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
from sentry_bootstrap.middleware.django import HybridMiddleware, insert_middleware

DEFAULT_PATH = "/api/v1/common/test-sentry/"
TEST_MESSAGE = "sentry-bootstrap test endpoint"

# framework -> the endpoint section it was installed with (the latest install wins).
_config = {}


def _path(cfg):
    return str(cfg.get("path") or DEFAULT_PATH)


def matches(cfg_path, request_path):
    """True when `request_path` is the endpoint's path, with or without the trailing slash."""
    return bool(request_path) and request_path.rstrip("/") == cfg_path.rstrip("/")


def endpoint_status(values):
    """(active, note) for the startup report, from ResolvedConfig.values."""
    cfg = ((values.get("diagnostics") or {}).get("endpoint") or {})
    if not cfg.get("enabled"):
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
            from sentry_bootstrap.diagnostics.test_event import SentryBootstrapTestError

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

        user = getattr(request, "user", None)
        if user is None:
            status, body = 403, {"error": "needs django.contrib.auth's AuthenticationMiddleware"}
        elif not user.is_authenticated:
            status, body = 401, {"error": "log in as a staff user"}
        elif not (user.is_staff or user.is_superuser):
            status, body = 403, {"error": "only staff users may use the test endpoint"}
        else:
            status, body = respond({k: request.GET.getlist(k) for k in request.GET})
        response = JsonResponse(body, status=status)
        response["Cache-Control"] = "no-store"
        return response


def insert_into_settings(settings):
    """Add the endpoint middleware after the context or authentication middleware (else last).
    Idempotent; keeps a tuple a tuple; True when the list changed."""
    return insert_middleware(settings, DJANGO_MIDDLEWARE, _AFTER, at_end=True)


def _load_middleware(wrapped, instance, args, kwargs):
    if "django" not in _config:  # switched off again (the patch itself stays)
        return wrapped(*args, **kwargs)
    try:
        from django.conf import settings

        insert_into_settings(settings)
    except Exception as exc:
        from sentry_bootstrap import _log

        _log.report("warning", "test endpoint not added to Django: {}".format(exc))
    return wrapped(*args, **kwargs)


_patched = set()


def install_endpoint_django(cfg):
    """Serve the endpoint in every Django handler (staff only). No-op unless `cfg["enabled"]`."""
    if not cfg.get("enabled"):
        _config.pop("django", None)
        return False
    _config["django"] = dict(cfg)
    if "django" not in _patched:
        import wrapt

        wrapt.wrap_function_wrapper("django.core.handlers.base", "BaseHandler.load_middleware",
                                    _load_middleware)
        _patched.add("django")
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


def _flask_wsgi_app(wrapped, instance, args, kwargs):
    cfg = _config.get("flask")
    environ = args[0] if args else kwargs.get("environ")
    if cfg is None or not isinstance(environ, dict) or not matches(
            _path(cfg), environ.get("PATH_INFO", "")):
        return wrapped(*args, **kwargs)
    start_response = args[1] if len(args) > 1 else kwargs.get("start_response")
    return _wsgi_answer(cfg, environ, start_response)


def install_endpoint_flask(cfg):
    """Serve the endpoint in every Flask app, behind the bearer token. No-op unless enabled and a
    token is configured (then one info line says it stays off). True when mounted."""
    if not _ready(cfg, "Flask"):
        _config.pop("flask", None)
        return False
    _config["flask"] = dict(cfg)
    if "flask" not in _patched:
        import wrapt

        wrapt.wrap_function_wrapper("flask.app", "Flask.wsgi_app", _flask_wsgi_app)
        _patched.add("flask")
    return True


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


async def _starlette_call(wrapped, instance, args, kwargs):
    cfg = _config.get("starlette")
    scope = args[0] if args else kwargs.get("scope")
    if (cfg is None or not isinstance(scope, dict) or scope.get("type") != "http"
            or not matches(_path(cfg), scope.get("path", ""))):
        return await wrapped(*args, **kwargs)
    receive = args[1] if len(args) > 1 else kwargs.get("receive")
    send = args[2] if len(args) > 2 else kwargs.get("send")
    return await _asgi_answer(cfg, scope, receive, send)


def install_endpoint_starlette(cfg):
    """Serve the endpoint in every Starlette/FastAPI app, behind the bearer token. No-op unless
    enabled and a token is configured. True when mounted."""
    if not _ready(cfg, "Starlette/FastAPI"):
        _config.pop("starlette", None)
        return False
    _config["starlette"] = dict(cfg)
    if "starlette" not in _patched:
        import wrapt

        wrapt.wrap_function_wrapper("starlette.applications", "Starlette.__call__", _starlette_call)
        _patched.add("starlette")
    return True
