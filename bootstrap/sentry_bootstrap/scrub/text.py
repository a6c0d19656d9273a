"""Text rules: what is replaced by `[Filtered]` inside a string (docs/security.md, "Text").

Each rule is a function `rule(text, found) -> text` that replaces its matches and appends what it
removed to `found` (those values are then removed from the rest of the event too). The rules that
need configuration (the DSN, the key rules, `scrub.patterns`) are methods of `TextRules`, which
applies all of them in order: `TextRules.scrub(text) -> (text, found)`.
"""
import base64
import binascii
import re
from urllib.parse import quote, unquote_plus

from sentry_bootstrap import secret_formats as _formats
from sentry_bootstrap.scrub import cards

__all__ = ["TextRules", "MAX_TEXT", "SUBSTITUTE", "bare", "compile_pattern"]

SUBSTITUTE = "[Filtered]"
MAX_TEXT = 32_768
# Scanning this far beyond the cut catches a secret that straddles it.
CUT_MARGIN = 512
TRUNCATED = "...[truncated]"

_PEM = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)(PRIVATE|PUBLIC) KEY( BLOCK|)-----.*?(?:-----END \1\2 KEY\3-----|\Z)",
    re.DOTALL,
)
# Anchored at the literal `://`, not at a scheme: a scheme pattern is retried from every letter of a
# long run of letters ("x://" + "a" * 32000 cost 1.4 s); without it the scan is linear.
# The password runs to the last `@` before the host (a password may hold `@`).
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^/\s]{1,512})@")
# As Relay's `@bearer`: any word after `Bearer`.
_BEARER = re.compile(r"\b(bearer[ \t]+)([^\s]{1,4096})", re.IGNORECASE)
_BASIC = re.compile(r"\b(basic[ \t]+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])", re.IGNORECASE)
# `key=value` and the like, anchored where a key may start; keys are found through the stems.
_KEY_VALUE = re.compile(
    r"([A-Za-z0-9_.\-]{1,128})(\\?[\"']?[ \t]*[:=][ \t]*)"
    r"((?:(?:bearer|basic|digest|token)[ \t]+)?"
    r"(?:\\?\"[^\"\r\n\\]*\\?\"|'[^'\r\n]*'|[^\s&;,'\"}\]<>]+))",
    re.IGNORECASE,
)
# `--token VALUE`: a flag, blanks, then a word that is not another flag.
_FLAG_VALUE = re.compile(r"(?<![A-Za-z0-9_\-])(--?[A-Za-z][A-Za-z0-9_\-]{0,63})([ \t]+)([^\s\-\x00][^\s\x00]{0,511})")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
# An encoded string is decoded part by part: runs between blanks, quotes, `<>` and `&` (so each
# query parameter is decoded, scrubbed and re-encoded on its own).
_PARTS = re.compile(r"([\s\"'<>&]+)")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
# What stays as it is when a scrubbed part is encoded again.
_SAFE = "/:=?@!$'()*,;~[]"
_DSN_KEYS = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*://([^@/\s]+)@")

# Short strings recur from event to event (source lines, breadcrumb messages, header values,
# reprs of the same locals), so their scrubbed form is remembered, within a bound.
_CACHE_MAX = 4096
_CACHE_LEN = 256


def filter_group(group, found):
    """A `re.sub` callback that filters `group` of the match and remembers what it removed."""

    def replace(match):
        found.append(match.group(group))
        whole, start, end = match.group(0), match.start(group) - match.start(), match.end(group) - match.start()
        return whole[:start] + SUBSTITUTE + whole[end:]

    return replace


# ---- the rules that need no configuration ----------------------------------------------------


def provider_tokens(text, found):
    """Provider tokens by format (`secret_formats`): GitHub, AWS, Slack, Stripe, JWT, ..."""
    return _formats.TOKENS.sub(filter_group(0, found), text)


def pem_keys(text, found):
    """`@pemkey`: a PEM private- or public-key block, to its END line or the end of the text."""
    if "-----BEGIN" not in text:
        return text
    return _PEM.sub(SUBSTITUTE, text)


def url_passwords(text, found):
    """`@urlauth`: the password of `scheme://user:PASSWORD@host`."""
    if "://" not in text:
        return text
    return _URL_PASSWORD.sub(filter_group(2, found), text)


def bearer_tokens(text, found):
    """`@bearer`: `Bearer <token>` (8 characters or more)."""
    return _BEARER.sub(filter_group(2, found), text)


def basic_credentials(text, found):
    """`Basic <base64>` when it decodes to `user:password`."""
    def replace(match):
        try:
            decoded = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            return match.group(0)
        if b":" not in decoded:
            return match.group(0)
        found.append(match.group(2))
        return match.group(1) + SUBSTITUTE

    return _BASIC.sub(replace, text)


