"""Flask: `install_flask(policy)` gives every Flask app the context of `sentry_bootstrap.middleware.common`.

It wraps `Flask.wsgi_app` on the class, so apps created before or after are covered (an app that
replaced `app.wsgi_app` with a proxy before the install keeps its old bound method). The user comes
from flask-login's `current_user` when the application uses flask-login: it is looked up only if
`flask_login` is already imported and the app has a login manager; it is never imported here.
"""
import sys

from sentry_bootstrap.middleware import common

_WSGI_PLAIN_HEADERS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def _wsgi_text(value):
    # WSGI passes the path as latin-1 decoded bytes.
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except (UnicodeError, AttributeError):
        return value


def _same_request(environ):
    import flask

    return flask.has_request_context() and flask.request.environ is environ


def _facts(environ):
    def header(name):
        key = _WSGI_PLAIN_HEADERS.get(name) or "HTTP_" + name.upper().replace("-", "_")
        return environ.get(key)

    def route():
        if not _same_request(environ):
            return None
        import flask

        rule = flask.request.url_rule
        return rule.rule if rule is not None else None

    def user(fields):
        flask_login = sys.modules.get("flask_login")
        if flask_login is None or not _same_request(environ):
            return {}
        import flask

        if getattr(flask.current_app, "login_manager", None) is None:
            return {}
        who = flask_login.current_user
        if who is None or not getattr(who, "is_authenticated", False):
            return {}
        return common.read_user_fields(who, fields, {"id": lambda u: u.get_id()})

    path = _wsgi_text(environ.get("SCRIPT_NAME", "")) + _wsgi_text(environ.get("PATH_INFO", ""))
    return common.RequestFacts(
        method=environ.get("REQUEST_METHOD"), path=path or "/", peer=environ.get("REMOTE_ADDR"),
        header=header, route=route, user=user)


def _wsgi_app(wrapped, instance, args, kwargs):
    environ = args[0] if args else kwargs.get("environ")
    endpoint = _state["endpoint"]
    if not _state["context"] or not common.sentry_active():
        if endpoint is not None:
            answer = _answer(endpoint, environ, args, kwargs)
            if answer is not None:
                return answer
        return wrapped(*args, **kwargs)
    with common.request_scope() as scope:
        common.bind(scope, common.current_policy(), _facts(environ))
        if endpoint is not None:  # inside the request's scope: its test event has the context
            answer = _answer(endpoint, environ, args, kwargs)
            if answer is not None:
                return answer
        return wrapped(*args, **kwargs)


def _answer(endpoint, environ, args, kwargs):
    if not isinstance(environ, dict):
        return None
    start_response = args[1] if len(args) > 1 else kwargs.get("start_response")
    return endpoint(environ, start_response)


# This module owns the one patch of `Flask.wsgi_app`: the context (`install_flask`) and the test
# endpoint (`set_endpoint`, from sentry_bootstrap.diagnostics) both go through it.
_state = {"patched": False, "context": False, "endpoint": None}


def _patch():
    if _state["patched"]:
        return
    import wrapt

    wrapt.wrap_function_wrapper("flask.app", "Flask.wsgi_app", _wsgi_app)
    _state["patched"] = True


def install_flask(policy):
    """Use `policy` and add the request context to every Flask app's requests. Idempotent."""
    common.install(policy)
    _state["context"] = True
    _patch()


def set_endpoint(handler):
    """Let `handler(environ, start_response)` answer requests first in every Flask app: it returns
    the WSGI response for a request it takes, else None. `None` removes it."""
    _state["endpoint"] = handler
    if handler is not None:
        _patch()
