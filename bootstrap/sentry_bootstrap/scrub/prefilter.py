"""Which strings of an event may hold something a text rule removes (never fewer than that).

The text of the whole event is joined (NUL between strings) and looked at once, so only the few
strings where something was seen get the full rules. Python's `re` skips fast to a pattern's first
*literal* character but tries every branch of an alternation at every position, so each look here
starts with a literal that is rare in ordinary text, and the token keywords are compiled into a
trie (one branch per next character, `trie_regex`):

- `=` or `:` then the key before it, in the reversed text: `password=...`, `"api_key": ...`;
- `-` then a flag name and a blank: `--password VALUE`;
- the keywords of the secret formats that end with `_ - . /` (`ghp_`, `xoxb-`, `sg.`), reversed,
  one trie per last character; the other keywords, the DSN's keys, `bearer`, `basic` and
  `private key` with `str.find`;
- `@` then `user:password` and `://` before it, reversed;
- card numbers, in a copy where every digit is `0` and every separator a space.
Each look is linear, so the whole is linear in the event's text.
"""
import re

from sentry_bootstrap import secret_formats as _formats

__all__ = ["Prefilter", "find_all", "string_numbers", "trie_regex"]

_REVERSED_KEY = r"[ \t\"'\\]*([a-z0-9_.\-]{1,128})"
_EQ = re.compile("=" + _REVERSED_KEY)
_COLON = re.compile(":" + _REVERSED_KEY)
# `(?=(X))\1` takes the longest run once (an atomic group): a run not followed by a blank is not
# retried shorter at each of its characters.
_FLAG = re.compile(r"--?(?=([a-z][a-z0-9_\-]{0,63}))\1(?=[ \t])")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_SQL = re.compile(r"password [\'\"]")
_SHAPES = tuple(re.compile(shape) for shape in _formats.SHAPES.values())
# `user:password@host` without a scheme, in the reversed text: `@`, the password, `:`.
_USER_AUTH = re.compile(r"@[^@/\s\x00:'\"]{1,128}:")
# Literals of the named rules (`rules.py`): a PEM block, a home directory, SQL's `identified by`.
_LITERALS = {"bearer", "basic", "-----begin", "/home/", "/users/", "\\users\\", "documents and settings",
             "identified by"}
_URL_AUTH = re.compile(r"@[^@/\s\x00]{1,256}:[^:/@\s\x00]{0,256}//:")

# Every digit becomes `0`, a space, `+`, dash or dot ` `, a capital `A`, NUL stays, anything else `x`:
# a card number (13+ digits in a run, or groups of 4-6 separated by one separator), an SSN or an
# IBAN shows as one of `_CARD_SHAPES`.
_DIGITS = bytes(48 if 48 <= b <= 57 else 32 if b in (32, 43, 45, 46) else 0 if b == 0 else 65 if 65 <= b <= 90
                else 120 for b in range(256))
# A card (13 digits, groups of four), a US social security number, an IBAN's country and check digits.
_CARD_SHAPES = (b"0" * 13, b"0000 0000", b"000 00 0000", b"AA00")


def trie_regex(words):
    """One expression matching any of `words`, as a trie: after each character only the branches
    that can still match are tried (an alternation of the words would try each at every position)."""
    root = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node):
        ends = "" in node
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return emit(root)


def _keyword_tries():
    by_last = {}
    for keyword in _formats.KEYWORDS_BY_LAST:
        reversed_ = keyword[::-1]
        by_last.setdefault(reversed_[0], []).append(reversed_[1:])
    return tuple(re.compile(re.escape(first) + trie_regex(rest)) for first, rest in sorted(by_last.items()))


_KEYWORD_TRIES = _keyword_tries()


def find_all(text, literal, into):
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


def string_numbers(joined, positions):
    """The numbers of the NUL-separated strings of `joined` that hold these positions."""
    sep = "\x00" if isinstance(joined, str) else b"\x00"
    numbers, number, last = set(), 0, 0
    for at in sorted(positions):
        number += joined.count(sep, last, at)
        last = at
        numbers.add(number)
    return numbers


