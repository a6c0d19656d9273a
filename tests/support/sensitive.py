"""A corpus of sensitive values, placed across every part of real SDK events, for scrubbing tests.

`emit()` drives the public `sentry_sdk` API of an initialised client (tags, user, extra, contexts,
breadcrumbs, request data through an event processor as the framework integrations add it, an
exception with local variables, a message with thread stacks, a log record, a transaction with span
data) so that the events carry every value of `SECRETS` and `HARMLESS`. Use it in-process or in a
child interpreter under the hook: after `emit()` and a flush, no byte of any sent envelope may contain
a value of `SECRETS`, and every value of `HARMLESS` must still be there.

Every value is printable ASCII without quotes or backslashes, so it reads the same in JSON.
Init the SDK with `DSN` (or pass yours to `emit`), `send_default_pii=True` if the user part should be
kept, `traces_sample_rate=1.0`, and `attach_stacktrace=True` for the thread frames.
"""
import base64
import logging

PUBLIC_KEY = "5e7a2c41b8d94f0e9a3b6c7d8e9f0a1b"
DSN = "http://%s@127.0.0.1:9/42" % PUBLIC_KEY


def _v(n):
    """A distinctive secret: nothing else in an event contains it by chance."""
    return "zq%02dSECRETvalue%02dx" % (n, n)


# Luhn-valid test card numbers (the card networks' published test numbers).
CARDS = [
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "378282246310005",
    "6011000990139424",
    "4012888888881881",
    "4000056655665556",
    "4242424242424242",
    "5105105105105100",
]
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDZsecretPEMbody"
PEM = "-----BEGIN RSA PRIVATE KEY-----\n%s\n%s\n-----END RSA PRIVATE KEY-----" % (PEM_BODY, PEM_BODY[::-1])
BASIC = base64.b64encode(("bob:" + _v(5)).encode()).decode()

# An order number of 12 digits that fails Luhn, and other things a scrubber must leave alone.
ORDER_NUMBER = "123456789017"
HARMLESS = [
    "checkout-flow-harmless",
    "payments-team-harmless",
    ORDER_NUMBER,
    "4599",
    "3.14159265358979",
    "1234567812345678",  # 16 digits, fails Luhn
    "GET /api/v2/items?page=3",
    "the quick brown fox",
    "harmless-breadcrumb-message",
    "input_tokens",
]




def _fill(n, alphabet, length):
    """`length` characters of `alphabet`, different for each `n` (so each token is distinctive)."""
    out, x = [], n * 7919 + 13
    for _ in range(length):
        x = (x * 1103515245 + 12345) % 2147483648
        out.append(alphabet[x % len(alphabet)])
    return "".join(out)


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_UPPER32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_HEX = "0123456789abcdef"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _jwt(n):
    return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLSVkIiwibiI6%s.%s" % (
        _fill(n, _ALNUM, 12), _fill(n + 1, _ALNUM, 43))


