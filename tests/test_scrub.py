"""BootstrapScrubber: the corpus of sensitive values through a real SDK client, the scrub.* options,
the text rules, and robustness on any event shape."""
import json
import logging

import pytest
import sentry_sdk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.scrubber import EventScrubber
from tests.support.collecting import CollectingTransport

from sentry_bootstrap.scrub import MAX_TEXT, BootstrapScrubber, luhn_valid, make_scrubber, normalise_key
from sentry_bootstrap.sdk_compat import init_with_pii
from tests.support import sensitive

FILTERED = "[Filtered]"


def sent_bytes(scrubber, send_default_pii=False, emit=None):
    """Run `emit` (the corpus by default) through a real client; return all envelopes as bytes."""
    transport = CollectingTransport()
    init_with_pii(
        send_default_pii,
        dsn=sensitive.DSN,
        transport=transport,
        event_scrubber=scrubber,
        default_integrations=False,
        integrations=[LoggingIntegration(event_level=logging.ERROR)],
        traces_sample_rate=1.0,
        attach_stacktrace=True,
        max_breadcrumbs=100,
    )
    try:
        (emit or (lambda: sensitive.emit(sentry_sdk)))()
        sentry_sdk.flush()
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # back to a no-op client for the next test
        # The corpus sets a user and tags on the scopes: the next test must not inherit them.
        sentry_sdk.get_isolation_scope().clear()
        sentry_sdk.get_current_scope().clear()
    return b"".join(envelope.serialize() for envelope in transport.envelopes)


def leaked(data, values):
    return [v for v in values if v.encode() in data]


def test_corpus_is_large_enough():
    """The corpus holds at least 50 distinct sensitive values."""
    assert len(set(sensitive.placed())) >= 50


@pytest.mark.parametrize("pii", [False, True])
def test_no_sensitive_value_leaves_through_a_real_client(pii):
    """None of the corpus' values appears in any sent envelope; harmless values all survive."""
    data = sent_bytes(make_scrubber({}, sensitive.DSN, pii), send_default_pii=pii)
    assert b'"type":"transaction"' in data and b'"type":"event"' in data
    assert leaked(data, sensitive.SECRETS) == []
    assert [v for v in sensitive.HARMLESS if v.encode() not in data] == []
    assert FILTERED.encode() in data


class _NoScrubbing:
    def scrub_event(self, event):
        pass


def test_every_corpus_value_is_sent_when_nothing_scrubs():
    """Control: without scrubbing every corpus value reaches the envelopes, so each placement counts."""
    data = sent_bytes(_NoScrubbing())
    assert [v for v in sensitive.placed() if v.encode() not in data] == []


def test_the_sdk_default_scrubber_leaks_the_corpus():
    """Control: with the SDK's own EventScrubber most of the corpus is sent, so the test above can fail."""
    data = sent_bytes(EventScrubber(recursive=True))
    assert len(leaked(data, sensitive.SECRETS)) > 25


def test_user_identity_is_kept_with_send_default_pii():
    """With send_default_pii the user's id, email and username are sent; their password is not."""
    data = sent_bytes(make_scrubber({}, sensitive.DSN, True), send_default_pii=True)
    items = [json.loads(line) for line in data.splitlines() if line.startswith(b"{")]
    user = next(item["user"] for item in items if "exception" in item)
    assert (user["id"], user["username"], user["email"]) == ("42", "alice", "alice@example.invalid")
    assert user["password"] == FILTERED and user["auth_token"] == FILTERED


def scrubbed(event, **options):
    BootstrapScrubber(**options).scrub_event(event)
    return event


def test_fields_add_key_names():
    """scrub.fields removes extra key names, matched after normalisation."""
    event = scrubbed({"extra": {"customerSSN": "078-05-1120", "note": "ok"}}, fields=["customer_ssn"])
    assert event["extra"]["customerSSN"] == FILTERED.join(["", ""]) or event["extra"]["customerSSN"].value == FILTERED
    assert event["extra"]["note"] == "ok"


