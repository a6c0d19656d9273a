"""A test server whose DSN key is distinctive (fixture `server`), so a leak of it
into any output is easy to find), and an in-process SDK client that keeps its envelopes."""
import pytest
import sentry_sdk
from tests.support.collecting import CollectingTransport

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


@pytest.fixture
def sentry_client():
    """A real SDK client (no integrations) whose transport collects envelopes in this process."""
    transport = CollectingTransport()
    sentry_sdk.init(dsn="http://public@127.0.0.1:9/1", transport=transport,
                    default_integrations=False, auto_enabling_integrations=False)
    with sentry_sdk.isolation_scope(), sentry_sdk.new_scope():  # nothing leaks between tests
        yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_isolation_scope().clear()
    sentry_sdk.get_current_scope().clear()
