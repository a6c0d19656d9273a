"""Our stderr only: every line the hook causes on stderr at the default log level starts with
`sentry-bootstrap:`, the SDK's exit-time lines and its start-up warnings included."""
import os

from tests.support.child import run_python
from tests.support.sentry_server import SentryServer

PENDING = ("import sentry_sdk\n"
           "for i in range(5):\n"
           "    sentry_sdk.capture_message('pending %d' % i)\n"
           "print('done')\n")


def test_pending_events_at_exit_are_announced_in_our_voice(tmp_path):
    """A child exiting with events queued for a server that hangs: one prefixed line says what it
    waits for, and no bare SDK line ("Sentry is attempting...", "Press Ctrl-C") reaches stderr."""
    with SentryServer() as server:
        server.set_mode("hang")
        result = run_python(["-c", PENDING], cwd=str(tmp_path), timeout=60,
                            env={"SENTRY_DSN": server.dsn, "SENTRY_SHUTDOWN_TIMEOUT": "1"})
    assert result.returncode == 0 and result.stdout == "done\n", result.stderr
    lines = result.stderr.splitlines()
    assert lines, "the exit-time wait is announced"
    assert all(line.startswith("sentry-bootstrap: ") for line in lines), lines
    assert any("pending event(s) before exit, waiting up to 1.0 s" in line for line in lines), lines
    assert "Sentry is attempting" not in result.stderr and "Press Ctrl-" not in result.stderr


def test_sdk_warnings_at_start_are_prefixed(tmp_path):
    """An option combination the SDK warns about at init is reported as our line, not a bare
    `UserWarning` with a source line."""
    (tmp_path / "span_hook.py").write_text("def keep(span, hint):\n    return span\n")
    (tmp_path / "sentry.yaml").write_text("version: 1\nbefore_send_span: span_hook:keep\n")
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    result = run_python(["-c", "import sentry_sdk; print('ran')"], cwd=str(tmp_path))
    assert result.stdout == "ran\n"
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("sentry-bootstrap: ") for line in lines), lines
    assert any("warning: sentry_sdk:" in line and "before_send_span" in line for line in lines), lines