def test_fields_apply_to_key_value_text():
    """A field name also filters `name=value` inside strings."""
    event = scrubbed({"message": "lookup ssn=078-05-1120 done"}, fields=["ssn"])
    assert event["message"] == "lookup ssn=[Filtered] done"


def test_patterns_replace_matches_in_every_string():
    """scrub.patterns replaces each match in any string, keys' values and messages alike."""
    event = scrubbed(
        {"message": "customer CUST-99812 failed", "tags": {"who": "CUST-1"}, "extra": {"x": ["CUST-7 ok"]}},
        patterns=[r"CUST-\d+"],
    )
    assert event["message"] == "customer [Filtered] failed"
    assert event["tags"]["who"] == FILTERED
    assert event["extra"]["x"] == ["[Filtered] ok"]


def test_keep_takes_a_default_out():
    """scrub.keep stops a default key from being removed; its value is still scanned as text."""
    event = scrubbed(
        {"request": {"headers": {"Cookie": "theme=dark; sessionid=abc123", "Authorization": "Bearer abcdefgh123"}}},
        keep=["cookie"],
    )
    headers = event["request"]["headers"]
    assert headers["Cookie"] == "theme=dark; sessionid=[Filtered]"
    assert headers["Authorization"].value == FILTERED


def test_make_scrubber_reads_the_config_section():
    """make_scrubber takes the scrub section as the config holds it, and None for defaults."""
    scrubber = make_scrubber({"fields": ["pin"], "patterns": ["ORD-[0-9]+"], "keep": ["session"]}, None, False)
    assert scrubber.is_sensitive_key("PIN") and not scrubber.is_sensitive_key("session")
    assert scrubber.scrub_text("ref ORD-77") == "ref [Filtered]"
    assert make_scrubber(None).is_sensitive_key("password")


def test_an_invalid_pattern_is_a_clear_error():
    """A pattern that does not compile is refused at construction, naming the pattern."""
    with pytest.raises(ValueError, match=r"scrub.patterns: '\(unclosed'"):
        make_scrubber({"patterns": ["(unclosed"]})


@pytest.mark.parametrize(
    "key, normalised, sensitive",
    [
        ("X-Api-Key", "x_api_key", True),
        ("x_api_key", "x_api_key", True),
        ("apiKey", "api_key", True),
        ("APIKey", "api_key", True),
        ("HTTP_AUTHORIZATION", "http_authorization", True),
        ("X-CSRFToken", "x_csrf_token", True),
        ("Set-Cookie", "set_cookie", True),
        ("connect.sid", "connect_sid", True),
        ("dbPassword", "db_password", True),
        ("accesstoken", "accesstoken", True),
        ("input_tokens", "input_tokens", True),  # Relay's @password: `token` anywhere in a key
        ("session_count", "session_count", False),
        ("author", "author", True),  # Relay's @password: `auth` anywhere in a key
        ("otp", "otp", True),
        ("keyboard", "keyboard", False),
    ],
)
def test_key_rules(key, normalised, sensitive):
    """Keys are normalised (case, -/_/., camelCase) and matched by word; with `@password` (on by
    default) also as Relay does, by substring."""
    assert normalise_key(key) == normalised
    assert BootstrapScrubber().is_sensitive_key(key) is sensitive


