"""JSON Schema of `sentry.yaml` for editors (`sentry-bootstrap schema > sentry.schema.json`).

Built from pydantic's schema of the model, then adjusted to what the loader really accepts:
- every scalar also accepts a `${...}` placeholder string, since interpolation runs before validation;
- the descriptions of the configuration reference, so editors show them on hover;
- rates are bounded to 0..1; text fields (`dist`, `release`, tags) accept numbers as YAML writes them;
- `environments.<name>` is checked as a partial configuration (every key but `version`,
  `environment`, `environments`) instead of a free mapping.

Cold path only (imports pydantic through the model).
"""
import copy

from sentry_bootstrap.config import loader as _loader
from sentry_bootstrap.config import model as _model
from sentry_bootstrap.config import reference as _reference

DIALECT = "https://json-schema.org/draft/2020-12/schema"
PLACEHOLDER = {"type": "string", "pattern": r"\$\{[^}]+\}",
               "description": "A ${VAR}, ${VAR:-default} or ${VAR:?message} placeholder, filled "
                              "from the environment before validation."}
# Every scalar's extra option points at the one definition, which keeps the schema small.
_PLACEHOLDER_REF = {"$ref": "#/$defs/Placeholder"}
_SCALAR_TYPES = frozenset({"boolean", "integer", "number", "null", "string"})


def json_schema():
    """The schema as a JSON-compatible dict (draft 2020-12)."""
    schema = _model.Settings.model_json_schema()
    defs = schema.setdefault("$defs", {})
    for key in _reference.keys():
        node = _field_node(schema, key)
        if node is None:
            continue
        description = key.description
        if description:
            node["description"] = description
        validators = _reference.validator_names(_reference._annotated(key.field))
        if "_rate" in validators:
            _walk_types(node, "number", lambda n: n.update(minimum=0, maximum=1))
        if "_number_as_text" in validators:
            _walk_types(node, "string", lambda n: n.update(type=["string", "number"]))
        if "_tag_value" in validators:
            _walk_types(node, "string", lambda n: n.update(type=["string", "number", "boolean"]))
    _integration_options(schema)
    _with_placeholders(schema)
    defs["Placeholder"] = dict(PLACEHOLDER)
    overlay = {k: copy.deepcopy(v) for k, v in schema.items() if k in ("properties", "type")}
    for name in _loader.OVERLAY_FORBIDDEN:
        overlay["properties"].pop(name, None)
    overlay["additionalProperties"] = False
    overlay["description"] = "Keys merged over the base when this environment is active."
    defs["Overlay"] = overlay
    schema["properties"]["environments"]["additionalProperties"] = {
        "anyOf": [{"$ref": "#/$defs/Overlay"}, {"type": "null"}]}
    out = {"$schema": DIALECT, "title": "sentry.yaml (sentry-bootstrap)",
           "description": "Configuration of sentry-bootstrap: zero-code Sentry for Python programs."}
    out.update((k, v) for k, v in schema.items() if k not in ("title", "description"))
    return out


def _integration_options(schema):
    """`integrations.<name>` for the integrations without a hand-written model: the options of the
    SDK integration's constructor (read from its source), instead of a free mapping."""
    defs = schema.setdefault("$defs", {})
    holder = defs.get(_model.Integrations.__name__, {}).get("properties", {})
    for name in _model.UNMODELLED_INTEGRATIONS:
        node = holder.get(name)
        if node is None:
            continue
        sub = _model.options_model(name).model_json_schema()
        defs.update(sub.pop("$defs", {}))
        title = sub.get("title") or name
        sub.pop("description", None)
        defs[title] = sub
        holder[name] = {"anyOf": [{"$ref": "#/$defs/" + title}, {"type": "null"}],
                        "default": None, "description": node.get("description")}


def _field_node(schema, key):
    """The schema node of a key: in the root's properties, or in its class's `$defs` entry."""
    if key.owner is _model.Settings:
        holder = schema
    else:
        holder = schema.get("$defs", {}).get(key.owner.__name__)
    if holder is None:
        return None
    return holder.get("properties", {}).get(key.name)


def _walk_types(node, wanted, change):
    """Apply `change` to every sub-node whose `type` is `wanted` (through anyOf, items, maps)."""
    if isinstance(node, dict):
        if node.get("type") == wanted:
            change(node)
        for value in node.values():
            _walk_types(value, wanted, change)
    elif isinstance(node, list):
        for value in node:
            _walk_types(value, wanted, change)


def _is_scalar(node):
    if not isinstance(node, dict) or "$ref" in node or "anyOf" in node:
        return False
    types = node.get("type")
    types = [types] if isinstance(types, str) else types
    if types:
        return set(types) <= _SCALAR_TYPES and types != ["null"] and not _plain_string(node, types)
    return "enum" in node or "const" in node


def _plain_string(node, types):
    # An unconstrained string already accepts a placeholder: leave it as it is.
    return types == ["string"] and not ({"enum", "const", "pattern", "format"} & set(node))


def _with_placeholders(node):
    """Rewrite in place so that every scalar also accepts a placeholder string."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            if _is_scalar(item):
                node[index] = _wrapped(item)
            else:
                _with_placeholders(item)
        return
    if not isinstance(node, dict):
        return
    if "anyOf" in node:
        # One placeholder option for the whole union, rather than one per scalar member.
        options = node["anyOf"]
        for option in options:
            if not _is_scalar(option):
                _with_placeholders(option)
        if any(_is_scalar(o) for o in options) and _PLACEHOLDER_REF not in options:
            options.append(dict(_PLACEHOLDER_REF))
    for key in ("properties", "$defs"):
        for name, sub in list(node.get(key, {}).items()):
            if _is_scalar(sub):
                node[key][name] = _wrapped(sub)
            else:
                _with_placeholders(sub)
    for key in ("items", "additionalProperties"):
        sub = node.get(key)
        if _is_scalar(sub):
            node[key] = _wrapped(sub)
        elif isinstance(sub, (dict, list)):
            _with_placeholders(sub)
    if isinstance(node.get("prefixItems"), list):
        _with_placeholders(node["prefixItems"])


def _wrapped(node):
    """`{anyOf: [node, placeholder]}`, keeping title, description and default on the outside."""
    outer = {k: node.pop(k) for k in ("title", "description", "default") if k in node}
    outer["anyOf"] = [node, dict(_PLACEHOLDER_REF)]
    return outer
