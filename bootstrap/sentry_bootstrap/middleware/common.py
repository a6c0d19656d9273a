"""The framework-neutral half of the context middleware: the policy read from `context:` and the
per-request binding that puts user and request facts on every event captured during a request.

What lands on an event, and when (the contract the framework adapters rely on):

- Tags, set on the request's isolation scope when the request starts:
  `request_id` from the configured request-id header, and one tag per `header_tags` entry.
  Values are stripped and cut to 200 characters (Sentry's tag limit); a missing header sets no tag.
  Credential headers (Authorization, Cookie, X-Api-Key, ...) are never turned into tags. Headers
  that carry a client address (X-Forwarded-For, X-Real-IP, Forwarded, ...) only when PII is allowed.
- Context `request_info`: `method`, `route` (the matched route pattern, when one matched) and `path`.
- User: the fields of `user_fields` that the PII policy allows, read from the authenticated user.
  With `send_default_pii=False` only `id` is allowed; `username`, `email` and any other field are
  PII and are dropped. Nothing is read from an anonymous user. `ip_address` is not a user field:
  the client IP is added as `user.ip_address` only when PII is allowed, and then it replaces the
  SDK's own guess (which trusts any X-Forwarded-For).
- The client IP is the peer address of the connection. X-Forwarded-For is honoured only when that
  peer is a loopback or private address (a reverse proxy in front of the app); the client is then
  the rightmost forwarded address that is not itself loopback/private, or the leftmost one when
  all are. A public peer's X-Forwarded-For is ignored, since anyone can send it.

User, route and IP are resolved when the first event of the request is built, not when the request
starts: reading the user touches the session (in Django that adds `Vary: Cookie` to the response),
so a request that produces no event is left exactly as it was. Values already on the event win: a
user the application set itself is not overwritten, except for the IP as said above.

Transaction names are never touched: they follow each SDK integration's `transaction_style`.
Nothing here raises into the request; failures are swallowed by `capture_internal_exceptions`.
"""
import ipaddress
from contextlib import contextmanager

import sentry_sdk
from sentry_sdk.utils import capture_internal_exceptions

from sentry_bootstrap import _log, sdk_compat
from sentry_bootstrap.config.defaults import CONTEXT_REQUEST_ID_HEADER, CONTEXT_USER_FIELDS

DEFAULT_USER_FIELDS = CONTEXT_USER_FIELDS  # the model's defaults (config/defaults.py)
DEFAULT_REQUEST_ID_HEADER = CONTEXT_REQUEST_ID_HEADER
REQUEST_ID_TAG = "request_id"
CONTEXT_NAME = "request_info"

# The only user field that is not PII: an opaque identifier chosen by the application.
NON_PII_USER_FIELDS = frozenset({"id"})
# Never a tag: tags are indexed and shown in lists, so a credential there leaks to every viewer.
CREDENTIAL_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token",
    "x-csrftoken", "x-csrf-token", "x-xsrf-token",
})
# A tag only when PII is allowed: these carry the client's address.
ADDRESS_HEADERS = frozenset({
    "x-forwarded-for", "x-real-ip", "forwarded", "true-client-ip", "cf-connecting-ip",
    "x-client-ip", "x-cluster-client-ip", "fastly-client-ip",
})
TAG_VALUE_MAX = 200


class ContextPolicy(object):
    """What the middleware may add, already reduced by the PII policy.

    `user_fields` holds only the fields that will be read (so `("id",)` at most without PII);
    `request_id_header` is None when disabled; `header_tags` is a tuple of
    `(lower-case header name, tag name)` with refused headers removed; `send_pii` says whether the
    client IP is added.
    """

    __slots__ = ("user_fields", "request_id_header", "header_tags", "send_pii")

    def __init__(self, user_fields=DEFAULT_USER_FIELDS, request_id_header=DEFAULT_REQUEST_ID_HEADER,
                 header_tags=(), send_pii=False):
        self.user_fields = tuple(user_fields)
        self.request_id_header = request_id_header.lower() if request_id_header else None
        self.header_tags = tuple(header_tags)
        self.send_pii = bool(send_pii)

    @classmethod
    def from_config(cls, context_cfg, send_default_pii):
        """Build the policy from the `context` config section and the PII switch.

        Missing or null keys take the defaults: `user_fields` [id, username, email],
        `request_id_header` "X-Request-ID" (false or an empty string turns it off), `header_tags` {}.
        Unknown keys are ignored (the config model validates them).
        """
        cfg = context_cfg or {}
        pii = bool(send_default_pii)

        fields = cfg.get("user_fields")
        fields = DEFAULT_USER_FIELDS if fields is None else fields
        kept = []
        for name in fields:
            name = str(name).strip()
            # The IP has its own rule (PII only, from the request), not a user attribute.
            if not name or name == "ip_address" or name in kept:
                continue
            if pii or name in NON_PII_USER_FIELDS:
                kept.append(name)

        header = cfg.get("request_id_header")
        # None: the default; false (or an empty name): off.
        header = DEFAULT_REQUEST_ID_HEADER if header is None else \
            (str(header).strip() if header is not False else "")

        tags = []
        for name, tag in (cfg.get("header_tags") or {}).items():
            lower = str(name).strip().lower()
            if lower in CREDENTIAL_HEADERS:
                _log.report("warning", "context.header_tags: header {!r} holds credentials and is "
                                       "never made a tag".format(name))
                continue
            if lower in ADDRESS_HEADERS and not pii:
                continue
            tags.append((lower, str(tag)))
        return cls(kept, header or None, tags, pii)

    def __repr__(self):
        return "ContextPolicy(user_fields={!r}, request_id_header={!r}, header_tags={!r}, " \
               "send_pii={!r})".format(self.user_fields, self.request_id_header, self.header_tags,
                                       self.send_pii)


