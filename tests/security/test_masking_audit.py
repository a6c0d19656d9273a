"""Masking audit: the DSN's key and every secret value never appear in any output of any command, in
the startup report, in an error message or in a log line."""
import os
import sys

import pytest

from tests.support.child import ROOT, run_python
from tests.support.sentry_server import SentryServer

KEY = "auditkey7c1e9b"
SECRET_KEY = "auditsecret42f"  # the legacy secret part of a DSN
TOKEN = "audittoken5d3a8e"
PROXY_PASSWORD = "auditproxypw66"
SECRETS = (KEY, SECRET_KEY, TOKEN, PROXY_PASSWORD)

CONFIG = """\
version: 1
dsn: "http://{key}:{secret}@127.0.0.1:{port}/1"
environment: staging
https_proxy: "http://proxyuser:{proxy}@127.0.0.1:9"
diagnostics:
  endpoint: {{enabled: true, token: "{token}"}}
environments:
  staging: {{debug: true}}
  broken: {{sample_rate: 7}}
"""

COMMANDS = [
    ["check"], ["check", "--all-environments"], ["check", "--env", "broken"],
    ["explain"], ["explain", "--json"], ["explain", "dsn"], ["explain", "--env", "broken"],
    ["schema"], ["events"], ["events", "--json"],
    ["spool", "status"], ["spool", "status", "--json"], ["spool", "flush"], ["spool", "clear"],
    ["doctor", "--timeout", "2"], ["doctor", "--json", "--timeout", "2"],
    ["test", "--timeout", "5"], ["test", "--exception", "--timeout", "5"],
    ["hook-path"],
]


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """An app directory whose sentry.yaml holds every kind of secret, and a real server."""
    server = SentryServer(public_key=KEY).start()
    work = tmp_path_factory.mktemp("audit")
    config = work / "sentry.yaml"
    config.write_text(CONFIG.format(key=KEY, secret=SECRET_KEY, port=server.port, token=TOKEN,
                                    proxy=PROXY_PASSWORD))
    os.chmod(str(config), 0o600)
    # One event in the local outbox (an empty SENTRY_DSN resets the DSN), so `events` has output.
    state = str(work / "state")  # one state dir for the module (the autouse one is per test)
    made = run_python(["-c", "import sentry_sdk; sentry_sdk.capture_message('token={}')".format(TOKEN)],
                      cwd=str(work), env={"SENTRY_DSN": "", "XDG_STATE_HOME": state})
    assert made.returncode == 0, made.stderr
    yield work, server
    server.stop()


def assert_masked(result, what):
    for secret in SECRETS:
        assert secret not in result.stdout, "{} printed {} on stdout".format(what, secret)
        assert secret not in result.stderr, "{} printed {} on stderr".format(what, secret)


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_every_command_masks_secrets(audited, args):
    """Each command's stdout and stderr hold no DSN key, DSN secret, token or proxy password."""
    work, _server = audited
    env = {"PYTHONPATH": ROOT, "NO_PROXY": "127.0.0.1", "XDG_STATE_HOME": str(work / "state")}
    if args[0] == "events":
        env["SENTRY_DSN"] = ""  # the outbox holds the event
    result = run_python(["-m", "sentry_bootstrap"] + args, cwd=str(work), hook=False, env=env, timeout=60)
    assert result.stdout or result.stderr  # it did say something
    assert_masked(result, " ".join(args))


def test_run_command_and_its_childs_report_mask_secrets(audited):
    """`run` and the hook's startup report (at debug, every value's source, printed when the SDK
    starts) mask secrets."""
    work, _server = audited
    result = run_python(["-m", "sentry_bootstrap", "run", "--", sys.executable, "-c",
                         "import sentry_sdk; print('child')"],
                        cwd=str(work), hook=False,
                        env={"PYTHONPATH": ROOT, "SENTRY_BOOTSTRAP_LOG": "debug", "NO_PROXY": "127.0.0.1"})
    assert "child" in result.stdout
    assert "sentry-bootstrap: active:" in result.stderr
    assert_masked(result, "run")


def test_error_messages_mask_secrets_from_the_file_and_the_environment(tmp_path):
    """A bad value next to secrets, from the file and from variables: the errors show no secret."""
    config = tmp_path / "sentry.yaml"
    config.write_text("version: 1\ndsn: 'http://{}@127.0.0.1:9/1'\nsample_rate: lots\n"
                      "diagnostics:\n  endpoint: {{token: {}, enabled: maybe}}\n".format(KEY, TOKEN))
    os.chmod(str(config), 0o600)
    env = {"SENTRY_DSN": "not-a-dsn-{}".format(KEY), "SENTRY_DIAGNOSTICS__ENDPOINT__TOKEN": TOKEN,
           "SENTRY_TRACES_SAMPLE_RATE": "abc"}
    hooked = run_python(["-c", "print('host')"], cwd=str(tmp_path), env=env)
    assert hooked.stdout == "host\n"
    assert "sentry-bootstrap:" in hooked.stderr
    assert_masked(hooked, "hook error line")
    checked = run_python(["-m", "sentry_bootstrap", "check"], cwd=str(tmp_path), hook=False,
                         env=dict(env, PYTHONPATH=ROOT))
    assert checked.returncode == 1 and "traces_sample_rate" in checked.stderr
    assert_masked(checked, "check errors")


def test_sdk_debug_log_lines_mask_the_dsn(audited):
    """With `debug: true` (the SDK's own log lines on stderr), no secret is printed."""
    work, server = audited
    result = run_python(["-c", "import sentry_sdk; sentry_sdk.capture_message('hi'); sentry_sdk.flush(5)"],
                        cwd=str(work), env={"SENTRY_BOOTSTRAP_LOG": "debug", "NO_PROXY": "127.0.0.1"})
    assert "[sentry]" in result.stderr  # the SDK's debug logging did run
    assert_masked(result, "SDK debug log")
