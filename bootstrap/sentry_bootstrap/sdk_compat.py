"""The one module that touches sentry_sdk's private names.

Every underscore name, transport or worker internal, `setup_integrations`, `Client.integrations`,
scope slots, `_MIN_VERSIONS`, `_AUTO_ENABLING_INTEGRATIONS`, ... that the rest of the package needs is
reached through a function or constant here, so a minor SDK release that moves one of them breaks this
file and its guard tests (tests/test_sdk_compat.py), not the whole package. docs/sdk-internals.md lists
each one with the reason we need it. tests/test_architecture.py fails when another module of the
package imports or touches a private SDK name.

Nothing here is imported at interpreter start: sentry_sdk is imported by the functions that need it.
"""
import os
import sys
import weakref

# ---- which SDK ------------------------------------------------------------------------------------


_MAJOR = []


def sdk_major():
    """The major version of the sentry_sdk this process imports (2 or 3): the imported one's, else
    read from its files (sentry_bootstrap.deps) without importing it."""
    if not _MAJOR:
        consts = sys.modules.get("sentry_sdk.consts")
        text = getattr(consts, "VERSION", None)
        if text is None:
            from sentry_bootstrap import deps

            found = deps.version_of("sentry_sdk") or deps.version_of("sentry_sdk", deps.fallback_dirs())
            text = found[1] if found else "2"
        try:
            _MAJOR.append(int(str(text).split(".", 1)[0]))
        except ValueError:
            _MAJOR.append(2)
    return _MAJOR[0]


def is_sdk3():
    return sdk_major() >= 3

# ---- init -----------------------------------------------------------------------------------------

_ORIGINAL_INIT = {}


def original_init():
    """`sentry_sdk.init` as the SDK defines it, even after `replace_init` replaced it."""
    import sentry_sdk._init_implementation as impl

    return _ORIGINAL_INIT.get("init", impl.init)


def replace_init(make_init):
    """Replace `sentry_sdk.init` everywhere the SDK exports it (`sentry_sdk.init`, `sentry_sdk.api.init`,
    `sentry_sdk._init_implementation.init`) with `make_init(original)`; returns the replacement."""
    import sentry_sdk
    import sentry_sdk._init_implementation as impl
    import sentry_sdk.api as api

    original = _ORIGINAL_INIT.setdefault("init", impl.init)
    init = make_init(original)
    init.__doc__ = original.__doc__
    init.__wrapped__ = original
    for namespace in (sentry_sdk, api, impl):
        namespace.init = init
    return init


# ---- integrations ---------------------------------------------------------------------------------

def setup_integration(integration, client):
    """Install one integration instance once per process and make it visible to the running `client`
    (`Client.get_integration` reads `client.integrations`)."""
    from sentry_sdk.integrations import setup_integrations

    installed = setup_integrations([integration], with_defaults=False, options=client.options)
    client.integrations.update(installed)
    return installed


def min_versions():
    """{integration name: version floor tuple}: the SDK's `_MIN_VERSIONS`."""
    from sentry_sdk.integrations import _MIN_VERSIONS

    return _MIN_VERSIONS


def auto_enabling_integrations():
    """The SDK's auto-enabling integrations as class paths (`sentry_sdk.integrations.x.XIntegration`)."""
    from sentry_sdk.integrations import _AUTO_ENABLING_INTEGRATIONS

    return tuple(_AUTO_ENABLING_INTEGRATIONS)


def default_integrations():
    """The SDK's default integrations as class paths."""
    from sentry_sdk.integrations import _DEFAULT_INTEGRATIONS

    return tuple(_DEFAULT_INTEGRATIONS)


# ---- scopes ---------------------------------------------------------------------------------------

def inside_sdk_request():
    """True when the SDK's WSGI/ASGI middleware already gave this request its own isolation scope
    (its `_wsgi_middleware_applied` / `_asgi_middleware_applied` context variables)."""
    for module, name in (("sentry_sdk.integrations.wsgi", "_wsgi_middleware_applied"),
                         ("sentry_sdk.integrations.asgi", "_asgi_middleware_applied")):
        var = getattr(sys.modules.get(module), name, None)
        if var is not None and var.get(False):
            return True
    return False


def scope_transaction(scope):
    """(transaction name, its source or None) as `scope` holds them."""
    return scope._transaction, scope._transaction_info.get("source")


