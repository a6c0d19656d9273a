"""The copy-on-write walk of one event (docs/security.md, "Copies, never the program's objects").

`Walk(root, keys)` visits everything under `root` once: each container becomes a node (the object,
where it hangs), each string is queued with its place (`strings`, `spots`) for the text rules, and
what the key rules remove is queued in `changes`. Nothing is written while walking; afterwards
`set(node, key, value)` writes through `writable(node)`: node 0 (the event) is updated in place, any
other node is copied the first time something below it changes and the copy replaces it in every
place it hangs (its parent copied in turn), so the objects the event refers to are never written to.
"""
from collections.abc import Mapping, Sequence, Set
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from sentry_sdk.utils import safe_repr

from sentry_bootstrap import sdk_compat
from sentry_bootstrap.scrub.cards import CARD_MIN, is_card
from sentry_bootstrap.scrub.text import CUT_MARGIN, MAX_TEXT, SUBSTITUTE, bare

__all__ = ["Walk", "filtered", "plain_filtered", "MAX_DEPTH", "CYCLE"]

AnnotatedValue = sdk_compat.annotated_value_class()

MAX_DEPTH = 64
# What the serializer writes for a cycle.
CYCLE = "<cyclic>"
# Frame fields that are code locations, not data.
SKIP_FRAME = frozenset(
    """filename abs_path module function lineno colno in_app package platform instruction_addr
    symbol_addr image_addr""".split()
)
# Span fields that are ids and timings the SDK generates, not data.
SKIP_SPAN = frozenset(
    """trace_id span_id parent_span_id same_process_as_parent start_timestamp timestamp status
    origin""".split()
)
# The items of lists under these keys are dicts of a known shape: their bookkeeping fields are skipped.
SKIP_ITEMS = {"frames": SKIP_FRAME, "spans": SKIP_SPAN}
# Values the serializer renders without any user text in them.
_INERT_TYPES = (float, datetime, date, time, timedelta, Decimal, UUID, type(None))
# Exact types that need no look at all (an int is checked for a card number only when it is long).
_SCALARS = frozenset((bool, float, type(None), datetime))


def filtered():
    return AnnotatedValue.substituted_because_contains_sensitive_data()


def plain_filtered():
    """What replaces a value in telemetry and envelope items, which no serializer annotates."""
    return SUBSTITUTE


def int_value(number, substitute=filtered):
    """`number`, or `[Filtered]` when it is a card number."""
    if -CARD_MIN < number < CARD_MIN or not is_card(str(abs(number))):
        return number
    return substitute()


def _set(container, key, value):
    if type(container) is AnnotatedValue:
        container.value = value
    else:
        container[key] = value


def _is_sequence(obj):
    return isinstance(obj, (Sequence, Set)) and not isinstance(obj, (str, bytes, bytearray, memoryview))


