"""The envelope-directory store: the one implementation under the local outbox (no DSN) and the
delivery spool (with a DSN), which are two policies over it (see `outbox.py` and `spool.py`).

Layout of a store directory:
- `<time_ns>-<pid>-<token>-<counter>-<size>.envelope`: one envelope in the SDK's wire format,
  uncompressed; the name, the listing order, the read limit and the parser are `envelope_file.py`'s.
  Names sort oldest first and are unique per process (`token` is random per process, renewed after
  fork, so a reused pid, as in containers, never collides); the size in the name keeps the bound
  without a `stat`. Written to `.tmp-*` (optionally fsync'd), then renamed into place: a
  reader never sees half a file.
- `<name>.claimed-<pid>-<token>`: a file held by that process (being sent, evicted, or written ahead
  of its send). The rename is the claim, so two processes never take the same file. A claim whose
  process is gone (or whose pid was reused), or older than `CLAIM_TTL`, is stale: `recover` renames
  it back.
- `store.state`: the ledger, `<bytes> <evicted>` as two fixed-width numbers: the bytes written
  since the last scan, and how many envelopes were evicted for the bounds since the last clear. Writers update it under an exclusive `flock` (waiting at most LOCK_TIMEOUT, then best
  effort), so the bound holds across processes at the cost of one small locked update per write.
  Files leaving the store (sent, cleared) are not subtracted: the ledger only over-counts, and when
  it passes `max_bytes` the directory is scanned, the ledger set to the truth and the oldest files
  evicted down to `LOW_WATER` of the bound (so a full store is scanned once per tenth of its size).
- `drops.log`: cumulative drop counts, one line per update: `D <reason>:<category> <n>` (dropped)
  or `R <reason>:<category> <n>` (reported to the server), appended with one write under a shared
  `flock` on `drops.lock` and compacted under an exclusive one. `dropped - reported` is what still
  has to reach the server as a client report.
- `corrupt/`: unreadable files and temporary files left by a writer that died (`kill -9`), set
  aside (the newest CORRUPT_KEEP of them) and counted as drops.

Trust: the directory is opened once as a `_files.StateDir` (created 0700) and refused
(`UnsafeDirectory`, whose message says the fix) when it is a symbolic link, owned by another user,
writable by group or others, or held by a directory another user may write. Every file, lock,
rename and unlink then goes through that descriptor (O_NOFOLLOW, O_NONBLOCK, a regular file checked
on its own descriptor, reads bounded), so a directory swapped for another mid-run is never followed;
the swap is noticed at the next write or scan (`StateDir.verify`) and the store refuses from then on.

Nothing here imports `sentry_sdk`.
"""
import collections
import itertools
import os
import threading
import time

from sentry_bootstrap._files import StateDir
from sentry_bootstrap._paths import UnsafeDirectory
from sentry_bootstrap.transport import envelope_file
from sentry_bootstrap.transport.envelope_file import SUFFIX, categories, parse_name

try:
    import fcntl
except ImportError:  # Windows: the ledger and counters are then updated without a lock
    fcntl = None

__all__ = ["EnvelopeStore", "UnsafeDirectory", "Claim"]

TMP_PREFIX = ".tmp-"
CLAIM_MARK = ".claimed-"
CORRUPT_DIR = "corrupt"
STATE_FILE = "store.state"
DROPS_FILE = "drops.log"
LOCK_FILE = "drops.lock"
REPORT_LOCK_FILE = "report.lock"
# Eviction goes down to this fraction of max_bytes (hysteresis, see the module docstring).
LOW_WATER = 0.9
# Longest a write waits for another process's hold on the ledger.
LOCK_TIMEOUT = 2.0
# The counter log is rewritten as one line per key past this size.
COUNTS_COMPACT_BYTES = 64 * 1024
# A claim older than this is stale even when its pid is alive: no send takes that long.
CLAIM_TTL = 600
# A temporary file older than this was left by a writer that died.
TMP_TTL = 60
CORRUPT_KEEP = 50
_STATE_FORMAT = "{:020d} {:020d}\n"

# Drop reasons, as the client-report protocol names them where it has a name.
REASON_SIZE = "cache_overflow"
REASON_AGE = "max_age"
REASON_CORRUPT = "internal_sdk_error"
REASON_REJECTED = "send_error"
REASON_RATE_LIMIT = "ratelimit_backoff"

