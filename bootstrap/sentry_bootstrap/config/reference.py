"""The configuration reference, generated from the model: every key path with its type, default and
description, and the table of environment variables. docs/configuration.md holds its output between
the markers `<!-- config-reference:start -->` and `<!-- config-reference:end -->`.

    python -m sentry_bootstrap.config.reference                                # print the markdown
    python -m sentry_bootstrap.config.reference --write docs/configuration.md  # rewrite the block

Cold path only (imports pydantic through the model). `keys()` is the walk `schema` and the tests
share: one `Key` per documented path, in the model's field order.
"""
import argparse
import copy
import json
import sys
import typing

from pydantic import BaseModel

from sentry_bootstrap import _env
from sentry_bootstrap.config import model as _model

try:
    from typing import Annotated, Literal
except ImportError:  # pragma: no cover - Python 3.8
    from typing_extensions import Annotated, Literal

START = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"

# Validators of the model whose accepted form the reference names instead of the bare type.
_VALIDATOR_TYPES = {
    "_rate": "number 0-1",
    "_callable_path": "`module:function`",
    "_dsn": "DSN",
    "_number_as_text": "string",
    "_tag_value": "string",
    "_release": "`auto`, release or format",
    "_log_level": "level name or number",
    "_regex": "regex",
    "_integration_name": "integration name",
    "_status_code": "HTTP status",
    "_spotlight": "bool or URL",
}
_PLAIN = {bool: "bool", int: "integer", float: "number", str: "string"}


class Key:
    """One documented key: `path` (dotted, list items as `name[]`), `field` (pydantic FieldInfo),
    `owner` (the model class holding it), `section` (True for a nested model)."""

    __slots__ = ("path", "name", "field", "owner", "section")

    def __init__(self, path, name, field, owner, section):
        self.path = path
        self.name = name
        self.field = field
        self.owner = owner
        self.section = section

    @property
    def description(self):
        """The key's description: its model field's `description` (None when it has none; a test
        requires one); a key that can be switched off says what `false` does."""
        text = self.field.description
        off = _model.OFF_KEYS.get(self.path)
        if text and off:
            text += " `false` or `off`: {}.".format(off)
        return text

    @property
    def type_text(self):
        return type_text(_annotated(self.field))

    @property
    def default_text(self):
        if self.field.is_required():
            return "required"
        value = self.field.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            return ""  # a section: its keys' rows give the defaults
        return "`{}`".format(json.dumps(value))


def keys(model=None, prefix=""):
    """Every key path of the model, parents before children, in field order."""
    model = model or _model.Settings
    out = []
    for name, field in model.model_fields.items():
        if model is _model.Integrations and name in _model.UNMODELLED_INTEGRATIONS:
            continue  # one row for all of them, below
        sub = _model._submodel(field.annotation)
        path = prefix + name
        out.append(Key(path, name, field, model, sub is not None))
        if sub is not None:
            item = "[]" if _is_list(field.annotation) else ""
            out.extend(keys(sub, path + item + "."))
    if model is _model.Integrations:
        out.append(_other_integrations_key(prefix))
    return out


def describe(path):
    """The description of a dotted key path as `explain` prints it (`instrument.0.target`,
    `tags.team`, `integrations.openai.include_prompts`), read from its model field; None when the
    path is no key. Inside a free mapping (`tags.team`) the mapping's description stands."""
    model = _model.Settings
    description = None
    for part in (p for p in path.split(".") if p and not p.isdigit()):
        if model is None:
            break  # a key of a free mapping
        field = model.model_fields.get(part)
        if field is None:
            return None
        description = field.description
        if model is _model.Integrations and part in _model.UNMODELLED_INTEGRATIONS:
            model = _model.options_model(part)
        else:
            model = _model._submodel(field.annotation)
    return description


def _other_integrations_key(prefix):
    """The one row for `integrations.<name>` of every integration without a model of its own."""
    names = _model.UNMODELLED_INTEGRATIONS
    field = copy.copy(_model.Integrations.model_fields[names[0]])
    field.description = (
        "Options of any other integration the SDK ships, under its name: {}. Each is checked "
        "against that integration's constructor (option names, and types where annotated); "
        "`sentry-bootstrap explain integrations.<name>` lists them, and the schema has each."
    ).format(", ".join("`{}`".format(n) for n in names))
    return Key(prefix + "<name>", "<name>", field, _model.Integrations, False)