def restore_scope_span(scope, span, name, source):
    """Put back a scope's span and transaction name without the span setter's renaming."""
    scope._span = span
    scope._transaction = name
    if source is None:
        scope._transaction_info.pop("source", None)
    else:
        scope._transaction_info["source"] = source


_LAZY = []


def lazy_isolation():
    """The lazy isolation scope used by `with_sentry_context` (see decorators.py's docstring), as a
    namespace: `Scope`, `LazyScope`, `Frame(service, transaction)`, `isolation_var`, `current_var`
    (the SDK's scope context variables), `fork(lazy)`, `settle()`, `new_scope(frame)`,
    `restore_current(lazy)`. Built on first call (it imports sentry_sdk.scope)."""
    if not _LAZY:
        _LAZY.append(_build_lazy_isolation())
    return _LAZY[0]


def _build_lazy_isolation():
    import threading
    import types
    from copy import copy

    from sentry_sdk import scope as sdk_scope

    Scope = sdk_scope.Scope
    isolation_var = sdk_scope._isolation_scope
    current_var = sdk_scope._current_scope
    scope_slots = tuple(Scope.__slots__)
    fork_lock = threading.RLock()  # two threads touching one lazy scope must not both copy the parent
    new = object.__new__
    getattribute = object.__getattribute__

    class Frame:
        """What `with_sentry_context` stamps on a scope when it is forked: the service and the name."""

        __slots__ = ("service", "transaction")

        def __init__(self, service, transaction):
            self.service = service
            self.transaction = transaction

    class LazyScope(Scope):
        """An isolation scope that holds nothing until first read, then becomes a fork of its parent.

        Built without `__init__`: only `client` (read by `sentry_sdk.get_client()` on every SDK call),
        `_lz_parent` and `_lz_frame` are set; `_lz_parent` becomes None at the fork, which also sets
        `_lz_cur` and `_lz_cur_token`. Any other attribute is missing, so Python calls `__getattr__`,
        which forks the parent into this object, stamps the frame's tag and name, and forks the current
        scope too (set in the context variable and remembered in `_lz_cur_token`, so the wrapper can
        put the caller's current scope back). Values written before the fork (`scope._user = ...`
        style setters) are kept, exactly as if the fork had happened first. After the fork it is an
        ordinary Scope at full speed.
        """

        __slots__ = ("_lz_parent", "_lz_frame", "_lz_cur", "_lz_cur_token")

        def __getattr__(self, name):
            fork(self)
            return getattribute(self, name)

    def name_scope(scope, name):
        # Not set_transaction_name: that would also rename a transaction running in the caller.
        scope._transaction = name
        scope._transaction_info = dict(scope._transaction_info, source="custom")

    def transaction_stamper(scope):
        def stamp_transaction(event, hint):
            if event.get("type") != "transaction" and scope._transaction is not None:
                event["transaction"] = scope._transaction
                event["transaction_info"] = dict(scope._transaction_info)
            return event

        return stamp_transaction

    def fork(lazy):
        with fork_lock:
            try:
                parent = getattribute(lazy, "_lz_parent")
            except AttributeError:  # a copy of a lazy scope, made after its fork: already complete
                return
            if parent is None:
                return
            lazy._lz_cur = None
            lazy._lz_cur_token = None
            try:
                source = copy(parent)
                preset = set()
                for name in scope_slots:
                    try:
                        getattribute(lazy, name)
                        preset.add(name)
                    except AttributeError:
                        object.__setattr__(lazy, name, getattribute(source, name))
                frame = lazy._lz_frame
                lazy._tags["service"] = frame.service
                if "_transaction" not in preset:
                    name_scope(lazy, frame.transaction)
                # The current scope's transaction name wins when events are merged (a framework names
                # the request there), so the call gets a fork of it with the frame's name.
                current = current_var.get()
                if current is None:
                    current = Scope.get_current_scope()
                forked = copy(current)
                name_scope(forked, frame.transaction)
                lazy._lz_cur = forked
                lazy._lz_cur_token = current_var.set(forked)
                # A capture already under way in the caller's current scope merges that scope last,
                # and its name would win; this processor, run after the merge, restores the call's.
                lazy._event_processors.append(transaction_stamper(forked))
            finally:
                lazy._lz_parent = None  # last: the wrappers read it to know the fork is complete

    def settle():
        """Fork the pending lazy isolation scope of the running call, if any, so that changes to the
        current scope made next stay inside the call."""
        scope = isolation_var.get()
        if type(scope) is LazyScope:
            fork(scope)

    def new_scope(frame):
        isolation = isolation_var.get()
        if isolation is None:
            isolation = Scope.get_isolation_scope()
        lazy = new(LazyScope)
        lazy.client = isolation.client
        lazy._lz_parent = isolation
        lazy._lz_frame = frame
        return lazy

    def restore_current(lazy):
        token = lazy._lz_cur_token
        if token is not None:
            lazy._lz_cur_token = None
            try:
                current_var.reset(token)
            except (ValueError, RuntimeError):  # forked in another context (a thread or task)
                pass

    return types.SimpleNamespace(
        Scope=Scope, LazyScope=LazyScope, Frame=Frame, isolation_var=isolation_var,
        current_var=current_var, fork=fork, settle=settle, new_scope=new_scope,
        restore_current=restore_current)