_TOKEN = os.urandom(4).hex()
_TOKEN_PID = os.getpid()
_counter = itertools.count()


def process_token():
    """Random per process (renewed after fork): tells this process's claims from a reused pid's."""
    global _TOKEN, _TOKEN_PID
    if _TOKEN_PID != os.getpid():
        _TOKEN, _TOKEN_PID = os.urandom(4).hex(), os.getpid()
    return _TOKEN


# -- files, safely ----------------------------------------------------------------------------------

_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# -- claims -----------------------------------------------------------------------------------------

def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _abandoned(directory, name, owner_pid, ttl, now):
    """True when the process that owns the file `name` is gone (or is this one, after a fork or a
    pid reuse the token check did not match), or the file is older than `ttl` seconds."""
    try:
        age = now - directory.lstat(name).st_mtime
    except OSError:
        return False
    dead = (not owner_pid.isdigit() or int(owner_pid) == os.getpid()
            or not _pid_alive(int(owner_pid)))
    return dead or age > ttl


class Claim(object):
    """A file this process holds: `name` (the unclaimed name), `file` (the claimed name), `path`
    (the claimed path, for messages) in `directory` (a path)."""

    __slots__ = ("name", "file", "path", "directory", "_dir")

    def __init__(self, state_dir, name, file):
        self._dir, self.name, self.file = state_dir, name, file
        self.directory = state_dir.path
        self.path = os.path.join(state_dir.path, file)

    def read(self):
        return envelope_file.read(self.file, directory=self._dir)


# -- the ledger -------------------------------------------------------------------------------------

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


def _flock(fd, mode, timeout=LOCK_TIMEOUT):
    """Take a flock, waiting at most `timeout` seconds. A writer never blocks for longer: past it
    (a stopped process holding the lock) it goes on unlocked, and a drift is corrected by a scan."""
    if fcntl is None:
        return
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except (BlockingIOError, PermissionError):
            if time.monotonic() >= deadline:
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.02)


def parse_state(raw):
    """(bytes or None, evicted) from the ledger's bytes."""
    parts = raw.split()
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        return int(parts[0]), int(parts[1])
    return None, 0


class _Ledger(object):
    """The locked `store.state` file: `bytes` (None when missing or unreadable) and `evicted`."""

    def __init__(self, state_dir):
        self._fd = state_dir.open_file(STATE_FILE, os.O_RDWR | os.O_CREAT)
        _open_ledgers.add(self._fd)
        try:
            _flock(self._fd, fcntl.LOCK_EX if fcntl else 0)
            raw = os.pread(self._fd, 64, 0) if hasattr(os, "pread") else os.read(self._fd, 64)
            self.bytes, self.evicted = parse_state(raw)
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


# -- the store --------------------------------------------------------------------------------------

