"""Scrubbing of events before they leave the process: `BootstrapScrubber`, an SDK `EventScrubber`.

Installed through `sentry_sdk.init(event_scrubber=make_scrubber(values["scrub"], dsn, send_default_pii))`.
The SDK calls `scrub_event(event)` on every error and transaction event, before serialisation.
Sentry *logs* (`enable_logs`) do not pass through the event scrubber: use `scrub_log` as
`before_send_log` to cover them too.

What a caller may rely on:

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
* **Bounds.** Strings longer than `MAX_TEXT` characters are cut to that length (marked with
  `...[truncated]`) and only the kept part is scanned, so the cost is linear and bounded; the built-in
  regexes have no nested quantifiers. Nesting deeper than `MAX_DEPTH` is replaced by `[Filtered]`;
  shared and cyclic containers are visited once. Tuples, sets and other sequences become lists, other
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

from sentry_sdk.scrubber import EventScrubber
from sentry_sdk.utils import safe_repr

from sentry_bootstrap import sdk_compat

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
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
# Candidates first (a fast class run), then the strict form within each candidate.
_DIGIT_CANDIDATE = re.compile(r"[0-9][0-9 \-]{11,}[0-9]")
_DIGIT_RUN = re.compile(r"[0-9](?:[ \-]?[0-9]){12,}")
_DIGIT_GROUP = re.compile(r"[0-9]+")

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
    try:
        trace = event["contexts"]["trace"]
        return trace.pop("dynamic_sampling_context", None) if isinstance(trace, dict) else None
    except Exception:
        return None


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
        self._exact = frozenset(normalise_key(k) for k in self.denylist + fields) - self.keep
        self._stems = _stems(SENSITIVE_WORDS | {"_".join(pair) for pair in SENSITIVE_PAIRS} | self._exact)
        self.patterns = tuple(_compile(p) for p in patterns or ())
        self._dsn_secrets = _dsn_secrets(dsn)
        self._key_cache = {}
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
            self._key_cache[key] = info
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

    def _filter_key_value(self, match, found):
        value = match.group(3)
        found.append(_bare(value))
        quote = value[0] if value[0] in "\"'\\" else ""
        if quote == "\\":
            quote = value[:2]
        tail = value[-2:] if value.endswith('\\"') else value[-1] if quote else ""
        return match.group(1) + match.group(2) + quote + SENSITIVE_DATA_SUBSTITUTE + tail

    # ---- structures (the SDK's EventScrubber API, made recursive and text-aware) ---------------

    def scrub_dict(self, d):
        """Scrub a dict in place: sensitive keys' values removed, everything below scanned."""
        if isinstance(d, dict):
            self._walk(d, 0, _Pass())

    def scrub_list(self, lst):
        """Scrub a list in place, recursively."""
        if isinstance(lst, list):
            self._walk(lst, 0, _Pass())

    def _walk(self, obj, depth, memo):
        """Return `obj` scrubbed: dicts and lists in place, other values replaced when needed."""
        kind = type(obj)
        if kind is str:
            if not obj:
                return obj
            new, removed = self._text_cache.get(obj) or self._scrub_cached(obj)
            memo.found.extend(removed)
            return new
        if kind in _SCALARS or isinstance(obj, _INERT_TYPES):
            return obj
        if isinstance(obj, int):
            return _int_value(obj)
        if depth >= MAX_DEPTH:
            return AnnotatedValue.substituted_because_contains_sensitive_data()
        ident = id(obj)
        if ident in memo:
            return memo[ident]
        if isinstance(obj, dict):
            memo[ident] = obj
            self._walk_dict(obj, depth, memo)
            return obj
        if isinstance(obj, list):
            memo[ident] = obj
            self._walk_list(obj, depth, memo)
            return obj
        if isinstance(obj, str):
            new, removed = self._scrub_cached(str(obj))
            memo.found.extend(removed)
            return new
        if isinstance(obj, AnnotatedValue):
            memo[ident] = obj
            obj.value = self._walk(obj.value, depth + 1, memo)
            return obj
        if isinstance(obj, (bytes, bytearray)):
            text = bytes(obj[: MAX_TEXT + _CUT_MARGIN]).decode("utf-8", "replace")
            new, removed = self._scrub_cached(text)
            memo.found.extend(removed)
            return obj if new == text and len(obj) <= MAX_TEXT else new
        if isinstance(obj, Mapping):
            new = dict(obj.items())
        elif isinstance(obj, (tuple, set, frozenset)) or _is_sequence(obj):
            new = list(obj)
        else:
            text = safe_repr(obj)
            new_text, removed = self._scrub_cached(text)
            memo.found.extend(removed)
            return obj if new_text == text else new_text
        memo[ident] = new
        return self._walk(new, depth, memo)

    # The two loops below inline the common leaves (text, numbers): they are most of an event.

    def _walk_dict(self, d, depth, memo):
        key_cache = self._key_cache
        text_cache = self._text_cache
        renamed = None
        leaves = memo.leaves
        depth += 1
        for key, value in d.items():
            info = key_cache.get(key) or self._key_info(key)
            if info[0]:
                if isinstance(value, (str, bytes)):
                    memo.found.append(_bare(value))
                d[key] = AnnotatedValue.substituted_because_contains_sensitive_data()
                continue
            if info[1] is not None:
                renamed = renamed or []
                renamed.append((key, info[1]))
            kind = type(value)
            if kind is str:
                if value:
                    leaves.append((d, key))
                    new, removed = text_cache.get(value) or self._scrub_cached(value)
                    if new is not value:
                        memo.found.extend(removed)
                        d[key] = new
            elif kind in _SCALARS:
                continue
            elif kind is int:
                if value >= _CARD_MIN or value <= -_CARD_MIN:
                    d[key] = _int_value(value)
            elif key == "frames" and kind is list:
                self._walk_frames(value, depth, memo)
            else:
                new = self._walk(value, depth, memo)
                if new is not value:
                    d[key] = new
        for old, new in renamed or ():
            d[new] = d.pop(old)
            leaves.append((d, new))

    def _walk_list(self, lst, depth, memo):
        text_cache = self._text_cache
        leaves = memo.leaves
        depth += 1
        for i, value in enumerate(lst):
            kind = type(value)
            if kind is str:
                if value:
                    leaves.append((lst, i))
                    new, removed = text_cache.get(value) or self._scrub_cached(value)
                    if new is not value:
                        memo.found.extend(removed)
                        lst[i] = new
            elif kind is int:
                if value >= _CARD_MIN or value <= -_CARD_MIN:
                    lst[i] = _int_value(value)
            elif kind not in _SCALARS:
                new = self._walk(value, depth, memo)
                if new is not value:
                    lst[i] = new

    def _walk_frames(self, frames, depth, memo):
        memo[id(frames)] = frames
        for frame in frames:
            if type(frame) is not dict or id(frame) in memo:
                self._walk(frame, depth + 1, memo)
                continue
            memo[id(frame)] = frame
            for key, value in frame.items():
                if key in _SKIP_FRAME:
                    continue
                if type(value) is str:
                    memo.leaves.append((frame, key))
                new = self._walk(value, depth + 2, memo)
                if new is not value:
                    frame[key] = new

    # ---- the event ----------------------------------------------------------------------------

    def scrub_user(self, event, memo=None):
        """As the SDK: without send_default_pii the user's IP address is dropped; then walked."""
        user = event.get("user")
        if isinstance(user, dict) and "ip_address" in self._exact:
            user.pop("ip_address", None)
        event["user"] = self._walk(user, 1, _Pass() if memo is None else memo)

    def scrub_logentry(self, event, memo=None):
        """Walk `logentry`; then a parameter whose text was filtered out of `formatted` is filtered.

        `log.error("login with password=%s", pw)` puts `pw` alone in `params`, where no rule could
        tell it is a password; the formatted message shows that it was one.
        """
        entry = event.get("logentry")
        formatted = entry.get("formatted") if isinstance(entry, dict) else None
        event["logentry"] = entry = self._walk(entry, 1, _Pass() if memo is None else memo)
        params = entry.get("params") if isinstance(entry, dict) else None
        if not isinstance(formatted, str) or not isinstance(params, list):
            return
        scrubbed = entry.get("formatted")
        if scrubbed == formatted or not isinstance(scrubbed, str):
            return
        for i, param in enumerate(params):
            text = param if isinstance(param, str) else safe_repr(param)
            if text and text in formatted and text not in scrubbed:
                params[i] = AnnotatedValue.substituted_because_contains_sensitive_data()

    def scrub_event(self, event):
        """Scrub every part of `event` in place. Never raises; a part that can't be scrubbed is dropped.

        The dynamic sampling context (`contexts.trace.dynamic_sampling_context`) is left as it is: the
        SDK moves it into the envelope header, where Sentry needs its `public_key` to apply the
        project's sampling (the key also travels in every request's X-Sentry-Auth header).
        """
        if not isinstance(event, dict):
            return
        dsc = _take_dsc(event)
        try:
            self._scrub_event(event)
        finally:
            if dsc is not None:
                event["contexts"]["trace"]["dynamic_sampling_context"] = dsc

    def _scrub_event(self, event):
        try:
            keys = list(event)
        except Exception:
            return
        memo = _Pass()
        for key in keys:
            if key in _SKIP_TOP:
                continue
            try:
                if key == "user":
                    self.scrub_user(event, memo)
                elif key == "logentry":
                    self.scrub_logentry(event, memo)
                elif self.is_sensitive_key(key):
                    event[key] = AnnotatedValue.substituted_because_contains_sensitive_data()
                else:
                    value = event[key]
                    new = self._walk(value, 1, memo)
                    if new is not value:
                        event[key] = new
            except Exception:
                _drop(event, key)
        # Second pass: a value found to be secret in one place is removed from every other place
        # (a password local seen again in a caller's `args`, a token repeated in a message).
        known = sorted(
            {v for v in memo.found if len(v) >= _MIN_KNOWN and "Filtered" not in v}, key=len, reverse=True
        )
        if not known:
            return
        for container, key in memo.leaves:
            try:
                value = container[key]
            except (KeyError, IndexError):
                continue  # a key renamed in the first pass: its value was moved, and is listed
            try:
                if type(value) is str:
                    for secret in known:
                        if secret in value:
                            value = value.replace(secret, SENSITIVE_DATA_SUBSTITUTE)
                    container[key] = value
                else:  # replaced in the first pass by a structure or an annotated value
                    container[key] = _redact(value, known, 0, set())
            except Exception:
                _drop(container, key)
        for key in keys:  # the few strings not reached through a container above
            value = event.get(key)
            if key not in _SKIP_TOP and type(value) is str:
                event[key] = _redact(value, known, 0, set())

    def scrub_log(self, log, hint=None):
        """A `before_send_log` callback: scrubs a Sentry log record's body and attributes."""
        try:
            if isinstance(log, dict):
                for key in ("body", "attributes"):
                    if key in log:
                        log[key] = self._walk(log[key], 1, _Pass())
                        if isinstance(log[key], AnnotatedValue):
                            log[key] = SENSITIVE_DATA_SUBSTITUTE
        except Exception:
            return None
        return log


