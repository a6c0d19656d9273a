"""Scrubbing of events before they leave the process: `BootstrapScrubber`, an SDK `EventScrubber`.

Installed through `sentry_sdk.init(event_scrubber=make_scrubber(values["scrub"], dsn, send_default_pii))`.
The SDK calls `scrub_event(event)` on every error and transaction event, before serialisation.
Sentry *logs* (`enable_logs`) do not pass through the event scrubber: use `scrub_log` as
`before_send_log` to cover them too.

What a caller may rely on:

* **Copies, never the program's objects.** The event dict is updated; nothing it refers to is ever
  written to. A container in which something is removed is replaced by a copy (and so is each
  container above it, up to the event), so the program's `sys.argv`, the dicts it gave to
  `set_extra`/`set_context`/`set_user`, the scope's breadcrumbs and its locals stay as they were.
  Unchanged containers are not copied; a container shared by two places stays shared in the copy.

* Every part of the event is walked: request (url, query_string as string or mapping, headers,
  cookies, body as string/mapping/list, env), user, extra, contexts, tags, breadcrumbs (data and
  message), exception values, mechanism data, stack frames (local variables and source lines) of
  exceptions and threads, logentry and message, spans (data, tags, description) and any part a future
  SDK adds. Only pure bookkeeping is skipped: `sdk`, `modules`, `debug_meta`, ids, timestamps, level,
  platform, release, environment, dist, server_name, and the file/function/line fields of frames.
* **Keys.** A value is replaced whole by `[Filtered]` (with the SDK's `_meta` annotation) when its key
  is sensitive. Keys are normalised first: camelCase is split, the result is lower-cased, and every run
  of characters other than letters and digits becomes `_` (`X-Api-Key`, `x_api_key`, `apiKey`, `API_KEY`
  all become `x_api_key`/`api_key`). A normalised key is sensitive when
  - it equals an entry of the SDK's `DEFAULT_DENYLIST` (plus `DEFAULT_PII_DENYLIST` unless
    `send_default_pii`), or of `scrub.fields`, all normalised the same way; or
  - one of its `_`-separated words is one of `SENSITIVE_WORDS` (password, passwd, pass, pwd,
    passphrase, secret, token, auth, authorization, credentials, cookie, cookies, csrf, xsrf,
    csrftoken, sessionid, apikey, privatekey, jwt, cvv, cvc, ...), or two consecutive words form one
    of `SENSITIVE_PAIRS` (api_key, private_key, access_key, secret_key, session_id, session_key,
    session_token, client_secret, ...).
  So `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`, `HTTP_AUTHORIZATION`,
  `access_token`, `db_password`, `sessionid`, `X-CSRFToken` and the whole `request.cookies` mapping are
  removed, while `input_tokens`, `session_count`, `keyboard` and `author` are not.
  `scrub.keep` lists normalised keys that are *not* removed by key (exact match; `keep: [cookie]` keeps
  the Cookie header, `keep: [cookies]` the parsed cookies); their values are still scanned as text.
  With `send_default_pii`, user `id`, `email`, `username` and `ip_address` are kept (they are intended
  data); a password anywhere, the user part included, never is.
* **Text.** Every string (keys included, bytes decoded as UTF-8) is scanned and these matches are
  replaced by `[Filtered]`:
  - the configured DSN, its public key and its secret key, wherever they appear;
  - provider tokens by their format, under any key: GitHub, GitLab, AWS access key ids, Slack, Stripe,
    Google API keys, JWTs, npm, PyPI, ... (`sentry_bootstrap.secret_formats`);
  - the word after a sensitive flag on a command line, `--token VALUE`, in text and in argv lists;
  - PEM private-key blocks (`-----BEGIN ... PRIVATE KEY-----` to the END line or the end of the text);
  - the password part of URL credentials (`scheme://user:PASSWORD@host`);
  - `Bearer <token>` (token of 8+ characters) and `Basic <base64>` when it decodes to `user:password`;
  - the value in `key=value`, `key: value`, `"key": "value"`, `key='value'` when the key is sensitive
    by the rules above (so query strings, Cookie header strings, JSON bodies, log lines and reprs);
  - credit-card numbers: 13-19 digits that pass the Luhn check, either one unbroken run of digits or
    groups of 4-6 digits separated by single spaces or dashes (the last group may be shorter). A 12-digit
    number, a number failing Luhn and a list of short numbers survive. A Luhn-valid 13-19 digit number
    that is not a card (1 in 10 millisecond timestamps) is filtered too: the rule errs on the safe side.
    Integers in the event are checked the same way;
  - every match of each `scrub.patterns` regex (compiled once, applied to every string).
* **Found once, removed everywhere.** A value removed by any rule above (6 characters or more) is
  also removed from every other string of the same event: the password seen in `password=...` is
  filtered from the logging call's `args` local and from `logentry.params` too.
* **Cost.** The walk only notes where each string is; then the text of the whole event is looked at
  once (a few `str.find`s and one expression over the reversed, lower-cased text, each linear) and
  only the strings where something was seen get the rules above.
* **Bounds.** Strings longer than `MAX_TEXT` characters are cut to that length (marked with
  `...[truncated]`) and only the kept part is scanned, so the cost is linear and bounded; the built-in
  regexes have no nested quantifiers. Nesting deeper than `MAX_DEPTH` is replaced by `[Filtered]`;
  shared containers are visited once, and a cycle becomes `<cyclic>` (as the serializer writes it) in
  the copy. Tuples, sets and other sequences become lists, other
  mappings become dicts (the serializer does the same); an arbitrary object whose repr contains
  something sensitive is replaced by its scrubbed repr.
* **Never raises.** Each top-level part is scrubbed under a guard; if scrubbing a part fails in any way,
  the whole part is replaced by `[Filtered]` rather than sent half-scrubbed.
"""
import base64
import binascii
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from sentry_sdk.utils import safe_repr

