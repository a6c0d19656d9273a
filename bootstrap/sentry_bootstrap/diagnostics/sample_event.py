"""What `sentry-bootstrap test` does: send a real message and/or exception event with the configured
environment, release and tags, and say what became of each.

The client is built as the hook builds it (`sentry_bootstrap.activation.options.sdk_options` and the same transports)
but with no integrations. With a DSN the transport is the durable one, with each HTTP answer recorded;
an envelope the server does not accept stays in the spool, as it would under the hook. Without a DSN
the events go to the local outbox and the files written are reported.
"""
import os

TEST_MESSAGE = "sentry-bootstrap test message"


class SentryBootstrapTestError(Exception):
    """The deliberate error that `sentry-bootstrap test --exception` and the test endpoint raise."""


class Delivery(object):
    """What happened to the events: `sent` is a list of (kind, event id), `answers` a list of
    (HTTP status or None, text) per request (DSN), `files` the outbox files written (no DSN),
    `destination` the masked DSN or the outbox directory."""

    def __init__(self, destination):
        self.destination = destination
        self.sent = []
        self.answers = []
        self.files = []
        self.spool_dir = None

    @property
    def accepted(self):
        """True when every request was answered 2xx (or, for the outbox, a file was written)."""
        if self.files:
            return True
        return bool(self.answers) and all(s is not None and 200 <= s < 300 for s, _ in self.answers)


def _recording_durable(spool_cfg, environ, answers):
    from sentry_bootstrap.transport.durable import durable_transport_class

    base = durable_transport_class(spool_cfg, environ, drain_in_background=False)

    def request(self, method, endpoint_type, body, headers):
        try:
            response = base.request(self, method, endpoint_type, body, headers)
        except Exception as exc:
            answers.append((None, "{}: {}".format(type(exc).__name__, getattr(exc, "reason", exc))))
            raise
        text = ""
        try:
            text = (response.data or b"")[:200].decode("utf-8", "replace").strip()
        except Exception:
            pass
        retry = response.headers.get("Retry-After")
        answers.append((response.status, text + (" (Retry-After {})".format(retry) if retry else "")))
        return response

    return type("RecordingDurableTransport", (base,), {"request": request})


def send_test_events(resolved, message=None, exception=False, environ=None, timeout=10.0):
    """Send the test events of `resolved` (a ResolvedConfig) and return a `Delivery`.

    `message` is the message text (the default text when neither a message nor `exception` is
    asked for). The client is closed before returning, so every event has been sent or stored.
    """
    import sentry_sdk

    from sentry_bootstrap import sdk_compat
    from sentry_bootstrap._mask import mask_dsn
    from sentry_bootstrap.activation.options import sdk_options

    environ = os.environ if environ is None else environ
    values = resolved.values
    dsn = values.get("dsn")
    options = sdk_options(values)
    options.update(environment=resolved.environment, release=resolved.release,
                   default_integrations=False, auto_enabling_integrations=False, integrations=[])
    outbox_path = before = None
    if dsn:
        delivery = Delivery(mask_dsn(dsn))
        transport = _recording_durable(values["spool"], environ, delivery.answers)
    else:
        from sentry_bootstrap.transport import outbox

        transport = outbox.make_outbox_transport(values["outbox"], environ)
        outbox_path = transport.path
        delivery = Delivery(outbox_path)
        before = set(outbox.envelope_names(outbox_path))
    options["transport"] = transport
    # The pristine init: an application-init guard installed in this process must not see this.
    sdk_compat.original_init()(**options)
    client = sentry_sdk.get_client()
    try:
        scope = sentry_sdk.get_isolation_scope()
        for key, value in values["tags"].items():
            scope.set_tag(key, value)
        scope.set_tag("sentry_bootstrap.test", "cli")
        if message or not exception:
            delivery.sent.append(("message", sentry_sdk.capture_message(message or TEST_MESSAGE)))
        if exception:
            try:
                raise SentryBootstrapTestError("deliberate error from `sentry-bootstrap test`")
            except SentryBootstrapTestError:
                delivery.sent.append(("exception", sentry_sdk.capture_exception()))
        client.flush(timeout=timeout)
    finally:
        if dsn:
            inner = getattr(client, "transport", None)
            spool = getattr(inner, "spool", None)
            delivery.spool_dir = getattr(spool, "directory", None)
        client.close(timeout=timeout)
        sentry_sdk.get_global_scope().set_client(None)
    if outbox_path is not None:
        from sentry_bootstrap.transport import outbox

        delivery.files = [os.path.join(outbox_path, n)
                          for n in outbox.envelope_names(outbox_path) if n not in before]
    return delivery