def settle_lazy_scope():
    """`lazy_isolation().settle()` when the lazy scope is in use; nothing before that."""
    if _LAZY:
        _LAZY[0].settle()


# ---- scrubbing ------------------------------------------------------------------------------------

def annotated_value_class():
    """The SDK's `AnnotatedValue` (what a scrubbed value is replaced with in request data)."""
    from sentry_sdk._types import AnnotatedValue

    return AnnotatedValue


def span_streaming(options):
    """Whether `sentry_sdk.init(**options)` streams spans (`trace_lifecycle: stream`, also still read
    from `_experiments`), the only mode in which the SDK calls `before_send_span`. 3.x always does."""
    if is_sdk3():
        return True
    if options.get("trace_lifecycle") is not None:
        return options.get("trace_lifecycle") == "stream"
    return (options.get("_experiments") or {}).get("trace_lifecycle") == "stream"


def sensitive_data_substitute():
    """The text the SDK puts in place of a scrubbed value (`[Filtered]`)."""
    from sentry_sdk._types import SENSITIVE_DATA_SUBSTITUTE

    return SENSITIVE_DATA_SUBSTITUTE


# ---- transport ------------------------------------------------------------------------------------

_TRANSPORT_BASE = []


def http_transport_base():
    """`HttpTransport` with its private methods under public names, for `DurableTransport`.

    Subclasses override `on_send_envelope` (what the worker runs for each envelope), `on_send_request`
    (one HTTP request of the live path) and `request` (every HTTP request); `sdk_send_envelope` and
    `sdk_send_request` are the SDK's own behaviour. Built on first call (it imports the SDK's
    transport, which imports urllib3)."""
    if not _TRANSPORT_BASE:
        _TRANSPORT_BASE.append(_build_transport_base())
    return _TRANSPORT_BASE[0]