def test_without_password_rule_keys_match_by_word_only():
    """Without `@password` in scrub.rules, `input_tokens` and `author` are not sensitive keys."""
    scrubber = BootstrapScrubber(rules=["@creditcard"])
    assert not scrubber.is_sensitive_key("input_tokens") and not scrubber.is_sensitive_key("author")
    assert scrubber.is_sensitive_key("password")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("card 4111 1111 1111 1111 exp", "card [Filtered] exp"),
        ("card 5500-0000-0000-0004.", "card [Filtered]."),
        ("amex 3782 822463 10005", "amex [Filtered]"),
        ("order 123456789017", "order 123456789017"),
        ("id 1234567812345678", "id 1234567812345678"),
        ("list 4111 1111 1111 1112", "list [Filtered]"),  # Relay's @creditcard: a Visa prefix, no Luhn
        ("counts 100 200 300 400 500 600", "counts 100 200 300 400 500 600"),
        ("pi 3.4111111111111111", "pi 3.[Filtered]"),  # Relay's @creditcard would take it too
        ("pi 3.1234111111111111", "pi 3.1234111111111111"),
        ("Authorization: Bearer abc.def-ghi_123", "Authorization: [Filtered]"),
        ("upstream said bearer abcdefgh12345", "upstream said bearer [Filtered]"),
        ("Basic dXNlcjpodW50ZXIy sent", "Basic [Filtered] sent"),
        ("basic usage of the API", "basic usage of the API"),
        ("postgres://app:hunter2@db/app", "postgres://app:[Filtered]@db/app"),
        ('{"password": "two words", "a": 1}', '{"password": "[Filtered]", "a": 1}'),
        ("User(password='x', name='bob')", "User(password='[Filtered]', name='bob')"),
        ("page=2&access_token=abc&sort=asc", "page=2&access_token=[Filtered]&sort=asc"),
        ("a -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- b", "a [Filtered] b"),
        ("cut -----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl", "cut [Filtered]"),
        ("time 12:30:45 input_tokens: 5", "time 12:30:45 input_tokens: [Filtered]"),
        ("time 12:30:45 session_count: 5", "time 12:30:45 session_count: 5"),
    ],
)
def test_text_rules(text, expected):
    """Secrets inside free text are replaced; look-alikes (non-Luhn numbers, prose) are not."""
    assert BootstrapScrubber().scrub_text(text) == expected


def test_luhn():
    """The Luhn check accepts test card numbers and rejects a one-digit change."""
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_dsn_and_its_key_are_removed_from_text():
    """The configured DSN and its public key are filtered wherever they appear."""
    scrubber = BootstrapScrubber(dsn=sensitive.DSN)
    text = "via %s with key %s" % (sensitive.DSN, sensitive.PUBLIC_KEY)
    assert scrubber.scrub_text(text) == "via [Filtered] with key [Filtered]"


def test_log_parameters_follow_the_formatted_message():
    """A log parameter filtered out of the formatted message is filtered in params as well."""
    event = scrubbed({"logentry": {"message": "user %s password=%s", "formatted": "user bob password=pw-123",
                                   "params": ["bob", "pw-123"]}})
    assert event["logentry"]["formatted"] == "user bob password=[Filtered]"
    assert event["logentry"]["params"][0] == "bob"
    assert event["logentry"]["params"][1].value == FILTERED


def test_scrub_log_as_before_send_log():
    """scrub_log filters a Sentry log record's body and attributes."""
    log = {"body": "token=abc123", "attributes": {"api_key": "k", "n": 1}}
    out = BootstrapScrubber().scrub_log(log, {})
    assert out["body"] == "token=[Filtered]"
    assert out["attributes"]["api_key"] == FILTERED and out["attributes"]["n"] == 1


def test_huge_strings_are_cut_and_scanned():
    """A string beyond MAX_TEXT is cut to it, and a secret near the cut does not survive."""
    text = "x" * (MAX_TEXT - 10) + " password=hunter2hunter2 " + "y" * MAX_TEXT * 5
    event = scrubbed({"message": text})
    assert len(event["message"]) <= MAX_TEXT + 20
    assert "hunter2" not in event["message"]


