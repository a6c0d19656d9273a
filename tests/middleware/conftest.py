"""Fixtures for the context middleware tests: a real SDK client whose transport keeps envelopes in
this process (the SDK's own test pattern), reset after each test."""
import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

# Never contacted: the collecting transport replaces the HTTP one.
DSN = "http://public@127.0.0.1:9/1"


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
        """The error and message events captured so far (transactions left out)."""
        return [item.payload.json for env in self.envelopes for item in env.items
                if item.type == "event"]

    def transactions(self):
        return [item.payload.json for env in self.envelopes for item in env.items
                if item.type == "transaction"]


@pytest.fixture
def sentry_init():
    """`sentry_init(integrations, **options) -> CollectingTransport`; the client is closed and
    the scopes cleared afterwards so tests don't see each other's data."""
    def init(integrations, **options):
        transport = CollectingTransport()
        options.setdefault("default_integrations", False)
        options.setdefault("auto_enabling_integrations", False)
        sentry_sdk.init(dsn=DSN, transport=transport, integrations=integrations, **options)
        return transport

    yield init
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_isolation_scope().clear()
    sentry_sdk.get_current_scope().clear()