class Walk(object):
    """One event's walk. `keys`: an object with `key_info(key) -> (sensitive, new key or None)`,
    `plain` (keys known to be neither) and `is_flag(word)` (a sensitive command-line flag)."""

    __slots__ = ("objs", "where", "more", "copies", "strings", "spots", "loose", "changes", "renames",
                 "found", "seen", "keys", "filtered")

    def __init__(self, root, keys, plain=False):
        self.objs, self.where, self.more, self.copies = [root], [None], {}, {0: root}
        self.strings, self.spots = [], []
        self.loose = {}  # index of a string made from another object -> that object (None: cut bytes)
        self.changes, self.renames, self.found = [], [], []
        self.seen = {id(root): 0}
        self.keys = keys
        # An event's removed values carry the SDK's annotation; telemetry's are plain text.
        self.filtered = plain_filtered if plain else filtered

    # ---- bookkeeping -------------------------------------------------------------------------

    def add(self, obj, parent, key, ours=False):
        node = len(self.objs)
        self.objs.append(obj)
        self.where.append((parent, key))
        if ours:
            self.copies[node] = obj
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
        """Forget everything noted since `mark` (a part that failed is dropped whole instead)."""
        nodes, strings, changes, renames, found = mark
        self.seen = {k: v for k, v in self.seen.items() if v < nodes}
        del self.objs[nodes:], self.where[nodes:]
        self.copies = {k: v for k, v in self.copies.items() if k < nodes}
        self.more = {k: [r for r in v if r[0] < nodes] for k, v in self.more.items() if k < nodes}
        self.loose = {k: v for k, v in self.loose.items() if k < strings}
        del self.strings[strings:], self.spots[strings:]
        del self.changes[changes:], self.renames[renames:], self.found[found:]

    def writable(self, node):
        copy = self.copies.get(node)
        if copy is None:
            obj = self.objs[node]
            copy = dict(obj) if type(obj) is dict else list(obj)
            self.copies[node] = copy
            parent, key = self.where[node]
            _set(self.writable(parent), key, copy)
            for parent, key in self.more.get(node, ()):
                _set(self.writable(parent), key, copy)
        return copy

    def current(self, node):
        """The node's object as it will be sent (its copy once there is one)."""
        return self.copies.get(node) or self.objs[node]

    def set(self, node, key, value):
        _set(self.writable(node), key, value)

    def _ancestor(self, node, of):
        """Whether `node` is on the path from the root to `of` (a cycle when met again below it)."""
        while of is not None:
            if of == node:
                return True
            where = self.where[of]
            of = where[0] if where is not None else None
        return False

    # ---- visiting ----------------------------------------------------------------------------

    def enter(self, value, parent, key, depth):
        """Note `value` (found at `parent[key]`): containers become nodes, text is queued."""
        kind = type(value)
        changes = self.changes
        if kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                changes.append((parent, key, self.filtered()))
                return
            node = self.seen.get(id(value))
            if node is not None:
                self._again(node, parent, key)
                return
            node = self.add(value, parent, key)
            if kind is dict:
                self.visit_dict(value, node, depth, None)
            else:
                self.visit_list(value, node, depth, SKIP_ITEMS.get(key))
            return
        if kind in _SCALARS or isinstance(value, _INERT_TYPES):
            return
        if isinstance(value, int):
            new = int_value(value, self.filtered)
            if new is not value:
                changes.append((parent, key, new))
            return
        if isinstance(value, str):
            self.text(str(value), parent, key, value)
            return
        if isinstance(value, AnnotatedValue):
            new = AnnotatedValue(value.value, value.metadata)
            changes.append((parent, key, new))
            node = self.add(new, parent, key, ours=True)
            self.enter(new.value, node, "value", depth + 1)
            return
        if isinstance(value, (bytes, bytearray)):
            text = bytes(value[: MAX_TEXT + CUT_MARGIN]).decode("utf-8", "replace")
            self.text(text, parent, key, value if len(value) <= MAX_TEXT else None)
            return
        if depth >= MAX_DEPTH:
            changes.append((parent, key, self.filtered()))
            return
        node = self.seen.get(id(value))
        if node is not None:
            self._again(node, parent, key)
            return
        if isinstance(value, Mapping):
            new = dict(value.items())
        elif isinstance(value, (tuple, set, frozenset)) or _is_sequence(value):
            new = list(value)
        else:
            self.text(safe_repr(value), parent, key, value)
            return
        # Tuples, sets and other mappings become what the serializer makes of them anyway.
        changes.append((parent, key, new))
        node = self.add(new, parent, key, ours=True)
        self.seen[id(value)] = node
        if type(new) is dict:
            self.visit_dict(new, node, depth, None)
        else:
            self.visit_list(new, node, depth, None)

    def _again(self, node, parent, key):
        """A container met before: a cycle, a converted one (ours: set here too) or a shared one."""
        if self._ancestor(node, parent):
            self.changes.append((parent, key, CYCLE))
        elif self.copies.get(node) is self.objs[node]:
            self.changes.append((parent, key, self.objs[node]))
        else:
            self.more.setdefault(node, []).append((parent, key))

    # The two loops below inline the common leaves (text, numbers, plain containers): they are most
    # of an event.

    def visit_dict(self, d, node, depth, skip):
        keys = self.keys
        plain = keys.plain
        strings, spots, seen = self.strings, self.spots, self.seen
        depth += 1
        for key, value in d.items():
            if key not in plain:
                if skip is not None and key in skip:
                    continue
                info = keys.key_info(key)
                if info[0]:
                    if isinstance(value, (str, bytes)):
                        self.found.append(bare(value))
                    self.changes.append((node, key, self.filtered()))
                    continue
                if info[1] is not None:
                    self.renames.append((node, key, info[1]))
            elif skip is not None and key in skip:
                continue
            kind = type(value)
            if kind is str:
                if value:
                    strings.append(value)
                    spots.append((node, key))
            elif kind in _SCALARS:
                continue
            elif kind is int:
                if value >= CARD_MIN or value <= -CARD_MIN:
                    new = int_value(value, self.filtered)
                    if new is not value:
                        self.changes.append((node, key, new))
            elif (kind is dict or kind is list) and depth < MAX_DEPTH and id(value) not in seen:
                child = len(self.objs)
                self.objs.append(value)
                self.where.append((node, key))
                seen[id(value)] = child
                if kind is dict:
                    self.visit_dict(value, child, depth, None)
                else:
                    self.visit_list(value, child, depth, SKIP_ITEMS.get(key))
            else:
                self.enter(value, node, key, depth)

    def visit_list(self, lst, node, depth, skip):
        strings, spots, seen = self.strings, self.spots, self.seen
        depth += 1
        flag = False  # the item before was a sensitive flag without its value: `--token VALUE`
        for i, value in enumerate(lst):
            kind = type(value)
            if kind is str:
                if flag:
                    flag = False
                    if value and value[0] != "-":
                        self.found.append(value)
                        self.changes.append((node, i, self.filtered()))
                        continue
                if value:
                    strings.append(value)
                    spots.append((node, i))
                    if value[0] == "-" and len(value) < 128 and self.keys.is_flag(value):
                        flag = True
                continue
            flag = False
            if kind is int:
                if value >= CARD_MIN or value <= -CARD_MIN:
                    new = int_value(value, self.filtered)
                    if new is not value:
                        self.changes.append((node, i, new))
            elif kind is dict and depth < MAX_DEPTH and id(value) not in seen:
                child = len(self.objs)
                self.objs.append(value)
                self.where.append((node, i))
                seen[id(value)] = child
                self.visit_dict(value, child, depth, skip)
            elif kind not in _SCALARS:
                self.enter(value, node, i, depth)