from sentry_bootstrap import sdk_compat
from sentry_bootstrap import secret_formats as _formats

EventScrubber = sdk_compat.event_scrubber_base()  # sentry_sdk.scrubber's (2.x), a stand-in on 3.x
AnnotatedValue = sdk_compat.annotated_value_class()
SENSITIVE_DATA_SUBSTITUTE = sdk_compat.sensitive_data_substitute()

__all__ = ["BootstrapScrubber", "make_scrubber", "normalise_key", "luhn_valid"]

MAX_TEXT = 32_768
MAX_DEPTH = 64
# Scanning this far beyond the cut catches a secret that straddles it.
_CUT_MARGIN = 512
_TRUNCATED = "...[truncated]"

SENSITIVE_WORDS = frozenset(
    """password passwords passwd pass pwd passphrase secret secrets token auth authorization
    authentication credential credentials cookie cookies csrf xsrf csrftoken xsrftoken sessionid
    apikey privatekey accesskey secretkey jwt cvv cvc""".split()
)
# Words that make a key sensitive wherever they occur inside one of its words (`dbpassword`),
# and at the end of one (`accesstoken`, `mysqlpwd`; not `tokens`, `tokenizer`).
SENSITIVE_INFIXES = (
    "password", "passwd", "passphrase", "secret", "apikey", "privatekey", "accesskey", "csrf", "xsrf",
    "sessionid", "cookie", "credential", "authorization",
)
SENSITIVE_SUFFIXES = ("token", "pwd", "jwt")
SENSITIVE_PAIRS = frozenset(
    tuple(p.split("_"))
    for p in """api_key private_key access_key secret_key signing_key encryption_key master_key
    session_id session_key session_token client_secret refresh_token""".split()
)
# Top-level event keys that hold only SDK bookkeeping.
_SKIP_TOP = frozenset(
    """sdk modules debug_meta event_id timestamp start_timestamp level platform type release
    environment dist server_name _meta""".split()
)
# Frame fields that are code locations, not data.
_SKIP_FRAME = frozenset(
    """filename abs_path module function lineno colno in_app package platform instruction_addr
    symbol_addr image_addr""".split()
)
# Values the serializer renders without any user text in them.
_INERT_TYPES = (float, datetime, date, time, timedelta, Decimal, UUID, type(None))
# Exact types that need no look at all (an int is checked for a card number only when it is long).
_SCALARS = frozenset((bool, float, type(None), datetime))
_CARD_MIN = 10**12

# Linear: one look-ahead per position (`([A-Z]+)([A-Z][a-z])` rescans a run of capitals from each
# of its letters, quadratic on a long key).
_CAMEL_ACRONYM = re.compile(r"([A-Z])(?=[A-Z][a-z])")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

_PEM = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK|)-----.*?(?:-----END \1PRIVATE KEY\2-----|\Z)",
    re.DOTALL,
)
# Anchored at the literal `://`, not at a scheme: a scheme pattern is retried from every letter of a
# long run of letters ("x://" + "a" * 32000 cost 1.4 s); without it the scan is linear.
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^@/\s]+)@")
_BEARER = re.compile(r"\b(bearer[ \t]+)([A-Za-z0-9\-._~+/]{8,}=*)", re.IGNORECASE)
_BASIC = re.compile(r"\b(basic[ \t]+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])", re.IGNORECASE)
# `key=value` and the like, anchored where a key may start; keys are found through `_stems` below.
_KEY_VALUE = re.compile(
    r"([A-Za-z0-9_.\-]{1,128})(\\?[\"']?[ \t]*[:=][ \t]*)"
    r"((?:(?:bearer|basic|digest|token)[ \t]+)?"
    r"(?:\\?\"[^\"\r\n\\]*\\?\"|'[^'\r\n]*'|[^\s&;,'\"}\]<>]+))",
    re.IGNORECASE,
)
# `--token VALUE`: a flag, blanks, then a word that is not another flag.
_FLAG_VALUE = re.compile(r"(?<![A-Za-z0-9_\-])(--?[A-Za-z][A-Za-z0-9_\-]{0,63})([ \t]+)([^\s\-\x00][^\s\x00]{0,511})")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
# Candidates first (a fast class run), then the strict form within each candidate.
_DIGIT_CANDIDATE = re.compile(r"[0-9][0-9 \-]{11,}[0-9]")
_DIGIT_RUN = re.compile(r"[0-9](?:[ \-]?[0-9]){12,}")
_DIGIT_GROUP = re.compile(r"[0-9]+")

_PII_EXTRA = ("email",)
_KEY_CACHE_MAX = 4096
# Short strings recur from event to event (source lines, breadcrumb messages, header values,
# reprs of the same locals), so their scrubbed form is remembered, within a bound.
_TEXT_CACHE_MAX = 4096
_TEXT_CACHE_LEN = 256


def normalise_key(key):
    """`X-Api-Key`, `x_api_key`, `apiKey` -> `x_api_key` / `api_key`: the form every key rule compares."""
    key = _CAMEL.sub(r"\1_\2", _CAMEL_ACRONYM.sub(r"\1_", key))
    return _NON_ALNUM.sub("_", key.lower()).strip("_")


