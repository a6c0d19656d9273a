"""A real Sentry ingestion server on 127.0.0.1 for tests, switchable between failure modes.

    server = SentryServer().start()          # or the `sentry_server` pytest fixture
    sentry_sdk.init(dsn=server.dsn)           # http://public@127.0.0.1:PORT/1
    server.wait_for_events(1)
    server.set_mode("status_429", retry_after=2)

Endpoints: POST `/api/<project>/envelope/` and `/api/<project>/store/` (the body is one event).
Bodies may be `Content-Encoding: gzip`, `deflate` or `br`, with a Content-Length or chunked.

Modes (`set_mode(mode, ...)`, also `server.mode`):
    "ok"          200 with {"id": <event id>}; with `rate_limits`, also `X-Sentry-Rate-Limits`
    "refuse"      the listening socket is closed and open connections are shut, so connects are
                  refused; switching to any other mode listens again on the SAME port
    "status_500"  500; also "status_<N>" or an int N for any status (401, 403, 413, ...)
    "status_429"  429 with `Retry-After: <retry_after>` (default 1) and, when given,
                  `X-Sentry-Rate-Limits: <rate_limits>`
    "hang"        the request is read and never answered; when the mode changes or the server
                  stops, the connection is closed without an answer
    "reset"       the request is read, then the connection is closed with an RST (SO_LINGER 0)
`set_mode(..., times=N)` applies the mode to the next N requests only, then returns to "ok".

What is recorded (all lists are snapshots, safe to read from the test thread):
    server.requests       every request: Request(method, path, query, headers, body, mode, status,
                          envelope, error); `headers` is case-insensitive (`headers["x-sentry-auth"]`);
                          status is None when no answer was sent (hang, reset)
    server.envelopes      Envelope(headers, items) of every request answered 2xx, in order
    server.events         payload dicts of `event` items answered 2xx
    server.transactions   payload dicts of `transaction` items answered 2xx
    server.items(type)    Item(headers, payload) of that type answered 2xx; `item.json` decodes
    server.accepted       {event id: times it was answered 2xx}; `server.duplicates()` lists ids > 1
Over TLS: `SentryServer(tls=self_signed_certificate(directory))` answers https (its `url` and `dsn`
say so); `self_signed_certificate` returns (cert path, key path, days) for 127.0.0.1 made with openssl.
Waiting: `wait_for_events(n, timeout)`, `wait_for_envelopes(n, timeout)`, `wait_for_requests(n,
timeout)`, `wait_for(predicate, timeout)`; each raises AssertionError on timeout. `clear()` forgets
everything recorded (the mode stays).
"""
import gzip
import json
import socket
import ssl
import struct
import subprocess
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import pytest

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is a test dependency
    brotli = None

__all__ = ["SentryServer", "Envelope", "Item", "Request", "parse_envelope", "self_signed_certificate",
           "sentry_server"]


