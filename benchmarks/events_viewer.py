"""The events viewer's server side over a full outbox: what a page load and a live-update poll cost.

    .venv/bin/python benchmarks/events_viewer.py [--events N ...] [--repeat R]

For each N (default 1,000 and 5,000 events, each its own issue, one envelope each, as the SDK writes
them), a fresh outbox is filled, a real viewer server is started on 127.0.0.1 and timed over HTTP:
`first state` (the first /api/state: every file parsed and grouped), `full state` (again, from the
cache), and `poll` (/api/state?since=the current version: what every open page asks once a second).
Each event is about 4.5 KB, as an error with 8 frames of source context and 20 breadcrumbs is.
Medians of R runs, in ms. The page must load 1,000 events in under 1 s: the first state of 1,000
events must stay within half of that (PASS/FAIL, exit 1 on a FAIL), leaving the rest to the browser,
whose part tests/events/test_viewer_browser.py measures.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bootstrap"))

from sentry_bootstrap.events.viewer import ViewerServer  # noqa: E402
from sentry_bootstrap.transport import outbox  # noqa: E402

BUDGET_1000_MS = 500.0


def fill(box, count):
    for n in range(count):
        event = {"event_id": "%032x" % n, "level": "error", "timestamp": time.time() - count + n,
                 "environment": "production", "release": "shop@1.%d" % (n % 7),
                 "breadcrumbs": {"values": [{"category": "http", "message": "GET /cart/%d" % n}] * 20},
                 "exception": {"values": [{"type": "Error%d" % n, "value": "failure %d" % n, "stacktrace": {
                     "frames": [{"filename": "shop/orders.py", "module": "shop.orders", "function": "step_%d" % n,
                                 "lineno": 10 + i, "in_app": True, "context_line": "    charge(order)",
                                 "pre_context": ["x = 1"] * 5, "post_context": ["y = 2"] * 5,
                                 "vars": {"order": "{'id': %d}" % n}} for i in range(8)]}}]}}
        payload = json.dumps(event).encode()
        outbox.write_envelope(box, b"{}\n" + json.dumps({"type": "event", "length": len(payload)}).encode()
                              + b"\n" + payload + b"\n")


def fetch(url):
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as answer:
        body = answer.read()
    return (time.perf_counter() - started) * 1000, body


def measure(count):
    box = tempfile.mkdtemp(prefix="viewer-bench-")
    try:
        fill(box, count)
        server = ViewerServer(box, 0, max_bytes=1 << 40)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            first, body = fetch(server.url + "api/state")
            state = json.loads(body)
            assert len(state["issues"]) == count, len(state["issues"])
            full, _ = fetch(server.url + "api/state")
            poll, _ = fetch(server.url + "api/state?since=" + state["version"])
            return first, full, poll, len(body)
        finally:
            server.shutdown()
            server.server_close()
    finally:
        shutil.rmtree(box, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    failed = False
    print("%8s  %14s  %13s  %9s  %10s" % ("events", "first state", "full state", "poll", "state size"))
    for count in args.events:
        runs = [measure(count) for _ in range(args.repeat)]
        first, full, poll = (statistics.median(r[i] for r in runs) for i in range(3))
        verdict = ""
        if count == 1000:
            ok = first <= BUDGET_1000_MS
            failed |= not ok
            verdict = "  %s (first state within %.0f ms)" % ("PASS" if ok else "FAIL", BUDGET_1000_MS)
        print("%8d  %11.1f ms  %10.1f ms  %6.2f ms  %7.0f KB%s" % (count, first, full, poll, runs[0][3] / 1024.0, verdict))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
