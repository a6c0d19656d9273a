"""Discovery, merge, validation and release resolution: sources in, a `ResolvedConfig` out.

Precedence, lowest first: the model's defaults < the file's base keys < the active overlay
`environments.<name>` < environment variables. Every problem found is collected and raised at once
as one `ConfigError`; secrets are masked in every message.

Locations: `sources` (what `explain` shows) point at the key that set a value; an error about a
value points at the value, an unknown-key error at the key. The file is named as the user would
write it: relative to the working directory when it lies below it, otherwise absolute.
"""
import difflib
import os

from pydantic import ValidationError

from sentry_bootstrap import _env, integrations_table
from sentry_bootstrap._files import CONFIG_LIMIT, read_text_bounded
from sentry_bootstrap._mask import mask_text, quote
from sentry_bootstrap.config import discovery
from sentry_bootstrap.config import model as _model
from sentry_bootstrap.config.env_source import read_env
from sentry_bootstrap.config.errors import ConfigError, Problem
from sentry_bootstrap.config.interpolate import Budget, substitute_tree
from sentry_bootstrap.config.merge import Layer, Origin, merge
from sentry_bootstrap.config.resolved import ResolvedConfig
from sentry_bootstrap.config.yaml_source import parse

CONFIG_NAME = discovery.CONFIG_NAME
DEFAULT_ENVIRONMENT = "development"
# Keys an overlay may not set: the overlay is chosen by the environment, and the format is the file's.
OVERLAY_FORBIDDEN = ("environment", "environments", "version")

_TREE = _model.key_tree()


