"""The local outbox: where events go when no DSN is set.

A bounded directory of envelope files in the per-user state directory, so that the hook is useful on a
fresh machine with no account; `sentry-bootstrap events` reads it back.

Files and their guarantees:
- `<time_ns>-<pid>-<counter>-<size>.envelope`: one envelope each, in the SDK's wire format. The names
  sort by time, are unique per process (fork-safe: the pid is read at every write) and carry the file
  size, so a scan needs one `listdir` and no `stat` per file. Each file is written to a `.tmp-*` name
  and renamed into place, so a reader never sees a half-written envelope.
- `outbox.state`: the ledger, `<bytes> <evicted>` as two fixed-width numbers: the bytes of envelopes
  held and how many envelopes were evicted since the last clear. Several processes share it under an
  exclusive `flock` (where the platform has one; elsewhere best effort), so a write costs one small
  locked update instead of a directory scan. A write waits at most LOCK_TIMEOUT for the lock, and a
  child forked while the lock is held drops its copy, so nothing deadlocks across fork.

The bound: when the ledger passes `max_bytes`, the directory is scanned (the ledger is corrected to
the truth) and the oldest envelopes are evicted down to 90% of `max_bytes`, so that a full outbox is
scanned once per tenth of its size rather than on every write.

Nothing here imports `sentry_sdk` at module level: its transport base class (and the ~0.2 s import of
the SDK) is looked up when `OutboxTransport` is first used, so `read_events` and the CLI stay fast.

On `sentry_sdk.init(transport=...)` with no DSN (checked against sentry-sdk 2.75): `make_transport`
uses a `Transport` *instance* as it is, whatever the DSN; only a transport *class* is left
uninstantiated when `dsn` is empty. `Client.is_active()` is always true and nothing on the capture
path looks at the DSN, so events, messages and transactions reach `capture_envelope`. The base class
needs no options (`parsed_dsn` stays None). tests/test_outbox.py checks this against the real SDK.
"""
import itertools
import json
import os
import time

from sentry_bootstrap import _log
from sentry_bootstrap._files import ENVELOPE_LIMIT, open_regular, read_bounded
from sentry_bootstrap._paths import make_private_dirs, state_dir

try:
    import fcntl
except ImportError:  # Windows: the ledger is then updated without a lock (best effort)
    fcntl = None

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
SUFFIX = ".envelope"
TMP_PREFIX = ".tmp-"
STATE_FILE = "outbox.state"
# Eviction goes down to this fraction of max_bytes (hysteresis, see the module docstring).
LOW_WATER = 0.9
# Longest a write waits for another process's hold on the ledger.
LOCK_TIMEOUT = 2.0
# A temporary file older than this was left by a process that died mid-write.
_STALE_TMP_SECONDS = 3600
_STATE_FORMAT = "{:020d} {:020d}\n"

_counter = itertools.count()


def outbox_dir(path_setting=None, environ=None):
    """The outbox directory as an absolute path: `outbox.path` when set (`~` expanded, relative paths
    taken from the current directory), else `state_dir()/outbox`. Not created here."""
    if path_setting:
        return os.path.abspath(os.path.expanduser(str(path_setting)))
    return os.path.join(state_dir(environ), "outbox")


# -- writing ----------------------------------------------------------------------------------------

def _entry_size(path, name):
    """The size recorded in an envelope file's name, else from the file itself; None if it is gone."""
    parts = name[:-len(SUFFIX)].split("-")
    if len(parts) == 4 and parts[3].isdigit():
        return int(parts[3])
    try:
        return os.stat(os.path.join(path, name)).st_size
    except OSError:
        return None


