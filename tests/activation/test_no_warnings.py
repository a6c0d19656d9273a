"""No warning caused by us at start-up: the hook passes the SDK the options it wants, in the form
this SDK version wants them (issue 15, point 8)."""
import pytest

from tests.support.app import base_config
from tests.support.child import run_python

PROGRAM = """\
import sentry_sdk
sentry_sdk.capture_message("hello")
sentry_sdk.flush()
"""


@pytest.mark.parametrize("pii", ["true", "false"])
def test_send_default_pii_starts_without_a_warning_and_keeps_its_meaning(app, sentry_server, pii):
    """`send_default_pii` in the file: no deprecation warning under `-W error` and `-W always`, and
    the client collects user data exactly when it is true."""
    app.config(base_config(sentry_server.dsn, "send_default_pii: {}\n".format(pii)))
    # 3.x has no send_default_pii: the hook maps it to data_collection (user_info among others).
    app.write("main.py", PROGRAM + "import sys\nc = sentry_sdk.get_client()\n"
                         "pii = c.should_send_default_pii() if hasattr(c, 'should_send_default_pii') "
                         "else c.options['data_collection']['user_info']\n"
                         "sys.stderr.write('PII=%s\\n' % pii)\n")
    result = run_python(["-W", "always", "main.py"], cwd=str(app.path),
                        env={"SENTRY_BOOTSTRAP_LOG": "error"})
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "deprecated" not in result.stderr, result.stderr
    assert "PII={}".format(pii.capitalize()) in result.stderr
    assert sentry_server.wait_for_events(1)[0]["message"] == "hello"
    strict = run_python(["-W", "error", "main.py"], cwd=str(app.path))
    assert strict.returncode == 0 and "Warning" not in strict.stderr, strict.stderr
