"""`spool.write_ahead`: every envelope is on disk before it is sent, so a process killed with
SIGKILL mid-burst loses nothing it captured; the next start delivers it. Real processes, the real
test server."""
import json
import signal
import time
import uuid

from sentry_sdk.envelope import Envelope

from sentry_bootstrap.transport.durable import make_transport
from sentry_bootstrap.transport.spool import Spool, spool_dir
from tests.support.child import run_code

CFG = {"backoff": 0.1, "backoff_max": 0.3, "timeout": 2, "write_ahead": True}

BURST = """
import os, signal
import sentry_sdk
from sentry_bootstrap.transport.durable import make_transport
sentry_sdk.init(dsn=%(dsn)r, transport=make_transport(None, %(cfg)r), default_integrations=False)
for i in range(%(n)d):
    print(sentry_sdk.capture_message("burst %%d" %% i), flush=True)
    if i + 1 == %(kill_at)d:  # mid-burst, with envelopes queued in memory: as the OOM killer does
        os.kill(os.getpid(), signal.SIGKILL)
sentry_sdk.flush(10)
"""

NEXT_START = """
import json, time
import sentry_sdk
from sentry_bootstrap.transport.durable import make_transport, spool_status
sentry_sdk.init(dsn=%(dsn)r, transport=make_transport(None, %(cfg)r), default_integrations=False)
deadline = time.time() + 60
while time.time() < deadline:
    status = spool_status(%(dsn)r)
    if status["files"] + status["claimed"] == 0:
        break
    time.sleep(0.05)
sentry_sdk.flush(5)
print(json.dumps(spool_status(%(dsn)r)))
"""


def test_sigkill_mid_burst_loses_nothing_captured(sentry_server):
    """Killed with SIGKILL after 100 of 200 captures, nothing captured is lost: the next start
    delivers every event id the killed process got back, and at most the one envelope in flight at
    the kill reaches the server twice."""
    args = {"dsn": sentry_server.dsn, "cfg": CFG, "n": 200, "kill_at": 100}
    killed = run_code(BURST % args, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    captured = killed.stdout.split()
    assert len(captured) == 100
    delivered_before = set(sentry_server.accepted)
    directory = spool_dir(sentry_server.dsn)
    left = Spool(directory).status()
    assert left["files"] + left["claimed"] > 0  # the kill did leave envelopes behind

    status = json.loads(run_code(NEXT_START % args).stdout.strip().splitlines()[-1])
    assert status["files"] == status["claimed"] == 0
    assert set(captured) <= set(sentry_server.accepted), \
        sorted(set(captured) - set(sentry_server.accepted))
    assert len(set(captured) - delivered_before) > 0  # some were delivered only by the next start
    assert len(sentry_server.duplicates()) <= 1, sentry_server.duplicates()


def test_healthy_write_ahead_leaves_nothing_behind(sentry_server):
    """With write-ahead on and the server answering 200, every event arrives once and the spool
    holds no envelope afterwards."""
    proc = run_code(BURST % {"dsn": sentry_server.dsn, "cfg": CFG, "n": 50, "kill_at": 0})
    ids = proc.stdout.split()
    sentry_server.wait_for_events(50)
    assert sorted(sentry_server.accepted) == sorted(ids) and sentry_server.duplicates() == []
    status = Spool(spool_dir(sentry_server.dsn)).status()
    assert status["files"] == status["claimed"] == 0


def test_write_ahead_copies_of_failed_sends_are_delivered_once(sentry_server):
    """With write-ahead on, envelopes that meet a refused connection or a 503 are handed to the spool
    (not written twice) and each arrives exactly once when the server is back."""
    sentry_server.set_mode("status_503", times=3)
    transport = make_transport({"dsn": sentry_server.dsn}, CFG)
    ids = []
    try:
        for _ in range(10):
            env = Envelope(headers={"event_id": uuid.uuid4().hex})
            env.add_event({"event_id": env.headers["event_id"], "message": "m"})
            ids.append(env.headers["event_id"])
            transport.capture_envelope(env)
        transport.flush(5)
        sentry_server.wait_for(lambda: len(sentry_server.accepted) == 10, timeout=20,
                               what="10 events")
        deadline = time.monotonic() + 10
        while transport.spool.status()["files"] + transport.spool.status()["claimed"]:
            assert time.monotonic() < deadline, transport.spool.status()
            time.sleep(0.05)
    finally:
        transport.kill()
    assert sorted(sentry_server.accepted) == sorted(ids) and sentry_server.duplicates() == []