def _build_transport_base():
    from sentry_sdk import worker as sdk_worker
    from sentry_sdk.consts import EndpointType
    from sentry_sdk.transport import HttpTransport

    class SdkHttpTransport(HttpTransport):
        # -- overridable hooks over the SDK's private methods --------------------------------
        def _send_envelope(self, envelope):
            return self.on_send_envelope(envelope)

        def on_send_envelope(self, envelope):
            return self.sdk_send_envelope(envelope)

        def sdk_send_envelope(self, envelope):
            """Prepare (drop rate-limited items, add a pending client report, compress) and send."""
            return HttpTransport._send_envelope(self, envelope)

        def _send_request(self, body, headers, endpoint_type, envelope=None):
            return self.on_send_request(body, headers, endpoint_type, envelope)

        def on_send_request(self, body, headers, endpoint_type, envelope=None):
            return self.sdk_send_request(body, headers, endpoint_type, envelope)

        def sdk_send_request(self, body, headers, endpoint_type, envelope=None):
            return HttpTransport._send_request(self, body, headers, endpoint_type, envelope)

        def _request(self, method, endpoint_type, body, headers):
            return self.request(method, endpoint_type, body, headers)

        def request(self, method, endpoint_type, body, headers):
            """One HTTP request through the SDK's pool; a response with .status, .headers, .close()."""
            return HttpTransport._request(self, method, endpoint_type, body, headers)

        # -- helpers -------------------------------------------------------------------------
        def post_envelope(self, body, headers, endpoint_type=EndpointType.ENVELOPE):
            """POST `body` with the SDK's auth and user-agent headers added to `headers`."""
            self._update_headers(headers)
            return self._request("POST", endpoint_type, body, headers)

        def envelope_url(self):
            return self._auth.get_api_url(EndpointType.ENVELOPE)

        def pool(self):
            return self._pool

        def _update_rate_limits(self, response):
            return self.on_update_rate_limits(response)

        def on_update_rate_limits(self, response):
            """Overridable: learn the limits an answer carries (429, Retry-After, X-Sentry-Rate-Limits)."""
            return self.sdk_update_rate_limits(response)

        def sdk_update_rate_limits(self, response):
            return HttpTransport._update_rate_limits(self, response)

        def update_rate_limits(self, response):
            self._update_rate_limits(response)

        def handle_request_error(self, envelope, loss_reason):
            """What the SDK does when a request fails: count the envelope's items as lost."""
            self._handle_request_error(envelope=envelope, loss_reason=loss_reason)

        def handle_response(self, response, envelope):
            self._handle_response(response=response, envelope=envelope)

        def rate_limited(self, category):
            """True when the SDK's rate limits hold `category` (an item's data category) now."""
            return self._check_disabled(category)

        def rate_limits(self):
            """{category or None (all): aware datetime until which it is limited}; the SDK's own dict,
            so a limit set in it holds for the SDK's checks too."""
            return self._disabled_until

        def compression(self):
            """(algorithm or None, level) as the SDK compresses envelopes."""
            return self._compression_algo, self._compression_level

        def pending_client_report(self, force=False):
            return self._fetch_pending_client_report(force=force)

        def flush_client_reports(self):
            self._flush_client_reports()

        def submit_to_worker(self, job):
            """Queue `job` (a callable) on the SDK's background worker; False when the queue is full."""
            return self._worker.submit(job)

        def take_worker_queue(self):
            """Take every callable still waiting in the worker's queue (the worker's own stop marker
            stays queued); returns them in order."""
            queue = getattr(self._worker, "_queue", None)
            taken, put_back = [], []
            while queue is not None:
                try:
                    callback = queue.get_nowait()
                except Exception:
                    break
                try:
                    if callback is sdk_worker._TERMINATOR:
                        put_back.append(callback)
                    else:
                        taken.append(callback)
                finally:
                    queue.task_done()
            for callback in put_back:
                try:
                    queue.put_nowait(callback)
                except Exception:
                    pass
            return taken

        def worker_unfinished(self):
            """How many queued jobs the worker has not finished (0 without a queue)."""
            queue = getattr(self._worker, "_queue", None)
            return 0 if queue is None else queue.unfinished_tasks

    return SdkHttpTransport


def init_with_pii(send_default_pii, init=None, **options):
    """`init(send_default_pii=..., **options)` without the deprecation warning SDK 2.75+ gives for
    `send_default_pii`, with the same client as a result. Returns what `init` returns.

    Since 2.75 the SDK resolves `send_default_pii` into `data_collection` (and warns), but its
    integrations still read `client.options["send_default_pii"]` (`should_send_default_pii()`), so
    passing `data_collection` instead would switch their user data off. Without `data_collection`
    written by the user, the client is started without the option and then given both options as
    the SDK itself would have set them: the SDK does the same when Spotlight turns PII on after
    init (`sentry_sdk.client._Client._init_impl`, with `_map_from_send_default_pii`). With a
    `data_collection` written by the user, that one decides (the SDK ignores `send_default_pii`
    then, and warns) and only `send_default_pii` is set after init. An SDK without
    `data_collection` gets the option as it is.
    """
    import sentry_sdk
    import sentry_sdk.client
    from sentry_sdk.consts import DEFAULT_OPTIONS

    init = init or sentry_sdk.init
    if is_sdk3():  # no send_default_pii: adapt_options made it data_collection
        return init(**adapt_options(dict(options, send_default_pii=send_default_pii)))
    mapping = getattr(sentry_sdk.client, "_map_from_send_default_pii", None)
    if send_default_pii is None or "data_collection" not in DEFAULT_OPTIONS or mapping is None:
        if send_default_pii is not None:
            options["send_default_pii"] = send_default_pii
        return init(**options)
    result = init(**options)
    client = sentry_sdk.get_client()
    client.options["send_default_pii"] = bool(send_default_pii)
    if options.get("data_collection") is not None:
        return result  # the user's data_collection decides what is collected, as in the SDK
    client.options["data_collection"] = mapping(
        send_default_pii=bool(send_default_pii),
        include_local_variables=client.options.get("include_local_variables") is not False,
        include_source_context=client.options.get("include_source_context") is not False)
    if options.get("event_scrubber") is None and client.options.get("event_scrubber") is not None:
        # The one the SDK made for itself at init was made for send_default_pii=False.
        from sentry_sdk.scrubber import EventScrubber

        client.options["event_scrubber"] = EventScrubber(send_default_pii=bool(send_default_pii))
    return result


