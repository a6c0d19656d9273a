"""The on-disk spool of durable delivery: envelopes that could not be sent yet, shared by every
process configured with the same DSN.

Layout of a spool directory (default `state_dir()/spool/<hash of DSN scheme, host, port, project>`):
- `<time_ns>-<pid>-<token>-<counter>-<size>.envelope`: one envelope in the SDK's wire format,
  uncompressed, exactly as it will be sent (event ids stay stable, so the server can deduplicate).
  Names sort oldest first and are unique per process (`token` is random per process, so a reused
  pid, as in containers, never collides); the size in the name keeps the bound without a `stat`.
  Written to `.tmp-*`, fsync'd, then renamed into place: a reader never sees half a file.
- `<name>.claimed-<pid>-<token>`: a file being sent (or evicted) by that process. The rename is the
  claim, so two processes never send the same file at once. A claim whose process is gone (or whose
  pid was reused by a new process), or older than `CLAIM_TTL`, is stale and is renamed back.
- `corrupt/`: unreadable files and temporary files left by a process that died mid-write
  (`kill -9`), set aside (at most `CORRUPT_KEEP` of them) and counted as drops.
- `drops.log`: cumulative drop counts, one line per update: `D <reason>:<category> <n>` (dropped)
  or `R <reason>:<category> <n>` (reported to the server), appended with one write under a shared
  `flock` and compacted under an exclusive one (where the platform has `flock`).
  `dropped - reported` is what still has to go to the server as a client report.

The bounds `max_bytes` and `max_age` (seconds) are kept on every write: the oldest files go first and
each is counted (`cache_overflow` for size, `max_age` for age, by data category of its items).
Nothing here imports `sentry_sdk`; nothing here raises to the caller on a disk problem except
`write`, whose caller decides what a failure means.
"""
import collections
import hashlib
import itertools
import json
import os
import threading
import time
from urllib.parse import urlsplit

from sentry_bootstrap._files import CONFIG_LIMIT, ENVELOPE_LIMIT, read_bounded
from sentry_bootstrap._paths import make_private_dirs, state_dir

try:
    import fcntl
except ImportError:  # Windows: counters are then updated without a lock (best effort)
    fcntl = None

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_AGE = 7 * 24 * 3600
SUFFIX = ".envelope"
TMP_PREFIX = ".tmp-"
CLAIM_MARK = ".claimed-"
CORRUPT_DIR = "corrupt"
DROPS_FILE = "drops.log"
LOCK_FILE = "drops.lock"
# The counter log is rewritten as one line per key past this size.
COUNTS_COMPACT_BYTES = 64 * 1024
# A claim older than this is stale even when its pid is alive: no send takes that long.
CLAIM_TTL = 600
# A temporary file older than this was left by a writer that died.
TMP_TTL = 60
CORRUPT_KEEP = 50
# Another process's writes become visible to this one's bound at least this often.
RESCAN_SECONDS = 2.0

# Drop reasons, as the client-report protocol names them where it has a name.
REASON_SIZE = "cache_overflow"
REASON_AGE = "max_age"
REASON_CORRUPT = "internal_sdk_error"
REASON_REJECTED = "send_error"

_TOKEN = os.urandom(4).hex()
_TOKEN_PID = os.getpid()
_counter = itertools.count()

# Item type -> client-report data category, as sentry_sdk.envelope.Item.data_category maps it.
_CATEGORIES = {
    "session": "session", "sessions": "session", "attachment": "attachment",
    "transaction": "transaction", "span": "span", "event": "error", "log": "log_item",
    "trace_metric": "trace_metric", "client_report": "internal", "profile": "profile",
    "profile_chunk": "profile_chunk", "check_in": "monitor",
}


def process_token():
    """Random per process (renewed after fork): tells this process's claims from a reused pid's."""
    global _TOKEN, _TOKEN_PID
    if _TOKEN_PID != os.getpid():
        _TOKEN, _TOKEN_PID = os.urandom(4).hex(), os.getpid()
    return _TOKEN


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


def check_envelope(raw):
    """The item types of a serialized envelope; ValueError when it is truncated or malformed."""
    try:
        end = raw.index(b"\n") if b"\n" in raw else len(raw)
        if not isinstance(json.loads(raw[:end].decode("utf-8") or "{}"), dict):
            raise ValueError("envelope header is not an object")
        pos, types = end + 1, []
        while pos < len(raw):
            end = raw.find(b"\n", pos)
            end = len(raw) if end < 0 else end
            line = raw[pos:end]
            pos = end + 1
            if not line.strip():
                continue
            headers = json.loads(line.decode("utf-8"))
            if not isinstance(headers, dict):
                raise ValueError("item header is not an object")
            length = headers.get("length")
            if length is None:
                end = raw.find(b"\n", pos)
                end = len(raw) if end < 0 else end
                json.loads(raw[pos:end].decode("utf-8"))
                pos = end + 1
            else:
                if pos + int(length) > len(raw):
                    raise ValueError("item shorter than its length")
                pos += int(length) + 1
            types.append(headers.get("type"))
    except (UnicodeDecodeError, TypeError) as exc:
        raise ValueError(str(exc))
    if not types:
        raise ValueError("envelope has no items")
    return types


