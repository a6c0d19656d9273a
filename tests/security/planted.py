"""Planted secrets for every item type, on top of the event corpus of `tests/support/sensitive.py`.

`PLANTED[item type]`: the values planted in items of that type only, so a leak names its type.
`emit_static(sentry_sdk)` plants them in errors, transactions, logs, metrics, a check-in,
attachments and an item of an unknown type; `emit_stream(sentry_sdk)` in streamed spans (run it
with `trace_lifecycle: stream`). Every value is printable ASCII without quotes or backslashes.
"""
from tests.support.sensitive import _fill

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_HEX = "0123456789abcdef"


def _secret(n):
    return "pl%03dSECRETvalue" % n


def formats(n):
    """The token formats of the second attack round, each distinctive for `n`: (name, text as it
    is written, the secret part(s) that must not leave)."""
    sig = _fill(n, _ALNUM, 30)
    account_key = _fill(n + 1, _ALNUM, 86)
    hex32 = _fill(n + 2, _HEX, 32)
    return [
        ("twilio", "SK" + hex32, ["SK" + hex32]),
        ("mailgun", "key-" + _fill(n + 3, _HEX, 32), ["key-" + _fill(n + 3, _HEX, 32)]),
        ("azure-account-key", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=%s==;"
         "EndpointSuffix=core.windows.net" % account_key, [account_key]),
        ("azure-sas", "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&sig=%s%%3D" % sig, [sig]),
        ("google-oauth", "ya29." + _fill(n + 4, _ALNUM, 60), [_fill(n + 4, _ALNUM, 60)]),
        ("google-client-secret", "GOCSPX-" + _fill(n + 5, _ALNUM, 28), [_fill(n + 5, _ALNUM, 28)]),
        ("heroku", "heroku api key %s-%s-%s-%s-%s" % (
            _fill(n + 6, _HEX, 8), _fill(n + 7, _HEX, 4), _fill(n + 8, _HEX, 4), _fill(n + 9, _HEX, 4),
            _fill(n + 10, _HEX, 12)), [_fill(n + 10, _HEX, 12)]),
        ("databricks", "dapi" + _fill(n + 11, _HEX, 32), [_fill(n + 11, _HEX, 32)]),
        ("discord", "M%s.%s.%s" % (_fill(n + 12, _ALNUM, 23), _fill(n + 13, _ALNUM, 6), _fill(n + 14, _ALNUM, 27)),
         [_fill(n + 14, _ALNUM, 27)]),
        ("telegram", "%d:%s" % (100000000 + n, _fill(n + 15, _ALNUM, 35)), [_fill(n + 15, _ALNUM, 35)]),
        ("atlassian", "ATATT3" + _fill(n + 16, _ALNUM, 120), [_fill(n + 16, _ALNUM, 120)]),
        ("datadog", "datadog api key " + _fill(n + 17, _HEX, 32), [_fill(n + 17, _HEX, 32)]),
        ("cloudflare", "cloudflare token " + _fill(n + 18, _ALNUM, 40), [_fill(n + 18, _ALNUM, 40)]),
        ("aws-secret", "aws secret access key is " + _fill(n + 19, _ALNUM + "/+", 40),
         [_fill(n + 19, _ALNUM + "/+", 40)]),
        ("user-pw-host", "connect admin:%s@db.internal:5432" % _secret(n), [_secret(n)]),
        ("sql-password", "ALTER USER app WITH PASSWORD 'sql%s'" % _secret(n + 1), [_secret(n + 1)]),
        ("hf-digits", "hf_" + _fill(n + 20, _ALNUM, 34), [_fill(n + 20, _ALNUM, 34)]),
        ("url-pw-at", "https://u:p@ss%s@host.invalid/x" % _secret(n + 2), ["ss" + _secret(n + 2)]),
        ("iban", "DE89%s" % _fill(n + 21, "0123456789", 18), [_fill(n + 21, "0123456789", 18)]),
        ("us-ssn", "ssn %03d-%02d-%04d" % (100 + n % 800, 10 + n % 80, 1000 + n), ["%03d-%02d-%04d" % (
            100 + n % 800, 10 + n % 80, 1000 + n)]),
        ("bearer-short", "auth header Bearer tk%d" % (1000 + n), ["tk%d" % (1000 + n)]),
    ]