def _once_per_string(pattern, text, accept=None):
    """The matches of `pattern` in the NUL-separated `text` that `accept`, at most one per string:
    after one, the search goes on from the next string (a string is a candidate once is enough)."""
    at = 0
    search = pattern.search
    while True:
        match = search(text, at)
        if match is None:
            return
        if accept is None or accept(match):
            yield match
            at = text.find("\x00", match.end())
            if at == -1:
                return
        else:
            at = match.end()


def card_strings(joined):
    """The numbers of the NUL-separated strings of `joined` in which a card number may be."""
    shape = joined.encode("utf-8", "surrogatepass").translate(_DIGITS)
    spots = []
    for wanted in _CARD_SHAPES:
        find_all(shape, wanted, spots)
    return string_numbers(shape, spots)


class Prefilter(object):
    """`is_sensitive(key)`: the (cached) key rule; `stems`: substrings one of which every
    sensitive key holds (`KeyRules.stems`); `literals`: lower-case literals any of which
    marks a string (the DSN's keys, ...)."""

    def __init__(self, is_sensitive, stems, literals=(), everything=False, words=()):
        self.is_sensitive = is_sensitive
        self.stems = tuple(stems)
        self.everything = everything  # `scrub.patterns` or an opt-in rule: every string is read
        self.words = tuple(words)  # their strings are returned apart (Relay's `@password` on values)
        self._keys = {}
        self.literals = tuple(sorted(set(_formats.KEYWORDS_PLAIN) | _LITERALS | {x.lower() for x in literals}))

    def _maybe_key(self, reversed_key):
        """Whether a lower-cased, reversed key may be sensitive: it holds a stem (the key rule itself
        needs the key's case, `signingKey`; the text rules check it exactly)."""
        maybe = self._keys.get(reversed_key)
        if maybe is None:
            key = reversed_key[::-1]
            maybe = any(stem in key for stem in self.stems)
            if len(self._keys) >= 4096:
                self._keys.clear()
            self._keys[reversed_key] = maybe
        return maybe

    def candidates(self, joined, n):
        """(Indices of the strings of `joined` (`n` strings, NUL-separated) a rule may match in,
        indices of those that hold one of `words`)."""
        low = joined.lower()
        if len(low) != len(joined) or joined.count("\x00") != n - 1:
            return range(n), range(n)  # a few non-ASCII letters change length when lowered; NUL inside
        worded = []
        for word in self.words:
            find_all(low, word, worded)
        worded = string_numbers(joined, worded)
        if self.everything:
            return range(n), worded
        # A string naming a password may hold SQL's `PASSWORD '...'`: it gets the rules too.
        if worded and ("password '" in low or 'password "' in low):
            hits = [m.start() for m in _once_per_string(_SQL, low)]
        else:
            hits = []
        for literal in self.literals:
            find_all(low, literal, hits)
        is_sensitive = self.is_sensitive
        rev = low[::-1]
        last = len(low)
        maybe = self._maybe_key
        for pattern in (_EQ, _COLON):
            for key in set(pattern.findall(rev)):
                if maybe(key):
                    find_all(low, key[::-1], hits)
        for match in _once_per_string(_FLAG, low, lambda m: (
                m.start() == 0 or low[m.start() - 1] not in _WORD_CHARS)
                and is_sensitive(joined[m.start(1):m.end(1)])):
            hits.append(match.start())
        for pattern in _KEYWORD_TRIES + (_URL_AUTH, _USER_AUTH):
            for match in _once_per_string(pattern, rev):
                hits.append(last - match.end())
        # Percent-encoded text is decoded before the rules run (`TextRules.encoded`), and a few
        # formats are found by their shape (`secret_formats.SHAPES`).
        for pattern in (_PERCENT,) + _SHAPES:
            for match in _once_per_string(pattern, joined):
                hits.append(match.start())
        return string_numbers(joined, hits) | card_strings(joined), worded