# Tokens in the formats of well-known providers, placed where no key name says they are secret.
FORMATS = {
    "github": "ghp_" + _fill(1, _ALNUM, 36),
    "github_oauth": "gho_" + _fill(2, _ALNUM, 36),
    "github_app": "ghs_" + _fill(3, _ALNUM, 36),
    "github_fine": "github_pat_" + _fill(4, _ALNUM + "_", 82),
    "gitlab": "glpat-" + _fill(5, _ALNUM, 20),
    "aws_akia": "AKIA" + _fill(6, _UPPER32, 16),
    "aws_asia": "ASIA" + _fill(7, _UPPER32, 16),
    "slack_bot": "xoxb-123456789012-123456789012-" + _fill(8, _ALNUM, 24),
    "slack_user": "xoxp-123456789012-123456789012-123456789012-" + _fill(9, _HEX, 32),
    "stripe_live": "sk_live_" + _fill(10, _ALNUM, 24),
    "stripe_restricted": "rk_live_" + _fill(11, _ALNUM, 24),
    "google": "AIza" + _fill(12, _ALNUM + "_-", 35),
    "jwt": _jwt(13),
    "npm": "npm_" + _fill(14, _ALNUM, 36),
    "pypi": "pypi-AgEIcHlwaS5vcmc" + _fill(15, _ALNUM, 60),
    "sendgrid": "SG." + _fill(16, _ALNUM, 22) + "." + _fill(17, _ALNUM, 43),
    "openai": "sk-proj-" + _fill(18, _ALNUM, 48),
    "shopify": "shpat_" + _fill(19, _HEX, 32),
    "digitalocean": "dop_v1_" + _fill(20, _HEX, 64),
    "vault": "hvs." + _fill(21, _ALNUM, 90),
    "huggingface": "hf_" + _fill(22, _LETTERS, 34),
    "github_in_message": "ghp_" + _fill(23, _ALNUM, 36),
    "aws_in_message": "AKIA" + _fill(24, _UPPER32, 16),
    "slack_in_crumb": "xoxb-223456789012-223456789012-" + _fill(25, _ALNUM, 24),
    "stripe_in_crumb": "sk_live_" + _fill(26, _ALNUM, 24),
    "gitlab_in_url": "glpat-" + _fill(27, _ALNUM, 20),
    "google_in_tag": "AIza" + _fill(28, _ALNUM, 35),
    "jwt_in_context": _jwt(29),
    "npm_in_extra": "npm_" + _fill(30, _ALNUM, 36),
    "github_in_query": "ghs_" + _fill(31, _ALNUM, 36),
    "pypi_in_body": "pypi-AgEIcHlwaS5vcmc" + _fill(32, _ALNUM, 60),
    "openai_in_header": "sk-proj-" + _fill(33, _ALNUM, 48),
    "slack_in_log_param": "xoxp-223456789012-223456789012-223456789012-" + _fill(34, _HEX, 32),
    "gitlab_in_span": "glpat-" + _fill(35, _ALNUM, 20),
    "aws_in_span_data": "ASIA" + _fill(36, _UPPER32, 16),
    "jwt_in_local": _jwt(37),
    "stripe_in_local": "rk_live_" + _fill(38, _ALNUM, 24),
    "google_in_list": "AIza" + _fill(39, _ALNUM, 35),
    "github_in_tuple": "gho_" + _fill(40, _ALNUM, 36),
    "github_fine_in_message": "github_pat_" + _fill(41, _ALNUM, 82),
    "slack_in_span_description": "xoxb-323456789012-323456789012-" + _fill(42, _ALNUM, 24),
}
EC_PEM_BODY = "MHcCAQEEIBxK" + _fill(43, _ALNUM, 40)
EC_PEM = "-----BEGIN EC PRIVATE KEY-----\n%s\n-----END EC PRIVATE KEY-----" % EC_PEM_BODY
# Values after a sensitive flag written as two words on a command line.
ARGV_SECRETS = ["argv-" + _fill(44, _ALNUM, 16), "argv-" + _fill(45, _ALNUM, 16),
                "argv-" + _fill(46, _ALNUM, 16)]
ARGV = ["prog.py", "--token", ARGV_SECRETS[0], "--db-password", ARGV_SECRETS[1], "-v",
        "--api-key", ARGV_SECRETS[2], "--page", "3"]


# The separated card numbers again as bare digits: not placed, but they must not appear either.
CARD_DIGITS = [c.replace(" ", "").replace("-", "") for c in CARDS if not c.isdigit()]


def placed(dsn=DSN):
    """Every sensitive value that `emit()` puts into some event."""
    return ([_v(n) for n in range(1, 54) if n != 5] + [BASIC, PEM_BODY, dsn, _dsn_key(dsn)] + CARDS
            + list(FORMATS.values()) + [EC_PEM_BODY] + ARGV_SECRETS)


def secrets(dsn=DSN):
    """Every value that must never leave the process: `placed(dsn)` and `CARD_DIGITS`."""
    return placed(dsn) + CARD_DIGITS


def _dsn_key(dsn):
    return dsn.split("://", 1)[1].split("@", 1)[0].split(":", 1)[0]


SECRETS = secrets()