def _envelope_names(path):
    """Envelope file names, oldest first. An absent directory has none."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.endswith(SUFFIX) and not n.startswith("."))


def _ensure_dir(path):
    # Events can hold personal data: the outbox and the state directory above it are private.
    make_private_dirs(path)


def write_envelope(path, data):
    """Write one serialised envelope atomically; returns the file name. Creates the directory. Does
    not account for the bound: `OutboxTransport` follows each write with `record_write`."""
    stamp = "{:020d}-{}-{}".format(time.time_ns(), os.getpid(), next(_counter))
    final = "{}-{}{}".format(stamp, len(data), SUFFIX)
    tmp = os.path.join(path, TMP_PREFIX + stamp)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileNotFoundError:
        _ensure_dir(path)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(path, final))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return final


# Ledger descriptors open in this process. A child forked while one is open closes its copy, so the
# flock (which belongs to the open file, and so to both processes) isn't held for the child's life.
_open_ledgers = set()


def _close_inherited_ledgers():
    for fd in list(_open_ledgers):
        try:
            os.close(fd)
        except OSError:
            pass
    _open_ledgers.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited_ledgers)


def _lock(fd, timeout=LOCK_TIMEOUT):
    """Take the ledger's flock, waiting at most `timeout` seconds. A write never blocks for longer:
    past it (a stopped process holding the lock) the ledger is updated unlocked, and a drift is
    corrected by the next scan."""
    if fcntl is None:
        return
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except (BlockingIOError, PermissionError):
            if time.monotonic() >= deadline:
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.02)


class _Ledger:
    """The locked `outbox.state` file: `bytes` (None when missing or unreadable) and `evicted`."""

    def __init__(self, path):
        self._fd = os.open(os.path.join(path, STATE_FILE), os.O_RDWR | os.O_CREAT, 0o600)
        _open_ledgers.add(self._fd)
        try:
            _lock(self._fd)
            os.lseek(self._fd, 0, os.SEEK_SET)
            self.bytes, self.evicted = _parse_state(os.read(self._fd, 64))
        except BaseException:
            self.close()
            raise

    def save(self):
        # Same length every time, one write at offset 0: never a half-updated or shorter file.
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, _STATE_FORMAT.format(max(self.bytes or 0, 0), self.evicted).encode())

    def close(self):
        _open_ledgers.discard(self._fd)
        os.close(self._fd)  # releases the flock

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _parse_state(raw):
    parts = raw.split()
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        return int(parts[0]), int(parts[1])
    return None, 0


def _evict(path, target):
    """Remove the oldest envelopes until at most `target` bytes remain: (removed, remaining bytes).
    Call with the ledger locked, so that one process evicts at a time."""
    sizes = []
    total = 0
    for name in _envelope_names(path):
        size = _entry_size(path, name)
        if size is not None:
            sizes.append((name, size))
            total += size
    removed = 0
    for name, size in sizes:
        if total <= target:
            break
        try:
            os.unlink(os.path.join(path, name))
            removed += 1
        except FileNotFoundError:
            pass  # removed by hand meanwhile: not an eviction
        total -= size
    if removed:
        _remove_stale_tmp(path)
    return removed, total


def _remove_stale_tmp(path):
    cutoff = time.time() - _STALE_TMP_SECONDS
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.name.startswith(TMP_PREFIX) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
    except OSError:
        pass


def record_write(path, size, max_bytes):
    """Account for an envelope of `size` bytes just written; evict past `max_bytes` (down to 90% of
    it). Returns how many envelopes this call evicted."""
    with _Ledger(path) as ledger:
        if ledger.bytes is None:
            # A new or damaged ledger: learn the truth once (the new file is already counted in it).
            ledger.bytes = _evict(path, float("inf"))[1]
        else:
            ledger.bytes += size
        removed = 0
        if ledger.bytes > max_bytes:
            removed, ledger.bytes = _evict(path, int(max_bytes * LOW_WATER))
            ledger.evicted += removed
        ledger.save()
        return removed


def enforce_bound(path, max_bytes):
    """Evict the oldest envelopes until at most `max_bytes` remain (no hysteresis) and correct the
    ledger; returns how many were evicted. Safe while other processes write."""
    if not os.path.isdir(path):
        return 0
    with _Ledger(path) as ledger:
        removed, ledger.bytes = _evict(path, max_bytes)
        ledger.evicted += removed
        ledger.save()
        return removed


def evicted_count(path):
    """How many envelopes have been evicted from the outbox at `path` since it was last cleared."""
    try:
        fd, _info = open_regular(os.path.join(path, STATE_FILE), 4096, nofollow=True)
        try:
            return _parse_state(os.read(fd, 64))[1]
        finally:
            os.close(fd)
    except OSError:
        return 0


def clear(path):
    """Remove every envelope and reset the ledger (bytes and the eviction count); returns how many
    envelopes were removed."""
    if not os.path.isdir(path):
        return 0
    with _Ledger(path) as ledger:
        removed = 0
        for name in _envelope_names(path):
            try:
                os.unlink(os.path.join(path, name))
                removed += 1
            except FileNotFoundError:
                pass
        ledger.bytes, ledger.evicted = 0, 0
        ledger.save()
        return removed


def _transport_base():
    from sentry_sdk.transport import Transport

    return Transport


class _OutboxWriter:
    """The transport's behaviour, kept apart from the SDK base class so that the class itself can be
    built lazily (importing this module must not import sentry_sdk)."""

    def _setup(self, path, max_bytes):
        self.path = path
        self.max_bytes = int(max_bytes)
        # Informational counts; no lock (a lock held across a fork would deadlock the child).
        self.written = 0
        self.failures = 0
        self._reported = False

    def capture_envelope(self, envelope):
        """Write the envelope to the outbox and keep the bound. Never raises: a failure (disk full,
        read-only home) is counted in `failures` and reported once on stderr."""
        try:
            data = envelope.serialize()
            write_envelope(self.path, data)
            self.written += 1
            record_write(self.path, len(data), self.max_bytes)
        except Exception as exc:
            self.failures += 1
            first, self._reported = not self._reported, True
            if first:
                _log.report("error", "cannot write to the outbox {}: {}".format(self.path, exc))

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
                self._setup(outbox_dir(path, environ), max_bytes)

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


# -- reading ----------------------------------------------------------------------------------------

def _parse_items(data):
    """(item headers, payload bytes) of each item of a serialised envelope. Raises on a malformed one."""
    lines = data.split(b"\n", 1)
    json.loads(lines[0])  # the envelope header must be valid JSON
    rest = lines[1] if len(lines) > 1 else b""
    pos = 0
    while pos < len(rest):
        end = rest.find(b"\n", pos)
        header_line = rest[pos:] if end < 0 else rest[pos:end]
        pos = len(rest) if end < 0 else end + 1
        if not header_line.strip():
            continue
        headers = json.loads(header_line)
        length = headers.get("length")
        if length is not None:
            payload = rest[pos:pos + length]
            if len(payload) != length:
                raise ValueError("truncated item")
            pos += length + 1
        else:
            end = rest.find(b"\n", pos)
            payload = rest[pos:] if end < 0 else rest[pos:end]
            pos = len(rest) if end < 0 else end + 1
        yield headers, payload


def _title(event):
    values = (event.get("exception") or {}).get("values") or []
    if values:
        # The last value is the exception that was raised; earlier ones are its causes.
        exc = values[-1]
        kind, value = exc.get("type") or "Error", exc.get("value")
        return "{}: {}".format(kind, value) if value else kind
    logentry = event.get("logentry") or {}
    if logentry.get("formatted"):
        return logentry["formatted"]
    if logentry.get("message"):
        params = logentry.get("params")
        try:
            return logentry["message"] % tuple(params) if params else logentry["message"]
        except (TypeError, ValueError):
            return logentry["message"]
    message = event.get("message")
    if isinstance(message, dict):
        message = message.get("formatted") or message.get("message")
    if message:
        return str(message)
    return event.get("transaction") or "<no title>"


def _timestamp(value):
    if isinstance(value, (int, float)):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(value)) + \
            ".{:06d}Z".format(int(round((value % 1) * 1e6)) % 1000000)
    return value


def _tags(value):
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):  # Sentry also accepts [[key, value], ...]
        return {str(pair[0]): pair[1] for pair in value if isinstance(pair, (list, tuple)) and len(pair) == 2}
    return {}


def summarize(event, file=None):
    """The fields `events` shows for one error or message event."""
    return {
        "event_id": event.get("event_id"),
        "timestamp": _timestamp(event.get("timestamp")),
        "level": event.get("level") or "error",
        "title": _title(event),
        "environment": event.get("environment"),
        "release": event.get("release"),
        "transaction": event.get("transaction"),
        "tags": _tags(event.get("tags")),
        "file": file,
    }


def _events_in_file(path, name):
    try:
        data = read_bounded(os.path.join(path, name), ENVELOPE_LIMIT, nofollow=True)
        found = []
        for headers, payload in _parse_items(data):
            if headers.get("type") == "event":
                event = json.loads(payload)
                if isinstance(event, dict):
                    found.append(summarize(event, os.path.join(path, name)))
        return found
    except (OSError, ValueError, TypeError, AttributeError, UnicodeDecodeError):
        return []  # evicted while we read it, or not an envelope: skipped


def read_events(path, limit=None, names=None):
    """The error and message events in the outbox at `path`, oldest first (newest last), at most
    `limit` of the newest. Transactions, sessions, client reports and corrupt files are skipped.
    `names` restricts the read to those envelope file names (for following new files)."""
    names = _envelope_names(path) if names is None else sorted(names)
    found = []
    # Read from the newest back so that `limit` costs only the files it shows.
    for name in reversed(names):
        found.extend(reversed(_events_in_file(path, name)))
        if limit is not None and len(found) >= limit:
            found = found[:limit]
            break
    found.reverse()
    return found


def envelope_names(path):
    """The envelope file names in the outbox, oldest first (for `events --follow`)."""
    return _envelope_names(path)
