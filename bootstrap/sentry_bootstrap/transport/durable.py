"""Durable delivery: `DurableTransport` is the SDK's own `HttpTransport` (proxies, TLS options,
compression, keep-alive and rate-limit headers unchanged) that writes an envelope it can't send to the
on-disk spool (`sentry_bootstrap.transport.spool`) instead of dropping it, and sends the spool later.

What a caller may rely on:
- The healthy path touches no disk (one `stat` of the spool directory at start, to drain leftovers).
- A network error, a timeout, a 5xx or a 429 spools the envelope. After a network error or a 5xx the
  transport goes "offline": new envelopes are spooled directly until a background drainer, retrying
  the oldest file with exponential backoff (1 s doubling to 5 min), gets a 2xx. A 429 sets the SDK's
  own rate limits (`Retry-After`, `X-Sentry-Rate-Limits`); items the SDK would then drop as
  `ratelimit_backoff` are spooled and drained once the limit has passed. Envelopes the SDK would drop
  because its queue is full are spooled too.
- At exit (`kill()`, after the SDK's `flush(shutdown_timeout)`), the envelope still in flight and
  everything in the worker queue are spooled, not dropped. If the in-flight request then gets a 2xx
  before the process ends, its spooled copy is removed again.
- Other 4xx answers keep the SDK's behaviour (dropped and counted by the SDK), except that a spooled
  file answered 400/413/other 4xx is discarded and counted (401/403 keep it: the key may be fixed).
- Spooled envelopes are sent byte-for-byte as stored (compressed like live ones), so event ids stay
  stable; a file is removed only after a 2xx.
- Drops counted by the spool are sent as a `client_report` item once the server answers 2xx, unless
  `send_client_reports` is off.

The SDK's `HttpTransport` internals are reached through `sentry_bootstrap.sdk_compat.http_transport_base()`
(public names over `_send_envelope`, `_send_request`, `_request`, the worker queue, the rate limits and
the compression settings; guarded by tests/test_sdk_compat.py). The public parts used here:
`HttpTransport(options)`, `.options`, `.parsed_dsn`, `.TIMEOUT`, `capture_envelope(envelope)` and
`kill()` as the client calls them; `Envelope.serialize()`, `Envelope(headers, items)`,
`Item.data_category`, `Item(payload, type=...)`, `PayloadRef(json=...)`.
"""
import gzip
import os
import threading
import time
from datetime import datetime, timezone

from sentry_sdk.consts import DEFAULT_OPTIONS
from sentry_sdk.envelope import Envelope, Item, PayloadRef
from sentry_sdk.utils import capture_internal_exceptions

from sentry_bootstrap import _log, sdk_compat
from sentry_bootstrap._files import FileRefused
from sentry_bootstrap.transport import spool as _spool

try:
    import brotli
except ImportError:
    brotli = None

__all__ = ["DurableTransport", "make_transport", "durable_transport_class", "spool_status", "flush",
           "clear"]

HttpTransport = sdk_compat.http_transport_base()

_PENDING, _IN_FLIGHT, _DONE, _SPOOLED = range(4)
_FAILED, _EMPTY, _STOPPED = "failed", "empty", "stopped"
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 300.0


class _EnvelopeJob(object):
    """What the worker queue holds instead of the SDK's closure, so that `kill()` can find the
    envelopes still waiting and spool them."""

    __slots__ = ("transport", "envelope", "state", "spooled_path")

    def __init__(self, transport, envelope):
        self.transport = transport
        self.envelope = envelope
        self.state = _PENDING
        self.spooled_path = None

    def __call__(self):
        transport = self.transport
        with transport._jobs_lock:
            if self.state != _PENDING:
                return
            if transport._closing:
                self.state = _SPOOLED
            else:
                self.state = _IN_FLIGHT
                transport._in_flight = self
        if self.state == _SPOOLED:
            self.spooled_path = transport._spool_envelope(self.envelope)
            return
        try:
            with capture_internal_exceptions():
                transport.on_send_envelope(self.envelope)
                transport.flush_client_reports()
        finally:
            with transport._jobs_lock:
                if self.state == _IN_FLIGHT:
                    self.state = _DONE
                transport._in_flight = None