def test_cycles_and_deep_nesting_do_not_hang_or_raise():
    """A cyclic structure is visited once; nesting beyond the bound is filtered."""
    loop = {"password": "p"}
    loop["self"] = loop
    deep = current = {}
    for _ in range(500):
        current["d"] = {}
        current = current["d"]
    current["token"] = "t"
    event = scrubbed({"extra": {"loop": loop, "deep": deep}})
    assert event["extra"]["loop"]["password"].value == FILTERED
    assert "'t'" not in repr(event)


class _Hostile:
    def __repr__(self):
        raise RuntimeError("no repr")

    def __eq__(self, other):
        raise RuntimeError("no eq")

    __hash__ = object.__hash__


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary()
    | st.sampled_from(["4111111111111111", "Bearer abcdefghij", "password=x", sensitive.DSN]),
    lambda children: st.lists(children, max_size=4)
    | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=8) | st.integers() | st.binary(max_size=4)
                      | st.sampled_from(["password", "frames", "values", "data", "request"]), children, max_size=4),
    max_leaves=30,
)
event_parts = st.sampled_from(
    ["request", "extra", "contexts", "tags", "user", "breadcrumbs", "exception", "threads", "logentry",
     "spans", "message", "stacktrace", "sdk", "whatever"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(event_parts, json_like | st.builds(_Hostile), max_size=8) | json_like)
def test_scrub_event_never_raises(event):
    """Any event shape, hostile objects included, is scrubbed without an exception."""
    BootstrapScrubber(dsn=sensitive.DSN, fields=["x"], patterns=["zz+"]).scrub_event(event)


def test_dynamic_sampling_context_keeps_its_public_key():
    """The trace's dynamic sampling context is protocol data: its public_key is not filtered."""
    from sentry_bootstrap.scrub import make_scrubber

    dsn = "http://abcdef0123456789@127.0.0.1:9/1"
    event = {"contexts": {"trace": {"trace_id": "t", "dynamic_sampling_context": {
        "public_key": "abcdef0123456789", "trace_id": "t"}}, "other": {"key": "abcdef0123456789"}}}
    make_scrubber({}, dsn, False).scrub_event(event)
    assert event["contexts"]["trace"]["dynamic_sampling_context"]["public_key"] == "abcdef0123456789"
    assert "abcdef0123456789" not in str(event["contexts"]["other"])


# ---- formats, flags, copies, bounds ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(sensitive.FORMATS))
def test_provider_token_is_filtered_in_free_text(name):
    """A provider token in free text under a harmless key is replaced, the text around it kept."""
    token = sensitive.FORMATS[name]
    event = scrubbed({"extra": {"note": "upstream gave (%s) back" % token}})
    assert event["extra"]["note"] == "upstream gave ([Filtered]) back"


def test_token_prefix_inside_a_word_is_not_a_token():
    """`ghp_` inside a longer identifier, or with too few characters after it, is left alone."""
    text = "my_ghp_" + "a" * 36 + " and ghp_short and AKIA1234"
    assert scrubbed({"message": text})["message"] == text


@pytest.mark.parametrize("argv", [
    ["prog", "--token", "s3cr3t-value", "--page", "2"],
    ["prog", "--db-password", "s3cr3t-value", "-v"],
    ["prog", "-p", "2", "--api-key", "s3cr3t-value"],
])
def test_argv_value_after_a_sensitive_flag_is_filtered(argv):
    """In an argv list the word after `--token`, `--db-password`, `--api-key` is removed; other words
    stay (a flag naming a password or key is removed as Relay's @password would)."""
    event = scrubbed({"extra": {"sys.argv": list(argv)}})
    sent = event["extra"]["sys.argv"]
    assert "s3cr3t-value" not in [v for v in sent if isinstance(v, str)]
    assert [v for v in sent if isinstance(v, str)] == [
        v for v in argv if v != "s3cr3t-value" and "password" not in v and "api-key" not in v]


def test_flag_value_in_a_command_line_string_is_filtered():
    """`--password VALUE` written as one string (a logged command line) loses VALUE."""
    event = scrubbed({"message": "running deploy --password hunter2secret --verbose"})
    assert event["message"] == "running deploy --password [Filtered] --verbose"


def test_a_flag_without_value_keeps_the_next_flag():
    """`--token --verbose`: the next word is another flag, not a value, and stays."""
    event = scrubbed({"extra": {"argv": ["prog", "--token", "--verbose"]}})
    assert event["extra"]["argv"] == ["prog", "--token", "--verbose"]


def test_scrubbing_never_writes_to_the_event_s_objects():
    """Every container under the event is left as it was; changed ones are replaced by copies."""
    import copy

    shared = {"password": "pw-123456", "ok": "fine"}
    cyclic = {"token_note": "token=abc123456"}
    cyclic["self"] = cyclic
    argv = ["prog", "--db-password=hunter2secret", "--token", "t0ken-value"]
    event = {"extra": {"a": shared, "b": shared, "argv": argv, "c": cyclic, "t": ("Bearer abcdefgh1234",)},
             "contexts": {"x": {"k": ["keep", {"secret": "s-654321"}]}},
             "breadcrumbs": {"values": [{"message": "password=crumb-secret"}]}}
    extra = event["extra"]
    before = copy.deepcopy({"contexts": event["contexts"]})
    inner = [shared, argv, event["contexts"]["x"], event["breadcrumbs"]]
    inner_before = copy.deepcopy(inner)
    BootstrapScrubber().scrub_event(event)
    assert inner == inner_before and argv[1] == "--db-password=hunter2secret"
    assert cyclic["token_note"] == "token=abc123456" and cyclic["self"] is cyclic
    assert extra["t"] == ("Bearer abcdefgh1234",) and extra["c"] is cyclic
    assert event["extra"]["a"] is event["extra"]["b"]  # a shared container stays shared in the copy
    assert event["extra"]["a"]["password"].value == FILTERED and event["extra"]["a"]["ok"] == "fine"
    assert event["extra"]["argv"][1].value == FILTERED and event["extra"]["argv"][2] == "--token"
    assert event["extra"]["c"]["self"] == "<cyclic>"
    assert event["breadcrumbs"]["values"][0]["message"].value == FILTERED  # Relay's @password: whole value
    assert before["contexts"] == {"x": {"k": ["keep", {"secret": "s-654321"}]}}


def test_unchanged_parts_are_the_same_objects():
    """A part with nothing to remove is not copied: the event keeps the very same object."""
    part = {"flow": "checkout", "items": [1, 2, 3], "nested": {"a": "b"}}
    event = {"extra": {"p": part}}
    BootstrapScrubber().scrub_event(event)
    assert event["extra"]["p"] is part


def test_user_email_is_filtered_without_send_default_pii():
    """Without send_default_pii the user's email is removed (kept with it, see above)."""
    event = scrubbed({"user": {"id": "1", "email": "bob@example.invalid"}})
    assert event["user"]["email"].value == FILTERED and event["user"]["id"] == "1"


# ---- each rule alone --------------------------------------------------------------------------


def test_key_rules_alone():
    """KeyRules needs no scrubber: exact names, words, infixes, pairs, and keep."""
    from sentry_bootstrap.scrub.keys import KeyRules

    rules = KeyRules(exact={"ssn"}, keep={"session_id"}, relay=False)
    assert rules.is_sensitive("SSN") and rules.is_sensitive("dbPassword") and rules.is_sensitive("signingKey")
    assert not rules.is_sensitive("session_id") and not rules.is_sensitive("author")
    assert KeyRules(relay=True).is_sensitive("author") and KeyRules(relay=True).is_sensitive("otp")


@pytest.mark.parametrize("rule, text, expected", [
    ("provider_tokens", "t ghp_" + "a" * 36 + " x", "t [Filtered] x"),
    ("pem_keys", "-----BEGIN RSA PRIVATE KEY-----\nabc", "[Filtered]"),
    ("url_passwords", "redis://u:pw12@h/0", "redis://u:[Filtered]@h/0"),
    ("bearer_tokens", "bearer abcdefghij", "bearer [Filtered]"),
    ("basic_credentials", "Basic dXNlcjpodW50ZXIy", "Basic [Filtered]"),
])
def test_text_rules_alone(rule, text, expected):
    """Each configuration-free text rule is a function of (text, found) and records what it removed."""
    from sentry_bootstrap.scrub import text as rules

    found = []
    assert getattr(rules, rule)(text, found) == expected
    assert found or rule == "pem_keys"


def test_card_rule_alone():
    """filter_cards replaces a card written with dots and keeps a decimal number."""
    from sentry_bootstrap.scrub.cards import filter_cards

    found = []
    assert filter_cards("card 4111.1111.1111.1111 ok", found) == "card [Filtered] ok"
    assert "4111111111111111" in found
    assert filter_cards("ratio 1234567.891011121", []) == "ratio 1234567.891011121"


def test_prefilter_finds_only_strings_that_need_rules():
    """The prefilter names the strings where a rule may match, and no plain one."""
    from sentry_bootstrap.scrub.prefilter import Prefilter

    strings = ["plain text", "x password=abc", "run --token v", "ghp_" + "a" * 36, "4111 1111 1111 1111",
               "https://u:p@h", "nothing: here"]
    prefilter = Prefilter(BootstrapScrubber().is_sensitive_key, ["pass", "token"])
    candidates, worded = prefilter.candidates("\x00".join(strings), len(strings))
    assert sorted(candidates) == [1, 2, 3, 4, 5] and not worded


def test_trie_regex_matches_exactly_its_words():
    """trie_regex(words) matches each word and nothing shorter."""
    import re

    from sentry_bootstrap.scrub.prefilter import trie_regex

    pattern = re.compile("(?:%s)$" % trie_regex(["ab", "abc", "b"]))
    assert [w for w in ["ab", "abc", "b", "a", "bc"] if pattern.match(w)] == ["ab", "abc", "b"]


# ---- every item type --------------------------------------------------------------------------


def _envelope(*items):
    from sentry_sdk.envelope import Envelope

    return Envelope(headers={"trace": {"public_key": "abcdef0123456789", "transaction": "GET /?token=dsc-tok-1"}},
                    items=list(items))


def test_unknown_item_types_are_scrubbed_or_dropped():
    """An item type nobody knows: JSON walked, text scrubbed, big raw bytes dropped; the DSC keeps
    its public key and loses the secret in its transaction name."""
    from sentry_sdk.envelope import Item, PayloadRef

    scrubber = BootstrapScrubber()
    envelope = scrubber.scrub_envelope(_envelope(
        Item(type="future_json", payload=PayloadRef(json={"api_key": "k-123456", "n": 1})),
        Item(type="future_text", payload=PayloadRef(bytes=b"note password=t-654321 end")),
        Item(type="future_blob", payload=PayloadRef(bytes=b"\x00" * (MAX_TEXT + 1))),
        Item(type="client_report", payload=PayloadRef(json={"discarded_events": []})),
    ))
    payloads = {item.type: item.payload for item in envelope.items}
    assert sorted(payloads) == ["client_report", "future_json", "future_text"]
    assert payloads["future_json"].json == {"api_key": FILTERED, "n": 1}
    assert payloads["future_text"].get_bytes() == b"note password=[Filtered] end"
    assert envelope.headers["trace"] == {"public_key": "abcdef0123456789", "transaction": "GET /?token=[Filtered]"}


def test_attachment_metadata_is_scrubbed():
    """An attachment's file name is scrubbed as text; its content is the program's file, as sent."""
    from sentry_sdk.attachments import Attachment

    item = Attachment(bytes=b"body", filename="dump token=fn-998877.txt").to_envelope_item()
    envelope = BootstrapScrubber().scrub_envelope(_envelope(item))
    assert envelope.items[0].headers["filename"] == "dump token=[Filtered]"
    assert envelope.items[0].payload.get_bytes() == b"body"


def test_metrics_and_streamed_spans_are_scrubbed_as_plain_text():
    """before_send_metric / before_send_span: names and attributes scrubbed, `[Filtered]` as text
    (the SDK re-sets each attribute), ids and numbers untouched, the caller's dicts unchanged."""
    attributes = {"password": "pw-1234567", "rows": 3}
    span = {"trace_id": "a" * 32, "span_id": "b" * 16, "name": "GET /?token=abc123456", "attributes": attributes}
    out = BootstrapScrubber().scrub_span(dict(span), {})
    assert out["name"] == "GET /?token=[Filtered]" and out["attributes"] == {"password": FILTERED, "rows": 3}
    assert out["span_id"] == "b" * 16 and attributes == {"password": "pw-1234567", "rows": 3}
    metric = {"name": "m", "type": "counter", "value": 4111111111111111, "attributes": {"api_key": "k-99"}}
    out = BootstrapScrubber().scrub_metric(metric, {})
    assert out["value"] == 4111111111111111 and out["attributes"] == {"api_key": FILTERED}


# ---- rules under Relay's names --------------------------------------------------------------


def test_config_names_the_same_rules_with_the_same_default():
    """`scrub.rules` in the model accepts exactly the rules of scrub/rules.py, with its default."""
    from sentry_bootstrap.config.model import Scrub
    from sentry_bootstrap.scrub import rules

    assert Scrub().rules == list(rules.DEFAULT)
    assert set(Scrub.model_fields["rules"].annotation.__args__[0].__args__) == set(rules.NAMES)


@pytest.mark.parametrize("rules, text, expected", [
    (None, "iban DE89370400440532013000 ok", "iban [Filtered] ok"),
    (None, "iban DE89 3704 0044 0532 0130 00 ok", "iban [Filtered] ok"),
    (None, "ssn 078-05-1120 ok", "ssn [Filtered] ok"),
    (None, "cat /home/alice/.bashrc", "cat /home/[Filtered]/.bashrc"),
    (None, r"open C:\Users\alice\notes.txt", r"open C:\Users\[Filtered]\notes.txt"),
    (None, "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", "[Filtered]"),
    (None, "connect admin:s3cr3tpw@db.internal:5432", "connect admin:[Filtered]@db.internal:5432"),
    (None, "https://u:p@ss-w0rd@host.invalid/x", "https://u:[Filtered]@host.invalid/x"),
    (None, "CREATE USER app WITH PASSWORD 'pw-551122'", "CREATE USER app WITH PASSWORD '[Filtered]'"),
    (None, "auth: Bearer x1", "auth: [Filtered]"),
    (None, "mail alice@example.invalid at 10.1.2.3", "mail alice@example.invalid at 10.1.2.3"),
    (["@email", "@ip"], "mail alice@example.invalid at 10.1.2.3", "mail [Filtered] at [Filtered]"),
    (["@mac", "@imei", "@uuid"], "mac 00:1b:63:84:45:e6 imei 35-209900-176148-1 id 123e4567-e89b-12d3-a456-426614174000",
     "mac [Filtered] imei [Filtered] id [Filtered]"),
])
def test_named_rules(rules, text, expected):
    """Each of Relay's rules replaces what it names; the opt-in ones only when named in scrub.rules."""
    scrubber = make_scrubber({} if rules is None else {"rules": list(rules) + ["@password"]})
    assert scrubber.scrub_text(text) == expected


def test_an_unknown_rule_is_a_clear_error():
    """A rule name the scrubber doesn't know is refused at construction, with the known names."""
    with pytest.raises(ValueError, match=r"scrub.rules: unknown rule '@nope'"):
        make_scrubber({"rules": ["@nope"]})