def luhn_valid(digits):
    """True when the string of digits passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _is_card(digits):
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _filter_card_candidate(match, found):
    start = match.start()
    if start >= 2 and match.string[start - 1] == "." and match.string[start - 2].isdigit():
        return match.group(0)  # the fraction of a decimal number
    return _DIGIT_RUN.sub(lambda m: _filter_cards(m, found), match.group(0))


def _filter_cards(match, found):
    text = match.group(0)
    digits = text.replace(" ", "").replace("-", "")
    if (len(digits) == len(text) or _card_grouping(text)) and _is_card(digits):
        found.append(text)
        found.append(digits)
        return SENSITIVE_DATA_SUBSTITUTE
    if len(digits) == len(text):
        return text
    # A longer run of groups: look for a card among consecutive groups.
    groups = [(m.start(), m.end(), m.group(0)) for m in _DIGIT_GROUP.finditer(text)]
    spans = []
    for i in range(len(groups)):
        if _is_card(groups[i][2]):
            found.append(groups[i][2])
            spans.append((groups[i][0], groups[i][1]))
            continue
        if not 4 <= len(groups[i][2]) <= 6:
            continue
        count = 0
        for j in range(i, len(groups)):
            size = len(groups[j][2])
            count += size
            if count > 19:
                break
            if size > 6 or (size < 4 and j != i and count < 13):
                break
            if count >= 13 and luhn_valid("".join(g[2] for g in groups[i : j + 1])):
                found.append(text[groups[i][0] : groups[j][1]])
                found.append("".join(g[2] for g in groups[i : j + 1]))
                spans.append((groups[i][0], groups[j][1]))
                break
    if not spans:
        return text
    out, pos = [], 0
    for start, end in spans:
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(SENSITIVE_DATA_SUBSTITUTE)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _card_grouping(text):
    groups = _DIGIT_GROUP.findall(text)
    return all(4 <= len(g) <= 6 for g in groups[:-1]) and 1 <= len(groups[-1]) <= 6


def _filter_basic(match, found):
    try:
        decoded = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    if b":" not in decoded:
        return match.group(0)
    found.append(match.group(2))
    return match.group(1) + SENSITIVE_DATA_SUBSTITUTE


def _filter_group(group, found):
    """A `re.sub` callback that filters `group` of the match and remembers what it removed."""

    def replace(match):
        found.append(match.group(group))
        whole, start, end = match.group(0), match.start(group) - match.start(), match.end(group) - match.start()
        return whole[:start] + SENSITIVE_DATA_SUBSTITUTE + whole[end:]

    return replace


def _take_dsc(event):
    """(the trace context, its dynamic sampling context taken out of it) or (None, None)."""
    try:
        trace = event["contexts"]["trace"]
        if isinstance(trace, dict) and "dynamic_sampling_context" in trace:
            return trace, trace.pop("dynamic_sampling_context")
    except Exception:
        pass
    return None, None


def _dsn_secrets(dsn):
    """The DSN itself and its keys, longest first, as they could appear in text."""
    if not dsn:
        return ()
    dsn = str(dsn).strip()
    found = {dsn}
    m = re.match(r"[a-zA-Z][a-zA-Z0-9+.\-]*://([^@/\s]+)@", dsn)
    if m:
        for part in m.group(1).split(":"):
            if len(part) >= 8:
                found.add(part)
    return tuple(sorted((s for s in found if len(s) >= 8), key=len, reverse=True))


class BootstrapScrubber(EventScrubber):
    """An `EventScrubber` that walks the whole event, matches keys loosely and scans text.

    `fields`: extra key names to remove. `patterns`: extra regexes (strings or compiled) whose matches
    are replaced in text. `keep`: default key names not to remove. `dsn`: the configured DSN, never sent.
    Raises `ValueError` at construction for a pattern that does not compile; `scrub_event` never raises.
    """

    def __init__(self, fields=(), patterns=(), keep=(), dsn=None, send_default_pii=False):
        super().__init__(recursive=True, send_default_pii=bool(send_default_pii))
        self.send_default_pii = bool(send_default_pii)
        self.keep = frozenset(normalise_key(str(k)) for k in keep or ())
        fields = [str(f) for f in fields or ()]
        # The SDK's own lists stay the source of the defaults; `keep` takes entries out of them.
        self.denylist = [k for k in self.denylist if normalise_key(k) not in self.keep]
        self.denylist += [f.lower() for f in fields]
        if not self.send_default_pii:
            # The user's email is personal data like their IP address (which the SDK's list has).
            self.denylist += [k for k in _PII_EXTRA if k not in self.keep]
        self._exact = frozenset(normalise_key(k) for k in self.denylist + fields) - self.keep
        self._stems = _stems(SENSITIVE_WORDS | {"_".join(pair) for pair in SENSITIVE_PAIRS} | self._exact)
        self.patterns = tuple(_compile(p) for p in patterns or ())
        self._dsn_secrets = _dsn_secrets(dsn)
        # Literals looked for across a whole event before any expression runs (see `_candidates`).
        self._markers = tuple(sorted({m.lower() for m in self._dsn_secrets}
                                     | set(_formats.KEYWORDS_PLAIN) | {"bearer", "basic"}))
        self._key_cache = {}
        self._plain_keys = set()  # keys met that are neither sensitive nor renamed: the fast path
        self._text_cache = {}

    # ---- keys -------------------------------------------------------------------------------

    def is_sensitive_key(self, key):
        """Whether a value stored under `key` is removed whole (see the module docstring)."""
        return self._key_info(key)[0]

    def _key_info(self, key):
        """(sensitive, replacement key or None), remembered per key: keys recur in every event."""
        info = self._key_cache.get(key)
        if info is None:
            if isinstance(key, str):
                text = key
                sensitive = self._key_rule(key)
            else:
                text = key.decode("utf-8", "replace") if isinstance(key, bytes) else safe_repr(key)
                sensitive = isinstance(key, bytes) and self._key_rule(text)
            scrubbed = self.scrub_text(text) if len(text) >= 5 else text
            info = (sensitive, scrubbed if scrubbed != text else None)
            if len(self._key_cache) >= _KEY_CACHE_MAX:
                self._key_cache.clear()
                self._plain_keys.clear()
            self._key_cache[key] = info
            if not sensitive and info[1] is None and type(key) is str:
                self._plain_keys.add(key)
        return info

    def _key_rule(self, key):
        norm = normalise_key(key[:200])
        if not norm or norm in self.keep:
            return False
        if norm in self._exact:
            return True
        words = norm.split("_")
        if not SENSITIVE_WORDS.isdisjoint(words):
            return True
        for word in words:
            if word.endswith(SENSITIVE_SUFFIXES) or any(w in word for w in SENSITIVE_INFIXES):
                return True
        return any(pair in SENSITIVE_PAIRS for pair in zip(words, words[1:]))

    # ---- text -------------------------------------------------------------------------------

    def scrub_text(self, text):
        """`text` with every sensitive match replaced by `[Filtered]`; cut to `MAX_TEXT` if longer."""
        return (self._text_cache.get(text) or self._scrub_cached(text))[0]

    def _scrub_cached(self, text):
        """(scrubbed text, the secrets it removed), remembered for short texts."""
        done = self._scrub_text(text)
        if len(text) <= _TEXT_CACHE_LEN:
            if len(self._text_cache) >= _TEXT_CACHE_MAX:
                self._text_cache.clear()
            self._text_cache[text] = done
        return done

    def _key_starts(self, text):
        """Where a sensitive key may start in `text`: the start of each word holding a stem."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a few non-ASCII letters change length when lowered
            lowered = "".join(c.lower()[:1] or c for c in text)
        starts = set()
        for stem in self._stems:
            at = lowered.find(stem)
            while at != -1:
                start = at
                stop = max(0, at - 64)
                while start > stop and text[start - 1] in _KEY_CHARS:
                    start -= 1
                starts.add(start)
                at = lowered.find(stem, at + len(stem))
        return sorted(starts)

    def _scrub_key_values(self, text, found):
        starts = self._key_starts(text)
        if not starts:
            return text
        out, pos = [], 0
        for start in starts:
            if start < pos:
                continue
            match = _KEY_VALUE.match(text, start)
            if match is None or not self.is_sensitive_key(match.group(1)):
                continue
            out.append(text[pos:start])
            out.append(self._filter_key_value(match, found))
            pos = match.end()
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)

    def _scrub_text(self, text):
        found = []
        cut = len(text) > MAX_TEXT
        if cut:
            text = text[: MAX_TEXT + _CUT_MARGIN]
        if len(text) >= 8:
            text = _formats.TOKENS.sub(_filter_group(0, found), text)
            if "-" in text:
                text = self._scrub_flags(text, found)
        if len(text) >= 5:
            for secret in self._dsn_secrets:
                if secret in text:
                    text = text.replace(secret, SENSITIVE_DATA_SUBSTITUTE)
            if "-----BEGIN" in text:
                text = _PEM.sub(SENSITIVE_DATA_SUBSTITUTE, text)
            if "://" in text:
                text = _URL_PASSWORD.sub(_filter_group(2, found), text)
            if "=" in text or ":" in text:
                text = self._scrub_key_values(text, found)
            if len(text) >= 13:
                text = _DIGIT_CANDIDATE.sub(lambda m: _filter_card_candidate(m, found), text)
            lowered = None
            if len(text) >= 14:
                lowered = text.lower()
                if "bearer" in lowered:
                    text = _BEARER.sub(_filter_group(2, found), text)
                if "basic" in lowered:
                    text = _BASIC.sub(lambda m: _filter_basic(m, found), text)
        for pattern in self.patterns:
            text = pattern.sub(_filter_group(0, found), text)
        if cut:
            text = text[:MAX_TEXT] + _TRUNCATED
        return text, tuple(found)

    def _scrub_flags(self, text, found):
        """`--token VALUE` in a command line written as text: the word after a sensitive flag."""

        def replace(match):
            if "=" in match.group(1) or not self.is_sensitive_key(match.group(1)):
                return match.group(0)
            found.append(match.group(3))
            return match.group(1) + match.group(2) + SENSITIVE_DATA_SUBSTITUTE

        return _FLAG_VALUE.sub(replace, text)

    def _filter_key_value(self, match, found):
        value = match.group(3)
        found.append(_bare(value))
        quote = value[0] if value[0] in "\"'\\" else ""
        if quote == "\\":
            quote = value[:2]
        tail = value[-2:] if value.endswith('\\"') else value[-1] if quote else ""
        return match.group(1) + match.group(2) + quote + SENSITIVE_DATA_SUBSTITUTE + tail

    # ---- structures: one walk, then one look at all the text, then copies of what changes ------

    def scrub_dict(self, d):
        """`d` scrubbed: the same dict when nothing in it is sensitive, otherwise a copy."""
        return self._scrub_part(d)

    def scrub_list(self, lst):
        """`lst` scrubbed: the same list when nothing in it is sensitive, otherwise a copy."""
        return self._scrub_part(lst)

    def _scrub_part(self, obj):
        holder = {"part": obj}
        self._scrub_event(holder)
        return holder["part"]

    def _enter(self, value, parent, key, depth, w):
        """Note `value` (found at `parent[key]`): containers become nodes, text is queued."""
        kind = type(value)
        if kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                w.changes.append((parent, key, _filtered()))
                return
            vid = id(value)
            node = w.seen.get(vid)
            if node is not None:
                if vid in w.active:  # a cycle: the serializer would write this marker too
                    w.changes.append((parent, key, _CYCLE))
                elif w.copies[node] is w.objs[node]:  # a converted container: ours, set it here too
                    w.changes.append((parent, key, w.objs[node]))
                else:
                    w.refs[node].append((parent, key))
                return
            node = w.add(value, parent, key)
            w.active.add(vid)
            if kind is dict:
                self._visit_dict(value, node, depth, w, None)
            else:
                self._visit_list(value, node, depth, w, key == "frames")
            w.active.discard(vid)
            return
        if kind in _SCALARS or isinstance(value, _INERT_TYPES):
            return
        if isinstance(value, int):
            new = _int_value(value)
            if new is not value:
                w.changes.append((parent, key, new))
            return
        if isinstance(value, str):
            w.text(str(value), parent, key, value)
            return
        if isinstance(value, AnnotatedValue):
            new = AnnotatedValue(value.value, value.metadata)
            w.changes.append((parent, key, new))
            node = w.add(new, parent, key, ours=True)
            self._enter(new.value, node, "value", depth + 1, w)
            return
        if isinstance(value, (bytes, bytearray)):
            text = bytes(value[: MAX_TEXT + _CUT_MARGIN]).decode("utf-8", "replace")
            w.text(text, parent, key, value if len(value) <= MAX_TEXT else None)
            return
        if depth >= MAX_DEPTH:
            w.changes.append((parent, key, _filtered()))
            return
        if isinstance(value, Mapping):
            new = dict(value.items())
        elif isinstance(value, (tuple, set, frozenset)) or _is_sequence(value):
            new = list(value)
        else:
            w.text(safe_repr(value), parent, key, value)
            return
        # Tuples, sets and other mappings become what the serializer makes of them anyway.
        w.changes.append((parent, key, new))
        node = w.add(new, parent, key, ours=True)
        w.seen[id(value)] = node
        w.active.add(id(value))
        if type(new) is dict:
            self._visit_dict(new, node, depth, w, None)
        else:
            self._visit_list(new, node, depth, w, False)
        w.active.discard(id(value))

    # The two loops below inline the common leaves (text, numbers): they are most of an event.

    def _visit_dict(self, d, node, depth, w, skip):
        plain = self._plain_keys
        strings, spots = w.strings, w.spots
        depth += 1
        for key, value in d.items():
            if skip is not None and key in skip:
                continue
            if key not in plain:
                info = self._key_info(key)
                if info[0]:
                    if isinstance(value, (str, bytes)):
                        w.found.append(_bare(value))
                    w.changes.append((node, key, _filtered()))
                    continue
                if info[1] is not None:
                    w.renames.append((node, key, info[1]))
            kind = type(value)
            if kind is str:
                if value:
                    strings.append(value)
                    spots.append((node, key))
            elif kind in _SCALARS:
                continue
            elif kind is int:
                if value >= _CARD_MIN or value <= -_CARD_MIN:
                    new = _int_value(value)
                    if new is not value:
                        w.changes.append((node, key, new))
            elif (kind is dict or kind is list) and depth < MAX_DEPTH and id(value) not in w.seen:
                # The common container, inlined: a new node, visited (see `_enter` for the rest).
                vid = id(value)
                child = len(w.objs)
                w.objs.append(value)
                w.refs.append([(node, key)])
                w.copies.append(None)
                w.seen[vid] = child
                w.active.add(vid)
                if kind is dict:
                    self._visit_dict(value, child, depth, w, None)
                else:
                    self._visit_list(value, child, depth, w, key == "frames")
                w.active.discard(vid)
            else:
                self._enter(value, node, key, depth, w)

    def _visit_list(self, lst, node, depth, w, frames):
        strings, spots = w.strings, w.spots
        depth += 1
        flag = False  # the item before was a sensitive flag without its value: `--token VALUE`
        for i, value in enumerate(lst):
            kind = type(value)
            if kind is str:
                if flag:
                    flag = False
                    if value and value[0] != "-":
                        w.found.append(value)
                        w.changes.append((node, i, _filtered()))
                        continue
                if value:
                    strings.append(value)
                    spots.append((node, i))
                    if value[0] == "-" and len(value) < 128 and self._is_flag(value):
                        flag = True
                continue
            flag = False
            if kind is int:
                if value >= _CARD_MIN or value <= -_CARD_MIN:
                    new = _int_value(value)
                    if new is not value:
                        w.changes.append((node, i, new))
            elif kind not in _SCALARS:
                if frames and kind is dict:
                    self._enter_frame(value, node, i, depth, w)
                elif kind is dict and depth < MAX_DEPTH and id(value) not in w.seen:
                    vid = id(value)  # the common container, inlined (see `_enter`)
                    child = len(w.objs)
                    w.objs.append(value)
                    w.refs.append([(node, i)])
                    w.copies.append(None)
                    w.seen[vid] = child
                    w.active.add(vid)
                    self._visit_dict(value, child, depth, w, None)
                    w.active.discard(vid)
                else:
                    self._enter(value, node, i, depth, w)

    def _enter_frame(self, frame, parent, key, depth, w):
        """A stack frame: its code-location fields are not data."""
        vid = id(frame)
        if vid in w.seen or depth >= MAX_DEPTH:
            self._enter(frame, parent, key, depth, w)
            return
        node = w.add(frame, parent, key)
        w.active.add(vid)
        self._visit_dict(frame, node, depth, w, _SKIP_FRAME)
        w.active.discard(vid)

    def _is_flag(self, word):
        """`--db-password` (no `=value`): a command-line flag whose next word is a secret."""
        if "=" in word:
            return False
        name = word.lstrip("-")
        return bool(name) and len(word) - len(name) <= 2 and self.is_sensitive_key(name)

    # ---- the text of a whole event at once ------------------------------------------------------

    def _scan(self, strings):
        """{index: scrubbed text} for each of `strings` that changes, and the secrets removed.

        All the text is joined (separated by NUL) and looked at once, with a few `str.find`s and one
        expression over the reversed text; only the strings where something was seen get the full
        rules (`scrub_text`). Each look is linear, so the whole is linear in the event's text.
        """
        n = len(strings)
        if self.patterns:
            candidates = range(n)  # the user's expressions can't be looked for in advance
        else:
            texts = strings
            cut = None
            if max(map(len, strings)) > MAX_TEXT:
                cut = [i for i, s in enumerate(strings) if len(s) > MAX_TEXT]
                texts = [s if len(s) <= MAX_TEXT else s[: MAX_TEXT + _CUT_MARGIN] for s in strings]
            joined = "\x00".join(texts)
            candidates = self._candidates(joined, n)
            if cut:
                candidates = set(candidates).union(cut)
        changed, found = {}, []
        cache = self._text_cache
        for i in candidates:
            text = strings[i]
            new, removed = cache.get(text) or self._scrub_cached(text)
            if new != text:
                changed[i] = new
                found.extend(removed)
        return changed, found

    def _candidates(self, joined, n):
        """Indices of the strings in which some rule may match (never fewer than that)."""
        low = joined.lower()
        if len(low) != len(joined) or joined.count("\x00") != n - 1:
            return range(n)  # a few non-ASCII letters change length when lowered; NUL inside text
        hits = []
        for marker in self._markers:
            _find_all(low, marker, hits)
        found = _REVERSED.findall(low[::-1])
        if found:
            for groups in set(found):
                key = groups[0] or groups[1] or groups[2]
                if key:
                    marker = key[::-1]
                    if not self.is_sensitive_key(marker.lstrip("-")):
                        continue
                else:
                    i = next(i for i, g in enumerate(groups) if g)
                    marker = (_REVERSED_FIRSTS[i - 3] + groups[i])[::-1]
                _find_all(low, marker, hits)
        return _string_numbers(joined, hits) | _card_strings(joined)

    # ---- the event ----------------------------------------------------------------------------

    def scrub_event(self, event):
        """Scrub `event`. Never raises; a part that can't be scrubbed is dropped.

        The event dict itself (the SDK's own, made for this capture) is updated; nothing it refers
        to is changed: a container in which something is removed is replaced by a copy, so the
        program's `sys.argv`, the dicts given to `set_extra`/`set_context`/`set_user`, breadcrumbs
        kept on the scope and local variables stay exactly as they were.

        The dynamic sampling context (`contexts.trace.dynamic_sampling_context`) is left as it is: the
        SDK moves it into the envelope header, where Sentry needs its `public_key` to apply the
        project's sampling (the key also travels in every request's X-Sentry-Auth header).
        """
        if not isinstance(event, dict):
            return
        trace, dsc = _take_dsc(event)
        try:
            self._scrub_event(event)
        finally:
            if dsc is not None:
                trace["dynamic_sampling_context"] = dsc
                try:
                    event["contexts"]["trace"]["dynamic_sampling_context"] = dsc
                except Exception:
                    pass

    def _scrub_event(self, event):
        try:
            keys = list(event)
        except Exception:
            return
        w = _Walk(event)
        walked = []
        for key in keys:
            if key in _SKIP_TOP:
                continue
            mark = w.mark()
            try:
                if self.is_sensitive_key(key):
                    event[key] = _filtered()
                    continue
                value = event[key]
                walked.append(key)
                if type(value) is str:
                    if value:
                        w.text(value, 0, key)
                else:
                    self._enter(value, 0, key, 1, w)
            except Exception:
                w.reset(mark)
                _drop(event, key)
        try:
            self._finish(event, w)
        except Exception:
            for key in walked:
                _drop(event, key)

    def _finish(self, event, w):
        strings = w.strings
        changed, found = self._scan(strings) if strings else ({}, [])
        found += w.found
        found += _logged_secrets(event.get("logentry"), changed, w)
        # A value found to be secret in one place is removed from every other place too (a password
        # local seen again in a caller's `args`, a token repeated in a message).
        known = sorted({v for v in found if len(v) >= _MIN_KNOWN and "Filtered" not in v}, key=len,
                       reverse=True)
        if known and strings:
            joined = "\x00".join(strings)
            if joined.count("\x00") == len(strings) - 1:
                hits = []
                for secret in known:
                    _find_all(joined, secret, hits)
                where = _string_numbers(joined, hits)
            else:
                where = range(len(strings))
            for i in where:
                text = changed.get(i, strings[i])
                for secret in known:
                    if secret in text:
                        text = text.replace(secret, SENSITIVE_DATA_SUBSTITUTE)
                if text != strings[i]:
                    changed[i] = text
        entry, user = event.get("logentry"), event.get("user")
        spots, loose = w.spots, w.loose
        for i, text in changed.items():
            node, key = spots[i]
            w.set(node, key, text)
        for i, original in loose.items():
            if i not in changed:
                node, key = spots[i]
                if original is None:  # cut bytes: the cut text goes
                    w.set(node, key, strings[i][:MAX_TEXT] + _TRUNCATED)
        for node, key, value in w.changes:
            w.set(node, key, value)
        for node, old, new in w.renames:
            target = w.writable(node)
            target[new] = target.pop(old)
        self._finish_user(user, w)
        self._finish_logentry(event, entry, w)

    def _finish_user(self, user, w):
        """As the SDK: without send_default_pii the user's IP address is dropped."""
        if isinstance(user, dict) and "ip_address" in user and "ip_address" in self._exact:
            node = w.seen.get(id(user))
            if node is not None:
                w.writable(node).pop("ip_address", None)

    def _finish_logentry(self, event, entry, w):
        """A parameter whose text was filtered out of `formatted` is filtered.

        `log.error("login with password=%s", pw)` puts `pw` alone in `params`, where no rule could
        tell it is a password; the formatted message shows that it was one.
        """
        node = w.seen.get(id(entry)) if isinstance(entry, dict) else None
        if node is None:
            return
        formatted, params = entry.get("formatted"), entry.get("params")
        entry = w.copies[node] or entry
        if not isinstance(formatted, str) or not isinstance(params, list):
            return
        scrubbed = entry.get("formatted")
        if scrubbed == formatted or not isinstance(scrubbed, str):
            return
        current = entry.get("params")
        if not isinstance(current, list):
            return
        new = list(current)
        for i, param in enumerate(params):
            text = param if isinstance(param, str) else safe_repr(param)
            if text and text in formatted and text not in scrubbed and i < len(new):
                new[i] = _filtered()
        w.writable(node)["params"] = new

    def scrub_user(self, event):
        """Scrub `event["user"]` (the SDK's API): the same rules as for the whole event."""
        if isinstance(event, dict) and "user" in event:
            event["user"] = self._scrub_part(event["user"])

    def scrub_log(self, log, hint=None):
        """A `before_send_log` callback: scrubs a Sentry log record's body and attributes."""
        try:
            if isinstance(log, dict):
                holder = {k: log[k] for k in ("body", "attributes") if k in log}
                self._scrub_event(holder)
                for key, value in holder.items():
                    log[key] = SENSITIVE_DATA_SUBSTITUTE if isinstance(value, AnnotatedValue) else value
        except Exception:
            return None
        return log


