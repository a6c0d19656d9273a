"""An SDK transport that keeps envelopes in this process instead of sending them: the SDK's own test
pattern, for unit tests that assert on events without a server (the child-process tests use the real
HTTP transport and tests/support/sentry_server.py)."""
import time

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport


SDK3 = int(sentry_sdk.VERSION.split(".", 1)[0]) >= 3


def sdk3_refuses(path):
    """True when the installed SDK is 3.x and the configuration key `path` (dotted) is one it
    removed: setting it is a located error there (sdk_compat.removed_in_sdk3)."""
    if not SDK3:
        return False
    from sentry_bootstrap import sdk_compat

    data = {}
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = "set"
    return any(dotted == path for dotted, _ in sdk_compat.removed_in_sdk3(data))


def styled(cls, style):
    """`cls(transaction_style=style)`; on 3.x, which names each request by its route and has no
    transaction_style, `cls()`."""
    return cls() if SDK3 else cls(transaction_style=style)


def named(by_style, by_route):
    """The transaction name a test expects: `by_style` on 2.x, `by_route` on 3.x."""
    return by_route if SDK3 else by_style


def root_span(name, op):
    """A span with no parent, as a context manager: a transaction on sentry-sdk 2.x, a segment span
    (what 3.x has in its place) on 3.x."""
    if SDK3:
        return sentry_sdk.start_span(name=name, attributes={"sentry.op": op})
    return sentry_sdk.start_transaction(name=name, op=op)


def _attribute(span, name):
    value = (span.get("attributes") or {}).get(name)
    return value.get("value") if isinstance(value, dict) else value


def segments_of(transport):
    """Each finished root span as {name, op, status ("ok"/"error"), children: [(op, name)]}, from
    the transactions (2.x) or the streamed spans (3.x) `transport` kept."""
    out = []
    if not SDK3:
        for t in transport.payloads("transaction"):
            trace = t["contexts"]["trace"]
            status = trace.get("status")
            out.append({"name": t["transaction"], "op": trace.get("op"),
                        "status": "error" if status not in (None, "ok") else status,
                        "children": [(s.get("op"), s.get("description")) for s in t.get("spans", [])]})
        return out
    spans = [item for payload in transport.payloads("span") for item in payload.get("items", [])]
    for segment in [s for s in spans if s.get("is_segment")]:
        children = [s for s in spans if not s.get("is_segment") and
                    _attribute(s, "sentry.segment.id") == segment["span_id"]]
        out.append({"name": segment["name"], "op": _attribute(segment, "sentry.op"),
                    "status": segment.get("status"),
                    "children": [(_attribute(s, "sentry.op"), s["name"]) for s in children]})
    return out


class CollectingTransport(Transport):
    """Keeps every envelope the client would send."""

    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def flush(self, timeout, callback=None):
        pass

    def kill(self):
        pass

    def payloads(self, item_type):
        return [item.payload.json for env in self.envelopes for item in env.items
                if item.type == item_type]

    def events(self):
        """The error and message events captured so far (transactions left out)."""
        return self.payloads("event")

    def transactions(self):
        return self.payloads("transaction")

    def wait_for_events(self, count=1, timeout=5.0):
        """The events once `count` have arrived (or whatever arrived by the timeout): the SDK may
        capture after a response has already been sent."""
        deadline = time.monotonic() + timeout
        while len(self.events()) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.events()


class Recorder:
    """What the `sentry` fixture's client sent, as decoded JSON payloads."""

    def __init__(self, transport):
        self.transport = transport

    def of(self, kind):
        return self.transport.payloads(kind)

    @property
    def events(self):
        return self.of("event")

    def segments(self):
        """The root spans sent (transactions on 2.x): see `segments_of`. Flushes first: 3.x sends
        spans in batches."""
        sentry_sdk.flush()
        return segments_of(self.transport)


@pytest.fixture
def sentry():
    """A live client (tracing on, no integrations) whose transport keeps envelopes in memory, run
    in a fresh isolation scope. Yields a Recorder."""
    transport = CollectingTransport()
    with sentry_sdk.isolation_scope():
        sentry_sdk.init(dsn="http://public@127.0.0.1:9/1", transport=transport,
                        default_integrations=False, traces_sample_rate=1.0)
        try:
            yield Recorder(transport)
        finally:
            sentry_sdk.get_client().close()
            sentry_sdk.get_global_scope().set_client(None)
