"""`SENTRY_*` environment variables -> a nested dict of overrides, with where each came from.

- The general rule: a key path maps to `SENTRY_` + the path in upper case with `__` between levels
  (`SENTRY_INTEGRATIONS__CELERY__MONITOR_BEAT_TASKS`, `SENTRY_TAGS__TEAM`). The legacy names
  (`SENTRY_DSN`, `SENTRY_SAMPLE_RATE`, ...) are instances of the rule.
- Lists take JSON (`["a", "b"]`) or a comma-separated string; maps and sections take a JSON object.
- An empty variable resets the key to its default, as `null` does in the file.
- `<NAME>_FILE` reads the value from a file (for secrets); setting both forms is an error.
- The hook's switches and other Sentry tools' variables are left alone. An unknown `SENTRY_*` name
  close to a real one, or one written in the `__` form, gets a warning, never an error.
"""
import difflib
import json

from sentry_bootstrap import _env
from sentry_bootstrap._files import SECRET_LIMIT, read_text_bounded
from sentry_bootstrap._mask import mask_dsn, mask_secret, quote
from sentry_bootstrap.config.errors import Problem

PREFIX = "SENTRY_"
# A JSON value in a variable is held to the file's bounds (yaml_source.MAX_DEPTH and MAX_NODES): every
# later step (the merge, validation, the cache) walks it, and none of them should meet a depth that
# only a recursion limit stops.
MAX_JSON_DEPTH = 32
MAX_JSON_VALUES = 10000
# Keys that no variable sets: overlays come from the file only, and the format version is the file's.
NOT_FROM_ENV = frozenset({"environments", "version"})


class EnvOverrides:
    """`data` (nested dict, None = reset to default), `origins` (path tuple -> (name, shown value)),
    `problems` (errors) and `warnings` (lines)."""

    __slots__ = ("data", "origins", "problems", "warnings")

    def __init__(self):
        self.data = {}
        self.origins = {}
        self.problems = []
        self.warnings = []


def read_env(environ, tree, is_secret):
    """Collect the overrides from `environ`; `tree` is `model.key_tree()`."""
    result = EnvOverrides()
    for name in sorted(environ):
        if not name.startswith(PREFIX):
            continue
        value = environ[name]
        path = resolve_name(name, tree)
        if path is None and name.endswith("_FILE"):
            path = resolve_name(name[:-len("_FILE")], tree)
            if path is not None:
                _read_file_form(result, name, value, path, environ, is_secret, tree)
                continue
        if path is None:
            if name not in _env.SWITCHES and name not in _env.FOREIGN:
                _warn_unknown(result, name, tree)
            continue
        if name in _env.FOREIGN:
            continue  # e.g. SENTRY_SPOTLIGHT: the SDK reads it itself
        if name + "_FILE" in environ:
            continue  # reported once, with the _FILE form
        _set(result, name, _shown(value, path, is_secret), path, value, _kind_at(tree, path))
    return result


def resolve_name(name, tree):
    """The key path (tuple) a variable name sets, or None when it names no key."""
    if not name.startswith(PREFIX):
        return None
    parts = name[len(PREFIX):].split("__")
    if not all(parts):
        return None
    path = []
    node = tree
    for part in parts:
        if isinstance(node, dict):
            key = part.lower()
            if key not in node or (not path and key in NOT_FROM_ENV):
                return None
            path.append(key)
            node = node[key]
        elif node == "map":
            path.append(part.lower())
            node = "scalar"
        else:
            return None
    return tuple(path)


def known_names(tree):
    """Every variable name the general rule accepts (map keys excluded), for did-you-mean."""
    names = []

    def walk(node, parts):
        for key, sub in node.items():
            if not parts and key in NOT_FROM_ENV:
                continue
            here = parts + [key.upper()]
            names.append(PREFIX + "__".join(here))
            if isinstance(sub, dict):
                walk(sub, here)

    walk(tree, [])
    return names


def _kind_at(tree, path):
    node = tree
    for part in path:
        node = node[part] if isinstance(node, dict) else "scalar"
    return node if isinstance(node, str) else "section"


def _shown(value, path, is_secret):
    if not is_secret(".".join(path)):
        return value
    return mask_dsn(value) if "@" in value else mask_secret(value)


def _set(result, name, shown, path, raw, kind):
    source = "env {}={}".format(name, quote(shown))
    if raw == "":
        value = None
    elif kind in ("map", "section"):
        value = _json(result, source, path, raw, dict, "a JSON object")
        if value is _BAD:
            return
    elif kind == "list":
        if raw.lstrip().startswith("["):
            value = _json(result, source, path, raw, list, "a JSON list")
            if value is _BAD:
                return
        else:
            value = [item.strip() for item in raw.split(",") if item.strip()]
    else:
        value = raw
    node = result.data
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):  # a section set as JSON and one of its keys set alone
            return
    node[path[-1]] = value
    result.origins[path] = (name, shown)


_BAD = object()


def _json(result, source, path, raw, kind, described):
    try:
        value = json.loads(raw)
    except RecursionError:
        result.problems.append(Problem(source, ".".join(path), "must be {} (nested too deeply)"
                                       .format(described)))
        return _BAD
    except ValueError as exc:
        result.problems.append(Problem(source, ".".join(path), "must be {} (invalid JSON: {})"
                                       .format(described, exc)))
        return _BAD
    if not isinstance(value, kind):
        result.problems.append(Problem(source, ".".join(path), "must be {}".format(described)))
        return _BAD
    too_big = _shape_problem(value)
    if too_big:
        result.problems.append(Problem(source, ".".join(path), "must be {} ({})".format(
            described, too_big)))
        return _BAD
    return value


def _shape_problem(value):
    """Why a decoded JSON value is beyond the bounds of a configuration, or None. A loop with a
    stack, not a recursion: the value is only known to be sane after this."""
    stack = [(value, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_JSON_VALUES:
            return "more than {} values, the limit for a configuration".format(MAX_JSON_VALUES)
        if isinstance(node, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return "nested deeper than {} levels, the limit for a configuration".format(
                    MAX_JSON_DEPTH)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return None


def _read_file_form(result, name, file_path, path, environ, is_secret, tree):
    source = "env {}={}".format(name, quote(file_path))
    plain = name[:-len("_FILE")]
    if plain in environ:
        result.problems.append(Problem(source, ".".join(path), "both {} and {} are set; keep one"
                                       .format(plain, name)))
        return
    try:
        value = read_text_bounded(file_path, SECRET_LIMIT).rstrip("\r\n")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        result.problems.append(Problem(source, ".".join(path), "can't read the file: {}"
                                       .format(reason)))
        return
    _set(result, name, file_path, path, value, _kind_at(tree, path))


def _warn_unknown(result, name, tree):
    candidates = known_names(tree) + sorted(_env.SWITCHES)
    near = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
    if near:
        result.warnings.append("env {}: unknown variable, ignored (did you mean {!r}?)".format(
            name, near[0]))
    elif "__" in name:
        result.warnings.append("env {}: no configuration key has this name, ignored".format(name))
