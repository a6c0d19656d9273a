"""Per-event cost of BootstrapScrubber next to the SDK's own EventScrubber, in one run.

    .venv/bin/python benchmarks/scrub.py [--events N] [--repeat R]

The target: BootstrapScrubber costs at most TARGET (2x) the SDK's EventScrubber per event; each
scenario prints its ratio and PASS or FAIL. The scenarios: the error event below with its strings
seen before (scrubber caches help) and with every string new, and a transaction with 1,000 spans
(each with a description and data), also with every string new.

The event is a real one: an exception raised four frames deep (locals in every frame, source
context), 30 breadcrumbs from logging and HTTP, request data with headers, cookies, a JSON body and a
query string, tags, extra and user, captured by a real sentry_sdk client. The client's scrubber slot
records a deep copy of the event exactly as a scrubber receives it. Each scrubber then scrubs N fresh
copies; the best of R rounds is reported in microseconds per event, with the ratio.
"""
import argparse
import copy
import logging
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import sentry_sdk  # noqa: E402
from sentry_sdk.scrubber import EventScrubber  # noqa: E402
from sentry_sdk.transport import Transport  # noqa: E402

from sentry_bootstrap.scrub import BootstrapScrubber, MAX_TEXT  # noqa: E402

DSN = "http://0123456789abcdef0123456789abcdef@127.0.0.1:9/1"
TARGET = 2.0


class _Recorder:
    """Stands in the event_scrubber slot and keeps what a scrubber would receive."""

    def __init__(self):
        self.events = []

    def scrub_event(self, event):
        self.events.append(copy.deepcopy(event))


class _NullTransport(Transport):
    def capture_envelope(self, envelope):
        pass


def _checkout(cart, customer):
    total = sum(item["price"] * item["qty"] for item in cart)
    session_token = "tok_benchmark_0000000000"
    return _charge(total, customer, session_token)


def _charge(amount, customer, token):
    gateway = {"url": "https://payments.example.invalid/v1/charge", "timeout": 10, "retries": 3}
    payload = {"amount": amount, "currency": "EUR", "customer": customer["id"], "api_key": "sk_benchmark"}
    return _post(gateway, payload)


def _post(gateway, payload):
    attempt = 1
    message = "POST %s failed after %d attempts" % (gateway["url"], attempt)
    raise ConnectionError(message)


def realistic_event():
    """One error event as the SDK hands it to its scrubber."""
    recorder = _Recorder()
    sentry_sdk.init(
        dsn=DSN,
        transport=_NullTransport,
        event_scrubber=recorder,
        default_integrations=False,
        integrations=[],
        max_breadcrumbs=100,
    )
    log = logging.getLogger("shop.checkout")
    with sentry_sdk.new_scope() as scope:
        for i in range(20):
            sentry_sdk.add_breadcrumb(
                category="shop.checkout", level="info",
                message="cart %d updated: %d items, subtotal %d.%02d EUR" % (i, i % 7 + 1, i * 13, i),
            )
        for i in range(10):
            sentry_sdk.add_breadcrumb(
                type="http", category="httplib",
                data={"url": "https://api.example.invalid/v2/items/%d" % i, "method": "GET",
                      "status_code": 200, "reason": "OK", "http.query": "page=%d&per_page=50" % i},
            )
        scope.set_tag("team", "payments")
        scope.set_tag("region", "eu-west-1")
        scope.set_user({"id": "42", "username": "alice", "email": "alice@example.invalid"})
        scope.set_extra("cart_id", "c-99812")
        scope.set_extra("feature_flags", {"new_checkout": True, "one_click": False})
        scope.set_context("payment", {"provider": "stripe", "attempt": 1, "amount": 4599})
        scope.add_event_processor(_add_request)
        try:
            _checkout([{"sku": "A-1", "price": 1999, "qty": 1}, {"sku": "B-7", "price": 2600, "qty": 1}],
                      {"id": 42, "name": "Alice"})
        except ConnectionError:
            log.debug("about to capture")
            sentry_sdk.capture_exception()
    sentry_sdk.get_client().close()
    return recorder.events[-1]


def realistic_transaction(spans=1000):
    """One transaction with `spans` spans, as the SDK hands it to its scrubber."""
    recorder = _Recorder()
    sentry_sdk.init(dsn=DSN, transport=_NullTransport, event_scrubber=recorder, default_integrations=False,
                    integrations=[], traces_sample_rate=1.0, _experiments={"max_spans": spans + 10})
    with sentry_sdk.start_transaction(name="GET /api/v2/orders", op="http.server"):
        for i in range(spans):
            with sentry_sdk.start_span(op="db" if i % 3 else "http.client",
                                       name="SELECT * FROM orders WHERE id = %s AND shop = %s" if i % 3
                                       else "GET https://api.example.invalid/v2/items/%d?page=%d" % (i, i % 7)) as span:
                span.set_data("db.system", "postgresql")
                span.set_data("thread.name", "MainThread")
                span.set_data("rows", i % 50)
    sentry_sdk.get_client().close()
    return recorder.events[-1]


