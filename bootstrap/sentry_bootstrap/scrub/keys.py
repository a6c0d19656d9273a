"""Key rules: which keys have their value removed whole (docs/security.md, "Keys").

`normalise_key` gives the one form every rule compares; `KeyRules(exact, keep)` answers
`is_sensitive(key)`. Nothing here depends on the SDK.
"""
import re

__all__ = ["KeyRules", "normalise_key", "stems", "SENSITIVE_WORDS", "SENSITIVE_PAIRS"]

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

# Linear: one look-ahead per position (`([A-Z]+)([A-Z][a-z])` rescans a run of capitals from each
# of its letters, quadratic on a long key).
_CAMEL_ACRONYM = re.compile(r"([A-Z])(?=[A-Z][a-z])")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Relay's `@password` on a key (a substring anywhere in it, any case), and its two exact names.
RELAY_KEY = re.compile(r"(?i)password|secret|passwd|api[-_]?key|auth|credentials|mysql_pwd|private[-_]?key|token")
RELAY_EXACT = frozenset(("otp", "two_factor", "two-factor"))
# Only this much of a key is looked at: a key is a name, not a document.
_KEY_LOOK = 200


def normalise_key(key):
    """`X-Api-Key`, `x_api_key`, `apiKey` -> `x_api_key` / `api_key`: the form every key rule compares."""
    key = _CAMEL.sub(r"\1_\2", _CAMEL_ACRONYM.sub(r"\1_", key))
    return _NON_ALNUM.sub("_", key.lower()).strip("_")


def sensitive_words(words):
    """The word rule alone: a sensitive word, infix, suffix or pair among `words` (normalised)."""
    if not SENSITIVE_WORDS.isdisjoint(words):
        return True
    for word in words:
        if word.endswith(SENSITIVE_SUFFIXES) or any(w in word for w in SENSITIVE_INFIXES):
            return True
    return any(pair in SENSITIVE_PAIRS for pair in zip(words, words[1:]))


class KeyRules(object):
    """`exact`: normalised names removed on an exact match (the SDK's denylist, `scrub.fields`);
    `keep`: normalised names never removed by key (`scrub.keep`); `relay`: Relay's `@password` key
    rule too (`auth` or `token` anywhere in the key: `author`, `input_tokens`), as Sentry would."""

    __slots__ = ("exact", "keep", "relay")

    def __init__(self, exact=(), keep=(), relay=True):
        self.keep = frozenset(keep)
        self.exact = frozenset(exact) - self.keep
        self.relay = relay

    def is_sensitive(self, key):
        """Whether a value stored under the string `key` is removed whole."""
        norm = normalise_key(key[:_KEY_LOOK])
        if not norm or norm in self.keep:
            return False
        if norm in self.exact:
            return True
        if self.relay and (RELAY_KEY.search(key[:_KEY_LOOK]) or key.lower() in RELAY_EXACT):
            return True
        return sensitive_words(norm.split("_"))

    def stems(self):
        """Substrings one of which every sensitive key contains (see `stems`)."""
        names = SENSITIVE_WORDS | {"_".join(pair) for pair in SENSITIVE_PAIRS} | self.exact
        if self.relay:
            names |= {"otp", "two_factor", "credentials", "mysql_pwd"}
        return stems(names)


def stems(names):
    """A few substrings such that every sensitive name contains at least one of them.

    Text whose lower-cased form contains none of them can't hold `key=value` with a sensitive key:
    normalising a key only splits and re-joins its letters, so each of its words is in the raw text.
    """
    words = [name.split("_") for name in names if name]
    found = set()
    for parts in sorted(words, key=len):
        parts = [p for p in parts if p]
        if parts and not any(stem in part for part in parts for stem in found):
            found.add(max(parts, key=len))
    minimal = []
    for stem in sorted(found, key=len):
        if not any(short in stem for short in minimal):
            minimal.append(stem)
    return tuple(minimal)
