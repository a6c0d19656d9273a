"""Rate limits are shared: a limit learned by one process for a DSN is honoured by every process with
that DSN and by the next start; what is limited beyond `spool.max_age` is dropped and counted, not
spooled. Real processes against the real test server."""
import json
import time

from sentry_bootstrap.transport.durable import flush
from sentry_bootstrap.transport.spool import RATE_LIMITS_FILE, Spool, spool_dir
from tests.support.child import run_code, start_code
from tests.support.collecting import SDK3

# The limited category: transactions on 2.x; spans on 3.x, which has no transactions.
LIMITED = "span" if SDK3 else "transaction"
CFG = {"backoff": 0.1, "backoff_max": 0.3, "timeout": 2, "max_age": 3600}

CHILD = """
import json, sys
import sentry_sdk
from sentry_bootstrap.transport.durable import make_transport
sentry_sdk.init(dsn=%(dsn)r, transport=make_transport(None, %(cfg)r), traces_sample_rate=1.0,
                default_integrations=False)
def transactions(n):
    for i in range(n):
        if hasattr(sentry_sdk, "start_transaction"):
            with sentry_sdk.start_transaction(name="t%%d" %% i):
                pass
        else:
            with sentry_sdk.start_span(name="t%%d" %% i):
                pass
            sentry_sdk.flush(5)  # 3.x batches spans: one envelope each, as transactions are
"""

LEARNS = CHILD + """
sentry_sdk.capture_message("first")   # answered 200 with the transaction limit
sentry_sdk.flush(5)
transactions(2)
sentry_sdk.flush(5)
"""

WAITS = CHILD + """
print("ready", flush=True)
sys.stdin.readline()
transactions(3)
sentry_sdk.capture_message("still sent")
sentry_sdk.flush(5)
"""

NEXT_START = CHILD + """
transactions(2)
sentry_sdk.flush(5)
"""


def _discarded(server, reason, category):
    total = 0
    for item in server.items("client_report"):
        for entry in item.json.get("discarded_events", []):
            if entry["reason"] == reason and entry["category"] == category:
                total += entry["quantity"]
    return total


def test_a_limit_learned_by_one_process_holds_for_all_and_the_next_start(sentry_server):
    """A 24 h transaction limit met by one process keeps every transaction of a running process and
    of the next start off the wire and out of the spool; each is counted as ratelimit_backoff."""
    sentry_server.set_mode("ok", rate_limits="86400:%s:organization" % LIMITED)
    args = {"dsn": sentry_server.dsn, "cfg": CFG}
    waiting = start_code(WAITS % args)  # started before anyone met the limit
    assert waiting.stdout.readline().strip() == "ready", waiting.stderr.read()
    run_code(LEARNS % args)
    directory = spool_dir(sentry_server.dsn)
    with open("%s/%s" % (directory, RATE_LIMITS_FILE)) as f:
        category, until = f.read().split()
    assert category == LIMITED and abs(float(until) - time.time() - 86400) < 60
    time.sleep(1.1)  # a running process looks at the shared file at most once a second
    _out, err = waiting.communicate("\n", timeout=60)
    assert waiting.returncode == 0, err
    run_code(NEXT_START % args)
    sentry_server.wait_for_events(2)
    assert sentry_server.items(LIMITED) == []
    assert [e["message"] for e in sentry_server.events] == ["first", "still sent"]
    assert Spool(directory).pending() == []
    sentry_server.wait_for(lambda: _discarded(sentry_server, "ratelimit_backoff", LIMITED) >= 7,
                           what="7 transactions counted as ratelimit_backoff")
    assert _discarded(sentry_server, "ratelimit_backoff", LIMITED) == 7


def test_a_limit_within_max_age_still_spools(sentry_server):
    """A limit that ends before spool.max_age keeps the limited envelopes in the spool for later."""
    sentry_server.set_mode("ok", rate_limits="30:%s:organization" % LIMITED)
    run_code(LEARNS % {"dsn": sentry_server.dsn, "cfg": dict(CFG, backoff=30)})
    assert sentry_server.items(LIMITED) == []
    assert len(Spool(spool_dir(sentry_server.dsn)).pending()) == 2


def test_spooled_files_limited_beyond_max_age_are_dropped_and_counted(sentry_server):
    """A spooled transaction whose category is limited past its expiry is dropped at the next drain
    (counted as ratelimit_backoff), not kept or sent."""
    spool = Spool(spool_dir(sentry_server.dsn), fsync=False, max_age=3600)
    spool.write(b'{}\n{"type":"%s","length":2}\n{}\n' % LIMITED.encode())
    spool.rate_limits.merge({LIMITED: time.time() + 86400})
    result = flush(sentry_server.dsn, CFG)
    assert result == {"sent": 0, "remaining": 0, "status": "empty"}
    assert spool.drop_counts() == {"ratelimit_backoff:" + LIMITED: 1}
    assert sentry_server.items(LIMITED) == []
    assert json.dumps(spool.unreported()) == "{}"  # reported to the server by the flush
