"""`sentry-bootstrap test` in a real child interpreter: against the real test server and the outbox."""
import os
import re

from sentry_bootstrap.events.reader import read_rows
from tests.support.keyed_server import KEY
from tests.support.child import run_python

CONFIG = """\
version: 1
dsn: "{dsn}"
environment: staging
release: "shop@4.5.6"
tags:
  team: payments
"""


def _ids(stdout, kind):
    return re.findall(r"^sent {} event ([0-9a-f]{{32}})$".format(kind), stdout, re.M)


def test_sends_message_and_exception_with_environment_and_release(server, tmp_path):
    """Both events arrive with the configured environment, release and tags; the ids printed are
    the ones the server got, with its HTTP answer; the key is never printed."""
    (tmp_path / "sentry.yaml").write_text(CONFIG.format(dsn=server.dsn))
    result = run_python(["-m", "sentry_bootstrap", "test", "--message", "hello from test", "--exception"],
                        cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    events = {e["event_id"]: e for e in server.wait_for_events(2)}
    [message_id], [exception_id] = _ids(result.stdout, "message"), _ids(result.stdout, "exception")
    assert set(events) == {message_id, exception_id}
    for event in events.values():
        assert event["environment"] == "staging"
        assert event["release"] == "shop@4.5.6"
        assert event["tags"]["team"] == "payments"
    assert events[message_id]["message"] == "hello from test"
    assert events[exception_id]["exception"]["values"][-1]["type"] == "SentryBootstrapTestError"
    assert "server answered HTTP 200" in result.stdout
    assert "environment staging, release shop@4.5.6" in result.stdout
    assert KEY not in result.stdout + result.stderr


def test_refused_event_reports_the_status_and_the_spool(server, tmp_path):
    """A 500 is printed with its status, the event is kept in the spool, and the exit code is 1."""
    server.set_mode("status_500")
    (tmp_path / "sentry.yaml").write_text(CONFIG.format(dsn=server.dsn))
    result = run_python(["-m", "sentry_bootstrap", "test"], cwd=str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "server answered HTTP 500" in result.stdout
    assert "kept in the spool" in result.stdout
    assert len(_ids(result.stdout, "message")) == 1
    assert KEY not in result.stdout + result.stderr


def test_without_dsn_names_the_outbox_file(tmp_path):
    """With no DSN the event goes to the outbox; the file printed holds it, with the release."""
    (tmp_path / "sentry.yaml").write_text("version: 1\nrelease: offline@1\n")
    result = run_python(["-m", "sentry_bootstrap", "test"], cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    [event_id] = _ids(result.stdout, "message")
    [path] = re.findall(r"^written to the outbox: (.+)$", result.stdout, re.M)
    assert os.path.isfile(path)
    [event] = [e for e in read_rows(os.path.dirname(path)) if e.get("event_id") == event_id]
    assert event["release"] == "offline@1"
    assert event["title"] == "sentry-bootstrap test message"