def _add_request(event, hint):
    """What a web framework integration would attach: headers, cookies, body, query, env."""
    event["request"] = {
        "url": "https://shop.example.invalid/callback?code=1&token=%s" % _v(14),
        "fragment": "state=%s" % FORMATS["github_in_query"],
        "method": "POST",
        "query_string": "page=2&access_token=%s&sort=asc" % _v(8),
        "headers": {
            "Authorization": "Bearer %s" % _v(1),
            "Cookie": "sessionid=%s; theme=dark" % _v(2),
            "X-Api-Key": _v(3),
            "Set-Cookie": "sid=%s; HttpOnly" % _v(4),
            "Proxy-Authorization": "Basic %s" % BASIC,
            "X-Auth-Token": _v(49),
            "User-Agent": "the quick brown fox",
            "X-Upstream-Debug": "forwarded %s" % FORMATS["openai_in_header"],
        },
        "cookies": {"sessionid": _v(6), "csrftoken": _v(7)},
        "data": {
            "password": _v(10),
            "card": CARDS[0],
            "nested": {"client_secret": _v(11)},
            "order_number": ORDER_NUMBER,
        },
        "env": {"HTTP_AUTHORIZATION": "Token %s" % _v(13), "SERVER_NAME": "shop"},
    }
    return event


def _add_request_other_forms(event, hint):
    """Query string as a mapping and the body as raw text: the other shapes integrations produce."""
    event["request"] = {
        "url": "https://shop.example.invalid/login",
        "query_string": {"api_key": _v(9), "page": "3", "next": "/x?code=" + FORMATS["github_in_query"]},
        "data": '{"username": "bob", "password": "%s", "order": "%s", "upload": "%s"}' % (
            _v(12), ORDER_NUMBER, FORMATS["pypi_in_body"]),
    }
    return event


def _fail_payment(amount):
    """Raises with secrets in its locals and its message."""
    password = _v(32)
    token = _v(33)
    creds = {"secret": _v(34), "order": ORDER_NUMBER}
    card = CARDS[4]
    header = "Bearer %s" % _v(35)
    conn = "mysql://root:%s@localhost/shop" % _v(36)
    upstream = FORMATS["jwt_in_local"]
    client = {"kind": "stripe", "key_material": [FORMATS["stripe_in_local"]]}
    scopes = (FORMATS["github_in_tuple"], "read")
    raise ValueError("login failed for token=%s paying with %s; tried %s and %s, then %s" % (
        _v(39), CARDS[5], FORMATS["github_in_message"], FORMATS["aws_in_message"],
        FORMATS["github_fine_in_message"]))


def _report_from_thread_frames(sentry_sdk, dsn):
    """A message captured with attach_stacktrace: these locals travel in `threads`."""
    api_key = _v(37)
    session_key = _v(38)
    dsn_copy = dsn
    sentry_sdk.capture_message("harmless message for thread frames")