class EnvelopeStore(object):
    """One envelope directory, bounded by `max_bytes` and (when set) `max_age` seconds. Safe to
    share between threads and between processes. The policies (outbox, spool) decide what is read,
    sent and removed; the store keeps the files, the bounds and the counts."""

    def __init__(self, directory, max_bytes, max_age=None, fsync=False, environ=None):
        self.directory = directory
        self.max_bytes = int(max_bytes)
        self.max_age = None if max_age is None else float(max_age)
        # fsync makes a stored envelope survive a machine crash; a process crash only needs the rename.
        self.fsync = fsync
        self.environ = environ
        self._lock = threading.Lock()
        self._dir = None  # the StateDir, once opened and checked

    # -- the directory ------------------------------------------------------------------------------
    def ensure(self):
        """Create the directory (0700) if needed, open it and check it can be trusted (once per
        store), or check it is still the one opened; raises UnsafeDirectory (with the fix in its
        message) or OSError."""
        if self._dir is None:
            self._dir = StateDir.open(self.directory, self.environ, create=True)
        else:
            self._dir.verify()
        return self.directory

    def exists(self):
        """True when the directory exists (a few syscalls the first time, one `lstat` after);
        raises UnsafeDirectory when it exists and can't be trusted, or was swapped since."""
        if self._dir is not None:
            self._dir.verify()
            return True
        try:
            self._dir = StateDir.open(self.directory, self.environ)
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def opened(self):
        """The open StateDir when the directory exists (see `exists`), else None."""
        return self._dir if self.exists() else None

    def names(self):
        """Every name in the directory ([] when it does not exist)."""
        directory = self.opened()
        if directory is None:
            return []
        try:
            return directory.listdir()
        except OSError:
            return []

    def pending(self):
        """Unclaimed envelope file names in the store's own naming, oldest first."""
        return [n for n in envelope_file.list_names(self.names()) if parse_name(n) is not None]

    # -- writing ------------------------------------------------------------------------------------
    def write(self, raw, claimed=False, fsync=None):
        """Store one serialized envelope atomically and keep the bounds. Returns the file's path (a
        `Claim` held by this process when `claimed`), or None when the envelope alone exceeds
        `max_bytes` (counted as a drop). `fsync` overrides the store's setting for this file.
        Raises UnsafeDirectory or OSError when the disk refuses."""
        size = len(raw)
        if size > min(self.max_bytes, envelope_file.READ_LIMIT):  # it could never be read back
            self.record_drops(collections.Counter((c, REASON_SIZE) for c in categories(raw)))
            return None
        self.ensure()
        directory = self._dir
        token = process_token()
        pid, n = os.getpid(), next(_counter)
        if claimed:
            # Written straight under its claim: no reader takes a live process's claim, and a dead
            # writer's half file is set aside like a temporary file. Saves the rename.
            name = envelope_file.file_name(time.time_ns(), pid, token, n, size)
            claim = Claim(directory, name, self._claim_name(name))
            tmp = claim.file
        else:
            tmp = "%s%d-%s-%d" % (TMP_PREFIX, pid, token, n)
        fd = directory.open_file(tmp, _NEW)
        try:
            try:
                _write_all(fd, raw)
                if self.fsync if fsync is None else fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            with _Ledger(directory) as ledger:
                # Room is made before the rename, so the new file never counts against itself.
                if ledger.bytes is None:  # a new or damaged ledger: learn the truth once
                    ledger.bytes = self._evict(ledger, self.max_bytes - size)
                elif ledger.bytes + size > self.max_bytes:
                    ledger.bytes = self._evict(ledger, max(int(self.max_bytes * LOW_WATER) - size, 0))
                if not claimed:
                    name = envelope_file.file_name(time.time_ns(), pid, token, n, size)
                    directory.rename(tmp, name)
                ledger.bytes += size
                ledger.save()
        except BaseException:
            try:
                directory.unlink(tmp)
            except OSError:
                pass
            raise
        return claim if claimed else os.path.join(self.directory, name)

    def _evict(self, ledger, target):
        """Claim and remove the oldest files past max_age, then until at most `target` bytes of
        unclaimed files remain, counting each by category (and each envelope in `ledger.evicted`);
        returns the bytes that remain. Call with the ledger locked: one process evicts at a time."""
        entries = []
        total = 0
        for name in envelope_file.list_names(self.names()):
            parsed = parse_name(name)
            if parsed is None:
                try:
                    parsed = (0, self._dir.lstat(name).st_size)
                except OSError:
                    continue
            entries.append((name, parsed))
            total += parsed[1]
        oldest_ok = None if self.max_age is None else time.time_ns() - int(self.max_age * 1e9)
        drops = collections.Counter()
        for name, (stamp, size) in entries:
            too_old = oldest_ok is not None and stamp < oldest_ok and parse_name(name) is not None
            if not too_old and total <= target:
                break
            total -= size
            claim = self.claim(name)
            if claim is None:  # sent or evicted by someone else meanwhile: not a drop
                continue
            try:
                raw = claim.read()
            except OSError:
                raw = b""
            try:
                self._dir.unlink(claim.file)
            except OSError:
                continue
            reason = REASON_AGE if too_old else REASON_SIZE
            drops.update((c, reason) for c in categories(raw))
            ledger.evicted += 1
        if drops:
            self.record_drops(drops)
            self._remove_stale_tmp()
        return total

    def enforce_bounds(self, max_bytes=None):
        """Scan the directory, evict what is past a bound (counted; down to `max_bytes` when given,
        else to the store's bound, with no hysteresis) and set the ledger to the truth. Returns how
        many envelopes were evicted."""
        if not self.exists():
            return 0
        with _Ledger(self._dir) as ledger:
            before = ledger.evicted
            ledger.bytes = self._evict(ledger, self.max_bytes if max_bytes is None else max_bytes)
            ledger.save()
            return ledger.evicted - before

    def evicted_count(self):
        """How many envelopes were evicted for the bounds since the last `clear(reset=True)`."""
        try:
            return parse_state(self.opened().read(STATE_FILE, 64)[0])[1]
        except (OSError, AttributeError):  # AttributeError: no directory
            return 0

    def _remove_stale_tmp(self):
        now = time.time()
        for name in self.names():
            if name.startswith(TMP_PREFIX):
                owner_pid = name[len(TMP_PREFIX):].partition("-")[0]
                if owner_pid != str(os.getpid()) and \
                        _abandoned(self._dir, name, owner_pid, TMP_TTL, now):
                    try:
                        self._dir.unlink(name)
                    except OSError:
                        pass

    # -- claiming -----------------------------------------------------------------------------------
    def _claim_name(self, name):
        return "%s%s%d-%s" % (name, CLAIM_MARK, os.getpid(), process_token())

    def claim(self, name):
        """Claim an unclaimed file by renaming it; None when another process got there first."""
        directory = self.opened()
        if directory is None:
            return None
        claimed = self._claim_name(name)
        try:
            directory.rename(name, claimed)
        except OSError:
            return None
        try:
            directory.touch(claimed)  # the claim's age, for CLAIM_TTL
        except (OSError, NotImplementedError):
            pass
        return Claim(directory, name, claimed)

    def release(self, claim, sync=False):
        """Give a claimed file back (to be sent later); `sync`: fsync it first when the store
        fsyncs (for a file written without, as write-ahead copies are)."""
        if sync and self.fsync:
            try:
                fd = self._dir.open_file(claim.file, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError:
                pass
        try:
            self._dir.rename(claim.file, claim.name)
        except OSError:
            pass

    def done(self, claim):
        """Remove a claimed file (delivered, or no longer wanted)."""
        try:
            self._dir.unlink(claim.file)
        except OSError:
            pass

    def discard(self, claim, reason, raw=None):
        """Remove a claimed file that will never be delivered, counted as a drop."""
        if raw is None:
            try:
                raw = claim.read()
            except OSError:
                raw = b""
        self.done(claim)
        self.record_drops(collections.Counter((c, reason) for c in categories(raw)))

    def set_aside(self, name, reason=REASON_CORRUPT):
        """Quarantine the file `name` (a name in the directory, or its path): move it to `corrupt/`
        (keeping the newest CORRUPT_KEEP there) and count one drop. Never raises."""
        name = os.path.basename(name)
        try:
            directory = self.opened()
        except OSError:
            return
        if directory is None:
            return
        corrupt = None
        try:
            # Opened like the store itself: a link planted there is never renamed into.
            corrupt = directory.subdir(CORRUPT_DIR, create=True)
            directory.rename(name, name, into=corrupt)
        except OSError:
            try:
                directory.unlink(name)
            except OSError:
                pass
        self.record_drops({("error", reason): 1})
        if corrupt is not None:
            try:
                for old in sorted(corrupt.listdir())[:-CORRUPT_KEEP]:
                    corrupt.unlink(old)
            except OSError:
                pass
            corrupt.close()

    def recover(self):
        """Rename stale claims back and set aside temporary files left by dead writers."""
        token, pid, now = process_token(), os.getpid(), time.time()
        for name in self.names():
            if CLAIM_MARK in name:
                base, _, owner = name.partition(CLAIM_MARK)
                owner_pid, _, owner_token = owner.partition("-")
                if owner_token == token and owner_pid == str(pid):
                    continue
                if _abandoned(self._dir, name, owner_pid, CLAIM_TTL, now):
                    try:
                        self._dir.rename(name, base)
                    except OSError:
                        pass
            elif name.startswith(TMP_PREFIX):
                owner_pid, _, rest = name[len(TMP_PREFIX):].partition("-")
                if owner_pid == str(pid) and rest.startswith(token + "-"):
                    continue
                if _abandoned(self._dir, name, owner_pid, TMP_TTL, now):
                    self.set_aside(name)

    def has_work(self):
        """True when there are files to send (claims and leftovers included) or drops not yet
        reported. Cheap when the directory does not exist (an `open` or two that fail)."""
        if not self.exists():
            return False
        names = self.names()
        if any(parse_name(n) or CLAIM_MARK in n or n.startswith(TMP_PREFIX) for n in names):
            return True
        return DROPS_FILE in names and bool(self.unreported())

    # -- drop counters ------------------------------------------------------------------------------
    def _locked(self, fn, shared=False):
        self.ensure()
        fd = self._dir.open_file(LOCK_FILE, os.O_WRONLY | os.O_CREAT)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            return fn()
        finally:
            os.close(fd)  # releases the flock

    def _read_counts(self):
        """{"dropped": {...}, "reported": {...}} from the counter log (malformed lines skipped)."""
        data = {"dropped": {}, "reported": {}}
        try:
            text = self.opened().read(DROPS_FILE, 4 * COUNTS_COMPACT_BYTES + (1 << 20))[0]
        except (OSError, AttributeError):  # AttributeError: no directory
            return data
        for line in text.decode("utf-8", "replace").splitlines():
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
        def append():
            fd = self._dir.open_file(DROPS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                os.write(fd, text.encode("utf-8"))
                return os.fstat(fd).st_size
            finally:
                os.close(fd)
        size = self._locked(append, shared=True)
        if size > COUNTS_COMPACT_BYTES:
            self._locked(self._compact)

    def _compact(self):
        data = self._read_counts()
        lines = ["D %s %d\n" % (k, n) for k, n in sorted(data["dropped"].items())]
        lines += ["R %s %d\n" % (k, n) for k, n in sorted(data["reported"].items())]
        self._replace(DROPS_FILE, "".join(lines).encode("utf-8"))

    def _replace(self, name, data):
        """Atomically replace the small file `name` with `data` (private, never through a link)."""
        tmp = "%s%d-%s-%d-%s" % (TMP_PREFIX, os.getpid(), process_token(), next(_counter), name)
        fd = self._dir.open_file(tmp, _NEW)
        try:
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
            self._dir.rename(tmp, name)
        except BaseException:
            try:
                self._dir.unlink(tmp)
            except OSError:
                pass
            raise

    def record_drops(self, counts):
        """Add {(category, reason): n} to the persistent drop counters. Never raises."""
        try:
            self._append_counts("D", counts)
        except OSError:
            pass

    def drop_counts(self):
        """{"reason:category": n} of every drop ever counted here (reported or not)."""
        if not self.exists():
            return {}
        return self._read_counts()["dropped"]

    def unreported(self):
        """{(category, reason): n} of drops not yet sent to the server as a client report."""
        if not self.exists():
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
        holds it. Close the returned descriptor (`os.close`) to release it."""
        if fcntl is None:
            return None
        try:
            self.ensure()
            fd = self._dir.open_file(REPORT_LOCK_FILE, os.O_WRONLY | os.O_CREAT)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd

    # -- commands -----------------------------------------------------------------------------------
    def status(self):
        """Plain data for `spool status` and the startup report."""
        names = self.names()
        files = [parse_name(n) for n in names if parse_name(n)]
        corrupt = self.quarantined()
        oldest = min((f[0] for f in files), default=None)
        return {
            "path": self.directory,
            "files": len(files),
            "bytes": sum(f[1] for f in files),
            "claimed": sum(1 for n in names if CLAIM_MARK in n),
            "corrupt": corrupt,
            "oldest_age": None if oldest is None else max(0.0, time.time() - oldest / 1e9),
            "max_bytes": self.max_bytes,
            "max_age": self.max_age,
            "dropped": self.drop_counts(),
            "unreported": sum(self.unreported().values()),
        }

    def quarantined(self):
        """How many files are set aside in `corrupt/` (unreadable: never sent, never shown)."""
        corrupt = None
        try:
            corrupt = self.opened().subdir(CORRUPT_DIR)
            return len(corrupt.listdir())
        except (OSError, AttributeError):  # AttributeError: no directory
            return 0
        finally:
            if corrupt is not None:
                corrupt.close()

    def clear(self, every_name=False, reset=False):
        """Remove every unclaimed envelope file (not counted as drops: the user asked) and set the
        ledger to what is left. `every_name` also takes files not in the store's own naming; `reset`
        also forgets the eviction and drop counts. Returns how many were removed."""
        if not self.exists():
            return 0
        removed = 0
        with _Ledger(self._dir) as ledger:
            for name in self.names():
                if parse_name(name) is None and not (every_name and envelope_file.is_envelope_name(name)):
                    continue
                claim = self.claim(name)
                if claim is not None:
                    self.done(claim)
                    removed += 1
            ledger.bytes = self._evict(ledger, float("inf"))
            if reset:
                ledger.evicted = 0
                self._locked(lambda: self._replace(DROPS_FILE, b""))
            ledger.save()
        return removed