def _is_list(annotation):
    origin = typing.get_origin(annotation)
    if origin in (list, typing.List):
        return True
    if origin is typing.Union:
        return any(_is_list(a) for a in typing.get_args(annotation))
    return False



def _annotated(field):
    if field.metadata:
        return Annotated[(field.annotation,) + tuple(field.metadata)]
    return field.annotation


def validator_names(annotation):
    """Names of the model's BeforeValidator functions anywhere in `annotation`."""
    names = set()
    if typing.get_origin(annotation) is Annotated:
        for meta in typing.get_args(annotation)[1:]:
            func = getattr(meta, "func", None)
            if func is not None:
                names.add(func.__name__)
    for arg in typing.get_args(annotation):
        if not isinstance(arg, str):
            names |= validator_names(arg)
    return names


def type_text(annotation):
    """A short human name for a field's type (`list of string`, `number 0-1`, ...)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        inner, *metas = typing.get_args(annotation)
        for meta in metas:
            func = getattr(meta, "func", None)
            if func is not None and func.__name__ in _VALIDATOR_TYPES:
                return _VALIDATOR_TYPES[func.__name__]
        text = type_text(inner)
        for meta in metas:
            for constraint in getattr(meta, "metadata", [meta]):
                if getattr(constraint, "ge", None) is not None:
                    text += " ≥ {}".format(constraint.ge)
        return text
    if origin is typing.Union:
        parts = [type_text(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    if origin is Literal:
        return "one of " + ", ".join("`{}`".format(v) for v in typing.get_args(annotation))
    if origin in (list, typing.List):
        return "list of " + _plural(type_text(typing.get_args(annotation)[0]))
    if origin in (tuple, typing.Tuple):
        return "[" + ", ".join(type_text(a) for a in typing.get_args(annotation)) + "]"
    if origin in (dict, typing.Dict):
        _key, value = typing.get_args(annotation)
        if value is typing.Any or typing.get_origin(value) in (dict, typing.Dict):
            return "map"
        return "map of string to " + type_text(value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    if annotation is typing.Any:
        return "any"
    return _PLAIN.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _plural(text):
    if text == "section":
        return "sections"
    return text


# ---- environment variables ---------------------------------------------------------------------

_SWITCH_TEXT = {
    _env.CONFIG_FILE: "Path of the configuration file; it must exist. Beats `sentry.yaml` in the "
                      "working directory.",
    _env.DISABLED: "`1` switches the hook off: it imports neither `sentry_sdk`, `pydantic` nor "
                   "`yaml`.",
    _env.STRICT: "`1` turns configuration errors into a refusal to start (exit code 78).",
    _env.LOG: "The hook's stderr lines: `off`, `error` (default), `info` (one start-up line) or "
              "`debug`.",
    _env.RESOLVED_CONFIG: "Set by `sentry-bootstrap run` for the processes below it: the "
                          "config file already found (empty: none). Not for hand use.",
    _env.RELEASE_SOURCE: "Set by the hook for child processes: where the release came from. "
                         "Not for hand use.",
}
_SWITCH_ORDER = (_env.CONFIG_FILE, _env.DISABLED, _env.STRICT, _env.LOG, _env.RESOLVED_CONFIG,
                 _env.RELEASE_SOURCE)


def env_table():
    """The markdown table of environment variables."""
    rows = []
    for name, path in _env.LEGACY.items():
        text = "`{}`".format(path)
        if name == _env.ENVIRONMENT:
            text += "; also chooses the overlay `environments.<name>`"
        rows.append((name, text))
    rows.append((_env.ENVIRONMENT_FALLBACK, "`environment` when `SENTRY_ENVIRONMENT` is not set "
                                            "(many deploy tools set it)"))
    rows.append(("`SENTRY_<PATH>`", "any key: the path in upper case with `__` between levels, "
                 "e.g. `SENTRY_INTEGRATIONS__CELERY__MONITOR_BEAT_TASKS=true`, "
                 "`SENTRY_TAGS__TEAM=payments`, `SENTRY_SCRUB__FIELDS='[\"ssn\"]'`. Lists take "
                 "JSON or comma-separated text, maps and sections a JSON object; an empty value "
                 "resets the key to its default"))
    rows.append(("`<NAME>_FILE`", "reads the value of `<NAME>` from a file, for secrets: "
                 "`SENTRY_DSN_FILE=/run/secrets/sentry_dsn`, "
                 "`SENTRY_DIAGNOSTICS__ENDPOINT__TOKEN_FILE`. Setting both forms is an error"))
    for name in _SWITCH_ORDER:
        rows.append((name, _SWITCH_TEXT[name]))
    foreign = sorted(n for n in _env.FOREIGN if not n.endswith("_FILE"))
    rows.append((", ".join("`{}`".format(n) for n in foreign),
                 "belong to other Sentry tools (sentry-cli, the SDK itself): left alone, never an "
                 "error. Any other unknown `SENTRY_*` name close to a real one gets a did-you-mean "
                 "warning"))
    lines = ["| variable | sets / does |", "| --- | --- |"]
    for name, text in rows:
        shown = name if name.startswith("`") else "`{}`".format(name)
        lines.append("| {} | {} |".format(shown, _cell(text)))
    return "\n".join(lines)


# ---- the markdown --------------------------------------------------------------------------------

def key_table():
    """The markdown table of every key path."""
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key in keys():
        lines.append("| `{}` | {} | {} | {} |".format(
            key.path, _cell(key.type_text), _cell(key.default_text), _cell(key.description or "")))
    return "\n".join(lines)


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def markdown():
    """The whole generated block (without the markers)."""
    return "\n".join([
        "<!-- Generated from bootstrap/sentry_bootstrap/config/model.py by "
        "`python -m sentry_bootstrap.config.reference --write docs/configuration.md`; edit there, "
        "not here. -->",
        "",
        "Precedence, lowest first: built-in defaults < the file's base keys < the active overlay "
        "`environments.<name>` < environment variables. The file is `$SENTRY_CONFIG_FILE`, else "
        "`sentry.yaml` in the working directory, else none. Scalars may use `${VAR}`, "
        "`${VAR:-default}`, `${VAR:?message}` and `$$` (a literal `$`); placeholders may insert "
        "64 KiB into one value and 1 MiB into the file. `sentry-bootstrap init` "
        "writes an annotated starter, `check --all-environments` validates it, `explain` shows "
        "each effective value and its source, and `schema > sentry.schema.json` gives editors "
        "completion. An annotated example is [`sentry.yaml`](../sentry.yaml).",
        "",
        "One rule for `null`: {}. In an overlay, `null` undoes a base key; the keys that can be "
        "switched off say what `false` does (`integrations.logging.event_level: false`: no events "
        "from log records). `explain` marks both.".format(_model.NULL_RULE),
        "",
        "### Keys",
        "",
        "A list's items are written `name[]`. Unknown keys are errors at every level.",
        "",
        key_table(),
        "",
        "### Environment variables",
        "",
        env_table(),
        "",
    ])


def replace_block(text, block):
    """`text` with the part between the markers replaced by `block`. Raises ValueError when the
    markers are missing or out of order."""
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < start:
        raise ValueError("markers {} ... {} not found in order".format(START, END))
    return text[:start + len(START)] + "\n" + block + text[end:]


def current_block(text):
    """The part of `text` between the markers (as `replace_block` writes it), or None."""
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < start:
        return None
    return text[start + len(START) + 1:end]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sentry_bootstrap.config.reference",
                                     description="Generate the configuration reference.")
    parser.add_argument("--write", metavar="FILE",
                        help="rewrite the block between the markers in FILE "
                             "(docs/configuration.md)")
    args = parser.parse_args(argv)
    block = markdown()
    if not args.write:
        sys.stdout.write(block)
        return 0
    with open(args.write, encoding="utf-8") as f:
        text = f.read()
    try:
        new = replace_block(text, block)
    except ValueError as exc:
        print("error: {}: {}".format(args.write, exc), file=sys.stderr)
        return 1
    if new != text:
        with open(args.write, "w", encoding="utf-8") as f:
            f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
