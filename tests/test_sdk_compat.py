"""Guards for the SDK internals that sentry_bootstrap.sdk_compat reaches (docs/sdk-internals.md): a
failure here means the installed sentry_sdk changed shape, and sdk_compat needs attention before the
upgrade."""
import contextvars
import inspect

import sentry_sdk
import sentry_sdk._init_implementation as impl
import sentry_sdk.api as api
import sentry_sdk.worker
from sentry_sdk import _queue
from sentry_sdk import integrations as sdk_integrations
from sentry_sdk import scope
from sentry_sdk.consts import DEFAULT_OPTIONS, EndpointType
from sentry_sdk.envelope import Envelope, Item, PayloadRef
from sentry_sdk.transport import HttpTransport

from sentry_bootstrap import sdk_compat
from sentry_bootstrap.transport.durable import DurableTransport
from tests.support.child import run_python


def _params(fn):
    return list(inspect.signature(fn).parameters)


def test_importing_sdk_compat_imports_no_sentry_sdk():
    """sdk_compat imports nothing heavy at module level: sentry_sdk comes with the first call."""
    result = run_python(["-c", "import sys, sentry_bootstrap.sdk_compat\n"
                         "print(sorted(m for m in ('sentry_sdk', 'urllib3') if m in sys.modules))"],
                        hook=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- integrations ---------------------------------------------------------------------------------

def test_setup_integrations_signature_accepts_what_setup_integration_passes():
    """setup_integrations still takes a list, with_defaults and options."""
    params = inspect.signature(sdk_integrations.setup_integrations).parameters
    assert {"integrations", "with_defaults", "options"} <= set(params)


def test_client_keeps_integrations_in_a_dict():
    """Client.integrations is a dict consulted by get_integration."""
    client = sentry_sdk.Client(default_integrations=False)
    assert isinstance(client.integrations, dict)
    source = inspect.getsource(type(client).get_integration)
    assert "self.integrations" in source


def test_min_versions_table_exists():
    """_MIN_VERSIONS maps names to version tuples."""
    floors = sdk_compat.min_versions()
    assert isinstance(floors, dict) and floors["django"] and isinstance(floors["flask"], tuple)


def test_every_auto_enabling_integration_is_in_the_table():
    """A new auto-enabling integration in the SDK must be added to the integrations table."""
    from sentry_bootstrap.activation import integrations

    sdk_names = {path.split(".")[-2] for path in sdk_compat.auto_enabling_integrations()}
    # The class path's module is the identifier, except for packages (celery/__init__ -> celery).
    missing = sdk_names - set(integrations.AUTO)
    assert not missing, "add these to the integrations table: {}".format(sorted(missing))


def test_default_integrations_match_the_sdk():
    """The hook passes the SDK's default integrations itself, so the lists must agree."""
    from sentry_bootstrap.activation import integrations

    sdk_defaults = {path.split(".")[-2] for path in sdk_compat.default_integrations()}
    if sdk_compat.is_sdk3():
        # 3.x made logging opt-in and unraisablehook default; the hook keeps 2.x's set (documented
        # in docs/sdk-internals.md, "sentry-sdk 3").
        sdk_defaults = sdk_defaults - {"unraisablehook"} | {"logging"}
    assert sdk_defaults == set(integrations.DEFAULT)


def test_integration_lists_are_class_paths():
    """The SDK's default and auto-enabling lists are class paths under sentry_sdk.integrations."""
    for path in sdk_compat.default_integrations() + sdk_compat.auto_enabling_integrations():
        assert path.startswith("sentry_sdk.integrations.") and path.endswith("Integration"), path


# -- init -----------------------------------------------------------------------------------------

def test_init_is_reexported_from_init_implementation():
    """sentry_sdk.init, sentry_sdk.api.init and _init_implementation.init are one function."""
    original = getattr(impl.init, "__wrapped__", impl.init)
    for namespace in (sentry_sdk, api):
        assert getattr(namespace.init, "__wrapped__", namespace.init) is original
    assert getattr(sdk_compat.original_init(), "__wrapped__", sdk_compat.original_init()) is original


# -- scopes ---------------------------------------------------------------------------------------

def test_scope_context_variables_used_by_the_decorators_exist():
    """The lazy isolation scope needs the SDK's scope context variables and Scope's private slots."""
    assert isinstance(scope._isolation_scope, contextvars.ContextVar)
    assert isinstance(scope._current_scope, contextvars.ContextVar)
    for name in ("_tags", "_transaction", "_transaction_info", "_span", "_event_processors"):
        assert name in scope.Scope.__slots__, name
    lazy = sdk_compat.lazy_isolation()
    assert lazy.isolation_var is scope._isolation_scope and lazy.current_var is scope._current_scope


def test_scope_transaction_round_trip():
    """scope_transaction reads what restore_scope_span puts back, source included."""
    s = scope.Scope()
    s.set_transaction_name("one", source="custom")
    assert sdk_compat.scope_transaction(s) == ("one", "custom")
    sdk_compat.restore_scope_span(s, None, "two", None)
    assert sdk_compat.scope_transaction(s) == ("two", None) and s.span is None


def test_request_middleware_context_variables_exist():
    """The SDK's WSGI/ASGI middleware still mark a request with the context variables we read."""
    from sentry_sdk.integrations import asgi, wsgi

    assert isinstance(wsgi._wsgi_middleware_applied, contextvars.ContextVar)
    assert isinstance(asgi._asgi_middleware_applied, contextvars.ContextVar)
    assert sdk_compat.inside_sdk_request() is False
    token = wsgi._wsgi_middleware_applied.set(True)
    try:
        assert sdk_compat.inside_sdk_request() is True
    finally:
        wsgi._wsgi_middleware_applied.reset(token)


def test_scrub_types():
    """AnnotatedValue and the substitute text are where the scrubber takes them from."""
    assert sdk_compat.sensitive_data_substitute() == "[Filtered]"
    value = sdk_compat.annotated_value_class().substituted_because_contains_sensitive_data()
    assert value.value == "[Filtered]"


# -- transport ------------------------------------------------------------------------------------

def test_http_transport_methods_have_the_expected_signatures():
    """The HttpTransport methods the transport base overrides or calls keep their parameters."""
    expected = {
        "_send_envelope": ["self", "envelope"],
        "_send_request": ["self", "body", "headers", "endpoint_type", "envelope"],
        "_prepare_envelope": ["self", "envelope"],
        "_update_headers": ["self", "headers"],
        "_request": ["self", "method", "endpoint_type", "body", "headers"],
        "_update_rate_limits": ["self", "response"],
        "_handle_response": ["self", "response", "envelope"],
        "_handle_request_error": ["self", "envelope", "loss_reason", "record_reason"],
        "_check_disabled": ["self", "category"],
        "_fetch_pending_client_report": ["self", "force", "interval"],
        "_flush_client_reports": ["self", "force"],
        "capture_envelope": ["self", "envelope"],
        "record_lost_event": ["self", "reason", "data_category", "item", "quantity"],
        "on_dropped_event": ["self", "_reason"],
        "kill": ["self"],
        "flush": ["self", "timeout", "callback"],
    }
    for name, params in expected.items():
        assert _params(getattr(HttpTransport, name)) == params, name
    assert isinstance(HttpTransport.TIMEOUT, (int, float))
    assert EndpointType.ENVELOPE.value == "envelope"


def test_transport_base_adds_no_name_the_sdk_uses():
    """The public names the transport base adds don't shadow anything HttpTransport has."""
    base = sdk_compat.http_transport_base()
    added = {n for n in vars(base) if not n.startswith("_")}
    assert added and not added & set(dir(HttpTransport))


def test_transport_instance_attributes(sentry_server):
    """A constructed transport has the worker, queue, rate-limit and compression attributes."""
    options = dict(DEFAULT_OPTIONS, dsn=sentry_server.dsn)
    t = DurableTransport(options)
    try:
        assert isinstance(t._worker, sentry_sdk.worker.BackgroundWorker)
        queue = t._worker._queue
        assert isinstance(queue, _queue.Queue)
        for name in ("get_nowait", "put_nowait", "task_done"):
            assert callable(getattr(queue, name)), name
        assert queue.unfinished_tasks == 0 == t.worker_unfinished()
        assert sentry_sdk.worker._TERMINATOR is not None
        assert isinstance(t._disabled_until, dict) and t.rate_limits() is t._disabled_until
        assert t._compression_algo in ("br", "gzip", None)
        assert isinstance(t._compression_level, int)
        assert t.compression() == (t._compression_algo, t._compression_level)
        assert t.parsed_dsn.project_id == "1"
        assert t.envelope_url().endswith("/api/1/envelope/")
        assert t.pool() is t._pool
        assert callable(t._worker.submit) and t.submit_to_worker(lambda: None) is True
    finally:
        t.kill()


def test_worker_queue_is_taken_and_its_stop_marker_kept(sentry_server):
    """take_worker_queue returns the queued jobs and leaves the worker's stop marker queued."""
    options = dict(DEFAULT_OPTIONS, dsn=sentry_server.dsn)
    t = DurableTransport(options)
    try:
        t._worker.kill()  # stop the thread so that queued jobs stay queued
        queue = t._worker._queue
        jobs = [lambda: None, lambda: None]
        for job in jobs:
            queue.put_nowait(job)
        queue.put_nowait(sentry_sdk.worker._TERMINATOR)
        assert t.take_worker_queue() == jobs
        assert queue.get_nowait() is sentry_sdk.worker._TERMINATOR
    finally:
        t.kill()


def test_envelope_api():
    """Envelope and Item build, serialize and report a data category the way durable.py uses them."""
    item = Item(PayloadRef(json={"x": 1}), type="client_report")
    env = Envelope(headers={"event_id": "a" * 32}, items=[item])
    assert env.serialize().startswith(b'{"event_id":"' + b"a" * 32)
    assert item.data_category == "internal"
    assert Envelope(items=[item]).items == [item]
    assert "_tags" in scope.Scope.__slots__


def _options_after(init_call, pii):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init_call(pii)
    options = dict(sentry_sdk.get_client().options)
    scrubber = options.pop("event_scrubber")
    _sdk_off()
    return options, sorted(scrubber.denylist), [str(w.message) for w in caught]


def _sdk_off():
    """Leave the SDK as an interpreter that never started it: no client, nothing on the scopes (a
    client made by a bare init() is active, and its integrations leave breadcrumbs behind)."""
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_isolation_scope().clear()
    sentry_sdk.get_current_scope().clear()


SDK3 = sdk_compat.is_sdk3()
only_sdk2 = __import__("pytest").mark.skipif(SDK3, reason="sentry-sdk 2.x behaviour")
only_sdk3 = __import__("pytest").mark.skipif(not SDK3, reason="sentry-sdk 3.x behaviour")


@only_sdk2
def test_sdk2_pii_mapping_is_the_sdks():
    """The frozen copy of 2.x's send_default_pii -> data_collection mapping (used on 3.x) is 2.x's."""
    from sentry_sdk.data_collection import _map_from_send_default_pii

    for pii in (True, False):
        for local_variables, source_context in ((True, True), (False, False)):
            sdk = dict(_map_from_send_default_pii(send_default_pii=pii, include_local_variables=local_variables,
                                                  include_source_context=source_context))
            sdk.pop("provided_by_user", None)
            assert sdk_compat.sdk2_pii_mapping(pii, local_variables, source_context) == sdk


@only_sdk2
def test_sdk2_scrubber_lists_are_the_sdks():
    """The frozen copy of 2.x's scrubber lists (our scrubber's base on 3.x, taken from 2.76) holds
    every key of this 2.x's lists."""
    from sentry_sdk import scrubber

    # (x_forwarded_for moved from the first list to the PII one between 2.73 and 2.76.)
    ours = set(sdk_compat.SDK2_DENYLIST) | set(sdk_compat.SDK2_PII_DENYLIST)
    assert set(scrubber.DEFAULT_DENYLIST) | set(scrubber.DEFAULT_PII_DENYLIST) <= ours


@only_sdk3
def test_init_with_pii_on_sdk3_collects_what_2x_collected():
    """On 3.x (no send_default_pii) init_with_pii gives the data_collection 2.x derived from it,
    and warns about nothing; a data_collection of the user's decides instead."""
    import warnings

    from sentry_sdk.data_collection import _resolve_data_collection

    from sentry_bootstrap.sdk_compat import init_with_pii

    for pii in (True, False, None):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            init_with_pii(pii, default_integrations=False)
        try:
            options = sentry_sdk.get_client().options
            assert [str(w.message) for w in caught] == []
            assert "send_default_pii" not in options
            written = dict(sdk_compat.sdk2_pii_mapping(pii), mcp={"inputs": bool(pii), "outputs": bool(pii)})
            expected = _resolve_data_collection({"data_collection": written})
            assert options["data_collection"] == expected
            assert options["data_collection"]["user_info"] is bool(pii)
        finally:
            sentry_sdk.get_client().close()
            sentry_sdk.get_global_scope().set_client(None)
    init_with_pii(True, default_integrations=False, data_collection={"user_info": False})
    try:
        assert sentry_sdk.get_client().options["data_collection"]["user_info"] is False
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


@only_sdk3
def test_removed_options_are_absent_from_sdk3():
    """What sdk_compat says 3.x removed is absent from its init options and constructors."""
    from sentry_bootstrap.config import integration_options

    for name in set(sdk_compat.REMOVED_IN_SDK3) | sdk_compat.MAPPED_IN_SDK3:
        assert name not in DEFAULT_OPTIONS, name
    for integration, removed in sdk_compat.REMOVED_INTEGRATION_OPTIONS_IN_SDK3.items():
        params = {p if isinstance(p, str) else p[0] for p in integration_options.constructor_params(integration)}
        assert not set(removed) & params, integration


@only_sdk2
def test_init_with_pii_gives_the_sdks_client_without_its_warning():
    """sdk_compat.init_with_pii leaves the client's options as init(send_default_pii=...) would
    (send_default_pii, data_collection, the scrubber's PII mode), and warns about nothing."""
    from sentry_bootstrap.sdk_compat import init_with_pii

    for pii in (True, False):
        ours, our_scrubber, our_warnings = _options_after(
            lambda p: init_with_pii(p, default_integrations=False), pii)
        sdk, sdk_scrubber, _ = _options_after(
            lambda p: sentry_sdk.init(send_default_pii=p, default_integrations=False), pii)
        assert our_warnings == []
        assert ours["send_default_pii"] is sdk["send_default_pii"] is pii
        assert ours["data_collection"] == sdk["data_collection"]
        assert our_scrubber == sdk_scrubber


@only_sdk2
def test_init_with_pii_and_a_user_data_collection_warns_about_nothing():
    """With the user's data_collection too, that one decides what is collected, the integrations
    still see send_default_pii, and nothing warns."""
    import warnings

    from sentry_bootstrap.sdk_compat import init_with_pii

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init_with_pii(True, default_integrations=False, data_collection={"user_info": False})
    try:
        client = sentry_sdk.get_client()
        assert [str(w.message) for w in caught] == []
        assert client.should_send_default_pii() is True
        assert client.options["data_collection"]["user_info"] is False
    finally:
        _sdk_off()


def test_transport_worker_and_pool_can_be_renewed_after_fork():
    """renew_after_fork relies on HttpTransport._create_worker(options), _make_pool() and _worker."""
    from sentry_sdk.transport import HttpTransport
    from sentry_sdk.worker import BackgroundWorker

    from sentry_bootstrap import sdk_compat

    client = sentry_sdk.Client(dsn="http://key@127.0.0.1:9/1", default_integrations=False)
    transport = client.transport
    assert isinstance(transport, HttpTransport) and isinstance(transport._worker, BackgroundWorker)
    old_worker, old_pool = transport._worker, transport._pool
    assert isinstance(transport._create_worker(transport.options), BackgroundWorker)
    assert type(transport._make_pool()) is type(old_pool)
    sdk_compat.renew_after_fork(transport)  # registration only; the child side runs in tests/transport/test_fork.py
    assert transport._worker is old_worker
    client.close()




# -- lazy start -----------------------------------------------------------------------------------

def test_client_module_resolves_the_default_release_through_its_own_name():
    """sentry_sdk.client calls its module-level get_default_release when release is None, so
    init_without_git_release can keep it from running git."""
    import sentry_sdk.client as client_module

    assert callable(client_module.get_default_release)
    assert "get_default_release()" in inspect.getsource(client_module)


def test_logging_integration_replay_names_exist():
    """_IGNORED_LOGGERS and LoggingIntegration._handle_record, used to replay kept records."""
    from sentry_sdk.integrations import logging as sdk_logging

    if SDK3:  # one list for events and breadcrumbs, one for Sentry Logs; one method for each
        assert isinstance(sdk_logging._IGNORED_LOGGERS_EVENTS, set)
        assert isinstance(sdk_logging._IGNORED_LOGGERS_SENTRY_LOGS, set)
        for name in ("_handle_logs_record", "_handle_event_record", "_handle_breadcrumb_record"):
            assert _params(getattr(sdk_logging.LoggingIntegration, name)) == ["self", "record"]
        return
    assert isinstance(sdk_logging._IGNORED_LOGGERS, set)
    assert _params(sdk_logging.LoggingIntegration._handle_record) == ["self", "record"]