def emit(sentry_sdk, dsn=DSN):
    """Send events that carry every value of `secrets(dsn)` and `HARMLESS` through the SDK's API."""
    key = _dsn_key(dsn)
    with sentry_sdk.new_scope() as scope:
        scope.add_event_processor(_add_request)
        sentry_sdk.set_tag("session_id", _v(22))
        sentry_sdk.set_tag("api-key", _v(23))
        sentry_sdk.set_tag("upstream", "Bearer %s" % _v(24))
        sentry_sdk.set_tag("XSRF-TOKEN", _v(48))
        sentry_sdk.set_tag("team", "payments-team-harmless")
        sentry_sdk.set_tag("maps", FORMATS["google_in_tag"])
        sentry_sdk.set_user({"id": "42", "username": "alice", "email": "alice@example.invalid",
                             "password": _v(25), "auth_token": _v(26)})
        sentry_sdk.set_extra("db_url", "postgres://app:%s@db.example.invalid/app" % _v(15))
        sentry_sdk.set_extra("api_key", _v(16))
        sentry_sdk.set_extra("notes", "charged card %s for order %s" % (CARDS[1], ORDER_NUMBER))
        sentry_sdk.set_extra("config", {"secrets": {"x": _v(17)}, "flow": "checkout-flow-harmless",
                                        "registry": "npm config set //registry/:x " + FORMATS["npm_in_extra"]})
        sentry_sdk.set_extra("deploy_key", PEM)
        sentry_sdk.set_extra("pem_in_text", "loaded key:\n" + PEM.replace("RSA ", "EC ") + "\ndone")
        sentry_sdk.set_extra("blob", ("password=%s" % _v(19)).encode())
        sentry_sdk.set_extra("pair", ("token", "Bearer %s" % _v(45)))
        sentry_sdk.set_extra("card_int", int(CARDS[7]))
        sentry_sdk.set_extra("cards_by_number", {CARDS[6]: "visa"})
        # `extra` is trimmed to 10 keys by the SDK's serializer; contexts are not.
        sentry_sdk.set_context("checkout", {
            "passwd": _v(50), "PRIVATE_KEY": _v(51), "apiKey": _v(52), "refreshToken": _v(53),
            "via": "sent through %s" % dsn, "public": "public key is %s." % key,
            "numbers": [4599, 3.14159265358979, "1234567812345678"],
            "usage": {"input_tokens": 5, "text": "the quick brown fox"},
        })
        sentry_sdk.set_context("payment", {"card_number": CARDS[2], "cvv": _v(20),
                                           "gateway_token": _v(21), "amount": 4599})
        sentry_sdk.set_context("tokens", {"jwt": _v(46), "session": _v(47)})
        sentry_sdk.set_context("process", {"argv": list(ARGV)})
        sentry_sdk.set_context("providers", dict(
            {k: v for k, v in FORMATS.items() if "_in_" not in k},
            blob=FORMATS["jwt_in_context"], keys=[FORMATS["google_in_list"], "plain"], note=EC_PEM))
        sentry_sdk.set_context("login", {"credentials": {"user": "alice", "pw": _v(18)}})
        sentry_sdk.add_breadcrumb(category="http", data={"Authorization": "Bearer %s" % _v(27)})
        sentry_sdk.add_breadcrumb(category="http", data={"url": "https://x.example.invalid/?apikey=%s" % _v(28),
                                                         "x-csrftoken": _v(31)})
        sentry_sdk.add_breadcrumb(message="login with password=%s" % _v(29))
        sentry_sdk.add_breadcrumb(message="upstream said Bearer %s" % _v(30))
        sentry_sdk.add_breadcrumb(message="card %s declined" % CARDS[3])
        sentry_sdk.add_breadcrumb(message="harmless-breadcrumb-message")
        sentry_sdk.add_breadcrumb(message="posted to slack with " + FORMATS["slack_in_crumb"],
                                  data={"charge": "with " + FORMATS["stripe_in_crumb"],
                                        "url": "https://gitlab.example.invalid/api?private=" + FORMATS["gitlab_in_url"]})
        sentry_sdk.add_breadcrumb(message="GET /api/v2/items?page=3")
        try:
            _fail_payment(4599)
        except ValueError:
            sentry_sdk.capture_exception()
        _report_from_thread_frames(sentry_sdk, dsn)
        logging.getLogger("shop.sensitive").error("user %s logged in with password=%s", "alice", _v(40))
        logging.getLogger("shop.sensitive").error("slack answered for %s", FORMATS["slack_in_log_param"])
        with sentry_sdk.start_transaction(name="checkout-flow-harmless", op="task"):
            with sentry_sdk.start_span(op="db", name="AUTH Bearer %s" % _v(43)) as span:
                span.set_data("db.password", _v(41))
                span.set_data("http.query", "token=%s" % _v(42))
                span.set_tag("api_key", _v(44))
                span.set_data("upstream", "via " + FORMATS["aws_in_span_data"])
            with sentry_sdk.start_span(op="http", name="GET /repo?t=" + FORMATS["gitlab_in_span"]):
                pass
            with sentry_sdk.start_span(op="queue", name="notify " + FORMATS["slack_in_span_description"]):
                pass
    with sentry_sdk.new_scope() as scope:
        scope.add_event_processor(_add_request_other_forms)
        sentry_sdk.capture_message("harmless second request shape")