class DurableTransport(HttpTransport):
    """`HttpTransport` that spools what it can't send and drains the spool in the background.

    Class attributes (set by `durable_transport_class`): `spool_cfg` ({path, max_bytes, max_age},
    plus the tuning knobs `backoff`, `backoff_max`, `timeout`, `fsync` used by tests), `environ`
    (for the state directory), `drain_in_background` (False for the CLI, which drains in the
    calling thread)."""

    spool_cfg = {}
    environ = None
    drain_in_background = True

    def __init__(self, options):
        HttpTransport.__init__(self, options)
        cfg = self.spool_cfg or {}
        self.spool = _spool.Spool.for_dsn(options["dsn"], cfg, self.environ)
        self._backoff_initial = float(cfg.get("backoff") or BACKOFF_INITIAL)
        self._backoff_max = float(cfg.get("backoff_max") or BACKOFF_MAX)
        self._jobs_lock = threading.Lock()
        self._in_flight = None
        self._closing = False
        self._online = True
        self._stop = threading.Event()
        self._drain_lock = threading.Lock()
        self._drainer = None
        self._drainer_pid = None
        self._work_pending = False
        self._next_attempt = 0.0
        self._held_for = None  # seconds until the earliest category limit holding a file ends
        self._spool_error_reported = False
        self.sent_count = 0  # spooled files delivered by this transport
        # Drain leftovers from earlier runs; a healthy start costs one stat.
        if self.drain_in_background and self.spool.has_work():
            self._kick()

    # -- the write path -----------------------------------------------------------------------
    def capture_envelope(self, envelope):
        job = _EnvelopeJob(self, envelope)
        if self._closing or not self.submit_to_worker(job):
            # Where the SDK would drop it (queue full, or after kill), keep it.
            self._spool_envelope(envelope)
            self._kick()

    def on_send_envelope(self, envelope):
        if not self._online:
            self._spool_envelope(envelope)
            self._kick()
            return None
        # Checked only while some limit is recorded: the healthy path stays as cheap as the SDK's.
        limited = self.rate_limits() and [
            item for item in envelope.items if self.rate_limited(item.data_category)]
        if limited:
            # The SDK would drop these as ratelimit_backoff; they wait in the spool instead.
            self._spool_envelope(Envelope(headers=envelope.headers, items=limited))
            self._kick()
            rest = [item for item in envelope.items if item not in limited]
            if not rest:
                return None
            envelope = Envelope(headers=envelope.headers, items=rest)
        return self.sdk_send_envelope(envelope)

    def on_send_request(self, body, headers, endpoint_type, envelope=None):
        if envelope is None:
            return self.sdk_send_request(body, headers, endpoint_type, envelope)
        try:
            response = self.post_envelope(body, headers, endpoint_type)
        except Exception as exc:
            self._failed(envelope, "network error (%s)" % type(exc).__name__, offline=True)
            return None
        try:
            status = response.status
            if status == 429 or status >= 500:
                self.update_rate_limits(response)
                self._failed(envelope, "HTTP %d" % status, offline=status != 429)
            else:
                if 200 <= status < 300:
                    self._sent_after_abandon()
                self.handle_response(response, envelope)
        finally:
            response.close()
        return None

    def _failed(self, envelope, why, offline):
        job = self._in_flight
        with self._jobs_lock:
            if job is not None:
                if job.state == _SPOOLED:  # kill() spooled it already
                    return
                job.state = _SPOOLED
        if offline:
            self._online = False
        _log.report("debug", "delivery failed (%s); envelope spooled" % why, self.environ)
        path = self._spool_envelope(envelope)
        if job is not None:
            job.spooled_path = path
        self._kick()

    def _sent_after_abandon(self):
        job = self._in_flight
        if job is not None and job.state == _SPOOLED and job.spooled_path:
            # kill() spooled a copy while this request was still running, and it went through.
            claim = self.spool.claim(os.path.basename(job.spooled_path))
            if claim is not None:
                self.spool.done(claim)

    def _spool_envelope(self, envelope):
        """Write one envelope to the spool; on a disk error fall back to the SDK's loss record."""
        try:
            return self.spool.write(envelope.serialize())
        except Exception as exc:
            if not self._spool_error_reported:
                self._spool_error_reported = True
                _log.report("error", "cannot write the delivery spool %s: %s"
                            % (self.spool.directory, exc), self.environ)
            self.on_dropped_event("spool_error")
            for item in envelope.items:
                self.record_lost_event("network_error", item=item)
            return None

    # -- shutdown -----------------------------------------------------------------------------
    def kill(self):
        """Spool what is in flight and in the worker queue, stop the drainer, kill the worker."""
        to_spool = []
        with self._jobs_lock:
            self._closing = True
            job = self._in_flight
            if job is not None and job.state == _IN_FLIGHT:
                job.state = _SPOOLED
                to_spool.append(job)
        self._stop.set()
        for callback in self.take_worker_queue():
            if isinstance(callback, _EnvelopeJob):
                with self._jobs_lock:
                    if callback.state == _PENDING:
                        callback.state = _SPOOLED
                        to_spool.append(callback)
        for job in to_spool:
            job.spooled_path = self._spool_envelope(job.envelope)
        with capture_internal_exceptions():
            report = self.pending_client_report(force=True)
            if report is not None and (to_spool or not self._online):
                self._spool_envelope(Envelope(items=[report]))
        # A job the worker took just before `_closing` was set spools itself; give it a moment.
        deadline = time.monotonic() + 0.5
        while self.worker_unfinished() > len(to_spool[:1]) and time.monotonic() < deadline:
            time.sleep(0.005)
        drainer = self._drainer
        if drainer is not None and drainer is not threading.current_thread():
            drainer.join(0.5)
        HttpTransport.kill(self)

    # -- draining -----------------------------------------------------------------------------
    def _kick(self):
        """Make sure a drainer runs in this process (fork-safe) and has another look."""
        if not self.drain_in_background:
            return
        with self._drain_lock:
            self._work_pending = True
            if self._closing:
                return
            if (self._drainer is not None and self._drainer_pid == os.getpid()
                    and self._drainer.is_alive()):
                return
            thread = threading.Thread(target=self._drain_loop, name="sentry-bootstrap.spool-drain")
            thread.daemon = True
            try:
                thread.start()
            except RuntimeError:  # interpreter shutting down
                return
            self._drainer, self._drainer_pid = thread, os.getpid()

    def _rate_limit_wait(self):
        """Seconds until the server's global rate limit ends. A limit on some categories only
        (Sentry sends them for quotas, bugsink for transactions) holds back just the files made
        entirely of those categories: see `_all_categories_limited`."""
        until = self.rate_limits().get(None)
        if until is None:
            return 0.0
        return max((until - datetime.now(timezone.utc)).total_seconds(), 0.0)

    def _category_limit_wait(self, raw):
        """Seconds until this envelope may be sent, when every item in it is in a rate-limited
        category; 0 when any item may go now."""
        try:
            categories = {item.data_category for item in Envelope.deserialize(raw).items}
        except Exception:
            return 0.0
        now = datetime.now(timezone.utc)
        waits = []
        for category in categories:
            until = self.rate_limits().get(category)
            if until is None or until <= now:
                return 0.0
            waits.append((until - now).total_seconds())
        return min(waits) if waits else 0.0

    def _drain_loop(self):
        backoff = self._backoff_initial
        try:
            self.spool.recover()
            self.spool.enforce_bounds()
            while not self._stop.is_set():
                wait = max(self._next_attempt - time.monotonic(), self._rate_limit_wait())
                if wait > 0:
                    self._stop.wait(min(wait, 1.0))
                    continue
                with self._drain_lock:
                    self._work_pending = False
                outcome = self.drain_once()
                if outcome == _STOPPED:
                    return
                if outcome == _FAILED:
                    self._next_attempt = time.monotonic() + backoff
                    backoff = min(backoff * 2, self._backoff_max)
                    continue
                backoff = self._backoff_initial
                self._online = True
                self.report_drops()
                if self._held_for is not None:  # come back when a category limit ends
                    self._next_attempt = time.monotonic() + self._held_for
                    continue
                with self._drain_lock:
                    if not self._work_pending:
                        self._drainer = None
                        return
        except Exception as exc:
            _log.report("debug", "spool drainer stopped: %r" % (exc,), self.environ)
            with self._drain_lock:
                self._drainer = None

    def drain_once(self, progress=None, stoppable=True):
        """Send every unclaimed spooled file, oldest first, until one fails.
        Returns "empty" (nothing failed), "failed" or "stopped". `progress(done, total)` is called
        after each file."""
        names = self.spool.pending()
        self._held_for = None
        oldest_ok = time.time_ns() - int(self.spool.max_age * 1e9)
        for done, name in enumerate(names, 1):
            if stoppable and self._stop.is_set():
                return _STOPPED
            if self._rate_limit_wait() > 0:
                return _FAILED
            claim = self.spool.claim(name)
            if claim is None:
                continue
            try:
                raw = claim.read()
                _spool.check_envelope(raw)
            except FileRefused:  # a fifo, a symlink or a huge file planted in the spool
                self.spool.set_aside(claim.path)
                continue
            except OSError:
                continue
            except ValueError:
                self.spool.set_aside(claim.path)
                continue
            if int(name.split("-", 1)[0]) < oldest_ok:
                self.spool.discard(claim, _spool.REASON_AGE, raw)
                continue
            held = self._category_limit_wait(raw)
            if held > 0:
                self.spool.release(claim)  # kept for when its categories' limit ends
                self._held_for = held if self._held_for is None else min(self._held_for, held)
                continue
            status = self.post_raw(raw)
            if status is not None and 200 <= status < 300:
                self.spool.done(claim)
                self._online = True
                self.sent_count += 1
            elif status is not None and 400 <= status < 500 and status not in (401, 403, 408, 429):
                self.spool.discard(claim, _spool.REASON_REJECTED, raw)
            else:
                self.spool.release(claim)
                return _FAILED
            if progress is not None:
                progress(done, len(names))
        return _EMPTY

    def post_raw(self, raw):
        """POST serialized envelope bytes through the SDK's pool; the HTTP status, or None on a
        network error. Rate-limit headers update the SDK's limits."""
        headers = {"Content-Type": "application/x-sentry-envelope"}
        body = raw
        algo, level = self.compression()
        if level != 0 and algo == "br" and brotli is not None:
            body, headers["Content-Encoding"] = brotli.compress(raw, quality=level), "br"
        elif level != 0 and algo is not None:
            body, headers["Content-Encoding"] = gzip.compress(raw, compresslevel=level), "gzip"
        try:
            response = self.post_envelope(body, headers)
        except Exception:
            return None
        try:
            self.update_rate_limits(response)
            return response.status
        finally:
            response.close()

    def report_drops(self):
        """Send the spool's unreported drop counts as a client report; True when none are left."""
        if not self.options.get("send_client_reports", True):
            return True
        if not self.spool.unreported():
            return True
        lock = self.spool.try_report_lock()
        if lock is None and _spool.fcntl is not None:
            return False  # another process is reporting
        try:
            counts = self.spool.unreported()
            if not counts:
                return True
            item = Item(PayloadRef(json={
                "timestamp": time.time(),
                "discarded_events": [{"reason": reason, "category": category, "quantity": n}
                                     for (category, reason), n in sorted(counts.items())],
            }), type="client_report")
            status = self.post_raw(Envelope(headers={}, items=[item]).serialize())
            if status is not None and 200 <= status < 300:
                self.spool.mark_reported(counts)
                return True
            return False
        finally:
            if lock is not None:
                lock.close()


