"""Decode before matching: secrets written with percent-encoding or `+` for a space (query strings,
URLs, form bodies, the WSGI environ, cookies) are found like plain ones, in a real Flask program under
the hook too; and an address removed as personal data is not chased into `Host` or the URL."""
import os

import pytest

from sentry_bootstrap.scrub import BootstrapScrubber
from tests.support.child import run_python

FILTERED = "[Filtered]"


@pytest.mark.parametrize("text, expected", [
    ("q=4111+1111+1111+1111", "q=[Filtered]"),
    ("q=4111%201111%201111%201111&page=2", "q=[Filtered]&page=2"),
    ("next=%2Faccount%3Ftoken%3Dabc123def&page=2", "next=/account?token=[Filtered]&page=2"),
    ("q=postgres%3A%2F%2Fadmin%3As3cr3tpw%40db", "q=postgres://admin:[Filtered]@db"),
    ("/search?q=Bearer%20abcdefghijkl", "/search?q=Bearer%20[Filtered]"),
    ("x=%252Faccount%253Ftoken%253Dzzz999", "x=/account?token=[Filtered]"),
    ("theme=dark; prefs=a%3D1%26api_key%3Dk-778899", "theme=dark; prefs=a=1%26api_key=[Filtered]"),
    ("C++ and 1+1 and 100% and a%2Fb", "C++ and 1+1 and 100% and a%2Fb"),
])
def test_encoded_secrets_are_found(text, expected):
    """Each encoded form is decoded, scrubbed and encoded again; harmless encoded text is untouched."""
    assert BootstrapScrubber().scrub_text(text) == expected


def test_encoded_secret_in_an_event_string_is_found():
    """The prefilter sends percent-encoded strings to the rules (a query string, an environ repr)."""
    event = {"request": {"query_string": "next=%2Faccount%3Ftoken%3Dabc123def"},
             "extra": {"environ": "{'QUERY_STRING': 'q=4111+1111+1111+1111', 'PATH_INFO': '/search'}"}}
    BootstrapScrubber().scrub_event(event)
    query = event["request"]["query_string"]
    assert "abc123def" not in getattr(query, "value", query)
    assert "4111" not in event["extra"]["environ"] and "/search" in event["extra"]["environ"]


def test_client_address_equal_to_the_server_s_stays_in_host_and_url():
    """The client's address is removed as personal data, not from Host, the URL or SERVER_NAME."""
    event = {"request": {"url": "http://127.0.0.1:5000/search", "headers": {"Host": "127.0.0.1:5000"},
                         "env": {"REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "127.0.0.1"}},
             "user": {"ip_address": "127.0.0.1"}}
    BootstrapScrubber().scrub_event(event)
    request = event["request"]
    assert request["url"] == "http://127.0.0.1:5000/search" and request["headers"]["Host"] == "127.0.0.1:5000"
    assert request["env"]["SERVER_NAME"] == "127.0.0.1" and request["env"]["REMOTE_ADDR"].value == FILTERED
    assert "ip_address" not in event["user"]


PROGRAM = """\
import flask
import sentry_sdk

app = flask.Flask(__name__)


@app.route("/search")
def search():
    environ = flask.request.environ
    query = flask.request.query_string.decode()
    raise RuntimeError("search failed for " + query)


client = app.test_client()
for url in {urls!r}:
    client.get(url, headers={{"Host": "127.0.0.1:5000"}}, environ_base={{"REMOTE_ADDR": "127.0.0.1"}})
sentry_sdk.flush(10)
"""
URLS = ["/search?q=4111+1111+1111+1111", "/search?next=%2Faccount%3Ftoken%3Dtok-4a4b4c4d",
        "/search?q=postgres%3A%2F%2Fadmin%3Apgpw-9f8e7d%40db", "/search?q=Bearer%20bearer-5e6f7a8b9c"]
LEAKS = ["4111+1111", "4111 1111", "4111111111111111", "tok-4a4b4c4d", "pgpw-9f8e7d", "bearer-5e6f7a8b9c"]


def test_a_flask_program_sends_no_encoded_secret(tmp_path, sentry_server):
    """Flask under the hook: the query string, URL, environ and locals of four requests carry an
    encoded card, token, database password and bearer token; none reaches the server, and the Host
    header (the client's address is the server's) is kept."""
    (tmp_path / "sentry.yaml").write_text("version: 1\ndsn: {}\n".format(sentry_server.dsn))
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    (tmp_path / "prog.py").write_text(PROGRAM.format(urls=URLS))
    result = run_python(["prog.py"], cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert len(sentry_server.events) == len(URLS)
    bodies = b"".join(r.body or b"" for r in sentry_server.requests).decode("utf-8", "replace")
    assert [leak for leak in LEAKS if leak in bodies] == []
    assert all(event["request"]["headers"]["Host"] == "127.0.0.1:5000" for event in sentry_server.events)
