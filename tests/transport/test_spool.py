"""The spool on a real filesystem: names, claims, age bound, corrupt files, counters, clear."""
import os
import time

from sentry_bootstrap.transport import spool as spool_mod
from sentry_bootstrap.transport import store as store_mod
from sentry_bootstrap.transport.spool import Spool, spool_dir

RAW = b'{"event_id":"e"}\n{"type":"event","length":2}\n{}\n'


def test_spool_dir_depends_on_host_and_project_not_key(isolated_environ):
    """Two keys for one project share a spool; another project or host gets its own."""
    a = spool_dir("http://k1@127.0.0.1:9000/1")
    assert a == spool_dir("http://k2@127.0.0.1:9000/1")
    assert a != spool_dir("http://k1@127.0.0.1:9000/2")
    assert a != spool_dir("http://k1@example.invalid:9000/1")
    assert a.startswith(str(isolated_environ))
    assert spool_dir("http://k@h/1", path_setting="/x/y") == "/x/y"


def test_claim_is_exclusive(tmp_path):
    """Only one claimant gets a file; release gives it back, done removes it."""
    s = Spool(str(tmp_path))
    s.write(RAW)
    name = s.pending()[0]
    claim = s.claim(name)
    assert claim is not None and Spool(str(tmp_path)).claim(name) is None
    assert s.pending() == []
    s.release(claim)
    assert s.pending() == [name]
    s.done(s.claim(name))
    assert os.listdir(str(tmp_path)) == [store_mod.STATE_FILE]


def test_max_age_drops_old_files_and_counts_them(tmp_path):
    """Files older than max_age go at the next write or rescan, counted as max_age drops."""
    s = Spool(str(tmp_path), max_age=0.2)
    s.write(RAW)
    s.write(RAW)
    time.sleep(0.3)
    s.enforce_bounds()
    assert s.pending() == []
    assert s.drop_counts() == {"max_age:error": 2}
    assert s.unreported() == {("error", "max_age"): 2}
    s.mark_reported({("error", "max_age"): 2})
    assert s.unreported() == {} and s.drop_counts() == {"max_age:error": 2}


def test_envelope_larger_than_the_bound_is_counted_not_written(tmp_path):
    """An envelope bigger than max_bytes is dropped and counted, and the spool is left alone."""
    s = Spool(str(tmp_path), max_bytes=10)
    assert s.write(RAW) is None
    assert s.pending() == [] and s.drop_counts() == {"cache_overflow:error": 1}


def test_counter_log_survives_a_torn_line_and_compacts(tmp_path, monkeypatch):
    """A malformed counter line is skipped; past the size limit the log is rewritten, same totals."""
    s = Spool(str(tmp_path))
    s.record_drops({("error", "cache_overflow"): 1})
    with open(os.path.join(str(tmp_path), spool_mod.DROPS_FILE), "a") as f:
        f.write("\nD cache_overf")  # a write of ours cut short: it starts with its newline
    monkeypatch.setattr(store_mod, "COUNTS_COMPACT_BYTES", 200)
    for _ in range(20):
        s.record_drops({("error", "cache_overflow"): 1})
    assert s.drop_counts() == {"cache_overflow:error": 21}
    assert os.path.getsize(os.path.join(str(tmp_path), spool_mod.DROPS_FILE)) < 200


def test_status_and_clear(tmp_path):
    """status reports files and bytes; clear removes unclaimed files without counting drops."""
    s = Spool(str(tmp_path))
    for _ in range(3):
        s.write(RAW)
    status = s.status()
    assert (status["files"], status["bytes"], status["claimed"]) == (3, 3 * len(RAW), 0)
    assert s.clear() == 3
    assert s.status()["files"] == 0 and s.drop_counts() == {}
