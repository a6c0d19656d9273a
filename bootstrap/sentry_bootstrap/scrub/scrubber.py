"""`BootstrapScrubber`: the SDK `EventScrubber` that applies the key rules, the text rules and the
copy-on-write walk to a whole event (the specification: docs/security.md, "Scrubbing").

One event's scrub: `Walk` notes every container and string and removes values by key; `Prefilter`
looks at the event's joined text once; `TextRules` runs on the strings it names; a value removed
anywhere is then removed from the other strings (`_spread`); the changes are written to copies.
"""
import re

from sentry_sdk.utils import safe_repr

from sentry_bootstrap import sdk_compat
from sentry_bootstrap.scrub import items
from sentry_bootstrap.scrub.keys import KeyRules, normalise_key
from sentry_bootstrap.scrub.prefilter import Prefilter, find_all, string_numbers
from sentry_bootstrap.scrub.rules import (
    DEFAULT, MESSAGE_RULES, NAMES, OPT_IN, PASSWORD_WORDS, TEXT_RULES, password_value)
from sentry_bootstrap.scrub.text import MAX_TEXT, SUBSTITUTE, TRUNCATED, TextRules, bare, compile_pattern
from sentry_bootstrap.scrub.walk import Walk, plain_filtered

__all__ = ["BootstrapScrubber", "make_scrubber"]

# Top-level event keys that hold only SDK bookkeeping.
_SKIP_TOP = frozenset(
    """sdk modules debug_meta event_id timestamp start_timestamp level platform type release
    environment dist server_name _meta""".split()
)
_PII_EXTRA = ("email",)
EventScrubber = sdk_compat.event_scrubber_base()  # sentry_sdk.scrubber's (2.x), a stand-in on 3.x
_KEY_CACHE_MAX = 4096
# Shorter removed values are not looked for elsewhere: they would match too much ordinary text.
_MIN_KNOWN = 6
# Up to this many removed values are looked for one by one (`str.find`, fast); beyond it, values that
# are one word are looked up word by word (one pass, however many values), the others capped.
_FIND_EACH = 32
_WORD = re.compile(r"[A-Za-z0-9_\-.+~!#$%*?^|]{6,}")
# Addresses (`127.0.0.1`, `::1`, an X-Forwarded-For list) removed as personal data are not looked for
# elsewhere: the client's address is often the server's, which a Host header or a URL rightly holds.
_ADDRESS = re.compile(r"[0-9A-Fa-f:.,\s\[\]]+")