_CYCLE = "<cyclic>"


def _find_all(text, literal, into):
    """Append where `literal` is in the NUL-separated `text`, once per string at most: after a
    find, the search goes on from the next string (linear, however often the literal recurs)."""
    sep = "\x00" if isinstance(text, str) else b"\x00"
    at = text.find(literal)
    while at != -1:
        into.append(at)
        end = text.find(sep, at)
        if end == -1:
            return
        at = text.find(literal, end)


def _string_numbers(joined, positions):
    """The numbers of the NUL-separated strings of `joined` that hold these positions."""
    sep = "\x00" if isinstance(joined, str) else b"\x00"
    numbers, number, last = set(), 0, 0
    for at in sorted(positions):
        number += joined.count(sep, last, at)
        last = at
        numbers.add(number)
    return numbers


def _logged_secrets(entry, changed, w):
    """The log parameters that the rules cut out of the formatted message: secrets to be removed
    wherever else they appear (the source line of the logging call, the caller's locals)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("params"), list):
        return []
    formatted = entry.get("formatted")
    node = w.seen.get(id(entry))
    if not isinstance(formatted, str) or node is None:
        return []
    try:
        at = w.spots.index((node, "formatted"))
    except ValueError:
        return []
    scrubbed = changed.get(at)
    if scrubbed is None:
        return []
    return [p for p in entry["params"] if isinstance(p, str) and p and p in formatted and p not in scrubbed]


def _filtered():
    return AnnotatedValue.substituted_because_contains_sensitive_data()


def _set(container, key, value):
    if type(container) is AnnotatedValue:
        container.value = value
    else:
        container[key] = value


class _Walk(object):
    """One event's scrub: the containers met (node `i`: the object, the places it hangs in, its copy
    once one is needed), the strings met and where, and the changes to make once the text is seen.

    Node 0 is the event, updated in place; any other node is copied the first time something below
    it changes, and the copy replaces it in every place it hangs (its parent copied in turn), so the
    objects the event refers to are never written to.
    """

    __slots__ = ("objs", "refs", "copies", "strings", "spots", "loose", "changes", "renames", "found",
                 "seen", "active")

    def __init__(self, root):
        self.objs, self.refs, self.copies = [root], [()], [root]
        self.strings, self.spots = [], []
        self.loose = {}  # index of a string made from another object -> that object (None: cut bytes)
        self.changes, self.renames, self.found = [], [], []
        self.seen, self.active = {id(root): 0}, {id(root)}

    def add(self, obj, parent, key, ours=False):
        self.objs.append(obj)
        self.refs.append([(parent, key)])
        self.copies.append(obj if ours else None)
        node = len(self.objs) - 1
        self.seen[id(obj)] = node
        return node

    def text(self, text, parent, key, original=False):
        if original is not False:
            self.loose[len(self.strings)] = original
        self.strings.append(text)
        self.spots.append((parent, key))

    def mark(self):
        return (len(self.objs), len(self.strings), len(self.changes), len(self.renames), len(self.found))

    def reset(self, mark):
        nodes, strings, changes, renames, found = mark
        for node in range(nodes, len(self.objs)):
            self.seen.pop(id(self.objs[node]), None)
        del self.objs[nodes:], self.refs[nodes:], self.copies[nodes:]
        for i in range(strings, len(self.strings)):
            self.loose.pop(i, None)
        del self.strings[strings:], self.spots[strings:]
        del self.changes[changes:], self.renames[renames:], self.found[found:]
        self.active = {id(self.objs[0])}

    def writable(self, node):
        copy = self.copies[node]
        if copy is None:
            obj = self.objs[node]
            copy = dict(obj) if type(obj) is dict else list(obj)
            self.copies[node] = copy
            for parent, key in self.refs[node]:
                _set(self.writable(parent), key, copy)
        return copy

    def set(self, node, key, value):
        _set(self.writable(node), key, value)


# Shorter found values are not searched for elsewhere: they would match too much ordinary text.
_MIN_KNOWN = 6


def _reversed_prefilter():
    """One expression over the lower-cased, reversed text of an event, and the first character of
    each of its groups after the two key groups. Every alternative starts with one literal
    character, so the engine skips from one such character to the next:
    - `=` or `:` then the key before it (reversed): `password=...`, `"api_key": ...`;
    - a space then a flag before it (reversed): `--password VALUE`;
    - a secret format's keyword that ends with `_ - . /` (`ghp_`, `xoxb-`, `sg.`);
    - the end of a PEM private-key header; `://user:password@`.
    Card numbers are looked for apart, in `_DIGITS` form (`_card_spots`)."""
    keys = r"[ \t\"'\\]*([a-z0-9_.\-]{1,128})"
    by_first = {}
    markers = {k[::-1] for k in _formats.KEYWORDS_BY_LAST} | {"-----yek etavirp", "-----kcolb yek etavirp"}
    for marker in sorted(markers, key=len, reverse=True):
        by_first.setdefault(marker[0], []).append(re.escape(marker[1:]))
    by_first["@"] = [r"[^@/\s\x00]{1,256}:[^:/@\s\x00]{0,256}//:"]
    firsts = sorted(by_first)
    # `--password VALUE`: reversed, the space before the value, then the flag's name and `--`.
    flag = r"([a-z0-9_\-]{0,63}[a-z0-9]--?)(?=[ \t\x00]|$)"
    alternatives = ["=" + keys, ":" + keys, " " + flag]
    alternatives += [re.escape(first) + "(" + "|".join(by_first[first]) + ")" for first in firsts]
    return re.compile("|".join(alternatives)), tuple(firsts)


_REVERSED, _REVERSED_FIRSTS = _reversed_prefilter()

# Every digit becomes `0`, a space or dash ` `, NUL stays, anything else `x`: a card number (13+
# digits in a run, or groups of 4-6 separated by one space or dash) then shows as one of `_CARD_SHAPES`.
_DIGITS = bytes(48 if 48 <= b <= 57 else 32 if b in (32, 45) else 0 if b == 0 else 120 for b in range(256))
_CARD_SHAPES = (b"0" * 13, b"0000 0000")


def _card_strings(joined):
    """The numbers of the NUL-separated strings of `joined` in which a card number may be."""
    shape = joined.encode("utf-8", "surrogatepass").translate(_DIGITS)
    spots = []
    for wanted in _CARD_SHAPES:
        _find_all(shape, wanted, spots)
    return _string_numbers(shape, spots)


def _bare(value):
    """A removed value as it would appear elsewhere: decoded, without quotes or an auth scheme."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = value.strip().strip("\\").strip("'\"").strip("\\")
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("bearer", "basic", "digest", "token"):
        value = rest.strip()
    return value


