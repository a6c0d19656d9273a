"""The viewer's HTTP side, against a real `events serve` process: loopback only, a Host check
against DNS rebinding, the Spotlight sidecar (the real SDK's `spotlight` sends to it), bounded and
validated POSTs, CORS only where a browser SDK needs it, issues grouped with counts, the spool."""
import http.client
import json
import socket
import sys
import textwrap
import time
import urllib.error
import urllib.request

import pytest

from sentry_bootstrap.transport import outbox
from tests.events.conftest import default_box, events
from tests.support.child import HOOK_DIR, run_python


def get(viewer, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", viewer.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    answer = conn.getresponse()
    return answer.status, dict(answer.getheaders()), answer.read()


def post(viewer, body, headers=None, path="/stream", chunked=False):
    conn = http.client.HTTPConnection("127.0.0.1", viewer.port, timeout=10)
    sent = {"Content-Type": "application/x-sentry-envelope"}
    sent.update(headers or {})
    if chunked:
        conn.putrequest("POST", path)
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    else:
        conn.request("POST", path, body=body, headers=sent)
    answer = conn.getresponse()
    return answer.status, dict(answer.getheaders()), answer.read()


def envelope(**event):
    payload = json.dumps(event).encode()
    return b"\n".join([b"{}", json.dumps({"type": "event", "length": len(payload)}).encode(), payload]) + b"\n"


def test_listens_on_loopback_127_0_0_1_only(viewer):
    """The server answers on 127.0.0.1 and not on another loopback address (it is not bound to all interfaces)."""
    served = viewer()
    assert get(served, "/")[0] == 200
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", served.port), timeout=2).close()


def test_a_foreign_host_header_is_refused(viewer):
    """A request naming another host (a DNS-rebinding page) gets 403, for reading and for writing."""
    served = viewer()
    status, _headers, _body = get(served, "/api/state", headers={"Host": "evil.example.invalid:%d" % served.port})
    assert status == 403
    assert post(served, envelope(message="x"), headers={"Host": "evil.example.invalid"})[0] == 403
    assert get(served, "/api/state", headers={"Host": "localhost:%d" % served.port})[0] == 200


def test_page_and_assets_come_from_the_package_with_a_strict_policy(viewer):
    """The page, CSS and JS are served from the package under a CSP with no outside source; other paths are 404."""
    served = viewer()
    status, headers, body = get(served, "/")
    assert status == 200 and b'src="/static/viewer.js"' in body
    assert "default-src 'none'" in headers["Content-Security-Policy"] and "script-src 'self'" in headers["Content-Security-Policy"]
    assert b"http://" not in body and b"https://" not in body
    for name in ("viewer.js", "viewer.css"):
        status, _headers, asset = get(served, "/static/" + name)
        assert status == 200 and b"https://" not in asset and b"http://" not in asset
    assert get(served, "/static/../viewer.py")[0] == 404
    assert get(served, "/static/%2e%2e/viewer.py")[0] == 404
    assert "Access-Control-Allow-Origin" not in get(served, "/api/state")[1]  # other sites can't read events


def test_state_groups_errors_by_issue_newest_first_and_answers_unchanged_cheaply(tmp_path, viewer):
    """Errors of one type and top in-app frame are one issue with a count, environments and releases; `since` the current version returns the version alone."""
    box = default_box(tmp_path / "_state")
    frame = {"module": "shop.cart", "function": "total", "in_app": True}
    for n, release in enumerate(["a@1", "a@2", "a@2"]):
        outbox.write_envelope(box, envelope(event_id="%032x" % n, environment="prod", release=release,
                                            exception={"values": [{"type": "KeyError", "value": str(n),
                                                                   "stacktrace": {"frames": [frame]}}]}))
    outbox.write_envelope(box, envelope(event_id="f" * 32, message="later", level="warning"))
    served = viewer()
    state = json.loads(get(served, "/api/state")[2])
    assert [(i["title"], i["count"]) for i in state["issues"]] == [("later", 1), ("KeyError: 2", 3)]
    grouped = state["issues"][1]
    assert (grouped["culprit"], grouped["environments"], grouped["releases"]) == ("shop.cart in total", ["prod"], ["a@2", "a@1"])
    assert grouped["latest"] == "%032x" % 2
    unchanged = json.loads(get(served, "/api/state?since=" + state["version"])[2])
    assert unchanged == {"version": state["version"]}
    status, _h, body = get(served, "/api/event?id=" + "f" * 32)
    assert status == 200 and json.loads(body)["event"]["message"] == "later"
    assert get(served, "/api/event?id=nope")[0] == 404


def test_the_real_sdk_with_spotlight_sends_to_the_viewer(tmp_path, viewer):
    """sentry_sdk.init(spotlight="http://127.0.0.1:PORT/stream") delivers its events into the outbox through the viewer."""
    served = viewer()
    code = textwrap.dedent("""\
        import sys
        sys.path.insert(0, {root!r})
        import sentry_sdk
        sentry_sdk.init(spotlight={url!r}, auto_enabling_integrations=False)
        sentry_sdk.capture_message("hello from spotlight")
        sentry_sdk.flush()
        """).format(root=HOOK_DIR, url=served.url + "stream")
    proc = run_python(["-c", code], hook=False, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    state = json.loads(get(served, "/api/state")[2])
    assert [i["title"] for i in state["issues"]] == ["hello from spotlight"]
    assert len(outbox.envelope_names(default_box(tmp_path / "_state"))) >= 1


def test_posts_are_bounded_and_validated(tmp_path, viewer):
    """A POST needs the envelope content type, a declared length within MAX_BODY, no compression and a parseable envelope; nothing else is written."""
    from sentry_bootstrap.events.viewer import MAX_BODY

    served = viewer()
    body = envelope(message="ok")
    assert post(served, body, headers={"Content-Type": "text/plain"})[0] == 415
    assert post(served, body, headers={"Content-Encoding": "gzip"})[0] == 415
    assert post(served, body, chunked=True)[0] == 411
    assert post(served, b"x", headers={"Content-Length": str(MAX_BODY + 1)})[0] == 413
    assert post(served, b"not json\n{]\n")[0] == 400
    assert post(served, b"{}\n")[0] == 400
    assert post(served, body, path="/elsewhere")[0] == 404
    assert outbox.envelope_names(default_box(tmp_path / "_state")) == []
    status, headers, _ = post(served, body, path="/api/1/envelope/")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert len(outbox.envelope_names(default_box(tmp_path / "_state"))) == 1


def test_cors_preflight_for_browser_sdks(viewer):
    """OPTIONS /stream answers a browser's preflight so a front-end SDK can send; other paths don't."""
    served = viewer()
    request = urllib.request.Request(served.url + "stream", method="OPTIONS",
                                     headers={"Origin": "http://127.0.0.1:3000",
                                              "Access-Control-Request-Method": "POST"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 204
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(urllib.request.Request(served.url + "api/state", method="OPTIONS"), timeout=10)


def test_the_spool_of_a_configured_dsn_is_shown(tmp_path, viewer):
    """With a DSN whose server is down, what the hook spooled is listed under `spool` in the page's data."""
    (tmp_path / "sentry.yaml").write_text("version: 1\ndsn: http://public@127.0.0.1:9/1\n")
    script = tmp_path / "fail.py"
    script.write_text("raise RuntimeError('server is down')\n")
    proc = run_python([str(script)], hook=True, cwd=str(tmp_path))
    assert "RuntimeError" in proc.stderr
    served = viewer()
    state = json.loads(get(served, "/api/state")[2])
    assert state["spool"] is not None and state["issues"] == []
    assert [r["title"] for r in state["spool"]["rows"] if r["type"] == "error"] == ["RuntimeError: server is down"]
    event_id = state["spool"]["rows"][0]["event_id"]
    status, _h, body = get(served, "/api/event?source=spool&id=" + event_id)
    assert status == 200 and json.loads(body)["row"]["event_id"] == event_id


def test_open_hands_the_page_to_the_users_browser(tmp_path, viewer):
    """`events serve --open` opens the page's URL with the user's browser ($BROWSER here, a recorder)."""
    record = tmp_path / "opened"
    browser = tmp_path / "browser.py"
    browser.write_text("import sys\nopen({!r}, 'w').write(sys.argv[1])\n".format(str(record)))
    served = viewer(env={"BROWSER": "{} {} %s".format(sys.executable, browser)}, extra=["--open"])
    deadline = time.monotonic() + 10
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record.read_text() == served.url


def test_a_port_in_use_is_a_clear_error(tmp_path):
    """`events serve --port N` on a taken port exits 2 with one line saying so and naming --port."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        proc = events("serve", "--port", str(port), cwd=tmp_path)
    finally:
        taken.close()
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "sentry-bootstrap events serve: cannot listen on 127.0.0.1:{0}: Address already in use; another "
        "viewer may already serve http://127.0.0.1:{0}/, or choose another port with --port N (--port 0 "
        "picks a free one)\n".format(port))


def test_open_without_a_display_says_so_and_prints_the_url(tmp_path, viewer):
    """`events serve --open` where no browser can open (no X or Wayland display, no $BROWSER: ssh, a
    container) says so with the URL to open, and serves on."""
    served = viewer(env={"DISPLAY": None, "WAYLAND_DISPLAY": None, "BROWSER": None}, extra=["--open"])
    said = [served.lines.get(timeout=30) for _ in range(2)][-1]
    assert said == ("No display to open a browser on: open {} in a browser on this machine, or forward "
                    "the port (ssh -L {port}:127.0.0.1:{port} HOST) and open it there\n".format(
                        served.url, port=served.port))
    assert get(served, "/api/state")[0] == 200
