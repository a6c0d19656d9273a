"""The local outbox: where events go when no DSN is set.

A bounded envelope directory (`transport/store.py`: atomic private writes, naming, the ledger and
its lock, drop counters, trust checks) in the per-user state directory, so that the hook is useful on
a fresh machine with no account; `sentry-bootstrap events` reads it back.

The outbox policy over the store: every envelope is written, nothing is sent. When the bytes held
pass `max_bytes` the oldest envelopes are evicted (down to 90% of it, so a full outbox is scanned
once per tenth of its size rather than on every write) and counted; `evicted_count` is that count
since the last `clear`.

A directory another user could tamper with (a symbolic link, another owner, group- or
world-writable) is refused: events are not written, and one stderr line says the fix.

Nothing here imports `sentry_sdk` at module level: its transport base class (and the ~0.2 s import of
the SDK) is looked up when `OutboxTransport` is first used, so the events reader and the CLI stay fast.

On `sentry_sdk.init(transport=...)` with no DSN (checked against sentry-sdk 2.75): `make_transport`
uses a `Transport` *instance* as it is, whatever the DSN; only a transport *class* is left
uninstantiated when `dsn` is empty. `Client.is_active()` is always true and nothing on the capture
path looks at the DSN, so events, messages and transactions reach `capture_envelope`. The base class
needs no options (`parsed_dsn` stays None). tests/transport/test_outbox.py checks this against the
real SDK.
"""
import os

from sentry_bootstrap import _log
from sentry_bootstrap._paths import state_dir
from sentry_bootstrap.config.defaults import OUTBOX_MAX_BYTES as DEFAULT_MAX_BYTES
from sentry_bootstrap.transport import envelope_file
from sentry_bootstrap.transport import store as _store

SUFFIX = envelope_file.SUFFIX
TMP_PREFIX = _store.TMP_PREFIX


def outbox_dir(path_setting=None, environ=None):
    """The outbox directory as an absolute path: `outbox.path` when set (`~` expanded, relative paths
    taken from the current directory), else `state_dir()/outbox`. Not created here."""
    if path_setting:
        return os.path.abspath(os.path.expanduser(str(path_setting)))
    return os.path.join(state_dir(environ), "outbox")


class Outbox(_store.EnvelopeStore):
    """One outbox directory: the store under the outbox policy (no age bound, no fsync, nothing
    ever sent), as `spool.Spool` is the store under the spool policy."""

    def __init__(self, directory, max_bytes=None, environ=None):
        _store.EnvelopeStore.__init__(
            self, directory, DEFAULT_MAX_BYTES if max_bytes is None else max_bytes,
            max_age=None, fsync=False, environ=environ)


def outbox_store(path, max_bytes=DEFAULT_MAX_BYTES, environ=None):
    """The `Outbox` at `path`."""
    return Outbox(path, max_bytes, environ)


def write_envelope(path, data, max_bytes=DEFAULT_MAX_BYTES):
    """Write one serialised envelope atomically within the bound; returns the file name. Creates the
    directory (0700). Raises UnsafeDirectory or OSError."""
    written = outbox_store(path, max_bytes).write(data)
    return None if written is None else os.path.basename(written)


def enforce_bound(path, max_bytes):
    """Evict the oldest envelopes until at most `max_bytes` remain (no hysteresis); returns how
    many were evicted. Safe while other processes write."""
    return outbox_store(path, max_bytes).enforce_bounds(max_bytes)


def evicted_count(path):
    """How many envelopes have been evicted from the outbox at `path` since it was last cleared."""
    return outbox_store(path).evicted_count()


def clear(path):
    """Remove every envelope and reset the eviction count; returns how many envelopes were removed."""
    return outbox_store(path).clear(every_name=True, reset=True)


def envelope_names(path):
    """The envelope file names in the outbox, oldest first (for `events --follow`)."""
    return envelope_file.list_names(path)


def _transport_base():
    from sentry_sdk.transport import Transport

    return Transport


class _OutboxWriter:
    """The transport's behaviour, kept apart from the SDK base class so that the class itself can be
    built lazily (importing this module must not import sentry_sdk)."""

    def _setup(self, path, max_bytes, environ=None):
        self.path = path
        self.max_bytes = int(max_bytes)
        self.store = outbox_store(path, self.max_bytes, environ)
        # Informational counts; no lock (a lock held across a fork would deadlock the child).
        self.written = 0
        self.failures = 0
        self._reported = False

    def capture_envelope(self, envelope):
        """Write the envelope to the outbox and keep the bound. Never raises: a failure (disk full,
        read-only home, an untrusted directory) is counted in `failures` and reported once."""
        try:
            self.store.write(envelope.serialize())
            self.written += 1
        except Exception as exc:
            self.failures += 1
            first, self._reported = not self._reported, True
            if first:
                _log.report("error", "cannot write to the outbox {}: {}; events are not written"
                            .format(self.path, exc))

    def flush(self, timeout, callback=None):
        return None  # every write is synchronous

    def kill(self):
        return None

    def __repr__(self):
        return "<OutboxTransport path={!r} max_bytes={}>".format(self.path, self.max_bytes)


_TRANSPORT_CLASS = None


def _outbox_transport_class():
    global _TRANSPORT_CLASS
    if _TRANSPORT_CLASS is None:
        base = _transport_base()

        class OutboxTransport(_OutboxWriter, base):
            """A `sentry_sdk.transport.Transport` that writes each envelope to the local outbox."""

            def __init__(self, path=None, max_bytes=DEFAULT_MAX_BYTES, environ=None):
                base.__init__(self, None)
                self._setup(outbox_dir(path, environ), max_bytes, environ)

        OutboxTransport.__module__ = __name__
        OutboxTransport.__qualname__ = "OutboxTransport"
        _TRANSPORT_CLASS = OutboxTransport
    return _TRANSPORT_CLASS


def __getattr__(name):
    # `from sentry_bootstrap.transport.outbox import OutboxTransport` works, and imports the SDK only then.
    if name == "OutboxTransport":
        return _outbox_transport_class()
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))


def make_outbox_transport(outbox_cfg=None, environ=None):
    """An `OutboxTransport` instance for `sentry_sdk.init(transport=...)`, from the configuration's
    `outbox` section (`{"path": str or None, "max_bytes": int}`; missing keys take the defaults)."""
    cfg = outbox_cfg or {}
    max_bytes = cfg.get("max_bytes")
    return _outbox_transport_class()(
        path=cfg.get("path"),
        max_bytes=DEFAULT_MAX_BYTES if max_bytes is None else max_bytes,
        environ=environ,
    )
