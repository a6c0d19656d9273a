"""An SDK transport that keeps envelopes in this process instead of sending them: the SDK's own test
pattern, for unit tests that assert on events without a server (the child-process tests use the real
HTTP transport and tests/support/sentry_server.py)."""
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
