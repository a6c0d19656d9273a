"""DurableTransport against the test server in each failure mode: nothing is lost, nothing is sent
twice, and the healthy path writes nothing to disk."""
import os
import time
import uuid

import pytest
from sentry_sdk.envelope import Envelope, Item, PayloadRef

from sentry_bootstrap.transport.durable import make_transport
from sentry_bootstrap.transport.spool import Spool
from tests.support.collecting import SDK3

FAST = {"backoff": 0.1, "backoff_max": 0.3, "timeout": 1}


def _envelope(event_id=None):
    env = Envelope(headers={"event_id": event_id or uuid.uuid4().hex})
    env.add_event({"event_id": env.headers["event_id"], "message": "m", "level": "error"})
    return env


def _capture(transport, n):
    ids = []
    for _ in range(n):
        env = _envelope()
        ids.append(env.headers["event_id"])
        transport.capture_envelope(env)
    return ids


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def transport(sentry_server):
    made = []

    def make(cfg=FAST, **options):
        options.setdefault("dsn", sentry_server.dsn)
        t = make_transport(options, cfg)
        made.append(t)
        return t
    yield make
    for t in made:
        t.kill()


def _files(t):
    return len(t.spool.pending())


def test_healthy_path_touches_no_disk(sentry_server, transport):
    """With the server answering 200, every event arrives once and no spool directory appears."""
    t = transport()
    ids = _capture(t, 20)
    t.flush(5)
    sentry_server.wait_for_events(20)
    assert sorted(sentry_server.accepted) == sorted(ids)
    assert not os.path.exists(t.spool.directory)


@pytest.mark.parametrize("mode", ["refuse", "status_500", "status_503", "reset"])
def test_failure_spools_then_recovers(sentry_server, transport, mode):
    """Refused connections, 5xx and resets spool every envelope; after recovery each arrives once."""
    sentry_server.set_mode(mode)
    t = transport()
    ids = _capture(t, 10)
    _wait(lambda: _files(t) == 10)
    assert sentry_server.accepted == {}
    sentry_server.set_mode("ok")
    sentry_server.wait_for(lambda: len(sentry_server.accepted) == 10, what="10 event ids")
    assert sorted(sentry_server.accepted) == sorted(ids)
    assert sentry_server.duplicates() == []
    _wait(lambda: _files(t) == 0)


def test_hang_is_bounded_by_the_timeout(sentry_server, transport):
    """A server that never answers costs one timeout; the rest goes straight to the spool."""
    sentry_server.set_mode("hang")
    t = transport()
    started = time.monotonic()
    ids = _capture(t, 10)
    _wait(lambda: _files(t) == 10, timeout=5)
    assert time.monotonic() - started < 3
    sentry_server.set_mode("ok")
    sentry_server.wait_for(lambda: len(sentry_server.accepted) == 10, what="10 event ids")
    assert sorted(sentry_server.accepted) == sorted(ids) and sentry_server.duplicates() == []


def test_429_respects_retry_after(sentry_server, transport):
    """After a 429 with Retry-After: 2, nothing is sent for 2 s; then the spooled events arrive."""
    sentry_server.set_mode("status_429", retry_after=2, times=1)
    t = transport()
    ids = _capture(t, 10)
    _wait(lambda: _files(t) == 10)
    first = sentry_server.requests[0].time
    sentry_server.wait_for(lambda: len(sentry_server.accepted) == 10, timeout=10, what="10 ids")
    later = [r.time for r in sentry_server.requests[1:]]
    assert later and min(later) - first >= 1.9
    assert sorted(sentry_server.accepted) == sorted(ids) and sentry_server.duplicates() == []


def _limited_envelope(name):
    """An envelope of the category the test limits: a transaction (2.x), a span item (3.x, which
    has no transactions: it counts a transaction item as `default`)."""
    event_id = uuid.uuid4().hex
    if SDK3:
        payload = {"items": [{"trace_id": event_id, "span_id": event_id[:16], "name": name,
                              "is_segment": True, "start_timestamp": 1, "end_timestamp": 2}]}
        item = Item(PayloadRef(json=payload), type="span")
    else:
        item = Item(PayloadRef(json={"event_id": event_id, "type": "transaction", "transaction": name,
                                     "spans": [], "start_timestamp": 1, "timestamp": 2}), type="transaction")
    return Envelope(headers={"event_id": event_id}, items=[item])


LIMITED = "span" if SDK3 else "transaction"


