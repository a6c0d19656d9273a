"""An SDK transport that keeps envelopes in this process instead of sending them: the SDK's own test
pattern, for unit tests that assert on events without a server (the child-process tests use the real
HTTP transport and tests/support/sentry_server.py)."""
import time

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport


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