def _categories(raw):
    try:
        return [_CATEGORIES.get(t, "default") for t in check_envelope(raw)]
    except ValueError:
        return ["error"]


def _abandoned(path, owner_pid, ttl, now):
    """True when the process that owns `path` is gone (or is this one, after a fork or a pid reuse
    the token check did not match), or the file is older than `ttl` seconds."""
    try:
        age = now - os.stat(path).st_mtime
    except OSError:
        return False
    dead = (not owner_pid.isdigit() or int(owner_pid) == os.getpid()
            or not _pid_alive(int(owner_pid)))
    return dead or age > ttl


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _parse_name(name):
    """(time_ns, size) of a spool file name, else None."""
    if not name.endswith(SUFFIX) or name.startswith("."):
        return None
    parts = name[:-len(SUFFIX)].split("-")
    if len(parts) != 5 or not (parts[0].isdigit() and parts[4].isdigit()):
        return None
    return int(parts[0]), int(parts[4])


class Claim(object):
    """A file this process holds: `name` (the unclaimed name), `path` (the claimed path)."""

    __slots__ = ("name", "path", "directory")

    def __init__(self, directory, name, path):
        self.directory, self.name, self.path = directory, name, path

    def read(self):
        # Our state: no symlink followed, no fifo waited on, no unbounded read.
        return read_bounded(self.path, ENVELOPE_LIMIT, nofollow=True)


