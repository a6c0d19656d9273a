"""Django: `SentryContextMiddleware`, and `install_django(policy)` that activates it without editing
settings.py.

Manual use: add "sentry_bootstrap.middleware.django.SentryContextMiddleware" to `settings.MIDDLEWARE`,
after `django.contrib.auth.middleware.AuthenticationMiddleware`. Without `install_django` it uses
the default `context` policy under the client's `send_default_pii`.
"""
from sentry_bootstrap import _log
from sentry_bootstrap.middleware import common

DOTTED_PATH = "sentry_bootstrap.middleware.django.SentryContextMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"

try:
    from asgiref.sync import iscoroutinefunction, markcoroutinefunction
except ImportError:  # asgiref < 3.6 (Django < 4.1): the asyncio marker Django checked then
    import asyncio

    iscoroutinefunction = asyncio.iscoroutinefunction

    def markcoroutinefunction(obj):
        obj._is_coroutine = asyncio.coroutines._is_coroutine
        return obj


def _email(user):
    getter = getattr(user, "get_email_field_name", None)
    return getattr(user, getter() if getter is not None else "email", None)


_READERS = {
    "id": lambda user: user.pk,
    "username": lambda user: user.get_username(),
    "email": _email,
}


def _facts(request):
    def header(name):
        return request.headers.get(name)

    def route():
        match = getattr(request, "resolver_match", None)
        pattern = getattr(match, "route", None)
        if not pattern:
            return None
        # Django writes path() routes without the leading slash; regex routes stay as written.
        return pattern if pattern.startswith(("/", "^")) else "/" + pattern

    def user(fields):
        # request.user is set by AuthenticationMiddleware; reading it loads the session, which is
        # why this runs only when an event is built.
        who = getattr(request, "user", None)
        if who is None or not getattr(who, "is_authenticated", False):
            return {}
        return common.read_user_fields(who, fields, _READERS)

    return common.RequestFacts(
        method=request.method, path=request.path, peer=request.META.get("REMOTE_ADDR"),
        header=header, route=route, user=user)


class HybridMiddleware(object):
    """A new-style Django middleware that runs sync or async, whichever the chain around it is.
    Subclasses define `__call__`, which returns `self.__acall__(request)` when `self._is_async`."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)


class SentryContextMiddleware(HybridMiddleware):
    """Adds user and request context (see `sentry_bootstrap.middleware.common`) to every Sentry event
    captured while the rest of the middleware chain and the view run. Sync and async capable;
    passes straight through when Sentry is not initialised."""

    def __call__(self, request):
        if self._is_async:
            return self.__acall__(request)
        if not common.sentry_active():
            return self.get_response(request)
        with common.request_scope() as scope:
            common.bind(scope, common.current_policy(), _facts(request))
            return self.get_response(request)

    async def __acall__(self, request):
        if not common.sentry_active():
            return await self.get_response(request)
        with common.request_scope() as scope:
            common.bind(scope, common.current_policy(), _facts(request))
            return await self.get_response(request)


def insert_into_settings(settings):
    """Add DOTTED_PATH to `settings.MIDDLEWARE` right after AuthenticationMiddleware (else first).
    See `insert_middleware`."""
    return insert_middleware(settings, DOTTED_PATH, (AUTH_MIDDLEWARE,), at_end=False)


def insert_middleware(settings, dotted, after, at_end):
    """Add `dotted` to `settings.MIDDLEWARE` right after the first entry of `after` it holds, else at
    the end (`at_end`) or the start.

    Idempotent; keeps a tuple a tuple; leaves settings without MIDDLEWARE alone. Returns True when
    the list was changed.
    """
    current = getattr(settings, "MIDDLEWARE", None)
    if current is None:
        return False
    entries = list(current)
    if dotted in entries:
        return False
    position = len(entries) if at_end else 0
    for name in after:
        if name in entries:
            position = entries.index(name) + 1
            break
    entries.insert(position, dotted)
    settings.MIDDLEWARE = tuple(entries) if isinstance(current, tuple) else entries
    return True


# dotted path -> (after, at_end): what every handler adds to settings.MIDDLEWARE, in the order
# registered. The context middleware and the test endpoint (sentry_bootstrap.diagnostics) register
# here; this module owns the one patch of `BaseHandler.load_middleware`.
_entries = {}


def _load_middleware(wrapped, instance, args, kwargs):
    # Runs each time a handler builds its chain (WSGI/ASGI start-up, every test Client), so a
    # settings override made after start-up still gets the middleware.
    for dotted, (after, at_end) in list(_entries.items()):
        try:
            from django.conf import settings

            insert_middleware(settings, dotted, after, at_end)
        except Exception as exc:
            _log.report("warning", "{} not added to Django: {}".format(dotted, exc))
    return wrapped(*args, **kwargs)


_patched = False


def add_middleware(dotted, after=(), at_end=True):
    """Have every Django handler load the middleware `dotted`, right after the first of `after` in
    `settings.MIDDLEWARE` (else at the end, or the start without `at_end`). Idempotent."""
    global _patched
    _entries[dotted] = (tuple(after), at_end)
    if _patched:
        return
    import wrapt

    wrapt.wrap_function_wrapper("django.core.handlers.base", "BaseHandler.load_middleware",
                                _load_middleware)
    _patched = True


def remove_middleware(dotted):
    """Stop adding `dotted` to the handlers built from now on (the patch itself stays)."""
    _entries.pop(dotted, None)


def install_django(policy):
    """Use `policy` and make every Django handler load `SentryContextMiddleware`. Idempotent.

    Call it when `django.core.handlers.base` may be imported (the post-import hook for django).
    """
    common.install(policy)
    add_middleware(DOTTED_PATH, (AUTH_MIDDLEWARE,), at_end=False)
