"""The bugsink harness itself: an event sent by the real sentry_sdk is stored and reads back as sent,
and a restarted instance keeps its projects and events and accepts new ones."""
import os

import pytest

from tests.e2e.bugsink import BugsinkError, bugsink_venv
from tests.support.child import run_python

# A plain program that reports one handled error and prints the SDK's event id. The SDK is
# initialised by hand here: this checks the harness, not the hook. Auto-enabling integrations are
# off because probing for every framework in the test venv costs ~1.5 s per interpreter.
SENDER = '''\
import sys

import sentry_sdk

dsn, message = sys.argv[1], sys.argv[2]
sentry_sdk.init(dsn=dsn, environment="harness-env", release="harness@1.2.3", auto_enabling_integrations=False)
sentry_sdk.set_tag("component", "harness")
sentry_sdk.set_tag("message", message)


def fail():
    raise ValueError(message)


try:
    fail()
except ValueError:
    print(sentry_sdk.capture_exception())
sentry_sdk.flush(10)
'''


@pytest.fixture
def sender(tmp_path):
    """Path of the sending script, in a file so that its frames carry a real path."""
    path = tmp_path / "sender.py"
    path.write_text(SENDER)
    return str(path)


def send_error(sender, dsn, message):
    """Run the sender in a child interpreter; the event id it reports."""
    # Run from the script's directory: the SDK marks frames in-app when they lie under the cwd.
    result = run_python([sender, dsn, message], cwd=os.path.dirname(sender), hook=False, timeout=60)
    assert result.returncode == 0, result.stderr
    event_id = result.stdout.strip()
    assert len(event_id) == 32, (result.stdout, result.stderr)
    return event_id


def test_event_from_real_sdk_reads_back_as_sent(bugsink, sender):
    """A real sentry_sdk error event is stored with its exception, environment, release, tags and in-app frames."""
    project_id, dsn = bugsink.create_project("harness-roundtrip")
    event_id = send_error(sender, dsn, "harness boom")

    event = bugsink.get_event(project_id, event_id)

    assert event["event_id"] == event_id
    exception = event["exception"]["values"][-1]
    assert (exception["type"], exception["value"]) == ("ValueError", "harness boom")
    assert event["environment"] == "harness-env"
    assert event["release"] == "harness@1.2.3"
    assert event["tags"] == {"component": "harness", "message": "harness boom"}
    frames = exception["stacktrace"]["frames"]
    assert [(f["function"], f["abs_path"], f["in_app"]) for f in frames][-1] == ("fail", sender, True)


def test_project_dsn_points_at_the_instance(bugsink):
    """create_project is idempotent by name, and its DSN carries the project id and the instance's address."""
    first = bugsink.create_project("harness-dsn")
    assert bugsink.create_project("harness-dsn") == first
    project_id, dsn = first
    assert dsn.endswith("@127.0.0.1:%d/%d" % (bugsink.port, project_id))
    assert bugsink.dsn(project_id) == dsn == bugsink.dsn("harness-dsn")


def test_restart_keeps_port_projects_and_events(bugsink, sender):
    """After stop and start the same DSN still works, earlier events are still stored and a new one arrives."""
    project_id, dsn = bugsink.create_project("harness-restart")
    before = send_error(sender, dsn, "before restart")
    bugsink.get_event(project_id, before)
    port = bugsink.port

    bugsink.stop()
    assert not bugsink.running
    bugsink.start()

    assert bugsink.port == port
    assert bugsink.dsn(project_id) == dsn
    after = send_error(sender, dsn, "after restart")
    assert bugsink.get_event(project_id, after)["tags"]["message"] == "after restart"
    stored = bugsink.wait_for_events(project_id, 2)
    assert [e["event_id"] for e in stored] == [before, after]


def test_missing_venv_names_the_install_script(tmp_path):
    """Without a bugsink virtualenv the harness fails with a message telling to run scripts/install-bugsink."""
    with pytest.raises(BugsinkError, match="scripts/install-bugsink"):
        bugsink_venv({"BUGSINK_VENV": str(tmp_path / "nowhere")})


def test_wrong_bugsink_version_names_the_install_script(tmp_path):
    """A virtualenv with another bugsink version is refused with the same instruction."""
    venv = tmp_path / "venv"
    for tool in ("python", "gunicorn", "bugsink-manage"):
        path = venv / "bin" / tool
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        os.chmod(str(path), 0o755)
    (venv / "lib" / "python3.11" / "site-packages" / "bugsink-1.0.0.dist-info").mkdir(parents=True)

    with pytest.raises(BugsinkError, match=r"bugsink 1\.0\.0.*scripts/install-bugsink"):
        bugsink_venv({"BUGSINK_VENV": str(venv)})
