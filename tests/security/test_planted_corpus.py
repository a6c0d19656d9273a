"""The second-round corpus: over 150 secrets planted across every event part and every item type
(errors, transactions, streamed spans, logs, metrics, check-ins, attachments, an unknown item), sent
by programs under the hook to a real local server: none reaches it. The counts per item type are
printed (`-s`) for the report."""
import json
import os

from tests.support import sensitive
from tests.support.child import ROOT, run_python
from tests.support.sentry_server import SentryServer

STATIC = """\
import json, sys
sys.path.insert(0, {root!r})
import sentry_sdk
from tests.support import sensitive
from tests.security import planted
sensitive.emit(sentry_sdk, dsn={dsn!r})
planted.emit_static(sentry_sdk)
sentry_sdk.flush(10)
print(json.dumps(planted.PLANTED))
"""
STREAM = """\
import json, sys
sys.path.insert(0, {root!r})
import sentry_sdk
from tests.security import planted
planted.emit_stream(sentry_sdk)
sentry_sdk.flush(10)
print(json.dumps(planted.PLANTED))
"""


def _run(tmp_path, server, program, extra):
    (tmp_path / "sentry.yaml").write_text(
        "version: 1\ndsn: {}\ntraces_sample_rate: 1.0\nattach_stacktrace: true\nenable_logs: true\n{}"
        "integrations:\n  auto: false\n".format(server.dsn, extra))
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    (tmp_path / "prog.py").write_text(program.format(root=ROOT, dsn=server.dsn))
    result = run_python(sensitive.ARGV, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_planted_secret_of_any_item_type_reaches_the_server(tmp_path):
    """At least 150 planted values across every item type; 0 in any byte the server received."""
    counts = {}
    with SentryServer(public_key=sensitive.PUBLIC_KEY) as server:
        planted = _run(tmp_path, server, STATIC, "")
        static_bodies = b"".join(r.body or b"" for r in server.requests).decode("utf-8", "replace")
        sent_types = {item.type for envelope in server.envelopes for item in envelope.items}
    with SentryServer(public_key=sensitive.PUBLIC_KEY) as server:
        (tmp_path / "stream").mkdir()
        streamed = _run(tmp_path / "stream", server, STREAM, "trace_lifecycle: stream\n")
        stream_bodies = b"".join(r.body or b"" for r in server.requests).decode("utf-8", "replace")
        sent_types |= {item.type for envelope in server.envelopes for item in envelope.items}
    planted["event"] = planted["event"] + [s for s in sensitive.secrets(server.dsn) if s != sensitive.PUBLIC_KEY]
    planted.update(streamed)
    bodies = static_bodies + stream_bodies
    for kind, values in sorted(planted.items()):
        values = sorted(set(values))
        counts[kind] = (len(values), [v for v in values if v in bodies])
    print("\nplanted corpus (item type: planted, leaked):",
          ", ".join("%s: %d, %d" % (k, n, len(leaked)) for k, (n, leaked) in counts.items()))
    assert {"event", "transaction", "span", "log", "trace_metric", "check_in", "attachment"} <= sent_types
    assert sum(n for n, _ in counts.values()) >= 150
    leaks = {kind: leaked for kind, (_, leaked) in counts.items() if leaked}
    assert leaks == {}, json.dumps(leaks, indent=1)
