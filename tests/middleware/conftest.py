"""Fixtures for the context middleware tests: a real SDK client whose transport keeps envelopes in
this process (the SDK's own test pattern), reset after each test."""
import pytest
import sentry_sdk
from sentry_bootstrap.sdk_compat import init_with_pii
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
        # As the hook passes it: no deprecation warning on SDK 2.75.
        init_with_pii(options.pop("send_default_pii", None), dsn=DSN, transport=transport,
                      integrations=integrations, **options)
        return transport

    # The SDK's Django integration adds its request processor to the *current* scope when the test
    # client bypasses the WSGI middleware that would fork one: give every test its own scopes.
    with sentry_sdk.isolation_scope(), sentry_sdk.new_scope():
        yield init
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_isolation_scope().clear()
    sentry_sdk.get_current_scope().clear()
