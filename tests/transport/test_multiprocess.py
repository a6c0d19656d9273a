"""Durable delivery across real processes: 4 writers and drainers sharing one spool, kill -9, and a
burst against the bounds."""
import json
import os
import signal
import time

from sentry_bootstrap.transport.spool import CORRUPT_DIR, TMP_PREFIX, Spool, spool_dir
from tests.support.child import run_code, start_code

CHILD = """
import json, sys, time
import sentry_sdk
from sentry_bootstrap.transport.durable import make_transport, spool_status
DSN = %(dsn)r
sentry_sdk.init(dsn=DSN, transport=make_transport(None, %(cfg)r), shutdown_timeout=2,
                default_integrations=False)
"""

PHASED = CHILD + """
ids = []
for n in (%(first)d, %(second)d):
    ids += [sentry_sdk.capture_message("p%%d" %% i) for i in range(n)]
    sentry_sdk.flush(5)
    print("phase", flush=True)
    sys.stdin.readline()
deadline = time.time() + 60
while time.time() < deadline:
    status = spool_status(DSN)
    if status["files"] + status["claimed"] == 0:
        break
    time.sleep(0.05)
sentry_sdk.flush(5)
print(json.dumps(ids), flush=True)
"""

FAST = {"backoff": 0.1, "backoff_max": 0.5, "timeout": 1}


def _tell(children, expect="phase"):
    for child in children:
        line = child.stdout.readline().strip()
        assert line == expect, (line, child.stderr.read() if child.poll() is not None else "")


def test_four_processes_1000_events_exactly_once(sentry_server):
    """4 processes capture 1,000 events across an outage; the server gets 1,000 ids, each once."""
    code = PHASED % {"dsn": sentry_server.dsn, "cfg": FAST, "first": 100, "second": 150}
    children = [start_code(code) for _ in range(4)]
    _tell(children)  # phase 1: 400 events delivered directly
    assert len(sentry_server.accepted) == 400
    sentry_server.set_mode("reset")
    for child in children:
        child.stdin.write("\n")
        child.stdin.flush()
    _tell(children)  # phase 2: 600 events spooled while the server resets every request
    assert len(sentry_server.accepted) == 400
    sentry_server.set_mode("status_500")
    time.sleep(0.3)
    sentry_server.set_mode("ok")
    ids = []
    for child in children:
        child.stdin.write("\n")
        child.stdin.flush()
    for child in children:
        out, err = child.communicate(timeout=90)
        assert child.returncode == 0, err
        ids += json.loads(out.strip().splitlines()[-1])
    assert len(ids) == len(set(ids)) == 1000
    assert sorted(sentry_server.accepted) == sorted(ids)
    assert sentry_server.duplicates() == []
    status = Spool(spool_dir(sentry_server.dsn)).status()
    assert status["files"] == status["claimed"] == status["corrupt"] == 0


SPOOLER = CHILD + """
i = 0
while True:
    sentry_sdk.capture_message("k%%d" %% i)
    i += 1
    if i == 50:
        print("spooling", flush=True)
"""

DRAIN = CHILD + """
deadline = time.time() + 30
while time.time() < deadline:
    status = spool_status(DSN)
    if status["files"] + status["claimed"] == 0:
        break
    time.sleep(0.05)
sentry_sdk.flush(5)
print(json.dumps(spool_status(DSN)))
"""


def test_kill_9_while_spooling_breaks_nothing(sentry_server):
    """Processes killed with -9 mid-spooling, plus a truncated file and a dead claim, don't break the
    next start: every complete envelope is delivered once, the rest is set aside and counted."""
    sentry_server.set_mode("refuse")
    cfg = dict(FAST, backoff=0.05)
    for delay in (0.05, 0.2, 0.4):
        child = start_code(SPOOLER % {"dsn": sentry_server.dsn, "cfg": cfg})
        assert child.stdout.readline().strip() == "spooling"
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    directory = spool_dir(sentry_server.dsn)
    spool = Spool(directory)
    names = spool.pending()
    assert len(names) >= 10
    # A process killed while its drainer held a claim leaves that envelope claimed by a dead pid: the
    # next process takes it back and delivers it, so it counts as expected too.
    dead_claims = len([n for n in os.listdir(directory) if ".claimed-" in n])
    # What a crash can leave beyond a kill: a truncated envelope and a claim by a dead process.
    with open(os.path.join(directory, names[0]), "rb+") as f:
        f.truncate(40)
    dead = run_code("import os; print(os.getpid())").stdout.strip()
    os.rename(os.path.join(directory, names[1]),
              os.path.join(directory, names[1] + ".claimed-%s-deadbeef" % dead))
    with open(os.path.join(directory, "%s%s-deadbeef-1" % (TMP_PREFIX, dead)), "wb") as f:
        f.write(b'{"event_id":')
    expected = len(names) - 1 + dead_claims
    # Killed mid-write, a process leaves its temporary file (plus the one planted above); a later
    # process may already have set it aside.
    partial = len([n for n in os.listdir(directory) if n.startswith(TMP_PREFIX)])
    if os.path.isdir(os.path.join(directory, CORRUPT_DIR)):
        partial += len(os.listdir(os.path.join(directory, CORRUPT_DIR)))

    sentry_server.set_mode("ok")
    proc = run_code(DRAIN % {"dsn": sentry_server.dsn, "cfg": cfg})
    assert "Traceback" not in proc.stderr
    status = json.loads(proc.stdout.strip().splitlines()[-1])
    assert status["files"] == status["claimed"] == 0
    assert status["corrupt"] == 1 + partial, os.listdir(os.path.join(directory, CORRUPT_DIR))
    assert status["dropped"] == {"internal_sdk_error:error": 1 + partial}
    assert len(sentry_server.accepted) == expected
    assert sentry_server.duplicates() == []
    assert not [n for n in os.listdir(directory) if n.startswith(TMP_PREFIX)]
    assert len(os.listdir(os.path.join(directory, CORRUPT_DIR))) == 1 + partial


BURST = CHILD + """
for i in range(%(n)d):
    sentry_sdk.capture_message("b%%d" %% i)
sentry_sdk.flush(5)
"""


def test_burst_of_10000_keeps_the_bounds_and_counts_drops(sentry_server):
    """10,000 events during an outage: the spool never exceeds max_bytes and every drop is counted."""
    sentry_server.set_mode("refuse")
    max_bytes = 200 * 1024
    # No drain attempts during the burst; no fsync: it costs 1-3 ms per file here and changes
    # nothing about bounds or counting (the other tests spool with fsync).
    cfg = dict(FAST, backoff=30, max_bytes=max_bytes, fsync=False)
    run_code(BURST % {"dsn": sentry_server.dsn, "cfg": cfg, "n": 10000}, timeout=120)
    status = Spool(spool_dir(sentry_server.dsn)).status()
    assert 0 < status["bytes"] <= max_bytes
    on_disk = sum(os.path.getsize(os.path.join(status["path"], n))
                  for n in Spool(status["path"]).pending())
    assert on_disk == status["bytes"]
    assert status["dropped"] == {"cache_overflow:error": 10000 - status["files"]}