class BootstrapScrubber(EventScrubber):
    """An `EventScrubber` that walks the whole event, matches keys loosely and scans text.

    `fields`: extra key names to remove. `patterns`: extra regexes (strings or compiled) whose matches
    are replaced in text. `keep`: default key names not to remove. `dsn`: the configured DSN, never sent.
    Raises `ValueError` at construction for a pattern that does not compile; `scrub_event` never raises.
    """

    def __init__(self, fields=(), patterns=(), keep=(), dsn=None, send_default_pii=False, rules=DEFAULT):
        super().__init__(recursive=True, send_default_pii=bool(send_default_pii))
        self.send_default_pii = bool(send_default_pii)
        keep = frozenset(normalise_key(str(k)) for k in keep or ())
        fields = [str(f) for f in fields or ()]
        # The SDK's own lists stay the source of the defaults; `keep` takes entries out of them.
        self.denylist = [k for k in self.denylist if normalise_key(k) not in keep]
        self.denylist += [f.lower() for f in fields]
        if not self.send_default_pii:
            # The user's email is personal data like their IP address (which the SDK's list has).
            self.denylist += [k for k in _PII_EXTRA if k not in keep]
        unknown = [name for name in rules if name not in TEXT_RULES]
        if unknown:
            raise ValueError("scrub.rules: unknown rule %r (known: %s)" % (unknown[0], ", ".join(NAMES)))
        self.rules = tuple(name for name in NAMES if name in rules)
        password = "@password" in self.rules
        self.keys = KeyRules((normalise_key(k) for k in self.denylist + fields), keep, relay=password)
        self.keep = self.keys.keep
        self.text = TextRules(self.is_sensitive_key, self.keys.stems(), dsn,
                              [compile_pattern(p) for p in patterns or ()],
                              [rule for name in self.rules for rule in TEXT_RULES[name]], password)
        self.patterns = self.text.patterns
        # Relay's default for the message; nothing to add when every rule runs everywhere anyway.
        self.message_rules = () if "@email" in self.rules else MESSAGE_RULES
        # The opt-in rules match ordinary text (addresses, ids): with any of them every string is read.
        self.prefilter = Prefilter(self.is_sensitive_key, self.text.stems, self.text.dsn_secrets,
                                   everything=bool(self.patterns) or any(n in OPT_IN for n in self.rules),
                                   words=PASSWORD_WORDS if password else ())
        self._key_cache = {}
        self.plain = set()  # keys met that are neither sensitive nor renamed: the walk's fast path

    # ---- keys (the walk's interface: key_info, plain, is_flag) -------------------------------

    def is_sensitive_key(self, key):
        """Whether a value stored under `key` is removed whole (docs/security.md, "Keys")."""
        return self.key_info(key)[0]

    def key_info(self, key):
        """(sensitive, replacement key or None), remembered per key: keys recur in every event."""
        info = self._key_cache.get(key)
        if info is None:
            if isinstance(key, str):
                text = key
                sensitive = self.keys.is_sensitive(key)
            else:
                text = key.decode("utf-8", "replace") if isinstance(key, bytes) else safe_repr(key)
                sensitive = isinstance(key, bytes) and self.keys.is_sensitive(text)
            scrubbed = self.scrub_text(text) if len(text) >= 5 else text
            info = (sensitive, scrubbed if scrubbed != text else None)
            if len(self._key_cache) >= _KEY_CACHE_MAX:
                self._key_cache.clear()
                self.plain.clear()
            self._key_cache[key] = info
            if not sensitive and info[1] is None and type(key) is str:
                self.plain.add(key)
        return info

    def is_flag(self, word):
        """`--db-password` (no `=value`): a command-line flag whose next word is a secret."""
        if "=" in word:
            return False
        name = word.lstrip("-")
        return bool(name) and len(word) - len(name) <= 2 and self.is_sensitive_key(name)

    def scrub_text(self, text):
        """`text` with every sensitive match replaced by `[Filtered]`; cut to `MAX_TEXT` if longer."""
        return self.text.scrub(text)[0]

    # ---- parts --------------------------------------------------------------------------------

    def scrub_dict(self, d):
        """`d` scrubbed: the same dict when nothing in it is sensitive, otherwise a copy."""
        return self.scrub_part(d)

    def scrub_list(self, lst):
        """`lst` scrubbed: the same list when nothing in it is sensitive, otherwise a copy."""
        return self.scrub_part(lst)

    def scrub_part(self, obj, plain=False):
        """`obj` scrubbed: the same object when nothing in it is sensitive, otherwise a copy; with
        `plain`, removed values are the text `[Filtered]` (for what no serializer annotates)."""
        holder = {"part": obj}
        self._scrub_event(holder, plain)
        return holder["part"]

    def scrub_user(self, event):
        """Scrub `event["user"]` (the SDK's API): the same rules as for the whole event."""
        if isinstance(event, dict) and "user" in event:
            event["user"] = self.scrub_part(event["user"])

    def scrub_log(self, log, hint=None):
        """A `before_send_log` callback: a Sentry log record's body and attributes, scrubbed."""
        return items.scrub_telemetry(self, log)

    def scrub_metric(self, metric, hint=None):
        """A `before_send_metric` callback: a metric's name and attributes, scrubbed."""
        return items.scrub_telemetry(self, metric)

    def scrub_span(self, span, hint=None):
        """A `before_send_span` callback (`trace_lifecycle: stream`): a span's name and attributes."""
        return items.scrub_telemetry(self, span)

    def scrub_envelope(self, envelope):
        """Every item of `envelope` that no callback above has seen (see `items.scrub_envelope`)."""
        return items.scrub_envelope(self, envelope)

    # ---- the event ----------------------------------------------------------------------------

    def scrub_event(self, event):
        """Scrub `event`. Never raises; a part that can't be scrubbed is dropped.

        The event dict itself (the SDK's own, made for this capture) is updated; nothing it refers
        to is changed (see `Walk`). The dynamic sampling context (`contexts.trace.
        dynamic_sampling_context`) is left as it is: the SDK moves it into the envelope header, where
        Sentry needs its `public_key` to apply the project's sampling.
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

    def _scrub_event(self, event, plain=False):
        try:
            keys = list(event)
        except Exception:
            return
        w = Walk(event, self, plain)
        walked = []
        for key in keys:
            if key in _SKIP_TOP:
                continue
            mark = w.mark()
            try:
                if self.is_sensitive_key(key):
                    event[key] = w.filtered()
                    continue
                value = event[key]
                walked.append(key)
                if type(value) is str:
                    if value:
                        w.text(value, 0, key)
                else:
                    w.enter(value, 0, key, 1)
            except Exception:
                w.reset(mark)
                _drop(event, key, w.filtered)
        try:
            self._finish(event, w)
        except Exception:
            for key in walked:
                _drop(event, key, w.filtered)

    def _scan(self, strings):
        """({index: scrubbed text} for each of `strings` that changes, the values removed, the
        indices of the strings that may name a secret (Relay's `@password` on a value))."""
        n = len(strings)
        texts, cut = strings, None
        if max(map(len, strings)) > MAX_TEXT:
            cut = [i for i, s in enumerate(strings) if len(s) > MAX_TEXT]
            texts = [s[: MAX_TEXT + 512] for s in strings]
        candidates, worded = self.prefilter.candidates("\x00".join(texts), n)
        if cut:
            candidates = set(candidates).union(cut)
        changed, found = {}, []
        scrub = self.text.scrub
        seen = {}  # a string repeated in one event (the same local in many frames) is scrubbed once
        for i in candidates:
            text = strings[i]
            done = seen.get(text)
            if done is None:
                done = seen[text] = scrub(text)
            new, removed = done
            if new != text:
                changed[i] = new
                found.extend(removed)
        return changed, found, worded

    def _finish(self, event, w):
        strings = w.strings
        changed, found, worded = self._scan(strings) if strings else ({}, [], ())
        found += w.found
        found += _logged_secrets(event.get("logentry"), changed, w)
        if strings:
            _spread(found, strings, changed)
        entry, user = event.get("logentry"), event.get("user")
        if self.message_rules:
            self._scrub_message_text(event, entry, w, changed, found)
        if worded and w.filtered is not plain_filtered:
            self._password_values(event, w, worded, changed)
        spots = w.spots
        for i, text in changed.items():
            node, key = spots[i]
            w.set(node, key, text)
        for i, original in w.loose.items():
            if i not in changed and original is None:  # cut bytes: the cut text goes
                node, key = spots[i]
                w.set(node, key, strings[i][:MAX_TEXT] + TRUNCATED)
        for node, key, value in w.changes:
            w.set(node, key, value)
        for node, old, new in w.renames:
            target = w.writable(node)
            target[new] = target.pop(old)
        self._finish_user(user, w)
        self._finish_logentry(entry, w)

    def _scrub_message_text(self, event, entry, w, changed, found):
        """The message (and a log's body) gets what Relay's default does to `$logentry.formatted`:
        e-mail addresses too, which are opt-in elsewhere."""
        spots = [(event, 0, "message"), (event, 0, "body")]
        node = w.seen.get(id(entry)) if isinstance(entry, dict) else None
        if node is not None:
            spots += [(entry, node, "formatted"), (entry, node, "message")]
        for holder, node, key in spots:
            original = holder.get(key)
            if not isinstance(original, str) or "@" not in original:
                continue
            try:
                i = w.spots.index((node, key))
            except ValueError:
                continue
            text = changed.get(i, w.strings[i])
            for rule in self.message_rules:
                text = rule(text, found)
            if text != w.strings[i]:
                changed[i] = text

    def _password_values(self, event, w, worded, changed):
        """Relay's `@password` on a value: a field whose text names a secret (`auth failed`,
        `token: ...`, `password=...`) is removed whole, but for the fields Relay leaves to the
        other rules: the message, exception values, the user agent."""
        exempt = {(0, "message"), (0, "transaction"), (0, "culprit")}
        for part, keys in ((event.get("logentry"), ("formatted", "message")),
                           ((event.get("request") or {}).get("headers") if isinstance(event.get("request"), dict)
                            else None, ("User-Agent", "user-agent"))):
            node = w.seen.get(id(part)) if isinstance(part, dict) else None
            if node is not None:
                exempt.update((node, key) for key in keys)
        values = (event.get("exception") or {}).get("values") if isinstance(event.get("exception"), dict) else None
        for value in values if isinstance(values, list) else ():
            node = w.seen.get(id(value))
            if node is not None:
                exempt.update(((node, "value"), (node, "type"), (node, "module")))
        strings, spots = w.strings, w.spots
        for i in worded:
            if spots[i] not in exempt and password_value(changed.get(i, strings[i])):
                changed.pop(i, None)
                node, key = spots[i]
                w.changes.append((node, key, w.filtered()))

    def _finish_user(self, user, w):
        """As the SDK: without send_default_pii the user's IP address is dropped."""
        if isinstance(user, dict) and "ip_address" in user and "ip_address" in self.keys.exact:
            node = w.seen.get(id(user))
            if node is not None:
                w.writable(node).pop("ip_address", None)

    def _finish_logentry(self, entry, w):
        """A parameter whose text was filtered out of `formatted` is filtered.

        `log.error("login with password=%s", pw)` puts `pw` alone in `params`, where no rule could
        tell it is a password; the formatted message shows that it was one.
        """
        node = w.seen.get(id(entry)) if isinstance(entry, dict) else None
        if node is None:
            return
        formatted, params = entry.get("formatted"), entry.get("params")
        entry = w.current(node)
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
                new[i] = w.filtered()
        w.writable(node)["params"] = new


def _spread(found, strings, changed):
    """A value removed in one place is removed from every other string too (a password local seen
    again in a caller's `args`, a token repeated in a message). Linear in the event's text: up to
    `_FIND_EACH` values are found one by one (`str.find`); beyond that, values that are one word
    are looked up word by word in one pass, however many there are."""
    known = sorted({v for v in found if len(v) >= _MIN_KNOWN and SUBSTITUTE not in v and not _address(v)},
                   key=len, reverse=True)
    if not known:
        return
    each, words = known, frozenset()
    if len(known) > _FIND_EACH:
        words = frozenset(v for v in known if _WORD.fullmatch(v))
        each = [v for v in known if v not in words][:_FIND_EACH]
    # A string longer than MAX_TEXT is sent cut (its cut form is in `changed`): only that is read.
    texts = strings
    if max(map(len, strings)) > MAX_TEXT:
        texts = [s if len(s) <= MAX_TEXT else changed.get(i, s[:MAX_TEXT]) for i, s in enumerate(strings)]
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(strings) - 1:
        where = range(len(strings))
    else:
        hits = []
        for secret in each:
            find_all(joined, secret, hits)
        if words:
            hits += [m.start() for m in _WORD.finditer(joined) if m.group(0) in words]
        where = string_numbers(joined, hits)

    def word(match):
        return SUBSTITUTE if match.group(0) in words else match.group(0)

    for i in where:
        text = changed.get(i, strings[i])
        for secret in each:
            if secret in text:
                text = text.replace(secret, SUBSTITUTE)
        if words:
            text = _WORD.sub(word, text)
        if text != strings[i]:
            changed[i] = text


def _address(value):
    return ("." in value or ":" in value) and _ADDRESS.fullmatch(value) is not None


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


def _take_dsc(event):
    """(the trace context, its dynamic sampling context taken out of it) or (None, None)."""
    try:
        trace = event["contexts"]["trace"]
        if isinstance(trace, dict) and "dynamic_sampling_context" in trace:
            return trace, trace.pop("dynamic_sampling_context")
    except Exception:
        pass
    return None, None


def _drop(event, key, substitute):
    try:
        event[key] = substitute()
    except Exception:
        pass


def make_scrubber(scrub_cfg, dsn=None, send_default_pii=False):
    """The scrubber for the `scrub` config section (`{"fields": [...], "patterns": [...], "keep": [...],
    "rules": [...]}`; a missing `rules` is `rules.DEFAULT`)."""
    scrub_cfg = scrub_cfg or {}
    rules = scrub_cfg.get("rules")
    return BootstrapScrubber(
        fields=scrub_cfg.get("fields") or (),
        patterns=scrub_cfg.get("patterns") or (),
        keep=scrub_cfg.get("keep") or (),
        dsn=dsn,
        send_default_pii=bool(send_default_pii),
        rules=DEFAULT if rules is None else rules,
    )
