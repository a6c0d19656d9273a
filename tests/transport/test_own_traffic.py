"""The hook's own traffic logs only to the hook: urllib3's retries of the transport's pool and the
SDK's own messages never reach the program's logging handlers, and the program's own urllib3 use
logs exactly as without the hook. Real child interpreters, a DSN at a closed 127.0.0.1 port."""
import os
import socket

import pytest

from tests.support.child import run_python

LOGS_TO_STDOUT = "import logging, sys\nlogging.basicConfig(stream=sys.stdout, level=logging.DEBUG)\n"

SENDS = LOGS_TO_STDOUT + """\
import sentry_sdk
sentry_sdk.capture_message("unreachable")
sentry_sdk.flush(5)
print("end")
"""

OWN_REQUEST = LOGS_TO_STDOUT + """\
import sentry_sdk, urllib3
sentry_sdk.capture_message("unreachable")  # the hook's transport fails in its thread meanwhile
try:
    urllib3.PoolManager().request("GET", sys.argv[1], retries=urllib3.Retry(2))
except urllib3.exceptions.MaxRetryError:
    print("gave up")
sentry_sdk.flush(5)
"""


@pytest.fixture
def closed_port():
    """A 127.0.0.1 port bound but never listening (connections are refused), held for the test."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


def _project(tmp_path, port, extra=""):
    config = tmp_path / "sentry.yaml"
    config.write_text('version: 1\ndsn: "http://key@127.0.0.1:{}/1"\nsdk_start: eager\n{}'.format(
        port, extra))
    os.chmod(str(config), 0o600)
    return str(tmp_path)


def test_transport_retries_never_reach_the_programs_handlers(tmp_path, closed_port):
    """A program logging to stdout sees no urllib3 line of the hook's failing sends; at the debug
    level they are the hook's own stderr lines."""
    cwd = _project(tmp_path, closed_port)
    result = run_python(["-c", SENDS], cwd=cwd, env={"SENTRY_BOOTSTRAP_LOG": "debug"}, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "end\n", result.stdout
    ours = [line for line in result.stderr.splitlines() if "urllib3" in line]
    assert any("Retrying" in line for line in ours), result.stderr[-2000:]
    assert all(line.startswith("sentry-bootstrap: transport: urllib3.") for line in ours), ours


def test_program_own_urllib3_logs_exactly_as_without_the_hook(tmp_path, closed_port):
    """The program's own request to a closed port logs its retries to its handlers, the same lines
    with the hook as without it, while the hook's transport fails in another thread."""
    cwd = _project(tmp_path, closed_port)
    url = "http://127.0.0.1:{}/own".format(closed_port)
    hooked = run_python(["-c", OWN_REQUEST, url], cwd=cwd, timeout=60)
    plain = run_python(["-c", OWN_REQUEST.replace("import sentry_sdk, urllib3",
                                                  "import sentry_sdk, urllib3\nsentry_sdk.init()"),
                        url], cwd=cwd, timeout=60, hook=False)
    assert hooked.returncode == plain.returncode == 0, hooked.stderr[-2000:] + plain.stderr[-2000:]
    assert "WARNING:urllib3.connectionpool:Retrying" in plain.stdout
    assert hooked.stdout == plain.stdout, (hooked.stdout, plain.stdout)


def test_sdk_debug_messages_stay_off_the_programs_handlers(tmp_path, closed_port):
    """With `debug: true` the SDK's own lines go to its stderr handler, not through the program's
    root handler to stdout."""
    cwd = _project(tmp_path, closed_port, "debug: true\n")
    result = run_python(["-c", SENDS], cwd=cwd, timeout=60)
    assert "[sentry] DEBUG" in result.stderr  # the SDK's debug log did run
    assert result.stdout == "end\n", result.stdout


def test_spotlight_sends_and_messages_stay_off_the_programs_handlers(tmp_path, closed_port):
    """With `spotlight` at a closed port, its sends (made in the program's own thread) and the
    SDK's `spotlight` log lines reach the hook's stderr line, not the program's stdout."""
    cwd = _project(tmp_path, closed_port,
                   'spotlight: "http://127.0.0.1:{}/stream"\n'.format(closed_port))
    result = run_python(["-c", SENDS], cwd=cwd, env={"SENTRY_BOOTSTRAP_LOG": "debug"}, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "end\n", result.stdout
    assert "/stream" in result.stderr  # the Spotlight sends were made, and told on our line
