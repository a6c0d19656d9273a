"""The test Sentry server: real SDK clients, compression, and each failure mode."""
import gzip
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import brotli
import pytest

from tests.support.sentry_server import SentryServer, parse_envelope
from tests.support.child import run_code
from tests.support.collecting import SDK3


def _post(server, body, headers=None, path="/api/1/envelope/", timeout=5):
    req = urllib.request.Request(server.url + path, data=body, method="POST", headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, dict(resp.headers), resp.read()


def _envelope(event_id, message="hi"):
    payload = json.dumps({"event_id": event_id, "message": message}).encode()
    return (json.dumps({"event_id": event_id}).encode() + b"\n"
            + json.dumps({"type": "event", "length": len(payload)}).encode() + b"\n" + payload + b"\n")


SDK_CHILD = """
import sentry_sdk
sentry_sdk.init(dsn=%(dsn)r, _experiments=%(experiments)r)
sentry_sdk.capture_message("hello from child")
sentry_sdk.flush(5)
"""


def test_real_sdk_brotli_by_default(sentry_server):
    """The SDK's own transport delivers a brotli envelope that the server decodes and records."""
    run_code(SDK_CHILD % {"dsn": sentry_server.dsn, "experiments": {}})
    events = sentry_server.wait_for_events(1)
    assert events[0]["message"] == "hello from child"
    req = sentry_server.requests[0]
    assert req.headers["Content-Encoding"] == "br"
    assert "sentry_key=public" in req.headers["X-Sentry-Auth"]
    assert req.path == "/api/1/envelope/" and req.status == 200


def test_real_sdk_gzip(sentry_server):
    """With gzip compression chosen, the SDK's envelope is decoded and counted once."""
    run_code(SDK_CHILD % {"dsn": sentry_server.dsn,
                           "experiments": {"transport_compression_algo": "gzip"}})
    sentry_server.wait_for_events(1)
    assert {r.headers.get("content-encoding") for r in sentry_server.requests} == {"gzip"}
    assert sentry_server.events[0]["message"] == "hello from child"
    assert sentry_server.accepted[sentry_server.events[0]["event_id"]] == 1


def test_real_sdk_transactions_recorded(sentry_server):
    """A sampled transaction lands in server.transactions, not server.events (3.x: a segment span
    in a span item)."""
    code = """
import sentry_sdk
sentry_sdk.init(dsn=%r, traces_sample_rate=1.0)
if hasattr(sentry_sdk, "start_transaction"):
    with sentry_sdk.start_transaction(name="checkout"):
        pass
else:
    with sentry_sdk.start_span(name="checkout"):
        pass
sentry_sdk.flush(5)
""" % sentry_server.dsn
    run_code(code)
    if SDK3:
        sentry_server.wait_for(lambda: sentry_server.items("span"), what="a span item")
        spans = sentry_server.items("span")[0].json["items"]
        assert [s["name"] for s in spans if s["is_segment"]] == ["checkout"]
    else:
        sentry_server.wait_for(lambda: sentry_server.transactions, what="a transaction")
        assert sentry_server.transactions[0]["transaction"] == "checkout"
    assert sentry_server.events == []


def test_store_endpoint_and_uncompressed_envelope(sentry_server):
    """/store/ takes a gzip JSON event; an uncompressed envelope is parsed as is."""
    body = gzip.compress(json.dumps({"event_id": "a" * 32, "message": "stored"}).encode())
    status, _, answer = _post(sentry_server, body, {"Content-Encoding": "gzip"}, "/api/1/store/")
    assert status == 200 and json.loads(answer) == {"id": "a" * 32}
    status, _, answer = _post(sentry_server, _envelope("b" * 32))
    assert status == 200 and json.loads(answer) == {"id": "b" * 32}
    assert [e["message"] for e in sentry_server.events] == ["stored", "hi"]


def test_brotli_posted_by_hand(sentry_server):
    """A brotli envelope body posted without the SDK is decoded."""
    _post(sentry_server, brotli.compress(_envelope("c" * 32)), {"Content-Encoding": "br"})
    assert sentry_server.events[0]["event_id"] == "c" * 32


def test_parse_envelope_length_and_newline_items():
    """Items with a length header and newline-delimited items both parse, binary payloads intact."""
    data = (b'{"event_id":"x"}\n{"type":"attachment","length":3}\n\n\x00\n'
            b'{"type":"event"}\n{"message":"m"}\n')
    env = parse_envelope(data)
    assert env.headers == {"event_id": "x"}
    assert [i.type for i in env.items] == ["attachment", "event"]
    assert env.items[0].payload == b"\n\x00\n"
    assert env.items[1].json == {"message": "m"}


@pytest.mark.parametrize("status", [500, 401, 403, 413])
def test_status_modes(sentry_server, status):
    """A status mode answers that status and records nothing as accepted."""
    sentry_server.set_mode(status)
    with pytest.raises(urllib.error.HTTPError) as err:
        _post(sentry_server, _envelope("d" * 32))
    assert err.value.code == status
    assert sentry_server.requests[0].status == status
    assert sentry_server.envelopes == [] and sentry_server.accepted == {}


def test_429_headers(sentry_server):
    """status_429 sends Retry-After and, when asked, X-Sentry-Rate-Limits."""
    sentry_server.set_mode("status_429", retry_after=7, rate_limits="60:error:key")
    with pytest.raises(urllib.error.HTTPError) as err:
        _post(sentry_server, _envelope("e" * 32))
    assert err.value.code == 429
    assert err.value.headers["Retry-After"] == "7"
    assert err.value.headers["X-Sentry-Rate-Limits"] == "60:error:key"


def test_refuse_then_ok_on_same_port(sentry_server):
    """refuse closes the port so connects fail; ok listens again on the same port."""
    port = sentry_server.port
    sentry_server.set_mode("refuse")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    sentry_server.set_mode("ok")
    assert sentry_server.port == port
    assert _post(sentry_server, _envelope("f" * 32))[0] == 200


def test_refuse_ends_keepalive_connections(sentry_server):
    """A kept-alive connection is shut when refusing, so the SDK can't slip a request through it."""
    conn = socket.create_connection(("127.0.0.1", sentry_server.port), timeout=2)
    sentry_server.set_mode("refuse")
    conn.settimeout(2)
    try:
        # FIN when the connection was already accepted, RST when it still sat in the backlog.
        assert conn.recv(1) == b""
    except ConnectionResetError:
        pass
    conn.close()


def test_hang_never_answers_until_switched(sentry_server):
    """hang reads the request and never answers; switching mode closes it without an answer."""
    sentry_server.set_mode("hang")
    started = time.monotonic()
    with pytest.raises(OSError):  # socket.timeout is an OSError
        _post(sentry_server, _envelope("1" * 32), timeout=0.5)
    assert time.monotonic() - started >= 0.5
    assert sentry_server.requests[0].status is None

    conn = socket.create_connection(("127.0.0.1", sentry_server.port), timeout=5)
    body = _envelope("2" * 32)
    conn.sendall(b"POST /api/1/envelope/ HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                 % len(body) + body)
    sentry_server.wait_for_requests(2)
    threading.Timer(0.2, sentry_server.set_mode, ("ok",)).start()
    assert conn.recv(100) == b""
    conn.close()
    assert sentry_server.accepted == {}


def test_reset_mid_request(sentry_server):
    """reset reads the request and answers with a TCP reset."""
    sentry_server.set_mode("reset")
    with pytest.raises((ConnectionResetError, urllib.error.URLError)) as err:
        _post(sentry_server, _envelope("3" * 32))
    if isinstance(err.value, urllib.error.URLError):
        assert isinstance(err.value.reason, ConnectionResetError)
    assert sentry_server.requests[0].envelope.event_id == "3" * 32


def test_times_then_ok_and_duplicates(sentry_server):
    """A mode limited by times= reverts to ok; repeated 2xx of one id shows in duplicates()."""
    sentry_server.set_mode(500, times=1)
    with pytest.raises(urllib.error.HTTPError):
        _post(sentry_server, _envelope("4" * 32))
    assert sentry_server.mode == "ok"
    _post(sentry_server, _envelope("4" * 32))
    assert sentry_server.duplicates() == []
    _post(sentry_server, _envelope("4" * 32))
    assert sentry_server.duplicates() == ["4" * 32]
    sentry_server.clear()
    assert sentry_server.requests == [] and sentry_server.accepted == {}


def test_wait_for_events_times_out():
    """wait_for_events raises AssertionError when nothing arrives in time."""
    with SentryServer() as server:
        with pytest.raises(AssertionError, match="1 events"):
            server.wait_for_events(1, timeout=0.2)
