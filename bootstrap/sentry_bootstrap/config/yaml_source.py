"""Read `sentry.yaml` into plain data plus a `(line, col)` for every key path.

- PyYAML composes the node tree (the C parser when present); values are built here, so that:
  - only YAML 1.2 core scalars are typed: `true`/`false` are booleans, `yes`/`no`/`on`/`off` stay
    strings, `1:30` and `2024-01-01` stay strings (YAML 1.1 would make a number and a date);
  - duplicate keys are an error with both locations;
  - only the standard tags are accepted: `!!python/object` and custom tags are errors;
  - aliases work, `<<` merge keys work, recursion and runaway alias expansion are errors.
- Locations are 1-based. A path is a tuple of keys (str) and list indices (int).
"""
import re

import yaml

from sentry_bootstrap.config.errors import Problem

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
_INT = re.compile(r"^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN = re.compile(r"^\.(nan|NaN|NAN)$")
_NULL = ("", "~", "null", "Null", "NULL")
# Bounds on the document as written, checked on the parser's event stream before any node is built
# (a real configuration holds a few hundred values, nested five or six levels): a million keys or a
# thousand nested brackets are refused in milliseconds, with the limit named.
MAX_NODES = 10000
MAX_DEPTH = 32
# Guards against alias bombs: far more values than the document may hold, once aliases are expanded.
MAX_VALUES = 20000
# The longest number read as a number (digits, sign and prefix): no key takes a number of more than
# 16 digits (sizes stop at 2**53), and a longer one would trip Python's own limits later (a
# 5,000-digit integer can't be converted to or from text, a 400-digit one to a float).
MAX_NUMBER_LENGTH = 100


class YamlDocument:
    """The parsed file: `data` (a dict), `key_marks` and `value_marks` (path -> (line, col))."""

    __slots__ = ("data", "key_marks", "value_marks")

    def __init__(self, data, key_marks, value_marks):
        self.data = data
        self.key_marks = key_marks
        self.value_marks = value_marks


def parse(text, display_name):
    """Parse YAML text. Returns `(YamlDocument or None, problems)`; never raises on bad input."""
    try:
        too_big = _shape_problem(text, display_name)
        if too_big is not None:
            return None, [too_big]
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _where(display_name, mark)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context.startswith("expected"):
            problem = "{}, {}".format(exc.context, exc.problem)
        return None, [Problem(where, "", "invalid YAML: {}".format(problem))]
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        return None, [Problem(display_name, "", "invalid YAML: {}".format(
            " ".join(str(exc).split())))]
    except RecursionError:
        return None, [Problem(display_name, "", "invalid YAML: nested too deeply")]
    if node is None:
        return YamlDocument({}, {}, {}), []
    builder = _Builder(display_name)
    try:
        data = builder.build(node, ())
    except RecursionError:
        return None, [Problem(display_name, "", "invalid YAML: nested too deeply")]
    except _TooLarge:
        return None, [Problem(display_name, "", "invalid YAML: aliases expand to more than {} "
                                                "values".format(MAX_VALUES))]
    if builder.problems:
        return None, builder.problems
    if not isinstance(data, dict):
        return None, [Problem(_where(display_name, node.start_mark), "",
                              "the file must be a mapping of keys to values, not a {}".format(
                                  _kind_name(data)))]
    return YamlDocument(data, builder.key_marks, builder.value_marks), []


def _shape_problem(text, display_name):
    """A Problem when the document has more than MAX_NODES values or nests deeper than MAX_DEPTH,
    found on the event stream (no node tree, no recursion); None otherwise. A syntax error is left
    for `compose` to report with its location."""
    nodes = depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            kind = type(event)
            if kind is yaml.ScalarEvent or kind is yaml.AliasEvent:
                nodes += 1
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                nodes += 1
                depth += 1
                if depth > MAX_DEPTH:
                    return Problem(_where(display_name, event.start_mark), "",
                                   "nested deeper than {} levels (the limit for a configuration "
                                   "file)".format(MAX_DEPTH))
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                depth -= 1
            else:
                continue
            if nodes > MAX_NODES:
                return Problem(_where(display_name, event.start_mark), "",
                               "more than {} values (the limit for a configuration file; each key, "
                               "value and list item counts)".format(MAX_NODES))
    except yaml.YAMLError:
        return None
    return None


def _where(display_name, mark):
    if mark is None:
        return display_name
    return "{}:{}:{}".format(display_name, mark.line + 1, mark.column + 1)


def _pos(mark):
    return (mark.line + 1, mark.column + 1)


def _kind_name(value):
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, display_name):
        self.display_name = display_name
        self.problems = []
        self.key_marks = {}
        self.value_marks = {}
        self.count = 0
        self.active = set()  # ids of collection nodes being built: a revisit is a recursive alias

    def error(self, mark, path, message):
        self.problems.append(Problem(_where(self.display_name, mark), _dotted(path), message))

    def build(self, node, path):
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooLarge()
        self.value_marks.setdefault(path, _pos(node.start_mark))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.active:
            self.error(node.start_mark, path, "recursive alias")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag not in (_TAG + "seq",):
                    return self.bad_tag(node, path)
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            if node.tag not in (_TAG + "map",):
                return self.bad_tag(node, path)
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def bad_tag(self, node, path):
        tag = node.tag.replace(_TAG, "!!")
        self.error(node.start_mark, path,
                   "the YAML tag '{}' is not allowed (only plain values, lists and "
                   "mappings)".format(tag))
        return None

    def scalar(self, node, path):
        tag, value = node.tag, node.value
        if tag == _TAG + "str" and not node.style and value[:1] in "+-.0123456789":
            # Plain scalars YAML 1.1 leaves as strings but YAML 1.2 reads as numbers: 0o17, 1e3.
            if _INT.match(value):
                return self.integer(node, path)
            if _FLOAT.match(value):
                return float(value)
        if tag == _TAG + "str" or tag == _TAG + "timestamp":
            return value
        if tag == _TAG + "null":
            return None if value in _NULL else value
        if tag == _TAG + "bool":
            # YAML 1.2: only true/false; yes/no/on/off are strings.
            return {"true": True, "false": False}.get(value.lower(), value)
        if tag == _TAG + "int":
            if not _INT.match(value):
                return value  # YAML 1.1 forms (1:30, 0b1, 1_000) are strings in YAML 1.2
            return self.integer(node, path)
        if tag == _TAG + "float":
            if _FLOAT.match(value):
                return float(value)
            if _INF.match(value):
                return float("-inf") if value.startswith("-") else float("inf")
            if _NAN.match(value):
                return float("nan")
            return value
        return self.bad_tag(node, path)

    def integer(self, node, path):
        """The int a plain scalar matching `_INT` writes, or None and a problem when it is longer
        than MAX_NUMBER_LENGTH."""
        value = node.value
        if len(value) > MAX_NUMBER_LENGTH:
            self.error(node.start_mark, path,
                       "a number of {} characters (at most {} are read as a number); quote it "
                       "if it is text".format(len(value), MAX_NUMBER_LENGTH))
            return None
        if value.startswith(("0o", "0x")):
            return int(value[2:], 8 if value[1] == "o" else 16)
        return int(value)

    def key(self, node, path):
        if not isinstance(node, yaml.ScalarNode):
            self.error(node.start_mark, path, "a key must be a plain name, not a {}".format(
                "list" if isinstance(node, yaml.SequenceNode) else "mapping"))
            return None
        if not node.tag.startswith(_TAG):
            self.bad_tag(node, path)
            return None
        return node.value  # keys are names: `404:` and `true:` are the strings "404", "true"

    def mapping(self, node, path):
        result = {}
        own_keys = {}
        merged = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                merged.append(value_node)
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            child = path + (key,)
            if key in own_keys:
                first = own_keys[key]
                self.error(key_node.start_mark, child,
                           "duplicate key (first set at line {}, column {})".format(*first))
                continue
            own_keys[key] = _pos(key_node.start_mark)
            self.key_marks[child] = _pos(key_node.start_mark)
            self.value_marks[child] = _pos(value_node.start_mark)
            result[key] = self.build(value_node, child)
        # `<<: *base` (or a list of them): keys written here win, earlier merges win over later.
        for value_node in merged:
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    self.error(source.start_mark, path, "'<<' must merge a mapping")
                    continue
                saved = dict(self.key_marks), dict(self.value_marks)
                other = self.build(source, path + ("<<",))
                self.key_marks, self.value_marks = saved
                for key, value in (other or {}).items():
                    if key not in result:
                        result[key] = value
                        self.key_marks[path + (key,)] = _pos(value_node.start_mark)
                        self.value_marks[path + (key,)] = _pos(value_node.start_mark)
        return result


def _dotted(path):
    return ".".join(str(p) for p in path)