# ---- transport ------------------------------------------------------------------------------------
def renew_after_fork(transport, then=None):
    """In a forked child, give `transport` (an SDK `HttpTransport`) a worker and a pool of its own.

    A child inherits its parent's worker queue: the envelopes the parent had not sent yet, which the
    child's first flush would send again (same event ids), and the queue's locks, possibly held by
    the parent's worker thread at the fork, on which the child would wait forever. The parent's
    keep-alive connections are inherited too: two processes writing one socket. The SDK resets its
    batchers and monitor after a fork, not the transport's worker (sentry-sdk 2.x), so we do:
    `_create_worker(options)` and `_make_pool()` make fresh ones, as `HttpTransport.__init__` does.
    `then`, a method of the transport, runs after that in the child (the transport's own state).
    Held through weak references: a registration never keeps a closed transport alive.
    """
    if not hasattr(os, "register_at_fork"):
        return
    ref = weakref.ref(transport)
    then_ref = weakref.WeakMethod(then) if then is not None else None

    def in_child():
        target = ref()
        if target is None:
            return
        try:
            target._worker = target._create_worker(target.options)
            target._pool = target._make_pool()
        except Exception:
            pass
        method = then_ref() if then_ref is not None else None
        if method is not None:
            try:
                method()
            except Exception:
                pass

    os.register_at_fork(after_in_child=in_child)


# ---- lazy start ----------------------------------------------------------------------------------

def init_without_git_release(init, options):
    """`init(**options)`, where a release of None stays None.

    With no release the SDK's `_get_options` calls `sentry_sdk.utils.get_default_release`, which
    runs `git rev-parse` in a subprocess in the working directory. The hook resolved the release
    already (git files, SENTRY_RELEASE, the CI variables, the package version) and never starts a
    subprocess, so during init the client module's reference to it answers None.
    """
    if options.get("release") is not None:
        return init(**options)
    import sentry_sdk.client as client_module

    original = client_module.get_default_release
    client_module.get_default_release = lambda: None
    try:
        return init(**options)
    finally:
        client_module.get_default_release = original


def capture_uncaught(exc_info, mechanism):
    """Capture an uncaught exception as the SDK's integration for `mechanism` would: `excepthook`
    (ExcepthookIntegration: not in an interactive shell unless `always_run`), `typer`
    (TyperIntegration) or `threading` (ThreadingIntegration, for a thread started before the SDK),
    unhandled. Nothing when that integration is not enabled."""
    import sentry_sdk

    if mechanism == "excepthook":
        from sentry_sdk.integrations.excepthook import ExcepthookIntegration as integration_class
    elif mechanism == "typer":
        from sentry_sdk.integrations.typer import TyperIntegration as integration_class
    else:
        from sentry_sdk.integrations.threading import ThreadingIntegration as integration_class
    client = sentry_sdk.get_client()
    integration = client.get_integration(integration_class)
    if integration is None:
        return
    if mechanism == "excepthook" and hasattr(sys, "ps1") and not integration.always_run:
        return  # as the SDK's: every typo in an interactive shell is not an event
    event, hint = event_from_exception(exc_info, mechanism={"type": mechanism, "handled": False})
    sentry_sdk.capture_event(event, hint=hint)


