"""The sensitive corpus (over 100 values: key-named secrets, provider token formats in free text,
card numbers, a DSN, PEM keys, argv flag values), sent by a program under the hook with only
sentry.yaml: nothing sensitive reaches the real test server, and the harmless values do."""
import os

from tests.support import sensitive
from tests.support.child import ROOT, run_python
from tests.support.sentry_server import SentryServer

PROGRAM = """\
import sys
sys.path.insert(0, {root!r})
import sentry_sdk
from tests.support import sensitive
sensitive.emit(sentry_sdk, dsn={dsn!r})
sentry_sdk.flush(10)
"""


def test_no_sensitive_value_reaches_the_server(tmp_path):
    """At least 100 sensitive values across every event part: none in any byte the server got."""
    # A distinctive public key, so finding it anywhere means the DSN leaked.
    with SentryServer(public_key=sensitive.PUBLIC_KEY) as sentry_server:
        _run_corpus(tmp_path, sentry_server)


def _run_corpus(tmp_path, sentry_server):
    dsn = sentry_server.dsn
    (tmp_path / "sentry.yaml").write_text(
        "version: 1\ndsn: {}\ntraces_sample_rate: 1.0\nattach_stacktrace: true\n"
        "integrations:\n  auto: false\n".format(dsn))
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    (tmp_path / "prog.py").write_text(PROGRAM.format(root=ROOT, dsn=dsn))
    result = run_python(sensitive.ARGV, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    sentry_server.wait_for_events(4, timeout=15)
    bodies = b"".join(r.body or b"" for r in sentry_server.requests).decode("utf-8", "replace")
    secrets = sensitive.secrets(dsn)
    assert len(set(sensitive.placed(dsn))) >= 100
    key = sensitive.PUBLIC_KEY
    # The one place the DSN's public key must travel (besides X-Sentry-Auth): the dynamic sampling
    # context in envelope headers, which Sentry reads to apply the project's sampling.
    protocol = sum(1 for e in sentry_server.envelopes
                   if (e.headers.get("trace") or {}).get("public_key") == key)
    assert bodies.count(key) == protocol
    leaked = [s for s in secrets if s != key and s in bodies]
    assert leaked == []
    # Without send_default_pii the user's email is personal data, like their IP address.
    assert "alice@example.invalid" not in bodies
    kept = [h for h in sensitive.HARMLESS if h in bodies]
    assert kept == sensitive.HARMLESS


def test_scrubbing_stays_on_with_data_collection(tmp_path, sentry_server):
    """`data_collection` makes the SDK drop `event_scrubber`: events are still scrubbed, silently."""
    (tmp_path / "sentry.yaml").write_text(
        "version: 1\ndsn: {}\ndata_collection:\n  user_info: true\n".format(sentry_server.dsn))
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    (tmp_path / "prog.py").write_text(
        "import sentry_sdk\nsentry_sdk.set_extra('password', 'hunter2secret')\n"
        "sentry_sdk.capture_message('upstream said Bearer abcdefghijklmnop')\n")
    result = run_python(["-W", "default", "prog.py"], cwd=str(tmp_path))
    assert result.returncode == 0 and result.stderr == ""
    sentry_server.wait_for_events(1)
    body = sentry_server.requests[0].body.decode("utf-8", "replace")
    assert "hunter2secret" not in body and "abcdefghijklmnop" not in body
    assert "[Filtered]" in body