class _Pass(dict):
    """One walk: the containers already visited (id -> result) and the secret values found."""

    __slots__ = ("found", "leaves")

    def __init__(self):
        super().__init__()
        self.found = []
        self.leaves = []  # (container, key) of every string met, for the second pass


# Shorter found values are not searched for elsewhere: they would match too much ordinary text.
_MIN_KNOWN = 6


def _bare(value):
    """A removed value as it would appear elsewhere: decoded, without quotes or an auth scheme."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = value.strip().strip("\\").strip("'\"").strip("\\")
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("bearer", "basic", "digest", "token"):
        value = rest.strip()
    return value


def _redact(obj, known, depth, seen):
    """`obj` with every occurrence of the `known` secrets replaced, in place where it can be."""
    if isinstance(obj, str):
        for secret in known:
            if secret in obj:
                obj = obj.replace(secret, SENSITIVE_DATA_SUBSTITUTE)
        return obj
    if depth > MAX_DEPTH or id(obj) in seen:
        return obj
    if isinstance(obj, dict):
        seen.add(id(obj))
        for key, value in obj.items():
            new = _redact(value, known, depth + 1, seen)
            if new is not value:
                obj[key] = new
    elif isinstance(obj, list):
        seen.add(id(obj))
        for i, value in enumerate(obj):
            new = _redact(value, known, depth + 1, seen)
            if new is not value:
                obj[i] = new
    elif isinstance(obj, AnnotatedValue):
        seen.add(id(obj))
        obj.value = _redact(obj.value, known, depth + 1, seen)
    return obj


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