def handle_log_record(record):
    """Hand one `logging` record to the SDK's logging integration, as its patched
    `Logger.callHandlers` does (2.x: `LoggingIntegration._handle_record`, `_IGNORED_LOGGERS`;
    3.x: `_handle_logs_record`, `_handle_event_record`, `_handle_breadcrumb_record` and the two
    lists `_IGNORED_LOGGERS_EVENTS`, `_IGNORED_LOGGERS_SENTRY_LOGS`)."""
    import sentry_sdk
    from sentry_sdk.integrations import logging as sdk_logging

    integration = sentry_sdk.get_client().get_integration(sdk_logging.LoggingIntegration)
    if integration is None:
        return
    name = record.name.strip()
    if hasattr(sdk_logging, "_IGNORED_LOGGERS"):  # 2.x
        ignored = sdk_logging._IGNORED_LOGGERS
        if ignored is not None and name not in ignored:
            integration._handle_record(record)
        return
    if name not in sdk_logging._IGNORED_LOGGERS_SENTRY_LOGS:
        integration._handle_logs_record(record)
    if name not in sdk_logging._IGNORED_LOGGERS_EVENTS:
        integration._handle_event_record(record)
        integration._handle_breadcrumb_record(record)


# ---- sentry-sdk 3 ---------------------------------------------------------------------------------
# What 3.x removed or renamed, and what the hook does with a configuration written for 2.x
# (docs/sdk-internals.md, "sentry-sdk 3"). The configuration layer turns a removed option that was
# set into a located error (`removed_in_sdk3`); the rest is mapped here, once, before `init`.

# sentry-sdk 2.x's scrubber lists (`sentry_sdk.scrubber.DEFAULT_DENYLIST`, `DEFAULT_PII_DENYLIST`,
# 2.76), kept for 3.x, which has no `EventScrubber`: our scrubber starts from the same keys on both.
SDK2_DENYLIST = (
    "password", "passwd", "secret", "api_key", "apikey", "auth", "credentials", "mysql_pwd",
    "privatekey", "private_key", "token", "session", "csrftoken", "sessionid", "x_csrftoken",
    "set_cookie", "cookie", "authorization", "proxy-authorization", "x_api_key", "aiohttp_session",
    "connect.sid", "csrf_token", "csrf", "_csrf", "_csrf_token", "PHPSESSID", "_session", "symfony",
    "user_session", "_xsrf", "XSRF-TOKEN",
)
SDK2_PII_DENYLIST = ("x_forwarded_for", "x_real_ip", "ip_address", "remote_addr")

# `sentry_sdk.init` options of 2.x that 3.x no longer accepts: {option: (value that means "not
# used", what to write instead)}. A configuration that sets one to anything else is refused with
# its location (config.model); the "not used" value is dropped. The options with a mapping
# (`adapt_options`) are not here.
REMOVED_IN_SDK3 = {
    "before_send_transaction": (None, "3.x sends spans, not transactions: use before_send_span"),
    "profiles_sample_rate": (None, "3.x removed transaction profiling: use profile_session_sample_rate"),
    "profiles_sampler": (None, "3.x removed transaction profiling: use profile_session_sample_rate"),
    "instrumenter": ("sentry", "3.x removed the OpenTelemetry instrumenter: enable the otlp integration"),
    "trace_ignore_status_codes": ([], "3.x has no such option: use ignore_spans"),
    "enable_metrics": (True, "3.x has no switch for metrics: drop them in before_send_metric"),
    "stream_gen_ai_spans": (True, "3.x always streams spans"),
}
# 2.x options 3.x dropped that the hook maps (`adapt_options`).
MAPPED_IN_SDK3 = frozenset({
    "send_default_pii", "include_local_variables", "include_source_context", "enable_tracing",
    "propagate_traces", "enable_logs",
})
# Integration options 3.x removed: {integration: {option: what to write instead}}.
# Integrations of the table that 3.x no longer ships: {name: what to use instead}.
REMOVED_INTEGRATIONS_IN_SDK3 = {
    "opentelemetry": "3.x removed the OpenTelemetry span processor integration: enable `otlp`",
}
# `transaction_style`: 3.x names a request's segment span by its route.
_ROUTE_NAMES = "3.x names each request by its route; remove it"
REMOVED_INTEGRATION_OPTIONS_IN_SDK3 = {
    "django": {"transaction_style": _ROUTE_NAMES},
    "flask": {"transaction_style": _ROUTE_NAMES},
    "starlette": {"transaction_style": _ROUTE_NAMES},
    "fastapi": {"transaction_style": _ROUTE_NAMES},
    "aiohttp": {"transaction_style": _ROUTE_NAMES},
    "logging": {"capture_sentry_logs": "3.x has no such option; remove it"},
    "redis": {"max_data_size": "3.x removed it (max_value_length bounds every value); remove it"},
}


