"""Fixtures for the context middleware tests: a real SDK client whose transport keeps envelopes in
this process (the SDK's own test pattern), reset after each test."""
import pytest
import sentry_sdk
from tests.support.collecting import CollectingTransport

# Never contacted: the collecting transport replaces the HTTP one.
DSN = "http://public@127.0.0.1:9/1"


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

    # The SDK's Django integration adds its request processor to the *current* scope when the test
    # client bypasses the WSGI middleware that would fork one: give every test its own scopes.
    with sentry_sdk.isolation_scope(), sentry_sdk.new_scope():
        yield init
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_isolation_scope().clear()
    sentry_sdk.get_current_scope().clear()
