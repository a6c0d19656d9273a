"""`sentry-bootstrap events serve`: a live web page of the outbox, and a Spotlight-style sidecar.

The server (stdlib `http.server`, one thread per request) binds 127.0.0.1 only and serves:
- `GET /`, `GET /static/<name>`: the page, its CSS and JS, packaged in `static/` (nothing from
  outside the package; a strict Content-Security-Policy forbids any other source and inline script).
- `GET /api/state?since=V`: errors and messages grouped by issue (exception type and top in-app
  frame; a message's template), newest first, with counts, environments and releases; the newest
  transactions, logs and check-ins; what waits in the spool when a DSN is configured. `version` V
  changes whenever the directory does; with `since=V` unchanged, the answer is `{"version": V}`
  alone, so the page can poll every second for next to nothing.
- `GET /api/event?id=ID[&source=spool]`: one item's row and raw payload (the page renders it).
- `POST /stream` (also `/api/<project>/envelope/`): an envelope, as a Sentry SDK with
  `spotlight: true` (or `"http://127.0.0.1:PORT/stream"`) sends it, written to the outbox.
  CORS is allowed on this endpoint only, so that a browser front end can send too.

Defences: the body of a POST must declare its length, at most MAX_BODY bytes, and parse as an
envelope; a request whose Host is not this loopback address is refused (a DNS-rebinding page can't
read events); the page builds every element with `textContent`, never `innerHTML` with event data.

The rows of parsed files are cached by name (a name is never reused and a file never changes once
in place), so a poll parses only new files and the first load of N envelopes parses each once; an
event's payload is read again from its file when its page is opened, not kept in memory.
"""
import errno
import http.server
import json
import os
import posixpath
import sys
import threading
import urllib.parse

from sentry_bootstrap.events import reader
from sentry_bootstrap.transport import envelope_file, outbox

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
STATIC_FILES = {
    "viewer.css": "text/css; charset=utf-8",
    "viewer.js": "text/javascript; charset=utf-8",
}
# Larger than the SDK ever sends (it refuses envelopes over 20 MiB compressed, and sends uncompressed).
MAX_BODY = 20 * 1024 * 1024
# The newest envelope files the page considers: the default outbox bound holds far fewer.
MAX_FILES = 5000
# Non-error items (transactions, logs, check-ins) listed, newest first.
MAX_OTHER_ROWS = 300
ENVELOPE_TYPE = "application/x-sentry-envelope"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class DirectoryIndex(object):
    """The rows of an envelope directory, re-read incrementally: only new file names are parsed."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._rows = {}  # file name -> [row, ...]
        self._names = []  # newest first
        self.version = 0

    def refresh(self):
        """Bring the index up to date with the directory; returns the current names, newest first."""
        names = reader.list_names(self.path)[::-1][:MAX_FILES] if self.path else []
        with self._lock:
            if names == self._names:
                return names
            for name in names:
                if name not in self._rows:
                    self._rows[name] = [row for row, _payload in reader.read_file(self.path, name)]
            keep = set(names)
            for name in [n for n in self._rows if n not in keep]:
                del self._rows[name]
            self._names = names
            self.version += 1
            return names

    def rows(self):
        """The row of every item, newest first."""
        with self._lock:
            found = []
            for name in self._names:
                found.extend(reversed(self._rows.get(name, [])))
            return found

    def find(self, wanted):
        """(row, payload) of the item whose id is `wanted`, read from its file; None if gone."""
        self.refresh()
        for row in self.rows():
            if row.get("event_id") == wanted:
                for found in reader.read_file(self.path, os.path.basename(row["file"])):
                    if found[0].get("event_id") == wanted:
                        return found
        return None


def _public_row(row):
    return {k: row.get(k) for k in reader.ROW_KEYS if k != "file"}


def issues(rows):
    """Errors and messages grouped by issue key, the most recently seen first. `rows` newest first.
    Each issue keeps the ids of its newest 50 events (the event page links them)."""
    groups = {}
    order = []
    for row in rows:
        if row["type"] not in ("error", "message"):
            continue
        key = row.get("issue") or row.get("title")
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "issue": key, "type": row["type"], "title": row["title"], "level": row["level"],
                "culprit": row.get("culprit"), "count": 0,
                "last_seen": row["timestamp"], "first_seen": row["timestamp"],
                "latest": row["event_id"], "environments": [], "releases": [], "events": [],
            }
            order.append(group)
        group["count"] += 1
        group["first_seen"] = row["timestamp"]
        for field, many in (("environment", "environments"), ("release", "releases")):
            if row.get(field) and row[field] not in group[many] and len(group[many]) < 20:
                group[many].append(row[field])
        if len(group["events"]) < 50:
            group["events"].append({"event_id": row["event_id"], "timestamp": row["timestamp"]})
    return order


def state(index, spool_index=None):
    """The page's data (see the module docstring)."""
    rows = index.rows()
    others = [_public_row(row) for row in rows if row["type"] not in ("error", "message")]
    result = {
        "version": index.version, "outbox": index.path, "total": len(rows),
        "issues": issues(rows), "others": others[:MAX_OTHER_ROWS], "others_total": len(others),
        "spool": None,
    }
    if spool_index is not None:
        spooled = spool_index.rows()
        result["spool"] = {"path": spool_index.path, "rows": [_public_row(r) for r in spooled[:MAX_OTHER_ROWS]],
                           "total": len(spooled)}
    return result


