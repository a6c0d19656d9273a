"""Starlette and FastAPI: `install_starlette(policy)` gives every app the context of
`sentry_bootstrap.middleware.common`.

It wraps `Starlette.__call__` on the class, so every app (created before or after, and FastAPI,
which overrides `build_middleware_stack` but calls `Starlette.__call__`) binds the request before
its middleware stack runs, outside ServerErrorMiddleware. Whether the SDK's own patch of the same
method ends up inside or outside ours, the context reaches the isolation scope the SDK captures in.
A mounted sub-application is bound once, by the outermost app. The user is `scope["user"]` as set
by Starlette's AuthenticationMiddleware, when present and authenticated.
"""
from sentry_bootstrap.middleware import common

# Marks an ASGI scope whose request is already bound (mounted sub-applications call again).
BOUND = "sentry_bootstrap.context"


def _header_reader(scope):
    table = None

    def header(name):
        nonlocal table
        if table is None:
            table = {}
            for key, value in scope.get("headers") or ():
                key, value = key.decode("latin-1").lower(), value.decode("latin-1")
                # Repeated headers become one comma-separated value, as in WSGI.
                table[key] = table[key] + ", " + value if key in table else value
        return table.get(name)

    return header


def _route_in(routes, scope, prefix=""):
    from starlette.routing import Match

    for route in routes:
        match, child = route.matches(scope)
        if match != Match.FULL:
            continue
        path = getattr(route, "path", None)
        if path is None:  # Host routes have no path template
            return None
        inner_routes = getattr(route, "routes", None)
        if inner_routes:
            inner = _route_in(inner_routes, dict(scope, **child), prefix + path)
            if inner:
                return inner
        return prefix + path
    return None


def _facts(scope, app):
    # The router rewrites the scope (root_path, path_params) as it descends; matching again later
    # needs the scope as it arrived.
    arrival = dict(scope)
    client = scope.get("client")

    def route():
        router = getattr(app, "router", None)
        return _route_in(getattr(router, "routes", ()), arrival) if router is not None else None

    def user(fields):
        # Set on this same dict by AuthenticationMiddleware, further in.
        who = scope.get("user")
        if who is None or not getattr(who, "is_authenticated", False):
            return {}
        return common.read_user_fields(who, fields, _READERS)

    method = scope.get("method") or scope["type"].upper()
    return common.RequestFacts(
        method=method, path=scope.get("path"), peer=client[0] if client else None,
        header=_header_reader(scope), route=route, user=user)


def _starlette_id(user):
    value = getattr(user, "id", None)
    return value if value is not None else user.identity


def _starlette_username(user):
    value = getattr(user, "username", None)
    return value if value is not None else user.display_name


_READERS = {"id": _starlette_id, "username": _starlette_username}


async def _asgi_call(wrapped, instance, args, kwargs):
    scope = args[0] if args else kwargs.get("scope")
    if not isinstance(scope, dict) or BOUND in scope:
        return await wrapped(*args, **kwargs)  # not ASGI, or a mounted app: the outer one did it
    endpoint = _state["endpoint"]
    if (not _state["context"] or scope.get("type") not in ("http", "websocket")
            or not common.sentry_active()):
        if endpoint is not None and await _answered(endpoint, scope, args, kwargs):
            return None
        return await wrapped(*args, **kwargs)
    scope[BOUND] = True
    with common.request_scope() as sentry_scope:
        common.bind(sentry_scope, common.current_policy(), _facts(scope, instance))
        # Inside the request's scope: the endpoint's test event has the context.
        if endpoint is not None and await _answered(endpoint, scope, args, kwargs):
            return None
        return await wrapped(*args, **kwargs)


async def _answered(endpoint, scope, args, kwargs):
    if scope.get("type") != "http":
        return False
    receive = args[1] if len(args) > 1 else kwargs.get("receive")
    send = args[2] if len(args) > 2 else kwargs.get("send")
    return await endpoint(scope, receive, send)


# This module owns the one patch of `Starlette.__call__`: the context (`install_starlette`) and the
# test endpoint (`set_endpoint`, from sentry_bootstrap.diagnostics) both go through it.
_state = {"patched": False, "context": False, "endpoint": None}


def _patch():
    if _state["patched"]:
        return
    import wrapt

    wrapt.wrap_function_wrapper("starlette.applications", "Starlette.__call__", _asgi_call)
    _state["patched"] = True


def install_starlette(policy):
    """Use `policy` and bind the request context in every Starlette/FastAPI app. Idempotent."""
    common.install(policy)
    _state["context"] = True
    _patch()


def set_endpoint(handler):
    """Let `await handler(scope, receive, send)` answer HTTP requests first in every Starlette or
    FastAPI app: True when it answered, else False. `None` removes it."""
    _state["endpoint"] = handler
    if handler is not None:
        _patch()
