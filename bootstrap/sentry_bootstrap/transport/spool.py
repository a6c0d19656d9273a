"""The delivery spool: the envelope store (`transport/store.py`) under the spool policy, shared by
every process configured with the same DSN; `durable.py` sends what it holds.

The spool policy over the store: an envelope is written when it can't be sent now (or, with
`spool.write_ahead`, before every send, as a file claimed by the sending process); files are claimed,
sent oldest first with backoff, and deleted on a 2xx. Past `max_bytes` the oldest files are evicted
(down to 90% of it, so that a full spool is scanned once per tenth of its size, not on every write)
and past `max_age` (seconds) they are dropped, each counted by data category (`cache_overflow`,
`max_age`) for the next client report. Files are fsync'd (a spooled envelope survives a machine
crash), except when `fsync: false`.

Beside the envelopes, `ratelimits` holds the rate limits any process learned from the server for
this DSN (see `RateLimitFile`), so that every process, and the next start, honours them.

Default directory: `state_dir()/spool/<hash of DSN scheme, host, port, project>`; `spool.path` sets
it. A directory another user could tamper with is refused (`UnsafeDirectory`): the transport then
sends without a spool, and says so in one line.
Nothing here imports `sentry_sdk`.
"""
import hashlib
import os
import time
from urllib.parse import urlsplit

from sentry_bootstrap._paths import state_dir
from sentry_bootstrap.config.defaults import SPOOL_MAX_AGE, SPOOL_MAX_BYTES
from sentry_bootstrap.transport import store as _store
from sentry_bootstrap.transport.store import (  # noqa: F401 (the spool's vocabulary, re-exported)
    CLAIM_MARK, CORRUPT_DIR, DROPS_FILE, REASON_AGE, REASON_CORRUPT, REASON_RATE_LIMIT, REASON_REJECTED,
    REASON_SIZE, SUFFIX, TMP_PREFIX, Claim, UnsafeDirectory, fcntl, process_token)

RATE_LIMITS_FILE = "ratelimits"
# Another process's newly learned limits are seen within this many seconds (one stat each time).
RATE_LIMITS_RECHECK = 1.0


def spool_dir(dsn, path_setting=None, environ=None):
    """`spool.path` when set (`~` expanded, made absolute), else `state_dir()/spool/<16 hex>` where
    the hex is a hash of the DSN's scheme, host, port and project (not its key). Not created here."""
    if path_setting:
        return os.path.abspath(os.path.expanduser(str(path_setting)))
    parts = urlsplit(str(dsn or ""))
    project = parts.path.rstrip("/").rpartition("/")[2]
    ident = "%s://%s:%s/%s" % (parts.scheme, parts.hostname, parts.port or "", project)
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:16]
    return os.path.join(state_dir(environ), "spool", digest)


class Spool(_store.EnvelopeStore):
    """One spool directory. Safe to share between threads and between processes."""

    def __init__(self, directory, max_bytes=None, max_age=None, fsync=True, environ=None):
        _store.EnvelopeStore.__init__(
            self, directory, SPOOL_MAX_BYTES if max_bytes is None else max_bytes,
            SPOOL_MAX_AGE if max_age is None else max_age, fsync, environ)
        self.rate_limits = RateLimitFile(self)

    @classmethod
    def for_dsn(cls, dsn, spool_cfg=None, environ=None):
        """The spool of `dsn` configured by the `spool` section {path, max_bytes, max_age, fsync}."""
        cfg = spool_cfg or {}
        return cls(spool_dir(dsn, cfg.get("path"), environ), cfg.get("max_bytes"),
                   cfg.get("max_age"), cfg.get("fsync", True), environ)


class RateLimitFile(object):
    """The rate limits learned for one DSN, shared through `<spool>/ratelimits`: one line per data
    category, `<category or *> <until, unix seconds>` (`*`: every category). Written atomically
    (a private temporary file renamed over it), read with a bound and never through a link, through
    the spool's directory descriptor. Expired lines are dropped on the next write. Reading costs two
    `lstat`s (the directory still the one opened, then the file) per RATE_LIMITS_RECHECK seconds at
    most, and nothing more when the file is unchanged."""

    MAX_BYTES = 16 * 1024

    def __init__(self, spool):
        self.spool = spool
        self.path = os.path.join(spool.directory, RATE_LIMITS_FILE)
        self._seen = None  # (mtime_ns, size) of the file last read
        self._limits = {}
        self._checked_at = 0.0

    def _parse(self, raw):
        limits = {}
        for line in raw.decode("utf-8", "replace").splitlines()[:256]:
            parts = line.split()
            if len(parts) != 2:
                continue
            try:
                until = float(parts[1])
            except ValueError:
                continue
            if until == until and until < 1e11:  # finite and not absurd
                limits[None if parts[0] == "*" else parts[0]] = until
        return limits

    def read(self, force=False):
        """{category or None: until (unix seconds)} of the limits still running. Rereads the file
        only when it changed (and at most once per RATE_LIMITS_RECHECK unless `force`)."""
        now = time.monotonic()
        if force or now - self._checked_at >= RATE_LIMITS_RECHECK:
            self._checked_at = now
            try:
                directory = self.spool.opened()
                if directory is None:
                    raise FileNotFoundError(self.path)
                st = directory.lstat(RATE_LIMITS_FILE)
                seen = (st.st_mtime_ns, st.st_size, st.st_ino)
                if seen != self._seen:
                    self._limits = self._parse(directory.read(RATE_LIMITS_FILE, self.MAX_BYTES)[0])
                    self._seen = seen
            except OSError:
                self._limits, self._seen = {}, None
        wall = time.time()
        return {k: v for k, v in self._limits.items() if v > wall}

    def merge(self, limits):
        """Add {category or None: until (unix seconds)} to the shared file, keeping the later end of
        each limit. Raises OSError (or UnsafeDirectory) when the spool can't be written."""
        known = self.read() if limits else {}
        # A server may repeat a long limit on every answer (bugsink does): the file is rewritten
        # only when a limit is new or moves more than a second.
        limits = {k: v for k, v in limits.items() if v > known.get(k, 0) + 1.0}
        if not limits:
            return
        self.spool.ensure()

        def update():
            current = self.read(force=True)
            changed = False
            for category, until in limits.items():
                if until > current.get(category, 0):
                    current[category] = until
                    changed = True
            if changed:
                text = "".join("%s %.3f\n" % ("*" if k is None else k, v)
                               for k, v in sorted(current.items(), key=lambda kv: str(kv[0])))
                self.spool._replace(RATE_LIMITS_FILE, text.encode("ascii", "replace"))
                self._checked_at = 0.0
        self.spool._locked(update)