# At most this many request bodies are held in memory at once (each up to MAX_BODY).
MAX_CONCURRENT_POSTS = 4


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "sentry-bootstrap-viewer"
    protocol_version = "HTTP/1.1"
    # A client that stops sending (or never sends its headers) lets go of its thread after this.
    timeout = 30

    # -- plumbing -----------------------------------------------------------------------------------

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        if self.server.verbose:
            sys.stderr.write("events serve: " + (format % args) + "\n")

    def _send(self, status, body=b"", content_type="application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", CSP)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, value, status=200, headers=None):
        self._send(status, json.dumps(value, default=str).encode("utf-8"), headers=headers)

    def _error(self, status, message, headers=None):
        self._json({"error": message}, status=status, headers=headers)

    def _host_ok(self):
        """Only requests addressed to this loopback server: a page whose domain was rebound to
        127.0.0.1 sends its own name as Host and is refused."""
        host = (self.headers.get("Host") or "").strip().lower()
        port = self.server.server_address[1]
        return host in {"127.0.0.1:{}".format(port), "localhost:{}".format(port), "[::1]:{}".format(port)}

    # -- routes -------------------------------------------------------------------------------------

    def do_GET(self):
        if not self._host_ok():
            return self._error(403, "this viewer answers only on 127.0.0.1")
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path in ("/", "/index.html"):
            return self._static("index.html", "text/html; charset=utf-8")
        if url.path.startswith("/static/"):
            name = posixpath.basename(url.path)
            if name in STATIC_FILES and url.path == "/static/" + name:
                return self._static(name, STATIC_FILES[name])
            return self._error(404, "no such file")
        if url.path == "/api/state":
            self.server.index.refresh()
            if self.server.spool_index is not None:
                self.server.spool_index.refresh()
            version = self._version()
            if query.get("since") == [version]:
                return self._json({"version": version})
            result = state(self.server.index, self.server.spool_index)
            result["version"] = version
            return self._json(result)
        if url.path == "/api/event":
            wanted = (query.get("id") or [""])[0]
            index = self.server.spool_index if query.get("source") == ["spool"] else self.server.index
            found = index.find(wanted) if index is not None and wanted else None
            if found is None:
                return self._error(404, "no such item")
            row, payload = found
            return self._json({"row": _public_row(row), "event": payload})
        return self._error(404, "not found")

    do_HEAD = do_GET

    def _version(self):
        spool = self.server.spool_index
        return "{}.{}".format(self.server.index.version, spool.version if spool is not None else 0)

    def _static(self, name, content_type):
        with open(os.path.join(STATIC_DIR, name), "rb") as f:
            self._send(200, f.read(), content_type)

    def _cors(self):
        return {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type, Content-Encoding, Sentry-Trace, Baggage",
                "Access-Control-Max-Age": "600"}

    def _is_stream(self, path):
        parts = [p for p in path.split("/") if p]
        return parts == ["stream"] or (len(parts) == 3 and parts[0] == "api" and parts[2] == "envelope")

    def do_OPTIONS(self):
        if not self._host_ok():
            return self._error(403, "this viewer answers only on 127.0.0.1")
        if not self._is_stream(urllib.parse.urlsplit(self.path).path):
            return self._error(404, "not found")
        self._send(204, headers=self._cors(), content_type="text/plain")

    def do_POST(self):
        cors = self._cors()
        if not self._host_ok():
            return self._error(403, "this viewer answers only on 127.0.0.1")
        if not self._is_stream(urllib.parse.urlsplit(self.path).path):
            return self._error(404, "not found")
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != ENVELOPE_TYPE:
            return self._error(415, "send Content-Type: " + ENVELOPE_TYPE, headers=cors)
        if (self.headers.get("Content-Encoding") or "identity").lower() != "identity":
            return self._error(415, "send the envelope uncompressed", headers=cors)
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            return self._error(411, "a Content-Length is required", headers=cors)
        if int(length) > MAX_BODY:
            self.close_connection = True
            return self._error(413, "at most {} bytes".format(MAX_BODY), headers=cors)
        with self.server.post_slots:
            body = self.rfile.read(int(length))
        if len(body) != int(length):
            self.close_connection = True
            return self._error(400, "the body ended before its Content-Length", headers=cors)
        try:
            envelope_file.parse(body)
        except envelope_file.MalformedEnvelope as exc:
            return self._error(400, "not an envelope: {}".format(exc), headers=cors)
        try:
            self.server.write(body)
        except OSError as exc:
            return self._error(507, "cannot write to the outbox: {}".format(exc), headers=cors)
        self._send(200, b"", content_type="text/plain", headers=cors)


class ViewerServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR: restart at once on the same port (on Linux it never lets two servers share one).
    allow_reuse_address = True

    def __init__(self, outbox_path, port=0, spool_path=None, max_bytes=None, verbose=False):
        self.index = DirectoryIndex(outbox_path)
        self.spool_index = DirectoryIndex(spool_path) if spool_path else None
        self.max_bytes = max_bytes or outbox.DEFAULT_MAX_BYTES
        self.verbose = verbose
        self.post_slots = threading.BoundedSemaphore(MAX_CONCURRENT_POSTS)
        http.server.ThreadingHTTPServer.__init__(self, ("127.0.0.1", port), Handler)

    def handle_error(self, request, client_address):
        # A browser closing a connection mid-answer is normal; the default prints a traceback.
        if self.verbose:
            http.server.ThreadingHTTPServer.handle_error(self, request, client_address)

    def write(self, body):
        """One envelope received as a sidecar, into the outbox, within its bound."""
        outbox.write_envelope(self.index.path, body, self.max_bytes)

    @property
    def url(self):
        return "http://127.0.0.1:{}/".format(self.server_address[1])


def _has_display(environ):
    """False where no graphical browser can open: a Linux or BSD session with neither an X nor a
    Wayland display (ssh, a container) and no $BROWSER of the user's. There webbrowser would start a
    console browser in our terminal, or nothing at all."""
    if environ.get("BROWSER") or sys.platform in ("darwin", "win32", "cygwin"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def open_page(url, environ=None):
    """Open `url` in the user's browser; the line to print when none opens (else "")."""
    if not _has_display(os.environ if environ is None else environ):
        return "No display to open a browser on: open {} in a browser on this machine, or forward the " \
               "port (ssh -L {port}:127.0.0.1:{port} HOST) and open it there\n".format(
                   url, port=url.rstrip("/").rsplit(":", 1)[1])
    import webbrowser

    try:
        opened = webbrowser.open(url)
    except Exception:  # webbrowser.Error, or a browser that fails to start
        opened = False
    return "" if opened else "No browser could be opened: open {} yourself\n".format(url)


def serve(outbox_path, port=0, open_browser=False, spool_path=None, max_bytes=None, out=None):
    """Run the viewer until interrupted; returns the exit code (2 when the port is taken)."""
    out = out or sys.stdout
    try:
        server = ViewerServer(outbox_path, port, spool_path=spool_path, max_bytes=max_bytes)
    except OSError as exc:
        hint = ""
        if exc.errno == errno.EADDRINUSE:
            hint = ("; another viewer may already serve http://127.0.0.1:{}/, or choose another port with "
                    "--port N (--port 0 picks a free one)".format(port))
        sys.stderr.write("sentry-bootstrap events serve: cannot listen on 127.0.0.1:{}: {}{}\n".format(
            port, exc.strerror or exc, hint))
        return 2
    server.index.refresh()  # parse what is there now, so that the first page load finds it ready
    out.write("Serving the outbox {} at {}\n".format(outbox_path, server.url))
    out.write("Spotlight sidecar: SDKs with spotlight: \"{}stream\" send here (Ctrl-C to stop)\n".format(server.url))
    out.flush()
    if open_browser:
        out.write(open_page(server.url))
        out.flush()
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