def load_config(environ=None, cwd=None, env_name=None, entry_script=None, config_file=None,
                discovered=None, strict=None):
    """The validated configuration. Raises `ConfigError` with every problem found.

    - `environ`: the variables to read (default `os.environ`); `cwd`: where `sentry.yaml` is looked
      for and relative paths start (default the process's).
    - `env_name`: the active environment, as given by a `--env` flag; it beats the variables.
    - `entry_script`: the program's script; the release lookup starts in its directory when there
      is no file (else in the working directory).
    - `config_file`: an explicit file (a `--config` flag); it beats discovery and must exist.
    - `discovered`: `discovery.discover(environ, cwd, config_file)`'s answer when the caller (the
      hook) already asked, so that discovery runs once per start.
    - `strict`: refuse what is otherwise a warning (an environment whose name is close to an
      overlay's); None: as `SENTRY_BOOTSTRAP_STRICT` or the file's `strict:` say.

    An environment without an overlay runs on the base keys; one whose name is close to an
    overlay's (`prodution`) gets a did-you-mean warning, an error in strict mode.
    """
    environ = os.environ if environ is None else environ
    cwd = os.path.abspath(cwd or os.getcwd())
    path, display, found = discovered if discovered is not None else \
        _discover(environ, cwd, config_file)
    problems = list(found)
    document = None
    if path is not None and not found:
        document, found = _read(path, display)
        problems.extend(found)

    env = read_env(environ, _TREE, _model.is_secret)
    problems.extend(env.problems)
    if document is None and path is not None:
        raise _error(problems, environ, {})

    data = document.data if document is not None else {}
    base = {k: v for k, v in data.items() if k != "environments"}
    budget = Budget()  # what `${VAR}` may insert, for the base keys and the overlay together
    base = substitute_tree(base, environ, _collect(problems, display, document, ()), budget=budget)
    if data and "version" not in data:
        problems.append(Problem("{}:1:1".format(display), "version",
                                "required: add 'version: {}' at the top of the file".format(
                                    _model.FORMAT_VERSION)))

    overlays, found = _overlays(data, display, document)
    problems.extend(found)
    active, chooser = _active_environment(env_name, environ, base, display, document)
    overlay = {}
    warnings = list(env.warnings)
    near = near_overlay(active, overlays)
    if near is not None and chooser is not None:
        if strict is None:
            strict = _env.flag(environ, _env.STRICT) or base.get("strict") is True
        problem = Problem(chooser.error_source, "environment",
                          "no overlay environments.{} in {}: the base keys apply".format(
                              active, display), near)
        if strict:
            problem.message = "no overlay environments.{} in {} (strict mode)".format(active, display)
            problems.append(problem)
        else:
            warnings.append(str(problem))
    if active in overlays:
        prefix = ("environments", active)
        overlay = substitute_tree(overlays[active] or {}, environ,
                                  _collect(problems, display, document, prefix), budget=budget)
        for key in OVERLAY_FORBIDDEN:
            if key in overlay:
                problems.append(Problem(_at(display, document, prefix + (key,)),
                                        ".".join(prefix + (key,)),
                                        "can't be set inside an overlay"))
                del overlay[key]

    layers = []
    if document is not None:
        layers.append(Layer(base, _file_origin(display, document, ())))
        if overlay:
            layers.append(Layer(overlay, _file_origin(display, document, ("environments", active))))
    env_data = dict(env.data)
    env_data.pop("environment", None)  # SENTRY_ENVIRONMENT chose the overlay; `active` says it
    layers.append(Layer(env_data, _env_origin(env.origins)))
    chosen = chooser or Origin("default")
    layers.append(Layer({"environment": active}, lambda p: chosen))
    merged = merge(layers)

    settings = None
    try:
        settings = _model.Settings.model_validate(merged.data)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, merged, problems))
    integration_options = _integration_options(merged, problems)
    problems.extend(_removed_by_the_sdk(merged, problems))
    if problems:
        raise _error(problems, environ, merged.data)

    values = settings.model_dump(mode="json")
    values["integrations"].update(integration_options)
    values.pop("environments", None)
    _anchor_paths(values, os.path.dirname(path) if path else cwd)
    sources = merged.sources()
    for reset in merged.resets:  # `null`: said where it was written, for `explain`
        dotted = ".".join(str(p) for p in reset)
        if dotted in sources:
            sources[dotted] += "; null: the default"
    start_dir = os.path.dirname(path) if path else (
        os.path.dirname(os.path.abspath(entry_script)) if entry_script else cwd)
    release, release_source = _release(settings.release, start_dir, environ, merged)
    if isinstance(release_source, Problem):
        raise _error([release_source], environ, merged.data)
    found = _not_exportable([(_env.RELEASE, "release", release, merged.origin_of(("release",))),
                             (_env.ENVIRONMENT, "environment", active, chosen)])
    if found:
        raise _error(found, environ, merged.data)
    values["release"] = release
    sources["release"] = release_source
    overlay_name = active if active in overlays else None
    # Which overlay applied, for `explain` (and the hook's debug lines): `environments` itself is
    # not a value of the result, so its source entry says what became of it.
    sources["environments"] = _overlay_text(active, overlay_name, display, document)
    return ResolvedConfig(values, sources, config_file=path, environment=active, release=release,
                          release_source=release_source, warnings=warnings, overlay=overlay_name,
                          start_plan=integrations_table.start_plan(values))


def near_overlay(name, overlays):
    """The overlay name `name` is probably a misspelling of, or None.

    Close means equal but for case, or similar enough (difflib ratio at least 0.8); a name that
    extends an overlay's with a separator (`production-eu` next to `production`) is a name of its
    own, not a typo.
    """
    if not overlays or name in overlays:
        return None
    lowered = name.lower()
    for known in sorted(overlays):
        if known.lower() == lowered:
            return known
    candidates = [k for k in sorted(overlays) if not _extends(lowered, k.lower())]
    found = difflib.get_close_matches(lowered, [k.lower() for k in candidates], n=1, cutoff=0.8)
    if not found:
        return None
    return next(k for k in candidates if k.lower() == found[0])


def _extends(a, b):
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return long_.startswith(short) and long_[len(short):len(short) + 1] in ("-", "_", ".", "/")


def _overlay_text(active, overlay, display, document):
    if overlay is not None:
        return "overlay environments.{} at {}".format(
            overlay, _at(display, document, ("environments", overlay)))
    if document is None:
        return "no overlay (no configuration file)"
    return "no overlay environments.{} in {}: the base keys apply".format(active, display)