_installed = None


def install(policy):
    """Make `policy` the one every adapter uses from now on."""
    global _installed
    _installed = policy


def pii_allowed(options):
    """Whether SDK client `options` allow user data: `data_collection.user_info` when the user set
    `data_collection` (it takes precedence in the SDK), else `send_default_pii`."""
    collection = options.get("data_collection") or {}
    if collection.get("provided_by_user"):
        return bool(collection.get("user_info"))
    return bool(options.get("send_default_pii"))


def current_policy():
    """The installed policy, or (for a middleware added by hand without the hook) the defaults
    under the running client's PII options."""
    if _installed is not None:
        return _installed
    return ContextPolicy.from_config({}, pii_allowed(sentry_sdk.get_client().options))


def sentry_active():
    """True when a Sentry client is initialised; the adapters pass straight through otherwise."""
    return sentry_sdk.get_client().is_active()


@contextmanager
def request_scope():
    """Yield the isolation scope that belongs to this request.

    Inside the SDK's request middleware that is the scope it forked, so events it captures after
    the request unwinds (Starlette's unhandled errors, transactions) still carry the context.
    Otherwise (Django's test client, an integration switched off) a scope is forked here, so
    nothing set for one request leaks into the next.
    """
    if sdk_compat.inside_sdk_request():
        yield sentry_sdk.get_isolation_scope()
    else:
        with sentry_sdk.isolation_scope() as scope:
            yield scope


def _clip(value):
    value = str(value).strip()
    return value[:TAG_VALUE_MAX]


def _is_internal(address):
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None
    return ip.is_loopback or ip.is_private or ip.is_link_local


def client_ip(peer, forwarded_for):
    """The client address under the trusted-proxy rule in the module docstring, or None."""
    peer = (peer or "").strip()
    internal = _is_internal(peer)
    if internal is None:  # no usable peer (e.g. a test client's "testclient"): no address
        return None
    if not internal or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    hops = [hop for hop in hops if _is_internal(hop) is not None]
    if not hops:
        return peer
    for hop in reversed(hops):
        if not _is_internal(hop):
            return hop
    return hops[0]


class RequestFacts(object):
    """What an adapter knows about one request.

    `header(lower_name) -> str | None` reads a request header. `route()` returns the matched
    pattern or None; `user(fields) -> dict` returns the allowed fields of the authenticated user
    ({} when anonymous). Both are called at most once, when the first event is built.
    """

    __slots__ = ("method", "path", "peer", "header", "route", "user")

    def __init__(self, method, path, peer, header, route=None, user=None):
        self.method = method
        self.path = path
        self.peer = peer
        self.header = header
        self.route = route
        self.user = user


class _RequestProcessor(object):
    """Event processor bound to one request. The route and the user are looked up when an event is
    built and kept once found; an empty answer (e.g. outside the framework's request context) is
    asked again for the next event."""

    __slots__ = ("policy", "facts", "_route", "_user")

    def __init__(self, policy, facts):
        self.policy = policy
        self.facts = facts
        self._route = None
        self._user = None

    def _request_info(self):
        facts = self.facts
        if self._route is None and facts.route is not None:
            with capture_internal_exceptions():
                self._route = facts.route() or None
        info = {"method": facts.method, "route": self._route, "path": facts.path}
        return {k: v for k, v in info.items() if v is not None}

    def _user_fields(self):
        fields = self.policy.user_fields
        if not self._user and fields and self.facts.user is not None:
            with capture_internal_exceptions():
                found = self.facts.user(fields) or {}
                # The adapter's answer is filtered again: the policy is the last word on PII.
                self._user = {k: v for k, v in found.items()
                              if k in fields and v is not None and v != ""}
        return self._user or {}

    def __call__(self, event, hint):
        with capture_internal_exceptions():
            contexts = event.setdefault("contexts", {})
            if CONTEXT_NAME not in contexts:
                contexts[CONTEXT_NAME] = self._request_info()
            user = self._user_fields()
            # A copy: the event may hold the scope's own user dict.
            existing = dict(event.get("user") or {})
            # A user the application set itself wins; only the same user is completed.
            known = existing.get("id")
            if user and (known is None or str(known) == str(user.get("id"))):
                for key, value in user.items():
                    existing.setdefault(key, value)
            if self.policy.send_pii:
                ip = client_ip(self.facts.peer, self.facts.header("x-forwarded-for"))
                if ip:
                    existing["ip_address"] = ip
            if existing:
                event["user"] = existing
        return event


def bind(scope, policy, facts):
    """Put one request's context on `scope` (the request's isolation scope). Never raises."""
    with capture_internal_exceptions():
        header = facts.header
        if policy.request_id_header:
            value = header(policy.request_id_header)
            if value and value.strip():
                scope.set_tag(REQUEST_ID_TAG, _clip(value))
        for name, tag in policy.header_tags:
            value = header(name)
            if value and value.strip():
                scope.set_tag(tag, _clip(value))
        scope.add_event_processor(_RequestProcessor(policy, facts))


def read_user_fields(user, fields, readers):
    """Read `fields` from `user`: `readers[name](user)` when given, else the attribute `name`.

    A field that can't be read is left out; values are made JSON-safe (str unless a plain scalar).
    """
    out = {}
    for name in fields:
        try:
            reader = readers.get(name)
            value = reader(user) if reader is not None else getattr(user, name, None)
        except Exception:
            continue
        if value is None:
            continue
        if callable(value):
            continue
        if name == "id" or not isinstance(value, (str, int, float, bool)):
            value = str(value)
        out[name] = value
    return out