# Test cards (Luhn-valid) written with dots, and as a query string with `+`.
_DOTTED_CARDS = ["4111.1111.1111.1111", "5500.0000.0000.0004", "4012.8888.8888.1881"]

PLANTED = {}


def _plant(kind, *values):
    PLANTED.setdefault(kind, []).extend(values)


def emit_static(sentry_sdk):
    """Errors, a transaction, logs, metrics, a check-in, attachments and an unknown item."""
    from sentry_sdk import crons, metrics
    from sentry_sdk.envelope import Envelope, Item, PayloadRef

    with sentry_sdk.new_scope() as scope:
        parts = ["extra", "tag", "context", "breadcrumb", "crumb_data", "local"]
        for i, (name, text, secrets) in enumerate(formats(100)):
            where = parts[i % len(parts)]
            if where == "extra":
                scope.set_extra("note_%d" % i, "upstream gave (%s) back" % text)
            elif where == "tag":
                scope.set_tag("t%d" % i, text[:200])
            elif where == "context":
                scope.set_context("c%d" % i, {"detail": "seen: " + text})
            elif where == "breadcrumb":
                sentry_sdk.add_breadcrumb(message="step with " + text)
            elif where == "crumb_data":
                sentry_sdk.add_breadcrumb(category="http", data={"detail": text})
        for card in _DOTTED_CARDS:
            sentry_sdk.add_breadcrumb(message="paid with " + card)
        try:
            _raise_with_locals([text for _, text, _ in formats(200)])
        except RuntimeError:
            sentry_sdk.capture_exception()
    for _, _, secrets in formats(100) + formats(200):
        _plant("event", *secrets)
    _plant("event", *_DOTTED_CARDS)

    with sentry_sdk.start_transaction(name="planted-transaction", op="task"):
        for i, (name, text, secrets) in enumerate(formats(300)):
            with sentry_sdk.start_span(op="db", name="run " + text) as span:
                span.set_data("detail", text)
            _plant("transaction", *secrets)

    for i, (name, text, secrets) in enumerate(formats(400)[:10]):
        sentry_sdk.logger.warning("log says " + text.replace("{", "").replace("}", ""),
                                  attributes={"detail": "x " + formats(450)[i][1]})
        _plant("log", *secrets)
        _plant("log", *formats(450)[i][2])
    for i, (name, text, secrets) in enumerate(formats(500)[:10]):
        metrics.count("planted.metric", 1, attributes={"detail": text, "password": _secret(500 + i)})
        _plant("trace_metric", *secrets)
        _plant("trace_metric", _secret(500 + i))
    for i in range(3):
        token = "sk_live_" + _fill(600 + i, _ALNUM, 24)
        crons.capture_checkin(monitor_slug=token, status="ok")
        _plant("check_in", token)
    with sentry_sdk.new_scope() as scope:
        for i in range(4):
            secret = _secret(700 + i)
            scope.add_attachment(bytes=b"contents", filename="dump password=%s" % secret)
            _plant("attachment", secret)
        sentry_sdk.capture_message("with attachments")
    future = [_secret(800 + i) for i in range(5)]
    sentry_sdk.get_client().transport.capture_envelope(Envelope(items=[Item(
        type="future_item", payload=PayloadRef(json={
            "note": "password=%s" % future[0], "api_key": future[1], "nested": {"token": future[2]},
            "text": "Bearer %s and %s" % (future[3], "ghp_" + _fill(801, _ALNUM, 36))}))]))
    _plant("future_item", *(future[:4] + ["ghp_" + _fill(801, _ALNUM, 36)]))


def emit_stream(sentry_sdk):
    """Streamed spans (`trace_lifecycle: stream`): secrets in names and attributes."""
    from sentry_sdk import traces

    with traces.start_span(name="planted segment"):
        for i, (name, text, secrets) in enumerate(formats(900)):
            with traces.start_span(name="call " + text, attributes={
                    "detail": formats(950)[i][1], "db.password": _secret(900 + i)}):
                pass
            _plant("span", *secrets)
            _plant("span", *formats(950)[i][2])
            _plant("span", _secret(900 + i))


def _raise_with_locals(texts):
    """Locals holding one more copy of every format (as written, in a list and alone), then an error."""
    first, last = texts[0], texts[-1]  # noqa: F841 - locals the event carries
    raise RuntimeError("planted locals")