def known_environments(environ=None, cwd=None, config_file=None):
    """The overlay names the file defines (sorted), for `check --all-environments`.

    Raises `ConfigError` when the file can't be found or parsed.
    """
    environ = os.environ if environ is None else environ
    cwd = os.path.abspath(cwd or os.getcwd())
    path, display, problems = _discover(environ, cwd, config_file)
    if problems:
        raise ConfigError(problems)
    if path is None:
        return []
    document, problems = _read(path, display)
    if problems:
        raise ConfigError(problems)
    overlays = document.data.get("environments")
    return sorted(overlays) if isinstance(overlays, dict) else []


# ---- discovery -----------------------------------------------------------------------------------

_discover = discovery.discover
_display = discovery.display


def _read(path, display):
    refused = discovery.trust_problems(path, display)
    if refused:
        return None, refused
    try:
        text = read_text_bounded(path, CONFIG_LIMIT)
    except UnicodeDecodeError as exc:
        return None, [Problem(display, "", "not UTF-8 text (byte {} at offset {})".format(
            hex(exc.object[exc.start]), exc.start))]
    except OSError as exc:
        return None, [Problem(display, "", "can't read the file: {}".format(
            exc.strerror or exc))]
    return parse(text, display)


def _anchor_paths(values, base):
    """Relative `outbox.path` / `spool.path` start at the config file's directory (else the working
    directory), so the hook in any process and the commands all find the same place."""
    for section in ("outbox", "spool"):
        block = values.get(section)
        if isinstance(block, dict) and block.get("path"):
            block["path"] = os.path.normpath(os.path.join(base, os.path.expanduser(block["path"])))


# ---- overlays and the active environment -----------------------------------------------------------

def _overlays(data, display, document):
    overlays = data.get("environments")
    if overlays is None:
        return {}, []
    if not isinstance(overlays, dict):
        return {}, [Problem(_at(display, document, ("environments",), value=True), "environments",
                            "must be a mapping of environment names to settings")]
    problems = []
    good = {}
    for name, overlay in overlays.items():
        if overlay is None or isinstance(overlay, dict):
            good[name] = overlay
        else:
            problems.append(Problem(_at(display, document, ("environments", name), value=True),
                                    "environments." + name, "must be a mapping of settings"))
    return good, problems


def _active_environment(env_name, environ, base, display, document):
    """`(name, Origin of the choice or None when nobody chose it)`."""
    if env_name:
        return env_name, Origin("argument --env", "argument --env={}".format(quote(env_name)))
    for variable in (_env.ENVIRONMENT, _env.ENVIRONMENT_FALLBACK):
        if environ.get(variable):
            return environ[variable], Origin(
                "env " + variable, "env {}={}".format(variable, quote(environ[variable])))
    value = base.get("environment")
    if value is not None and not isinstance(value, (dict, list)):
        name = value if isinstance(value, str) else str(value).lower() \
            if isinstance(value, bool) else str(value)
        return name, _file_origin(display, document, ())(("environment",))
    return DEFAULT_ENVIRONMENT, None


# ---- origins -------------------------------------------------------------------------------------

def _at(display, document, path, value=False):
    # A list item has no key: its own position is where its value starts.
    item = bool(path) and isinstance(path[-1], int) and path in document.value_marks
    marks = document.value_marks if value or item else document.key_marks
    while path and path not in marks:
        path = path[:-1]
    if not path:
        return display
    return "{}:{}:{}".format(display, *marks[path])


def _file_origin(display, document, prefix):
    suffix = " ({})".format(".".join(prefix)) if prefix else ""

    def origin(path):
        full = tuple(prefix) + tuple(path)
        return Origin(_at(display, document, full) + suffix, _at(display, document, full, True),
                      prefix, key_source=_at(display, document, full))

    return origin


def _env_origin(origins):
    def origin(path):
        path = tuple(path)
        while path and path not in origins:
            path = path[:-1]
        name, shown = origins.get(path, ("?", ""))
        return Origin("env " + name, "env {}={}".format(name, quote(shown)))

    return origin


