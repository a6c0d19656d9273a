"""A burst of 10,000 events under the hook: memory stays bounded, and the outbox and the spool stay
within their limits."""
import json
import os
import re


from tests.support.child import run_python
from tests.support.sentry_server import SentryServer

BURST = """\
import json, resource, sys
import sentry_sdk

def rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

for i in range(1000):
    sentry_sdk.capture_message("burst %d" % i)
sentry_sdk.flush(10)
early = rss_kib()
for i in range(1000, 10000):
    sentry_sdk.capture_message("burst %d" % i)
sentry_sdk.flush(10)
print(json.dumps({"early": early, "late": rss_kib()}))
"""

LIMIT = 256 * 1024


def directory_bytes(path):
    total = 0
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if os.path.isfile(full) and name.endswith(".envelope"):
            total += os.path.getsize(full)
    return total


def run_burst(tmp_path, config):
    (tmp_path / "sentry.yaml").write_text(config)
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    (tmp_path / "burst.py").write_text(BURST)
    result = run_python(["burst.py"], cwd=str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stderr
    memory = json.loads(result.stdout.strip().splitlines()[-1])
    # 9,000 more events may not grow the peak by more than a few MiB: nothing accumulates.
    assert memory["late"] - memory["early"] < 16 * 1024, memory
    return result


def test_outbox_burst_stays_within_bound_and_memory(tmp_path):
    """No DSN: 10,000 events keep the outbox under outbox.max_bytes, with the evictions counted."""
    outbox = tmp_path / "outbox"
    run_burst(tmp_path, "version: 1\noutbox: {{path: {}, max_bytes: {}}}\n".format(outbox, LIMIT))
    assert 0 < directory_bytes(str(outbox)) <= LIMIT
    from sentry_bootstrap.events.reader import read_rows
    from sentry_bootstrap.transport.outbox import evicted_count

    kept = len(read_rows(str(outbox)))
    assert kept > 0 and evicted_count(str(outbox)) == 10000 - kept


def test_spool_burst_during_an_outage_stays_within_bound_and_memory(tmp_path):
    """A DSN whose server refuses: 10,000 events keep the spool under spool.max_bytes, drops counted."""
    server = SentryServer().start()
    try:
        server.set_mode("refuse")
        spool = tmp_path / "spool"
        run_burst(tmp_path, "version: 1\ndsn: {}\nspool: {{path: {}, max_bytes: {}}}\n".format(
            server.dsn, spool, LIMIT))
        from sentry_bootstrap.transport.spool import Spool

        status = Spool(str(spool)).status()
        # The next process to start the SDK reports the drops and the waiting envelopes.
        later = run_python(["-c", "import sentry_sdk"], cwd=str(tmp_path), env={"SENTRY_BOOTSTRAP_LOG": "info"})
        after = sum(Spool(str(spool)).status()["dropped"].values())
    finally:
        server.stop()
    assert 0 < status["bytes"] <= LIMIT
    dropped = sum(status["dropped"].values())
    assert dropped == 10000 - status["files"]
    # That process's drainer may set aside a leftover while the report is written: between the two.
    reported = re.search(r"spool: (\d+) envelope\(s\) dropped so far", later.stderr)
    assert reported and dropped <= int(reported.group(1)) <= after, later.stderr
    assert "spool: envelopes waiting to be sent" in later.stderr
