"""Every item type the SDK sends is scrubbed: the SDK's item types are listed from its source and
each has a place in `scrub.items.HANDLING`; a program under the hook that streams spans, sends logs,
metrics, a check-in, an attachment and an item of a type nobody knows gets none of its planted
secrets to a real local server."""
import os
import re

import sentry_sdk

from sentry_bootstrap.scrub.items import HANDLING
from tests.support.child import run_python

SDK_DIR = os.path.dirname(sentry_sdk.__file__)


def sdk_item_types():
    """Item types the installed SDK can put in an envelope, read from its source: the kinds
    `Item.data_category` tells apart, the batchers' `TYPE`s, and every `Item(type="...")`."""
    found = set()
    for folder, _, files in os.walk(SDK_DIR):
        for name in files:
            if not name.endswith(".py"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                source = handle.read()
            if name == "envelope.py":
                body = source[source.index("def data_category"):]
                body = body[:body.index("\n    def ", 10)]
                found.update(re.findall(r'ty == "([a-z_]+)"', body))
            found.update(re.findall(r'^\s+TYPE = "([a-z_]+)"', source, re.M))
            for call in re.finditer(r"Item\((.{0,400}?)\)", source, re.S):
                found.update(re.findall(r'\btype="([a-z_]+)"', call.group(1)))
    return found


def test_every_sdk_item_type_has_a_scrubbing_place():
    """A new item type in the SDK fails here until scrub/items.py says where it is scrubbed."""
    types = sdk_item_types()
    assert {"event", "transaction", "span", "log", "trace_metric", "attachment", "check_in"} <= types
    assert sorted(types - set(HANDLING)) == []


PLANTED = {
    "span": ["span-pw-7a1c9e", "spanurlpw3b9", "spanbearer12345", "span-name-tok-5e"],
    "trace_metric": ["metric-key-5d2f8a", "metric-tok-91c4"],
    "log": ["log-pw-44e1aa", "log-attr-tok-0b"],
    "check_in": ["sk_live_" + "c" * 24],
    "attachment": ["att-pw-8c3d1f"],
    "future_item": ["future-pw-2e9a", "future-key-7731"],
}

PROGRAM = """\
import sentry_sdk
from sentry_sdk import crons, metrics, traces
from sentry_sdk.envelope import Envelope, Item, PayloadRef

with traces.start_span(name="GET /reset?token=span-name-tok-5e", attributes={
        "password": "span-pw-7a1c9e", "http.url": "https://u:spanurlpw3b9@h.invalid/x",
        "note": "upstream said Bearer spanbearer12345"}):
    pass
metrics.count("checkout.ok", 1, attributes={"api_key": "metric-key-5d2f8a", "note": "token=metric-tok-91c4"})
sentry_sdk.logger.warning("login failed password={pw}", pw="log-pw-44e1aa", attributes={"api_token": "log-attr-tok-0b"})
crons.capture_checkin(monitor_slug="sk_live_" + "c" * 24, status="ok")
sentry_sdk.get_isolation_scope().add_attachment(bytes=b"contents", filename="dump password=att-pw-8c3d1f.txt")
sentry_sdk.capture_message("with an attachment")
sentry_sdk.get_client().transport.capture_envelope(Envelope(items=[Item(
    type="future_item", payload=PayloadRef(json={"note": "password=future-pw-2e9a", "api_key": "future-key-7731"}))]))
sentry_sdk.flush(10)
"""


def test_no_planted_secret_of_any_item_type_reaches_the_server(tmp_path, sentry_server):
    """Streamed spans, logs, metrics, a check-in, an attachment's name and an unknown item: 0 leaked."""
    (tmp_path / "sentry.yaml").write_text(
        "version: 1\ndsn: {}\ntraces_sample_rate: 1.0\ntrace_lifecycle: stream\nenable_logs: true\n"
        "integrations:\n  auto: false\n".format(sentry_server.dsn))
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    (tmp_path / "prog.py").write_text(PROGRAM)
    result = run_python(["prog.py"], cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    types = {item.type for envelope in sentry_server.envelopes for item in envelope.items}
    assert {"span", "trace_metric", "log", "check_in", "attachment", "event"} <= types, types
    bodies = b"".join(r.body or b"" for r in sentry_server.requests).decode("utf-8", "replace")
    leaked = {kind: [s for s in values if s in bodies] for kind, values in PLANTED.items()}
    assert leaked == {kind: [] for kind in PLANTED}
    assert "checkout.ok" in bodies and "login failed password=" in bodies and "[Filtered]" in bodies