def _collect(problems, display, document, prefix):
    def on_error(path, message):
        full = tuple(prefix) + tuple(path)
        problems.append(Problem(_at(display, document, full, value=True),
                                ".".join(str(p) for p in full), message))

    return on_error


# ---- validation errors ---------------------------------------------------------------------------

# Unknown keys given a did-you-mean: each costs a fuzzy match against the model's names (4,000
# unknown keys took seconds); past these, the key is named without a suggestion.
HINT_LIMIT = 100

_MESSAGES = {
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "missing": "required",
}


def _integration_options(merged, problems):
    """{name: validated options} for the integrations without a hand-written model, each checked
    against its SDK constructor (`model.options_model`); problems are located like any other."""
    section = merged.data.get("integrations")
    validated = {}
    if not isinstance(section, dict):
        return validated
    for name in _model.UNMODELLED_INTEGRATIONS:
        raw = section.get(name)
        if not isinstance(raw, dict):
            continue  # null, or not a mapping: the model's own validation reported it
        try:
            options = _model.options_model(name).model_validate(raw)
        except ValidationError as exc:
            problems.extend(_validation_problems(_Prefixed(exc, ("integrations", name)), merged,
                                                 problems))
            continue
        validated[name] = options.model_dump(mode="json", exclude_unset=True)
    return validated


def _removed_by_the_sdk(merged, earlier):
    """A located problem for each option the installed sentry-sdk (3.x) no longer has, read from
    its files without importing it (sdk_compat.removed_in_sdk3 says which, and what instead)."""
    from sentry_bootstrap import deps, sdk_compat

    found = deps.version_of("sentry_sdk") or deps.version_of("sentry_sdk", deps.fallback_dirs())
    if found is None or found[0][:1] < (3,):
        return []
    seen = {p.path for p in earlier}
    problems = []
    for dotted, message in sdk_compat.removed_in_sdk3(merged.data):
        if dotted in seen:
            continue
        origin = merged.origin_of(tuple(dotted.split(".")))
        source = origin.error_source if origin is not None else "default"
        problems.append(Problem(source, dotted, message.replace("sentry-sdk 3", "sentry-sdk " + found[1], 1)))
    return problems


class _Prefixed(object):
    """A ValidationError of a nested model, its locations under `prefix`."""

    def __init__(self, exc, prefix):
        self.exc = exc
        self.prefix = tuple(prefix)

    def errors(self, **kwargs):
        return [dict(error, loc=self.prefix + tuple(error["loc"])) for error in self.exc.errors(**kwargs)]


def _validation_problems(exc, merged, earlier):
    """One Problem per distinct path; paths that already have a problem are skipped."""
    seen = {p.path for p in earlier}
    by_path = {}
    order = []
    suggestions = 0
    for error in exc.errors(include_url=False):
        path = _data_path(merged.data, error["loc"], error["type"] == "missing")
        origin = merged.origin_of(path)
        prefix = origin.prefix if origin is not None else ()
        dotted = ".".join(str(p) for p in tuple(prefix) + tuple(path))
        if dotted in seen:
            continue
        suggest = suggestions < HINT_LIMIT
        suggestions += error["type"] == "extra_forbidden"
        message, hint = _message(error, path, suggest)
        if origin is None:
            source = "default"
        elif error["type"] == "extra_forbidden":
            source = origin.key_source
        else:
            source = origin.error_source
        key = (source, dotted)
        if key not in by_path:
            by_path[key] = [message, hint]
            order.append(key)
        elif message not in by_path[key][0]:
            by_path[key][0] += " or " + message  # a union: every form it accepts
    return [Problem(source, dotted, by_path[(source, dotted)][0], by_path[(source, dotted)][1])
            for source, dotted in order]


def _data_path(data, loc, missing):
    """The key path of an error location, without pydantic's union and validator tags."""
    path = []
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif missing and index == len(loc) - 1:
            path.append(part)
    return tuple(path)