def removed_in_sdk3(data):
    """[(dotted path, message)] for each option set in `data` (a configuration mapping, as written)
    that sentry-sdk 3.x no longer has: REMOVED_IN_SDK3 at a value other than its "not used" one,
    and REMOVED_INTEGRATION_OPTIONS_IN_SDK3 at any value. Imports nothing."""
    found = []
    if not isinstance(data, dict):
        return found
    for name, (unused, instead) in REMOVED_IN_SDK3.items():
        if name in data and data[name] is not None and data[name] != unused:
            found.append((name, "sentry-sdk 3 removed this option: " + instead))
    section = data.get("integrations")
    if isinstance(section, dict):
        enabled = section.get("enabled")
        for index, name in enumerate(enabled if isinstance(enabled, list) else ()):
            if name in REMOVED_INTEGRATIONS_IN_SDK3:
                found.append(("integrations.enabled.{}".format(index), "sentry-sdk 3 removed the {} "
                              "integration: {}".format(name, REMOVED_INTEGRATIONS_IN_SDK3[name])))
        for integration, removed in REMOVED_INTEGRATION_OPTIONS_IN_SDK3.items():
            options = section.get(integration)
            if not isinstance(options, dict):
                continue
            for option, instead in removed.items():
                if options.get(option) is not None:
                    found.append(("integrations.{}.{}".format(integration, option),
                                  "sentry-sdk 3 removed this option: " + instead))
    return found


def sdk2_pii_mapping(send_default_pii, include_local_variables=True, include_source_context=True):
    """The `data_collection` that sentry-sdk 2.x derives from `send_default_pii` (2.76,
    `sentry_sdk.data_collection._map_from_send_default_pii`), for 3.x, which has no
    `send_default_pii`: a configuration written for 2.x collects on 3.x what it collected there."""
    pii = bool(send_default_pii)
    terms = [] if pii else ["forwarded", "-ip", "remote-", "via", "-user"]
    return {
        "user_info": pii,
        "cookies": {"mode": "denylist", "terms": list(terms)},
        "http_headers": {"request": {"mode": "denylist", "terms": list(terms)}},
        "url_query_params": {"mode": "denylist", "terms": list(terms)},
        "http_bodies": ["incoming_request", "outgoing_request", "outgoing_response"],
        "database_query_data": pii,
        "gen_ai": {"inputs": pii, "outputs": pii},
        "graphql": {"document": pii, "variables": pii},
        "queues": pii,
        "stack_frame_variables": bool(include_local_variables),
        "frame_context_lines": 5 if include_source_context else 0,
    }


def adapt_options(options):
    """`options` (sentry_sdk.init keyword arguments written for 2.x) for the SDK this process runs.

    On 2.x, unchanged. On 3.x (a copy): `send_default_pii`, `include_local_variables` and
    `include_source_context` become the `data_collection` 2.x derived from them, unless the
    configuration sets `data_collection` itself (then it decides, as on 2.x); `enable_tracing: true`
    becomes `traces_sample_rate: 1.0` when no rate is set; `propagate_traces: false` becomes
    `trace_propagation_targets: []`; `enable_logs` goes to the logging integration
    (`integration_kwargs`); the options of REMOVED_IN_SDK3, refused by the configuration when set,
    are dropped at their "not used" value.
    """
    if not is_sdk3():
        return options
    options = dict(options)
    pii = options.pop("send_default_pii", None)
    local_variables = options.pop("include_local_variables", None)
    source_context = options.pop("include_source_context", None)
    if options.get("data_collection") is None:
        options.pop("data_collection", None)
        collection = sdk2_pii_mapping(pii, local_variables is not False, source_context is not False)
        # A category 2.x didn't have follows send_default_pii too (3.x would collect it by default).
        collection["mcp"] = {"inputs": bool(pii), "outputs": bool(pii)}
        options["data_collection"] = collection
    tracing = options.pop("enable_tracing", None)
    if tracing and options.get("traces_sample_rate") is None and options.get("traces_sampler") is None:
        options["traces_sample_rate"] = 1.0
    if options.pop("propagate_traces", True) is False:
        options["trace_propagation_targets"] = []
    options.pop("enable_logs", None)
    for name in REMOVED_IN_SDK3:
        options.pop(name, None)
    return options


