"""Fixtures for the diagnostics tests: a test server whose DSN key is distinctive (so a leak of it
into any output is easy to find), and an in-process SDK client that keeps its envelopes."""
import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from tests.support.sentry_server import SentryServer

KEY = "doctorkey1234"


@pytest.fixture
def server():
    """A SentryServer whose DSN carries the public key KEY."""
    srv = SentryServer(public_key=KEY).start()
    try:
        yield srv
    finally:
        srv.stop()


class CollectingTransport(Transport):
    """Keeps every envelope instead of sending it."""

    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def flush(self, timeout, callback=None):
        pass

    def kill(self):
        pass

    def events(self):
        return [item.payload.json for env in self.envelopes for item in env.items
                if item.type == "event"]


@pytest.fixture
def sentry_client():
    """A real SDK client (no integrations) whose transport collects envelopes in this process."""
    transport = CollectingTransport()
    sentry_sdk.init(dsn="http://public@127.0.0.1:9/1", transport=transport,
                    default_integrations=False, auto_enabling_integrations=False)
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_isolation_scope().clear()
    sentry_sdk.get_current_scope().clear()