def _message(error, path, suggest=True):
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        if not suggest:
            return "unknown key", None
        owner = _model.model_at(path[:-1])
        names = list(owner.model_fields) if owner is not None else []
        near = difflib.get_close_matches(str(path[-1]), names, n=1, cutoff=0.6)
        return "unknown key", near[0] if near else None
    if kind in _MESSAGES:
        return _MESSAGES[kind], None
    if kind == "literal_error":
        return "must be one of {}".format(ctx.get("expected", "")), None
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than",
                 "less_than_equal": "at most", "less_than": "less than"}[kind]
        bound = next(iter(v for k, v in ctx.items()), "")
        return "must be {} {}".format(words, bound), None
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])), None
    message = error["msg"]
    if message[:1].isupper() and not message[1:2].isupper():
        message = message[0].lower() + message[1:]
    return message, ctx.get("hint")


def _error(problems, environ, data):
    """A ConfigError whose texts show no secret: the DSN's key and every secret field's value."""
    secrets = set()
    for raw in _secret_values(data):
        secrets.add(raw)
    for name, value in environ.items():
        if name.startswith("SENTRY_") and value and _model.is_secret(
                name[len("SENTRY_"):].lower().replace("__", ".")):
            secrets.add(value)
    masked = [Problem(mask_text(p.source, secrets), p.path, _without(p.message, secrets), p.hint)
              for p in problems]
    # The file's problems by position (line, then column) first, then the command line's, then
    # the variables'; the sort is stable, so problems at one place keep the order they were found.
    masked.sort(key=_position)
    return ConfigError(masked)


_RANK = {"argument": 1, "env": 2}


def _position(problem):
    source = problem.source
    rank = _RANK.get(source.split(" ", 1)[0], 0)
    name, line, column = source, 0, 0
    parts = source.split(" ", 1)[0].rsplit(":", 2)
    if len(parts) == 3 and _is_count(parts[1]) and _is_count(parts[2]):
        name, line, column = parts[0], int(parts[1]), int(parts[2])
    return rank, name if rank else "", line, column


def _is_count(text):
    # A line or column number we wrote: ASCII digits ('²' is a digit to isdigit, not to int).
    return text.isascii() and text.isdigit() and len(text) <= 18


def _without(message, secrets):
    # Messages are ours and quote no input; a secret value is still cut out should one slip in
    # (the DSN's URL form is not masked here: messages show the DSN shape with a placeholder key).
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "***")
    return message


def _secret_values(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            for found in _secret_values(value, path + (str(key),)):
                yield found
    elif isinstance(data, list):
        for value in data:
            for found in _secret_values(value, path):
                yield found
    elif isinstance(data, str) and path and _model.is_secret(".".join(path)):
        yield data


def _not_exportable(entries):
    """A Problem for each value the hook or `run` hands to child processes in a variable (the
    release as SENTRY_RELEASE, the environment as SENTRY_ENVIRONMENT) that no variable can carry:
    refused here, or the hook would fail at putenv or every exec of the program with E2BIG."""
    problems = []
    for variable, path, value, origin in entries:
        why = _env.export_problem(variable, value) if isinstance(value, str) else None
        if why:
            problems.append(Problem(origin.error_source if origin is not None else "default", path,
                                    why))
    return problems


# ---- release ------------------------------------------------------------------------------------

def _release(spec, start_dir, environ, merged):
    """`(release, source text)`, or `(None, Problem)` when a release format can't be filled."""
    from sentry_bootstrap.release import ReleaseFormatError, resolve_release

    origin = merged.origin_of(("release",))
    try:
        release, source = resolve_release(spec, start_dir, environ)
    except ReleaseFormatError as exc:
        message = str(exc)
        if message.startswith("release ") and ": " in message:
            message = message.split(": ", 1)[1]  # the path already says `release`
        return None, Problem(origin.error_source if origin else "default", "release", message)
    if source == "literal" and origin is not None:
        source = origin.source
        parent = environ.get(_env.RELEASE_SOURCE)
        if source == "env " + _env.RELEASE and parent:
            source += " (from the parent process: {})".format(parent)
    return release, source
