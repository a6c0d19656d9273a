"""The SDK internals DurableTransport relies on (listed in bootstrap/sentry_bootstrap/transport/durable.py) still have
the shape it expects. When this fails, the SDK changed: read durable.py's docstring before upgrading."""
import inspect

import sentry_sdk.worker
from sentry_sdk import _queue
from sentry_sdk.consts import DEFAULT_OPTIONS, EndpointType
from sentry_sdk.envelope import Envelope, Item, PayloadRef
from sentry_sdk.transport import HttpTransport

from sentry_bootstrap.transport.durable import DurableTransport


def _params(fn):
    return list(inspect.signature(fn).parameters)


def test_http_transport_methods_have_the_expected_signatures():
    """The HttpTransport methods DurableTransport overrides or calls keep their parameters."""
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
        assert queue.unfinished_tasks == 0
        assert sentry_sdk.worker._TERMINATOR is not None
        assert isinstance(t._disabled_until, dict)
        assert t._compression_algo in ("br", "gzip", None)
        assert isinstance(t._compression_level, int)
        assert t.parsed_dsn.project_id == "1"
        assert callable(t._worker.submit) and t._worker.submit(lambda: None) is True
    finally:
        t.kill()


def test_envelope_api():
    """Envelope and Item build, serialize and report a data category the way durable.py uses them."""
    item = Item(PayloadRef(json={"x": 1}), type="client_report")
    env = Envelope(headers={"event_id": "a" * 32}, items=[item])
    assert env.serialize().startswith(b'{"event_id":"' + b"a" * 32)
    assert item.data_category == "internal"
    assert Envelope(items=[item]).items == [item]