def durable_transport_class(spool_cfg=None, environ=None, drain_in_background=True):
    """A `DurableTransport` subclass bound to a `spool` section, for `sentry_sdk.init(transport=)`."""
    cfg = dict(spool_cfg or {})
    attrs = {"spool_cfg": cfg, "environ": environ, "drain_in_background": drain_in_background}
    if cfg.get("timeout"):
        attrs["TIMEOUT"] = float(cfg["timeout"])
    return type("DurableTransport", (DurableTransport,), attrs)


def make_transport(options, spool_cfg, environ=None):
    """What the activation layer passes as `sentry_sdk.init(transport=...)`.

    With `options` None: a transport class; the SDK instantiates it with its full options, and
    leaves it uninstantiated when the DSN is empty. With an options dict (at least `dsn`; missing
    keys take the SDK's defaults): an instance."""
    cls = durable_transport_class(spool_cfg, environ)
    if options is None:
        return cls
    full = dict(DEFAULT_OPTIONS)
    full.update(options)
    return cls(full)


# -- for the CLI --------------------------------------------------------------------------------

def spool_status(dsn, spool_cfg=None, environ=None):
    """Plain data about the spool of `dsn` (see `Spool.status`)."""
    return _spool.Spool.for_dsn(dsn, spool_cfg, environ).status()


def clear(dsn, spool_cfg=None, environ=None):
    """Remove every unclaimed spooled envelope of `dsn`; returns how many."""
    return _spool.Spool.for_dsn(dsn, spool_cfg, environ).clear()


def flush(dsn, spool_cfg=None, environ=None, options=None, progress=None):
    """Send the spool of `dsn` now, in this thread. Returns {"sent", "remaining", "status"} where
    remaining counts the files still in the spool (claimed by other processes included) and status
    is "empty" or "failed". `options` are extra SDK options (proxies, ca_certs, ...)."""
    opts = dict(DEFAULT_OPTIONS)
    opts.update(options or {})
    opts["dsn"] = dsn
    cls = durable_transport_class(spool_cfg, environ, drain_in_background=False)
    transport = cls(opts)
    try:
        transport.spool.recover()
        transport.spool.enforce_bounds()
        outcome = transport.drain_once(progress=progress, stoppable=False)
        if outcome == _EMPTY:
            transport.report_drops()
        after = transport.spool.status()
        remaining = after["files"] + after["claimed"]
        return {"sent": transport.sent_count, "remaining": remaining,
                "status": outcome}
    finally:
        HttpTransport.kill(transport)