def integration_kwargs(name, kwargs, enable_logs=False):
    """Constructor keyword arguments for the SDK's integration `name`, from the configuration's
    (written for 2.x). On 3.x the logging integration's `level` is the Sentry Logs level and
    `breadcrumb_level` the breadcrumb one: `level` becomes `breadcrumb_level`, `sentry_logs_level`
    becomes `level` when `enable_logs` is on (else None: no Sentry Logs, as on 2.x)."""
    if not is_sdk3():
        return kwargs
    kwargs = dict(kwargs)
    for option in REMOVED_INTEGRATION_OPTIONS_IN_SDK3.get(name, ()):
        kwargs.pop(option, None)
    if name == "logging":
        logs_level = kwargs.pop("sentry_logs_level", 20)  # logging.INFO, 2.x's default
        if "level" in kwargs:
            kwargs["breadcrumb_level"] = kwargs.pop("level")
        kwargs["level"] = logs_level if enable_logs else None
        kwargs.setdefault("event_level", 40)  # logging.ERROR: 2.x's default; 3.x's is None
    return kwargs


def event_from_exception(exc_info, mechanism):
    """`sentry_sdk.utils.event_from_exception` for the running client: (event, hint). 2.x takes the
    client's options as `client_options`, 3.x reads them itself."""
    import sentry_sdk
    from sentry_sdk import utils

    if is_sdk3():
        return utils.event_from_exception(exc_info, mechanism=mechanism)
    return utils.event_from_exception(exc_info, client_options=sentry_sdk.get_client().options,
                                      mechanism=mechanism)


def event_scrubber_base():
    """The base class of our scrubber: 2.x's `sentry_sdk.scrubber.EventScrubber`; on 3.x (no
    `EventScrubber`, no `event_scrubber` option) a stand-in with its constructor and 2.x's lists."""
    try:
        from sentry_sdk.scrubber import EventScrubber

        return EventScrubber
    except ImportError:
        pass

    class EventScrubber(object):
        def __init__(self, denylist=None, recursive=False, send_default_pii=False, pii_denylist=None):
            self.denylist = list(SDK2_DENYLIST) if denylist is None else denylist
            if not send_default_pii:
                self.denylist += list(SDK2_PII_DENYLIST) if pii_denylist is None else pii_denylist
            self.denylist = [key.lower() for key in self.denylist]
            self.recursive = recursive

    return EventScrubber


def accepts_event_scrubber():
    """True when `sentry_sdk.init` takes an `event_scrubber` (2.x); on 3.x the hook scrubs in a
    global event processor, where 2.x calls the scrubber (before serialisation)."""
    from sentry_sdk.consts import DEFAULT_OPTIONS

    return "event_scrubber" in DEFAULT_OPTIONS


def start_trace_span(op, name, as_transaction):
    """A span for `trace`: a transaction (2.x, when nothing runs) or a child span; on 3.x every
    span is `start_span(name=..., attributes={"sentry.op": op})` and a span with no parent starts
    a segment (what 3.x has in place of a transaction)."""
    import sentry_sdk

    if is_sdk3():
        # Not active: `trace` puts it on the scope itself, and back, around each resumption.
        return sentry_sdk.start_span(name=name, attributes={"sentry.op": op}, active=False)
    if as_transaction:
        return sentry_sdk.start_transaction(op=op, name=name, source="custom")
    return sentry_sdk.start_span(op=op, name=name)


def end_trace_span(span, failed):
    """End a span of `start_trace_span`: status `internal_error`/`ok` (2.x), `error`/`ok` (3.x),
    or left as it is when `failed` is None (a generator closed early)."""
    if is_sdk3():
        if failed is not None:
            span.status = "error" if failed else "ok"
        span.end()
        return
    if failed is not None:
        span.set_status("internal_error" if failed else "ok")
    span.finish()