def test_rate_limit_header_spools_only_that_category(sentry_server, transport):
    """X-Sentry-Rate-Limits for transactions (3.x: spans) spools them; errors keep flowing."""
    sentry_server.set_mode("status_429", retry_after=2, rate_limits="2:%s:key" % LIMITED, times=1)
    t = transport()
    tx = _limited_envelope("t")
    t.capture_envelope(tx)
    _wait(lambda: _files(t) == 1)
    tx2 = _limited_envelope("t2")
    t.capture_envelope(tx2)
    ids = _capture(t, 3)
    sentry_server.wait_for(lambda: all(i in sentry_server.accepted for i in ids), what="errors")
    assert tx2.headers["event_id"] not in sentry_server.accepted  # still held back
    sentry_server.wait_for(lambda: len(sentry_server.items(LIMITED)) == 2, timeout=8,
                           what="both limited items after the limit")
    assert sentry_server.duplicates() == []


def test_full_queue_is_spooled_not_dropped(sentry_server, transport):
    """Envelopes the SDK would drop because its queue is full end up in the spool, then arrive."""
    sentry_server.set_mode("hang")
    t = transport(transport_queue_size=5)
    ids = _capture(t, 30)
    assert _files(t) >= 20  # the caller spooled what the queue could not hold
    sentry_server.set_mode("ok")
    sentry_server.wait_for(lambda: len(sentry_server.accepted) == 30, timeout=10, what="30 ids")
    assert sorted(sentry_server.accepted) == sorted(ids) and sentry_server.duplicates() == []


def test_kill_spools_in_flight_and_queued(sentry_server, transport):
    """kill() after a timed-out flush spools what is in flight and queued; a new transport sends it."""
    sentry_server.set_mode("hang")
    t = transport(cfg={"backoff": 0.1})  # the default 30 s timeout: the first send stays in flight
    ids = _capture(t, 10)
    t.flush(0.3)
    t.kill()
    assert _files(t) == 10
    sentry_server.set_mode("ok")
    transport()  # a new process with the same DSN drains at start
    sentry_server.wait_for(lambda: len(sentry_server.accepted) == 10, what="10 event ids")
    assert sorted(sentry_server.accepted) == sorted(ids) and sentry_server.duplicates() == []


def test_other_4xx_is_not_spooled(sentry_server, transport):
    """A 400 keeps the SDK's behaviour: the envelope is dropped (and counted by the SDK), not spooled."""
    sentry_server.set_mode(400)
    t = transport()
    _capture(t, 3)
    t.flush(5)
    assert not os.path.exists(t.spool.directory)
    reports = [item.json for r in sentry_server.requests for item in r.envelope.items
               if item.type == "client_report"]
    assert [d for r in reports for d in r["discarded_events"]] == [
        {"reason": "network_error", "category": "error", "quantity": 3}]


def test_drops_reach_the_server_as_a_client_report(sentry_server, transport):
    """Drops counted in the spool are sent once as a client_report item when the server is back."""
    sentry_server.set_mode("refuse")
    size = len(_envelope().serialize())
    # A backoff longer than the captures take: no drain attempt holds a claim while the ten are
    # written, so the bound sees every file and keeps exactly four.
    t = transport(cfg=dict(FAST, max_bytes=4 * size + 10, backoff=3, backoff_max=3))
    _capture(t, 10)
    _wait(lambda: _files(t) + sum(t.spool.drop_counts().values()) == 10)
    dropped = sum(t.spool.drop_counts().values())
    assert dropped == 6 and _files(t) == 4
    sentry_server.set_mode("ok")
    sentry_server.wait_for(lambda: sentry_server.items("client_report"), what="a client report")
    report = sentry_server.items("client_report")[0].json
    assert report["discarded_events"] == [
        {"reason": "cache_overflow", "category": "error", "quantity": dropped}]
    _wait(lambda: Spool(t.spool.directory).unreported() == {})
    assert len(sentry_server.accepted) == 10 - dropped


def test_a_category_limit_on_2xx_does_not_hold_back_spooled_errors(sentry_server, transport):
    """A 200 that limits only transactions (as bugsink sends for a day) lets every spooled error
    drain; only files made of limited categories stay behind."""
    sentry_server.set_mode("refuse")
    t = transport(cfg={"backoff": 0.1})
    ids = _capture(t, 5)
    _wait(lambda: _files(t) == 5)
    sentry_server.set_mode("ok", rate_limits="86400:transaction;span:organization")
    sentry_server.wait_for(lambda: all(i in sentry_server.accepted for i in ids), timeout=10,
                           what="all five spooled errors")
    assert sentry_server.duplicates() == []