def _add_request(event, hint):
    event["request"] = {
        "url": "https://shop.example.invalid/checkout",
        "method": "POST",
        "query_string": "step=payment&ref=newsletter",
        "headers": {
            "Host": "shop.example.invalid", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)",
            "Accept": "application/json", "Accept-Language": "en-GB,en;q=0.9",
            "Content-Type": "application/json", "Authorization": "Bearer abcdefghijklmnop",
            "Cookie": "sessionid=abc; csrftoken=def", "X-Request-ID": "7f3c2a9e-1b2c-4d5e-8f90-123456789abc",
        },
        "cookies": {"sessionid": "abc", "csrftoken": "def", "theme": "dark"},
        "data": {"cart": [{"sku": "A-1", "qty": 1}, {"sku": "B-7", "qty": 1}], "coupon": "SPRING",
                 "card": {"last4": "4242", "exp": "12/29"}, "password": "hunter2"},
        "env": {"REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "shop", "SERVER_PORT": "443"},
    }
    return event


def unique_strings(obj, tag):
    """`obj` with `tag` appended to every string value, so no scrubber cache can help."""
    if isinstance(obj, str):
        return obj + tag
    if isinstance(obj, dict):
        return {k: unique_strings(v, tag) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unique_strings(v, tag) for v in obj]
    return obj


def time_scrubbers(scrubbers, event, n, repeat, cold=False):
    """Best-of-`repeat` seconds per event for each scrubber on `n` fresh copies; rounds interleaved
    so that a noisy machine slows every scrubber alike."""
    best = [float("inf")] * len(scrubbers)
    for r in range(repeat):
        for i, scrubber in enumerate(scrubbers):
            if cold:
                copies = [unique_strings(event, "#%d.%d" % (r, k)) for k in range(n)]
            else:
                copies = [copy.deepcopy(event) for _ in range(n)]
            start = time.perf_counter()
            for ev in copies:
                scrubber.scrub_event(ev)
            best[i] = min(best[i], (time.perf_counter() - start) / n)
    return best


def time_huge(scrubber, size):
    """Seconds to scrub one event whose exception message is `size` characters of log text."""
    text = ("GET /api/v2/items?page=3 200 in 12ms user=alice order=123456789012 " * (size // 66 + 1))[:size]
    event = {"exception": {"values": [{"type": "ValueError", "value": text}]}}
    start = time.perf_counter()
    scrubber.scrub_event(event)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    event = realistic_event()
    names = ["sentry_sdk EventScrubber", "sentry_sdk EventScrubber(recursive)", "BootstrapScrubber"]
    scrubbers = [EventScrubber(), EventScrubber(recursive=True), BootstrapScrubber(dsn=DSN)]
    ours = scrubbers[-1]
    time_scrubbers(scrubbers, event, 50, 1)  # warm-up
    frames = sum(len(v["stacktrace"]["frames"]) for v in event["exception"]["values"])
    print("event: %d frames, %d breadcrumbs, %d bytes of repr; %d events x best of %d rounds"
          % (frames, len(event["breadcrumbs"]["values"]), len(repr(event)), args.events, args.repeat))
    results = []
    for label, cold in (("repeated event (strings seen before)", False),
                        ("every string new (no cache hits)", True)):
        times = time_scrubbers(scrubbers, event, args.events, args.repeat, cold=cold)
        print(label + ":")
        for name, t in zip(names, times):
            print("  %-36s %8.1f us/event" % (name, t * 1e6))
        ratio = times[2] / times[0]
        results.append(ratio)
        print("  ratio BootstrapScrubber / EventScrubber: %.2fx (/ recursive: %.2fx)  %s"
              % (ratio, times[2] / times[1], "PASS" if ratio <= TARGET else "FAIL"))
    transaction = realistic_transaction()
    spans = transaction["spans"]
    times = time_scrubbers(scrubbers, transaction, max(1, args.events // 20), args.repeat, cold=True)
    print("transaction with %d spans, every string new:" % len(spans))
    for name, t in zip(names, times):
        print("  %-36s %8.1f us/event" % (name, t * 1e6))
    ratio = times[2] / times[0]
    results.append(ratio)
    print("  ratio BootstrapScrubber / EventScrubber: %.2fx (/ recursive: %.2fx)  %s"
          % (ratio, times[2] / times[1], "PASS" if ratio <= TARGET else "FAIL"))
    for size in (MAX_TEXT, 10 * MAX_TEXT, 100 * MAX_TEXT):
        print("huge message, %9d chars: %7.2f ms (scan bounded at %d chars)"
              % (size, time_huge(ours, size) * 1e3, MAX_TEXT))
    print("overall: %s (target: at most %.1fx the SDK's EventScrubber in every scenario)"
          % ("PASS" if max(results) <= TARGET else "FAIL", TARGET))


if __name__ == "__main__":
    main()