def self_signed_certificate(directory, days=5):
    """(cert path, key path) of a self-signed certificate for 127.0.0.1 valid `days` days, written
    into `directory` by openssl."""
    cert, key = str(directory / "cert.pem"), str(directory / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Headers(dict):
    """A dict of header names (lower-cased) to values; lookups ignore case."""

    def __init__(self, pairs=()):
        super().__init__()
        for name, value in pairs:
            super().__setitem__(name.lower(), value)

    def __getitem__(self, name):
        return super().__getitem__(name.lower())

    def __contains__(self, name):
        return super().__contains__(name.lower())

    def get(self, name, default=None):
        return super().get(name.lower(), default)


class Item(object):
    """One envelope item: `headers` (dict), `payload` (bytes); `type` and `json` for convenience."""

    def __init__(self, headers, payload):
        self.headers = headers
        self.payload = payload

    @property
    def type(self):
        return self.headers.get("type")

    @property
    def json(self):
        return json.loads(self.payload.decode("utf-8"))

    def __repr__(self):
        return "Item(type=%r, %d bytes)" % (self.type, len(self.payload))


class Envelope(object):
    """A parsed envelope: `headers` (dict) and `items` (list of Item)."""

    def __init__(self, headers, items):
        self.headers = headers
        self.items = items

    @property
    def event_id(self):
        """The envelope header's event_id, else the first item payload's."""
        if self.headers.get("event_id"):
            return self.headers["event_id"]
        for item in self.items:
            if item.type in ("event", "transaction"):
                try:
                    return item.json.get("event_id")
                except ValueError:
                    return None
        return None

    def __repr__(self):
        return "Envelope(%r, %r)" % (self.headers, self.items)


class Request(object):
    """One HTTP request as the server saw it, and how it was answered."""

    def __init__(self, method, path, query, headers, body, mode):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body  # decoded (decompressed) bytes
        self.mode = mode
        self.status = None
        self.envelope = None
        self.error = None
        self.time = time.time()

    def __repr__(self):
        return "Request(%s %s mode=%s status=%s)" % (self.method, self.path, self.mode, self.status)


def parse_envelope(data):
    """Parse envelope bytes: a header line, then items with a `length` or newline-delimited."""
    pos = data.find(b"\n")
    if pos < 0:
        pos = len(data)
    headers = json.loads(data[:pos].decode("utf-8") or "{}")
    pos += 1
    items = []
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            end = len(data)
        line = data[pos:end]
        pos = end + 1
        if not line.strip():
            continue
        item_headers = json.loads(line.decode("utf-8"))
        length = item_headers.get("length")
        if length is not None:
            payload = data[pos:pos + length]
            if len(payload) != length:
                raise ValueError("item payload shorter than its length header")
            pos += length
            if data[pos:pos + 1] == b"\n":
                pos += 1
        else:
            end = data.find(b"\n", pos)
            if end < 0:
                end = len(data)
            payload = data[pos:end]
            pos = end + 1
        items.append(Item(item_headers, payload))
    return Envelope(headers, items)


def _decode_body(body, encoding):
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        if brotli is None:
            raise ValueError("brotli body but the brotli module is missing")
        return brotli.decompress(body)
    raise ValueError("unknown Content-Encoding %r" % encoding)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections end after this, so handler threads don't pile up.
    timeout = 30

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._answer(404, b'{"detail":"not found"}')

    def do_POST(self):
        self.server._handle(self)

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status, body, extra_headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class SentryServer(object):
    """A threaded HTTP server on 127.0.0.1 that records envelopes. See the module docstring."""

    def __init__(self, project_id=1, public_key="public", tls=None):
        self.project_id = project_id
        self.public_key = public_key
        self._tls = None
        if tls is not None:  # (cert path, key path)
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(*tls)
        self.port = None
        self._lock = threading.Condition()
        self._mode = "ok"
        self._retry_after = 1
        self._rate_limits = None
        self._times = None
        self._generation = 0  # bumped on every mode change, releases hung requests
        self._listener = None
        self._accept_thread = None
        self._conns = set()
        self._stopped = False
        self._requests = []
        self._envelopes = []
        self._accepted = {}

    # -- life cycle ---------------------------------------------------------------------------
    def start(self):
        """Listen on a free port (the same one again after `refuse`). Returns self."""
        with self._lock:
            self._stopped = False
            self._listen()
        return self

    def stop(self):
        """Stop listening, release hung requests and close every connection."""
        with self._lock:
            self._stopped = True
            self._generation += 1
            self._lock.notify_all()
            self._unlisten()
            self._shut_connections()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self._scheme, self.port)

    @property
    def _scheme(self):
        return "https" if self._tls is not None else "http"

    @property
    def dsn(self):
        return "%s://%s@127.0.0.1:%d/%s" % (self._scheme, self.public_key, self.port, self.project_id)

    def _listen(self):
        if self._listener is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port or 0))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._listener = sock
        self._accept_thread = threading.Thread(
            target=self._accept_loop, args=(sock,), name="sentry-server-accept", daemon=True)
        self._accept_thread.start()

    def _unlisten(self):
        sock, self._listener = self._listener, None
        if sock is not None:
            # shutdown wakes the thread blocked in accept(); close then frees the port.
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        thread, self._accept_thread = self._accept_thread, None
        if thread is not None and thread is not threading.current_thread():
            self._lock.release()
            try:
                thread.join(5)
            finally:
                self._lock.acquire()

    def _shut_connections(self):
        for conn in list(self._conns):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept_loop(self, sock):
        while True:
            try:
                conn, addr = sock.accept()
            except OSError:
                return
            with self._lock:
                if self._listener is not sock:
                    conn.close()
                    return
                self._conns.add(conn)
            threading.Thread(target=self._serve_connection, args=(conn, addr),
                             name="sentry-server-conn", daemon=True).start()

    def _serve_connection(self, conn, addr):
        try:
            # Headers and body go out in separate writes; without this, Nagle plus the client's
            # delayed ACK costs ~40 ms per answer.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                conn.settimeout(10)  # a client that never finishes the handshake frees the thread
                conn = self._tls.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
            _Handler(conn, addr, self)
        except Exception:
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    # -- modes --------------------------------------------------------------------------------
    @property
    def mode(self):
        return self._mode

    @mode.setter
    def mode(self, value):
        self.set_mode(value)

    def set_mode(self, mode, retry_after=None, rate_limits=None, times=None):
        """Switch how the next requests are answered. See the module docstring for the modes."""
        if isinstance(mode, int):
            mode = "status_%d" % mode
        if mode not in ("ok", "refuse", "hang", "reset") and not (
                mode.startswith("status_") and mode[7:].isdigit()):
            raise ValueError("unknown mode %r" % mode)
        with self._lock:
            self._mode = mode
            self._retry_after = 1 if retry_after is None else retry_after
            self._rate_limits = rate_limits
            self._times = times
            self._generation += 1
            self._lock.notify_all()
            if mode == "refuse":
                self._unlisten()
                self._shut_connections()
            elif not self._stopped:
                self._listen()

    def _take_mode(self):
        with self._lock:
            mode = self._mode
            spec = (mode, self._retry_after, self._rate_limits, self._generation)
            if self._times is not None:
                self._times -= 1
                if self._times <= 0:
                    self._mode, self._times, self._rate_limits = "ok", None, None
                    self._generation += 1
            return spec

    # -- request handling ---------------------------------------------------------------------
    def _handle(self, handler):
        url = urlsplit(handler.path)
        headers = Headers(handler.headers.items())
        raw = handler._read_body()
        mode, retry_after, rate_limits, generation = self._take_mode()
        request = Request("POST", url.path, url.query, headers, raw, mode)
        parts = url.path.strip("/").split("/")
        try:
            request.body = _decode_body(raw, headers.get("content-encoding"))
            if len(parts) == 3 and parts[0] == "api" and parts[2] == "envelope":
                request.envelope = parse_envelope(request.body)
            elif len(parts) == 3 and parts[0] == "api" and parts[2] == "store":
                request.envelope = Envelope({}, [Item({"type": "event"}, request.body)])
            else:
                request.error = "unknown endpoint"
        except Exception as exc:
            request.error = "%s: %s" % (type(exc).__name__, exc)

        if mode == "refuse":
            # A request that raced the switch: answer like a dead peer.
            mode = "reset"
        if mode == "hang":
            self._record(request)
            with self._lock:
                while self._generation == generation and not self._stopped:
                    self._lock.wait(0.5)
            handler.close_connection = True
            return
        if mode == "reset":
            self._record(request)
            handler.close_connection = True
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return

        if request.error == "unknown endpoint":
            status, body, extra = 404, b'{"detail":"unknown endpoint"}', ()
        elif request.error:
            status, body, extra = 400, json.dumps({"detail": request.error}).encode(), ()
        elif mode == "ok":
            event_id = request.envelope.event_id or uuid.uuid4().hex
            # An accepting server may still limit some categories (bugsink limits transactions).
            extra = [("X-Sentry-Rate-Limits", rate_limits)] if rate_limits else ()
            status, body = 200, json.dumps({"id": event_id}).encode()
        else:
            status = int(mode[7:])
            body = json.dumps({"detail": "mode %s" % mode}).encode()
            extra = []
            if status == 429:
                extra.append(("Retry-After", str(retry_after)))
            if rate_limits:
                extra.append(("X-Sentry-Rate-Limits", rate_limits))
        request.status = status
        # Recorded before answering, so a client that saw the 2xx finds it recorded.
        self._record(request)
        try:
            handler._answer(status, body, extra)
        except OSError:
            pass

    def _record(self, request):
        with self._lock:
            self._requests.append(request)
            if request.status is not None and 200 <= request.status < 300 and request.envelope:
                self._envelopes.append(request.envelope)
                event_id = request.envelope.event_id
                if event_id:
                    self._accepted[event_id] = self._accepted.get(event_id, 0) + 1
            self._lock.notify_all()

    # -- what was received --------------------------------------------------------------------
    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    @property
    def envelopes(self):
        with self._lock:
            return list(self._envelopes)

    def items(self, type_):
        """Items of that type from envelopes answered 2xx."""
        return [item for env in self.envelopes for item in env.items if item.type == type_]

    @property
    def events(self):
        return [item.json for item in self.items("event")]

    @property
    def transactions(self):
        return [item.json for item in self.items("transaction")]

    @property
    def accepted(self):
        """{event id: number of times an envelope with that id was answered 2xx}."""
        with self._lock:
            return dict(self._accepted)

    def duplicates(self):
        """Event ids answered 2xx more than once."""
        return sorted(k for k, v in self.accepted.items() if v > 1)

    def clear(self):
        with self._lock:
            self._requests = []
            self._envelopes = []
            self._accepted = {}

    # -- waiting ------------------------------------------------------------------------------
    def wait_for(self, predicate, timeout=10.0, what="condition"):
        """Wait until predicate() is true; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("sentry test server: timed out after %ss waiting for %s "
                                         "(%d requests, %d envelopes accepted)"
                                         % (timeout, what, len(self._requests), len(self._envelopes)))
                self._lock.wait(min(left, 0.2))

    def wait_for_events(self, n=1, timeout=10.0):
        """Wait for at least n accepted events; returns the events."""
        self.wait_for(lambda: len(self.events) >= n, timeout, "%d events" % n)
        return self.events

    def wait_for_envelopes(self, n=1, timeout=10.0):
        self.wait_for(lambda: len(self._envelopes) >= n, timeout, "%d envelopes" % n)
        return self.envelopes

    def wait_for_requests(self, n=1, timeout=10.0):
        self.wait_for(lambda: len(self._requests) >= n, timeout, "%d requests" % n)
        return self.requests


@pytest.fixture
def sentry_server():
    """A started SentryServer in mode "ok"; stopped after the test."""
    server = SentryServer().start()
    try:
        yield server
    finally:
        server.stop()