class Spool(object):
    """One spool directory. Safe to share between threads and between processes."""

    def __init__(self, directory, max_bytes=None, max_age=None, fsync=True):
        self.directory = directory
        # fsync makes a spooled envelope survive a machine crash; a process crash only needs the
        # rename. Off only where a test measures something else (bounds, counting).
        self.fsync = fsync
        self.max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes)
        self.max_age = DEFAULT_MAX_AGE if max_age is None else float(max_age)
        self._lock = threading.Lock()
        # Oldest-first (name, size) of the files this process knows of, and their total size.
        self._index = None
        self._index_bytes = 0
        self._scanned_at = 0.0

    @classmethod
    def for_dsn(cls, dsn, spool_cfg=None, environ=None):
        """The spool of `dsn` configured by the `spool` section {path, max_bytes, max_age}."""
        cfg = spool_cfg or {}
        return cls(spool_dir(dsn, cfg.get("path"), environ), cfg.get("max_bytes"), cfg.get("max_age"),
                   cfg.get("fsync", True))

    # -- writing --------------------------------------------------------------------------------
    def write(self, raw):
        """Store one serialized envelope durably (fsync, atomic rename) and keep the bounds.
        Returns the file's path, or None when the envelope alone exceeds `max_bytes` (counted as a
        drop). Raises OSError when the disk refuses."""
        size = len(raw)
        if size > self.max_bytes:
            self.record_drops(collections.Counter((c, REASON_SIZE) for c in _categories(raw)))
            return None
        self._ensure_dir()
        token = process_token()
        pid, n = os.getpid(), next(_counter)
        tmp = os.path.join(self.directory, "%s%d-%s-%d" % (TMP_PREFIX, pid, token, n))
        # The write and fsync run outside the lock, so two threads spooling at once overlap.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        with self._lock:
            # Room is made before the rename, so the new file never counts against itself; the name
            # is taken here so this process's files enter the index in order.
            self._keep_bounds(extra=size)
            name = "%020d-%d-%s-%d-%d%s" % (time.time_ns(), pid, token, n, size, SUFFIX)
            path = os.path.join(self.directory, name)
            os.replace(tmp, path)
            self._index.append((name, size))
            self._index_bytes += size
        return path

    def _ensure_dir(self):
        if not os.path.isdir(self.directory):
            make_private_dirs(self.directory)

    def _rescan(self):
        entries = []
        total = 0
        for name in sorted(self._names()):
            parsed = _parse_name(name)
            if parsed is not None:
                entries.append((name, parsed[1]))
                total += parsed[1]
        self._index = collections.deque(entries)
        self._index_bytes = total
        self._scanned_at = time.monotonic()

    def _keep_bounds(self, extra=0, force=False):
        """Evict the oldest files past max_age, then until size + extra fits. Holds self._lock."""
        if force or self._index is None or time.monotonic() - self._scanned_at > RESCAN_SECONDS:
            self._rescan()
        drops = collections.Counter()
        oldest_ok = time.time_ns() - int(self.max_age * 1e9)
        while self._index:
            name, size = self._index[0]
            too_old = int(name.split("-", 1)[0]) < oldest_ok
            if not too_old and self._index_bytes + extra <= self.max_bytes:
                break
            self._index.popleft()
            self._index_bytes -= size
            claim = self.claim(name)
            if claim is None:  # sent or evicted by someone else meanwhile
                continue
            try:
                raw = claim.read()
                os.unlink(claim.path)
            except OSError:
                continue
            reason = REASON_AGE if too_old else REASON_SIZE
            drops.update((c, reason) for c in _categories(raw))
        if drops:
            self.record_drops(drops)

    def enforce_bounds(self):
        """Rescan the directory and evict what is past a bound (counted)."""
        if not os.path.isdir(self.directory):
            return
        with self._lock:
            self._keep_bounds(force=True)

    # -- reading and claiming -------------------------------------------------------------------
    def _names(self):
        try:
            return os.listdir(self.directory)
        except OSError:
            return []

    def pending(self):
        """Unclaimed envelope file names, oldest first."""
        return sorted(n for n in self._names() if _parse_name(n) is not None)

    def has_work(self):
        """True when there are files to send or drops not yet reported. Cheap when the directory
        does not exist (one stat)."""
        if not os.path.isdir(self.directory):
            return False
        names = self._names()
        if any(_parse_name(n) or CLAIM_MARK in n or n.startswith(TMP_PREFIX) for n in names):
            return True
        return DROPS_FILE in names and bool(self.unreported())

    def claim(self, name):
        """Claim an unclaimed file by renaming it; None when another process got there first."""
        path = os.path.join(self.directory, "%s%s%d-%s" % (name, CLAIM_MARK, os.getpid(),
                                                           process_token()))
        try:
            os.rename(os.path.join(self.directory, name), path)
        except OSError:
            return None
        try:
            os.utime(path, None)  # the claim's age, for CLAIM_TTL
        except OSError:
            pass
        return Claim(self.directory, name, path)

    def release(self, claim):
        """Give a claimed file back (to be sent later), within the bounds: writes made while it was
        claimed could not evict it."""
        try:
            os.rename(claim.path, os.path.join(self.directory, claim.name))
        except OSError:
            return
        parsed = _parse_name(claim.name)
        with self._lock:
            if self._index is not None and parsed is not None:
                self._index.appendleft((claim.name, parsed[1]))  # it is the oldest: it sorts first
                self._index_bytes += parsed[1]
                self._keep_bounds()

    def done(self, claim):
        """Remove a claimed file: the server answered 2xx."""
        try:
            os.unlink(claim.path)
        except OSError:
            pass

    def discard(self, claim, reason, raw=None):
        """Remove a claimed file that will never be accepted, counted as a drop."""
        if raw is None:
            try:
                raw = claim.read()
            except OSError:
                raw = b""
        self.done(claim)
        self.record_drops(collections.Counter((c, reason) for c in _categories(raw)))

    def set_aside(self, path, reason=REASON_CORRUPT):
        """Move a file to `corrupt/` (keeping the newest CORRUPT_KEEP) and count one drop."""
        corrupt = os.path.join(self.directory, CORRUPT_DIR)
        try:
            os.makedirs(corrupt, mode=0o700, exist_ok=True)
            os.replace(path, os.path.join(corrupt, os.path.basename(path)))
        except OSError:
            try:
                os.unlink(path)
            except OSError:
                pass
        self.record_drops({("error", reason): 1})
        try:
            kept = sorted(os.listdir(corrupt))
            for name in kept[:-CORRUPT_KEEP]:
                os.unlink(os.path.join(corrupt, name))
        except OSError:
            pass

    def recover(self):
        """Rename stale claims back and set aside temporary files left by dead writers."""
        token, pid, now = process_token(), os.getpid(), time.time()
        for name in self._names():
            path = os.path.join(self.directory, name)
            if CLAIM_MARK in name:
                base, _, owner = name.partition(CLAIM_MARK)
                owner_pid, _, owner_token = owner.partition("-")
                if owner_token == token and owner_pid == str(pid):
                    continue
                if _abandoned(path, owner_pid, CLAIM_TTL, now):
                    try:
                        os.rename(path, os.path.join(self.directory, base))
                    except OSError:
                        pass
            elif name.startswith(TMP_PREFIX):
                owner_pid, _, rest = name[len(TMP_PREFIX):].partition("-")
                if owner_pid == str(pid) and rest.startswith(token + "-"):
                    continue
                if _abandoned(path, owner_pid, TMP_TTL, now):
                    self.set_aside(path)

    # -- drop counters --------------------------------------------------------------------------
    def _locked(self, fn, mode="LOCK_EX"):
        self._ensure_dir()
        with open(os.path.join(self.directory, LOCK_FILE), "a") as lock:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), getattr(fcntl, mode))
            try:
                return fn()
            finally:
                if fcntl is not None:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _read_counts(self):
        """{"dropped": {...}, "reported": {...}} from the counter log (malformed lines skipped)."""
        data = {"dropped": {}, "reported": {}}
        try:
            text = read_bounded(os.path.join(self.directory, DROPS_FILE), CONFIG_LIMIT,
                                nofollow=True).decode("utf-8", "replace")
        except OSError:
            return data
        for line in text.splitlines():
            parts = line.split()
            if len(parts) != 3 or parts[0] not in ("D", "R") or not parts[2].isdigit():
                continue
            bucket = data["dropped" if parts[0] == "D" else "reported"]
            bucket[parts[1]] = bucket.get(parts[1], 0) + int(parts[2])
        return data

    def _append_counts(self, kind, counts):
        # One O_APPEND write per call: cheap enough for every eviction of a burst, and whole lines
        # survive a kill. Appenders share the lock; compaction takes it exclusively.
        # Each line starts with a newline too, so a line torn by a crash never swallows the next.
        text = "".join("\n%s %s:%s %d" % (kind, reason, category, n)
                       for (category, reason), n in sorted(counts.items()) if n > 0)
        if not text:
            return
        path = os.path.join(self.directory, DROPS_FILE)

        def append():
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, text.encode("utf-8"))
                return os.fstat(fd).st_size
            finally:
                os.close(fd)
        size = self._locked(append, "LOCK_SH")
        if size > COUNTS_COMPACT_BYTES:
            self._locked(self._compact)

    def _compact(self):
        data = self._read_counts()
        lines = ["D %s %d\n" % (k, n) for k, n in sorted(data["dropped"].items())]
        lines += ["R %s %d\n" % (k, n) for k, n in sorted(data["reported"].items())]
        tmp = "%s%d-%s-counts" % (os.path.join(self.directory, TMP_PREFIX), os.getpid(),
                                  process_token())
        with open(tmp, "w") as f:
            f.write("".join(lines))
        os.replace(tmp, os.path.join(self.directory, DROPS_FILE))

    def record_drops(self, counts):
        """Add {(category, reason): n} to the persistent drop counters. Never raises."""
        try:
            self._append_counts("D", counts)
        except OSError:
            pass

    def drop_counts(self):
        """{"reason:category": n} of every drop ever counted here (reported or not)."""
        if not os.path.isdir(self.directory):
            return {}
        return self._read_counts()["dropped"]

    def unreported(self):
        """{(category, reason): n} of drops not yet sent to the server as a client report."""
        if not os.path.isdir(self.directory):
            return {}
        data = self._read_counts()
        out = {}
        for key, n in data["dropped"].items():
            left = n - data["reported"].get(key, 0)
            if left > 0:
                reason, _, category = key.partition(":")
                out[(category, reason)] = left
        return out

    def mark_reported(self, counts):
        """Record that {(category, reason): n} reached the server."""
        try:
            self._append_counts("R", counts)
        except OSError:
            pass

    def try_report_lock(self):
        """A non-blocking exclusive lock for sending the drop report, or None when another process
        holds it. Close the returned file to release it."""
        if fcntl is None:
            return None
        try:
            self._ensure_dir()
            f = open(os.path.join(self.directory, "report.lock"), "a")
        except OSError:
            return None
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return None
        return f

    # -- commands -------------------------------------------------------------------------------
    def status(self):
        """Plain data for `spool status` and the startup report."""
        names = self._names()
        files = [n for n in names if _parse_name(n)]
        claimed = [n for n in names if CLAIM_MARK in n]
        sizes = [_parse_name(n)[1] for n in files]
        oldest = min((_parse_name(n)[0] for n in files), default=None)
        try:
            corrupt = len(os.listdir(os.path.join(self.directory, CORRUPT_DIR)))
        except OSError:
            corrupt = 0
        return {
            "path": self.directory,
            "files": len(files),
            "bytes": sum(sizes),
            "claimed": len(claimed),
            "corrupt": corrupt,
            "oldest_age": None if oldest is None else max(0.0, time.time() - oldest / 1e9),
            "max_bytes": self.max_bytes,
            "max_age": self.max_age,
            "dropped": self.drop_counts(),
            "unreported": sum(self.unreported().values()),
        }

    def clear(self):
        """Remove every unclaimed envelope file (not counted as drops: the user asked). Returns how
        many were removed."""
        removed = 0
        for name in self.pending():
            claim = self.claim(name)
            if claim is not None:
                self.done(claim)
                removed += 1
        with self._lock:
            self._index = None
        return removed
