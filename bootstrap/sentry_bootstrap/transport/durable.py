"""Durable delivery: `DurableTransport` is the SDK's own `HttpTransport` (proxies, TLS options,
compression, keep-alive and rate-limit headers unchanged) that writes an envelope it can't send to the
on-disk spool (`sentry_bootstrap.transport.spool`) instead of dropping it, and sends the spool later.

What a caller may rely on:
- The healthy path touches no disk (the spool directory opened and checked at start, a few system
  calls, to drain leftovers; at most two `lstat`s a second for the shared rate-limit file), unless write-ahead is on or the
  server announces a rate limit (written to the shared file when it is new or moves).
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
- Rate limits are shared: a limit learned from any answer (429, `Retry-After`,
  `X-Sentry-Rate-Limits`) is written to the spool's `ratelimits` file and read by every process with
  the same DSN, the next start included. Items of a category limited beyond `spool.max_age` are
  dropped and counted by the SDK (`ratelimit_backoff`), not spooled: they could only expire there.
- With `spool.write_ahead`, every envelope is written to the spool (as a file claimed by this
  process) before it is queued, and removed after the server's answer; after `kill -9` the next
  start's drainer finds the claim abandoned and sends it. At most the envelope in flight at the
  kill can reach the server twice (same event id, which the server deduplicates). The copy is not
  fsync'd (a process's death needs only the rename; a machine crash may lose it) until it is handed
  to the spool after a failure.
- In a pool worker (`multiprocessing`, billiard), every envelope is written ahead, no drainer runs,
  and the worker's end (SIGTERM, or the pool's finalizer) waits for the queue (`shutdown_timeout`) and
  for the request in flight: a terminated pool loses nothing and sends nothing twice.
- A spool directory that can't be trusted (a symbolic link, another owner, group- or
  world-writable) is refused with one line saying the fix; delivery then works as the SDK's own
  transport, without a spool.

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
from datetime import datetime, timedelta, timezone

from sentry_sdk.consts import DEFAULT_OPTIONS
from sentry_sdk.envelope import Envelope, Item, PayloadRef
from sentry_sdk.utils import capture_internal_exceptions

from sentry_bootstrap import _log, sdk_compat
from sentry_bootstrap.transport import envelope_file, own_traffic
from sentry_bootstrap.transport import spool as _spool

try:
    import brotli
except ImportError:
    brotli = None

__all__ = ["DurableTransport", "make_transport", "durable_transport_class", "spool_status", "flush",
           "clear"]

HttpTransport = sdk_compat.http_transport_base()
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_PENDING, _IN_FLIGHT, _DONE, _SPOOLED = range(4)
_FAILED, _EMPTY, _STOPPED = "failed", "empty", "stopped"
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 300.0


class _EnvelopeJob(object):
    """What the worker queue holds instead of the SDK's closure, so that `kill()` can find the
    envelopes still waiting and spool them."""

    __slots__ = ("transport", "envelope", "state", "spooled_path", "ahead")

    def __init__(self, transport, envelope, ahead=None):
        self.transport = transport
        self.envelope = envelope
        self.state = _PENDING
        self.spooled_path = None
        self.ahead = ahead  # the write-ahead copy (a spool Claim), when spool.write_ahead is on

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
            transport._keep(self)
            return
        try:
            with capture_internal_exceptions():
                transport.on_send_envelope(self.envelope)
                transport.flush_client_reports()
        finally:
            with transport._jobs_lock:
                if self.state == _IN_FLIGHT:
                    self.state = _DONE
            if self.state == _DONE and self.ahead is not None:
                transport.spool.done(self.ahead)  # answered: the write-ahead copy has done its job
            # Cleared last: a pool worker's SIGTERM waits for this, so the copy is gone by then.
            transport._in_flight = None


class DurableTransport(HttpTransport):
    """`HttpTransport` that spools what it can't send and drains the spool in the background.

    Class attributes (set by `durable_transport_class`): `spool_cfg` ({path, max_bytes, max_age,
    write_ahead}, plus the tuning knobs `backoff`, `backoff_max`, `timeout`, `fsync` used by tests), `environ`
    (for the state directory), `drain_in_background` (False for the CLI, which drains in the
    calling thread)."""

    spool_cfg = {}
    environ = None
    drain_in_background = True

    def __init__(self, options):
        own_traffic.install()  # also when the CLI (`spool flush`) makes the transport
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
        self._spool_refused = False
        self.write_ahead = bool(cfg.get("write_ahead"))
        self._pool_worker_pid = None  # the pid `_pool_worker` was decided for
        self._pool_worker = False
        self._pool_exit_armed = False
        self.sent_count = 0  # spooled files delivered by this transport
        # A forked child starts with an empty queue and fresh locks, never its parent's envelopes.
        sdk_compat.renew_after_fork(self, self._after_fork_in_child)
        # Drain leftovers from earlier runs and learn the limits other processes met; a healthy
        # start costs the few system calls of opening and checking the directory.
        try:
            if self.spool.exists():
                self._load_shared_limits()
                if self.drain_in_background and self.spool.has_work():
                    self._kick()
        except _spool.UnsafeDirectory as exc:
            self._refuse_spool(exc)

    def request(self, method, endpoint_type, body, headers):
        # Every HTTP request of this transport (live sends and the drainer's) is marked, so that
        # urllib3's records of it reach the hook's stderr line, never the program's handlers.
        with own_traffic.hook_request():
            return HttpTransport.request(self, method, endpoint_type, body, headers)

    def _refuse_spool(self, exc):
        """From now on, send as the SDK's own transport does: no spool, no drainer."""
        if not self._spool_refused:
            self._spool_refused = True
            _log.report("error", "delivery spool refused: %s; sending without a spool" % (exc,),
                        self.environ)

    # -- shared rate limits -------------------------------------------------------------------
    def on_update_rate_limits(self, response):
        before = dict(self.rate_limits())
        self.sdk_update_rate_limits(response)
        learned = {category: (until - _EPOCH).total_seconds()
                   for category, until in self.rate_limits().items()
                   if before.get(category) != until}
        if learned and not self._spool_refused:
            try:
                self.spool.rate_limits.merge(learned)
            except _spool.UnsafeDirectory as exc:
                self._refuse_spool(exc)
            except Exception as exc:
                _log.report("debug", "cannot share a rate limit: %r" % (exc,), self.environ)

    def _load_shared_limits(self):
        """Take the limits other processes learned for this DSN (rereads the file only when it
        changed, and looks at most once a second)."""
        if self._spool_refused:
            return
        try:
            shared = self.spool.rate_limits.read()
        except Exception:
            return
        for category, until in shared.items():
            when = datetime.fromtimestamp(until, timezone.utc)
            current = self.rate_limits().get(category)
            if current is None or current < when:
                self.rate_limits()[category] = when

    def _after_fork_in_child(self):
        """The parent's in-flight job, drainer and locks are not this process's."""
        self._jobs_lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._stop = threading.Event()
        self._in_flight = None
        self._drainer = self._drainer_pid = None

    # -- the write path -----------------------------------------------------------------------
    def capture_envelope(self, envelope):
        ahead = None
        pool_worker = self._in_pool_worker()  # first: it arms the worker's exit
        if (pool_worker or self.write_ahead) and not self._closing:
            ahead = self._write_ahead(envelope)
        job = _EnvelopeJob(self, envelope, ahead)
        if self._closing or not self.submit_to_worker(job):
            # Where the SDK would drop it (queue full, or after kill), keep it.
            job.state = _SPOOLED
            self._keep(job)
            self._kick()

    # -- pool workers ---------------------------------------------------------------------------
    def _in_pool_worker(self):
        """True in a worker of a `multiprocessing` pool (Celery's billiard names its own the same
        way). Such a worker is terminated (SIGTERM) when its pool is left with `with Pool() as p:`,
        and leaves through `os._exit` (no atexit flush) when the pool is closed, so everything it
        captures is written to the spool first (as with `write_ahead`), a drainer never runs in it,
        and it sends what it holds before either end (see `_pool_worker_exit`). Decided once per
        process, on first use (the process object is set up after the fork)."""
        if self._pool_worker_pid != os.getpid():
            self._pool_worker_pid = os.getpid()
            self._pool_worker = _pool_worker_name() is not None
            self._pool_exit_armed = False
        if self._pool_worker and not self._pool_exit_armed:
            self._pool_exit_armed = _arm_pool_worker_exit(self)
        return self._pool_worker

    def _pool_worker_exit(self, signum=None, frame=None):
        """At a pool worker's end: let the SDK's worker send what is queued (up to
        `shutdown_timeout`), then stop it taking more and let the request in flight finish, so that
        each envelope's spool copy is either removed after a 2xx or left for a drainer: nothing lost,
        nothing sent twice. Runs in the main thread (a finalizer, or the SIGTERM handler): it takes
        no lock the interrupted code may hold, it only polls. After SIGTERM, the process then dies
        of it, as it would have."""
        try:
            timeout = float(self.options.get("shutdown_timeout") or 0)
            deadline = time.monotonic() + timeout
            while self.worker_unfinished() and time.monotonic() < deadline:
                time.sleep(0.005)
            self._closing = True  # the worker thread releases, not sends, whatever is still queued
            deadline = time.monotonic() + max(timeout, 1.0)
            while self._in_flight is not None and time.monotonic() < deadline:
                time.sleep(0.005)
        except Exception:
            pass
        if signum is not None:
            import signal

            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def _write_ahead(self, envelope):
        """The envelope as a spool file this process holds, written before it is sent; None when
        the spool can't take it (the envelope is then sent as without write-ahead)."""
        if self._spool_refused:
            return None
        try:
            # No fsync: the copy is there for the death of this process (kill -9, the OOM killer),
            # which the rename alone survives; an fsync per envelope costs milliseconds. It is
            # fsync'd when handed to the spool after a failure (see _keep).
            return self.spool.write(envelope.serialize(), claimed=True, fsync=False)
        except _spool.UnsafeDirectory as exc:
            self._refuse_spool(exc)
        except Exception as exc:
            self._report_spool_error(exc)
        return None

    def _keep(self, job, envelope=None):
        """Keep a job's envelope in the spool for later. Its write-ahead copy, if any, is handed to
        the drainers (renamed to an unclaimed name) unless `envelope` (what was actually sent, as
        the SDK prepared it: maybe fewer items, maybe a client report more) replaces it."""
        ahead, job.ahead = job.ahead, None
        path = None
        if envelope is not None or ahead is None:
            path = self._spool_envelope(envelope or job.envelope)
        if ahead is not None:
            if path is None:
                self.spool.release(ahead, sync=True)
                path = os.path.join(ahead.directory, ahead.name)
            else:
                self.spool.done(ahead)
        job.spooled_path = path
        return path

    def on_send_envelope(self, envelope):
        job = self._in_flight
        if job is not None and job.envelope is not envelope:
            job = None
        if not self._online and not self._spool_refused:
            if job is None:
                self._spool_envelope(envelope)
            elif self._mark_spooled(job):
                self._keep(job)
            self._kick()
            return None
        self._load_shared_limits()
        # Checked only while some limit is recorded: the healthy path stays as cheap as the SDK's.
        limited = self.rate_limits() and [
            item for item in envelope.items if self.rate_limited(item.data_category)]
        if limited and not self._spool_refused:
            # Items limited for longer than the spool keeps anything are left to the SDK, which
            # drops them as ratelimit_backoff; the others wait in the spool instead.
            horizon = datetime.now(timezone.utc) + timedelta(seconds=self.spool.max_age)
            waiting = [item for item in limited if self._limit_end(item.data_category) <= horizon]
            if waiting:
                self._spool_envelope(Envelope(headers=envelope.headers, items=waiting))
                self._kick()
            rest = [item for item in envelope.items if item not in waiting]
            if job is not None and job.ahead is not None and waiting:
                # The write-ahead copy holds the spooled items too: replace it by one of the rest.
                old, job.ahead = job.ahead, None
                if rest:
                    job.ahead = self._write_ahead(Envelope(headers=envelope.headers, items=rest))
                self.spool.done(old)
            if not rest:
                return None
            envelope = Envelope(headers=envelope.headers, items=rest)
            if job is not None:
                job.envelope = envelope
        return self.sdk_send_envelope(envelope)

    def _limit_end(self, category):
        ends = [t for t in (self.rate_limits().get(category), self.rate_limits().get(None))
                if t is not None]
        return max(ends) if ends else datetime.now(timezone.utc)

    def _mark_spooled(self, job):
        """True when this thread takes the job's envelope to the spool; False when kill() has
        taken it already."""
        with self._jobs_lock:
            if job.state == _SPOOLED:
                return False
            job.state = _SPOOLED
            return True

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
        if self._spool_refused:
            # No spool: lost, as the SDK's own transport would record it.
            self.handle_request_error(envelope, "network")
            return
        if offline:
            self._online = False
        _log.report("debug", "delivery failed (%s); envelope spooled" % why, self.environ)
        if job is not None:
            self._keep(job, envelope)
        else:
            self._spool_envelope(envelope)
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
        if not self._spool_refused:
            try:
                return self.spool.write(envelope.serialize())
            except _spool.UnsafeDirectory as exc:
                self._refuse_spool(exc)
            except Exception as exc:
                self._report_spool_error(exc)
        self.on_dropped_event("spool_error")
        for item in envelope.items:
            self.record_lost_event("network_error", item=item)
        return None

    def _report_spool_error(self, exc):
        if not self._spool_error_reported:
            self._spool_error_reported = True
            _log.report("error", "cannot write the delivery spool %s: %s"
                        % (self.spool.directory, exc), self.environ)

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
            self._keep(job)
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
        if not self.drain_in_background or self._spool_refused or self._in_pool_worker():
            return  # a pool worker may be terminated mid-send: another process drains
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
        entirely of those categories: see `_category_limit_wait`."""
        until = self.rate_limits().get(None)
        if until is None:
            return 0.0
        return max((until - datetime.now(timezone.utc)).total_seconds(), 0.0)

    def _category_limit_wait(self, envelope):
        """Seconds until this parsed envelope (an `envelope_file.Envelope`) may be sent, when every
        item in it is in a rate-limited category; 0 when any item may go now."""
        categories = {envelope_file.category(t) for t in envelope.types()}
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
        self._load_shared_limits()
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
                envelope = envelope_file.parse(raw)
            except Exception as exc:  # OSError, MalformedEnvelope; anything else alike
                # Not a regular file (a link, a fifo), too large, truncated or not an envelope:
                # quarantined, never retried, and the files behind it go on.
                self.spool.set_aside(claim.file)
                _log.report("debug", "spool file %s set aside: %s" % (name, exc), self.environ)
                continue
            written_ns = envelope_file.parse_name(name)[0]
            if written_ns < oldest_ok:
                self.spool.discard(claim, _spool.REASON_AGE, raw)
                continue
            held = self._category_limit_wait(envelope)
            if held > 0 and time.time_ns() + int(held * 1e9) > \
                    written_ns + int(self.spool.max_age * 1e9):
                # Limited until after it would expire anyway: dropped now, counted.
                self.spool.discard(claim, _spool.REASON_RATE_LIMIT, raw)
                continue
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
                os.close(lock)


def _pool_worker_name():
    """The process name when this is a worker of a multiprocessing (or billiard) pool, else None:
    `ForkPoolWorker-3`, `SpawnPoolWorker-1`, `ForkServerPoolWorker-2`."""
    import sys

    for module in ("multiprocessing.process", "billiard.process"):
        process = sys.modules.get(module)
        if process is None:
            continue
        try:
            name = process.current_process().name
        except Exception:
            continue
        if isinstance(name, str) and "PoolWorker-" in name:
            return name
    return None


def _arm_pool_worker_exit(transport):
    """Have `transport._pool_worker_exit` run when this pool worker ends: as a multiprocessing
    finalizer (a closed pool's worker leaves through `os._exit`, which runs those but not atexit)
    and as the SIGTERM handler (a terminated pool), unless the program has a handler of its own.
    True once armed; False when not in the main thread (signal handlers can only be set there)."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, transport._pool_worker_exit)
        from multiprocessing import util

        util.Finalize(None, transport._pool_worker_exit, exitpriority=100)
    except Exception as exc:
        _log.report("debug", "pool worker exit not armed: {}".format(exc), transport.environ)
    return True


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