def bare(value):
    """A removed value as it would appear elsewhere: decoded, without quotes or an auth scheme."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = value.strip().strip("\\").strip("'\"").strip("\\")
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("bearer", "basic", "digest", "token"):
        value = rest.strip()
    return value


def dsn_secrets(dsn):
    """The DSN itself and its keys, longest first, as they could appear in text."""
    if not dsn:
        return ()
    dsn = str(dsn).strip()
    found = {dsn}
    m = _DSN_KEYS.match(dsn)
    if m:
        for part in m.group(1).split(":"):
            if len(part) >= 8:
                found.add(part)
    return tuple(sorted((s for s in found if len(s) >= 8), key=len, reverse=True))


def compile_pattern(pattern):
    if isinstance(pattern, re.Pattern):
        return pattern
    try:
        return re.compile(str(pattern))
    except re.error as exc:
        raise ValueError("scrub.patterns: %r is not a valid regular expression: %s" % (pattern, exc))


class TextRules(object):
    """Every text rule, in order. `is_sensitive(key)`: the key rule (for `key=value` and flags);
    `stems`: substrings one of which each sensitive key holds; `dsn`: the configured DSN;
    `patterns`: `scrub.patterns`, compiled."""

    def __init__(self, is_sensitive, stems, dsn=None, patterns=(), named=(), key_values=True):
        self.is_sensitive = is_sensitive
        self.stems = tuple(stems)
        self.dsn_secrets = dsn_secrets(dsn)
        self.patterns = tuple(patterns)
        self.named = tuple(named)  # the functions of the rules named in `scrub.rules` (`rules.py`)
        self.with_key_values = key_values  # `@password`
        self._cache = {}

    def scrub(self, text):
        """(`text` with every rule applied, the values removed); cut to `MAX_TEXT` if longer."""
        done = self._cache.get(text)
        if done is None:
            done = self._scrub(text)
            if len(text) <= _CACHE_LEN:
                if len(self._cache) >= _CACHE_MAX:
                    self._cache.clear()
                self._cache[text] = done
        return done

    def _scrub(self, text):
        found = []
        cut = len(text) > MAX_TEXT
        if cut:
            text = text[: MAX_TEXT + CUT_MARGIN]
        text = self.rules(text, found)
        if "%" in text or "+" in text:
            text = self.encoded(text, found)
        for pattern in self.patterns:
            text = pattern.sub(filter_group(0, found), text)
        if cut:
            text = text[:MAX_TEXT] + TRUNCATED
        return text, tuple(found)

    def encoded(self, text, found):
        """Decode before matching: each part of `text` written with percent-encoding or `+` for a
        space (a query string, a URL, a form body, a cookie) is decoded (twice at most, for what was
        encoded twice), the rules run on the decoded text, and a part where they removed something
        is replaced by its scrubbed form, encoded again."""
        parts = _PARTS.split(text)
        changed = False
        for i in range(0, len(parts), 2):
            part = parts[i]
            if "%" not in part and "+" not in part:
                continue
            decoded = unquote_plus(part)
            if _PERCENT.search(decoded):
                decoded = unquote_plus(decoded)
            if decoded == part:
                continue
            scrubbed = self.rules(decoded, found)
            if scrubbed != decoded:
                parts[i] = SUBSTITUTE.join(quote(piece, safe=_SAFE) for piece in scrubbed.split(SUBSTITUTE))
                changed = True
        return "".join(parts) if changed else text

    def rules(self, text, found):
        """`text` with every built-in rule applied (not `scrub.patterns`, not decoding)."""
        if len(text) >= 8:
            text = provider_tokens(text, found)
            if "-" in text:
                text = self.flag_values(text, found)
        if len(text) >= 5:
            text = self.dsn(text, found)
            if self.with_key_values and ("=" in text or ":" in text):
                text = self.key_values(text, found)
            for rule in self.named:
                text = rule(text, found)
            if len(text) >= 14 and "basic" in text.lower():
                text = basic_credentials(text, found)
        return text

    def dsn(self, text, found):
        """The configured DSN, its public key and its secret key."""
        for secret in self.dsn_secrets:
            if secret in text:
                text = text.replace(secret, SUBSTITUTE)
        return text

    def flag_values(self, text, found):
        """`--token VALUE` in a command line written as text: the word after a sensitive flag."""

        def replace(match):
            if "=" in match.group(1) or not self.is_sensitive(match.group(1)):
                return match.group(0)
            found.append(match.group(3))
            return match.group(1) + match.group(2) + SUBSTITUTE

        return _FLAG_VALUE.sub(replace, text)

    def key_values(self, text, found):
        """`@password` and the key rules in text: the value of `key=value`, `key: value`,
        `"key": "value"`, `key='value'` when the key is sensitive."""
        out, pos = [], 0
        for start in self._key_starts(text):
            if start < pos:
                continue
            match = _KEY_VALUE.match(text, start)
            if match is None or text.startswith(SUBSTITUTE, match.start(3)) or not self.is_sensitive(match.group(1)):
                continue
            out.append(text[pos:start])
            out.append(_filter_key_value(match, found))
            pos = match.end()
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)

    def _key_starts(self, text):
        """Where a sensitive key may start in `text`: the start of each word holding a stem."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a few non-ASCII letters change length when lowered
            lowered = "".join(c.lower()[:1] or c for c in text)
        starts = set()
        for stem in self.stems:
            at = lowered.find(stem)
            while at != -1:
                start = at
                stop = max(0, at - 64)
                while start > stop and text[start - 1] in _KEY_CHARS:
                    start -= 1
                starts.add(start)
                at = lowered.find(stem, at + len(stem))
        return sorted(starts)


def _filter_key_value(match, found):
    value = match.group(3)
    found.append(bare(value))
    quote = value[0] if value[0] in "\"'\\" else ""
    if quote == "\\":
        quote = value[:2]
    tail = value[-2:] if value.endswith('\\"') else value[-1] if quote else ""
    return match.group(1) + match.group(2) + quote + SUBSTITUTE + tail
