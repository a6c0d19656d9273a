"""Checked against Sentry's own scrubber: Relay's Python bindings (`sentry-relay`, a test-only
dependency) run Sentry's default server-side data scrubbing (`convert_datascrubbing_config` with a
new project's settings, then `pii_strip_event`) on generated raw events. Nothing Relay would remove
may leave our process, and every event we send passes Relay's `StoreNormalizer` as Sentry's
ingestion would. The events are generated from fixed seeds: the same events on every run."""
import copy
import json
import random
import re
import sys

import pytest
from sentry_sdk.serializer import serialize

from sentry_bootstrap.scrub import make_scrubber

if sys.version_info < (3, 10):  # sentry-relay 0.10.1 needs Python 3.10 (pyproject.toml)
    pytest.skip("sentry-relay is not installed for Python 3.9 (see pyproject.toml)", allow_module_level=True)
import sentry_relay as relay  # noqa: E402  (a test dependency from 3.10 on: missing is a failure)

# A new project's data scrubbing settings in Sentry: scrub data, with the default fields, IP
# addresses kept (their own switch, off by default).
PROJECT = {"scrubData": True, "scrubDefaults": True, "scrubIpAddresses": False, "sensitiveFields": [],
           "excludeFields": []}

KEYS = ["author", "api_key", "apiKey", "token", "input_tokens", "otp", "two_factor", "passwd", "secret",
        "credentials", "mysql_pwd", "privateKey", "auth_header", "name", "note", "city", "count",
        "description", "url", "query", "x-api-key", "Authorization", "session_id", "card", "detail"]
VALUES = [
    lambda u: "plain text %d" % u,
    lambda u: "password=pw%dpw" % u,
    lambda u: "my token: tk%dtk" % u,
    lambda u: "Bearer br%dbr" % u,
    lambda u: "https://user%d:pass%dpass@host.invalid/x" % (u, u),
    lambda u: "card 4111 1111 1111 1111 ref%d" % u,
    lambda u: "card 4111-1111-1111-1111 ref%d" % u,
    lambda u: "iban DE89370400440532013000 ref%d" % u,
    lambda u: "ssn 078-05-%04d" % (u % 10000),
    lambda u: "-----BEGIN PRIVATE KEY-----\nMIIE%dkeybody\n-----END PRIVATE KEY-----" % u,
    lambda u: "-----BEGIN PUBLIC KEY-----\nMIIB%dpubbody\n-----END PUBLIC KEY-----" % u,
    lambda u: "auth failed for user%d" % u,
    lambda u: "the secret sauce %d" % u,
    lambda u: "mail user%d@example.com" % u,
    lambda u: "ip 10.0.%d.1" % (u % 250),
    lambda u: "api_key=ak%dak&page=2" % u,
    lambda u: u * 7919,
    lambda u: ["list%d" % u, "password is pw%d" % u],
    lambda u: {"inner%d" % u: "token=in%din" % u},
]


def generated_event(seed):
    """A raw event as an SDK would send it, with values from VALUES under keys from KEYS in every
    part Relay scrubs."""
    rng = random.Random(seed)
    counter = iter(range(seed * 1000, seed * 1000 + 1000))

    def value():
        return rng.choice(VALUES)(next(counter))

    def mapping(n):
        return {rng.choice(KEYS): value() for _ in range(n)}

    def text():
        v = value()
        return v if isinstance(v, str) else "plain %d" % next(counter)

    return {
        "event_id": "%032x" % (seed + 1),
        "platform": "python",
        "level": "error",
        "message": text(),
        "extra": mapping(4),
        "tags": {k: text() for k in rng.sample(["team", "note", "url", "detail", "city"], 3)},
        "contexts": {"ctx": mapping(3)},
        "user": {"id": str(seed), "username": "user-%d" % seed, "data": mapping(2)},
        "breadcrumbs": {"values": [{"message": text(), "data": mapping(2), "category": "c"}
                                   for _ in range(3)]},
        "request": {"url": "https://shop.invalid/p", "method": "POST", "query_string": text(),
                    "headers": {"X-Custom": text(), "User-Agent": "Mozilla/5.0"}, "data": mapping(3)},
        "exception": {"values": [{"type": "ValueError", "value": text(), "stacktrace": {"frames": [
            {"function": "f", "filename": "app.py", "lineno": 3, "context_line": text(), "vars": mapping(3)}]}}]},
    }


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "_meta":
                yield from _leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, path + (i,))
    else:
        yield path, node


def _get(node, path):
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


# What Relay writes in place of what it removes.
MARKERS = re.compile(r"\[(?:Filtered|email|creditcard|iban|us-ssn|ip|mac|uuid|imei|pemkey|auth|user|password)\]")


def removed_by_relay(before, after):
    """The pieces of text Relay removed: whole values it replaced or dropped, and what lies between
    the parts of a string it kept (4 characters or more)."""
    pieces = []
    for path, value in _leaves(before):
        now = _get(after, path)
        if now == value:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            pieces.append(str(value))
        elif isinstance(value, str):
            pieces.extend(_cut_out(value, now) if isinstance(now, str) else [value])
    return [p.strip() for p in pieces if len(p.strip()) >= 4]


def _cut_out(value, now):
    pieces, at = [], 0
    for kept in MARKERS.split(now):
        if not kept:
            continue
        found = value.find(kept, at)
        if found == -1:
            return [value]
        if found > at:
            pieces.append(value[at:found])
        at = found + len(kept)
    if at < len(value):
        pieces.append(value[at:])
    return pieces


def normalized(event):
    return relay.StoreNormalizer().normalize_event(copy.deepcopy(event))


@pytest.mark.parametrize("seed", range(40))
def test_nothing_relay_would_remove_leaves_the_process(seed):
    """Relay's default scrubbing on the raw event removes pieces of text; none of them is in the
    event we send, and our event normalizes without an error Relay's ingestion would add."""
    raw = generated_event(seed)
    config = relay.convert_datascrubbing_config(PROJECT)
    before = normalized(raw)
    after = relay.pii_strip_event(config, copy.deepcopy(before))
    ours = copy.deepcopy(raw)
    make_scrubber({}, None, False).scrub_event(ours)
    sent = normalized(json.loads(json.dumps(serialize(ours))))
    text = json.dumps(sent)
    assert [piece for piece in removed_by_relay(before, after) if piece in text] == []
    # Relay's normalization finds no error in what we send that it didn't find in the raw event.
    assert [e for e in sent.get("errors", []) if e not in before.get("errors", [])] == []


def test_the_comparison_can_fail():
    """Control: the SDK's own EventScrubber lets through pieces Relay removes."""
    from sentry_sdk.scrubber import EventScrubber

    leaked = 0
    for seed in range(10):
        raw = generated_event(seed)
        before = normalized(raw)
        after = relay.pii_strip_event(relay.convert_datascrubbing_config(PROJECT), copy.deepcopy(before))
        ours = copy.deepcopy(raw)
        EventScrubber(recursive=True).scrub_event(ours)
        text = json.dumps(normalized(json.loads(json.dumps(serialize(ours)))))
        leaked += len([piece for piece in removed_by_relay(before, after) if piece in text])
    assert leaked > 10