def _drop(event, key):
    try:
        event[key] = AnnotatedValue.substituted_because_contains_sensitive_data()
    except Exception:
        pass


def _int_value(number):
    if -_CARD_MIN < number < _CARD_MIN or not _is_card(str(abs(number))):
        return number
    return AnnotatedValue.substituted_because_contains_sensitive_data()


def _is_sequence(obj):
    from collections.abc import Sequence, Set

    return isinstance(obj, (Sequence, Set)) and not isinstance(obj, (str, bytes, bytearray, memoryview))


def _compile(pattern):
    if isinstance(pattern, re.Pattern):
        return pattern
    try:
        return re.compile(str(pattern))
    except re.error as exc:
        raise ValueError("scrub.patterns: %r is not a valid regular expression: %s" % (pattern, exc))


def _stems(names):
    """A few substrings such that every sensitive name contains at least one of them.

    Text whose lower-cased form contains none of them can't hold `key=value` with a sensitive key:
    normalising a key only splits and re-joins its letters, so each of its words is in the raw text.
    """
    words = [name.split("_") for name in names if name]
    stems = set()
    for parts in sorted(words, key=len):
        parts = [p for p in parts if p]
        if parts and not any(stem in part for part in parts for stem in stems):
            stems.add(max(parts, key=len))
    minimal = []
    for stem in sorted(stems, key=len):
        if not any(short in stem for short in minimal):
            minimal.append(stem)
    return tuple(minimal)


def make_scrubber(scrub_cfg, dsn=None, send_default_pii=False):
    """The scrubber for the `scrub` config section (`{"fields": [...], "patterns": [...], "keep": [...]}`)."""
    scrub_cfg = scrub_cfg or {}
    return BootstrapScrubber(
        fields=scrub_cfg.get("fields") or (),
        patterns=scrub_cfg.get("patterns") or (),
        keep=scrub_cfg.get("keep") or (),
        dsn=dsn,
        send_default_pii=send_default_pii,
    )
