"""One rule for `null` and `false`: `null` resets any key to its default (an overlay undoes a base
key with it), `false` or `off` switches a feature off where the SDK has an off; the reference, the
schema and `explain` state it (issue 15, point 2)."""
import json
import logging

import pytest

from sentry_bootstrap.activation.integrations import options_for
from sentry_bootstrap.config import reference
from sentry_bootstrap.config.model import NULL_RULE, OFF_KEYS, Settings
from sentry_bootstrap.config.schema import json_schema
from sentry_bootstrap.middleware.common import ContextPolicy
from tests.cli.helpers import cli, write_config
from tests.support.app import base_config
from tests.support.child import run_python
from tests.support.collecting import sdk3_refuses

# Candidate non-default values, tried in order until one validates and differs from the default.
CANDIDATES = (True, False, 7, 0.5, "WARNING", "module:function", "text", ["a"], {"a": "b"},
              [[500, 599]], [{"qualified_name": "m.f"}], "manual", "never", "sentry", "endpoint",
              "http://key@127.0.0.1:9/1", "trace", "thread", "stream", "otel", "none",
              [[1, 2, 3]], [400], "small", "function_name", "method_and_path_pattern", "url",
              ["django"], ["django.db.models.signals:post_save"], "eager", ["@email"])


def _leaf_keys():
    """Every key a file can set by its path (sections and list items excluded: lists replace)."""
    return [k for k in reference.keys() if not k.section and "[]" not in k.path and "<" not in k.path
            and not k.field.is_required() and k.path not in ("version", "environment", "environments")]


# Keys whose section requires a sibling: `terms` needs the collection's `mode`.
SIBLINGS = {"terms": {"mode": "denylist"}}


def _nest(path, value, siblings=False):
    parts = path.split(".")
    data = {parts[-1]: value}
    if siblings:
        data.update(SIBLINGS.get(parts[-1], {}))
    for part in reversed(parts[:-1]):
        data = {part: data}
    return data


def _merge(base, extra):
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and \
            isinstance(out.get(key), dict) else value
    return out


def _get(data, path):
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _other_value(key):
    default = _get(Settings().model_dump(mode="json"), key.path)
    for candidate in CANDIDATES:
        try:
            resolved = Settings.model_validate(_nest(key.path, candidate, True)).model_dump(
                mode="json")
        except Exception:
            continue
        if _get(resolved, key.path) != default:
            return candidate, default
    return None, default


@pytest.mark.parametrize("key", _leaf_keys(), ids=lambda k: k.path)
def test_null_in_an_overlay_resets_every_key_to_its_default(project, key):
    """For every key: the base sets a value, the overlay's `null` gives the default back, and the
    key's source says the null did it."""
    if sdk3_refuses(key.path):
        pytest.skip("sentry-sdk 3 removed {}: a located error there".format(key.path))
    value, default = _other_value(key)
    assert value is not None, "no sample value for {}: extend CANDIDATES".format(key.path)
    data = dict(_nest(key.path, value, True), version=1,
                environments={"production": _nest(key.path, None)})
    project.write(json.dumps(data))  # JSON is YAML
    resolved = project.load(env_name="production")
    if key.path == "release":  # the default `auto` resolves (no git here: none), so no source text
        assert project.load().release == str(value) and resolved.release is None
        return
    assert project.load().get(key.path) != default
    assert resolved.get(key.path) == default
    assert resolved.source(key.path).endswith("(environments.production); null: the default")


@pytest.mark.parametrize("path", sorted(OFF_KEYS))
@pytest.mark.parametrize("spelling", [False, "off", "OFF", "false"])
def test_false_or_off_switches_a_feature_off(project, path, spelling):
    """`false` and `off` give the value false for each key that can be off; `null` its default."""
    project.write(json.dumps(dict(_nest(path, spelling), version=1)))
    assert project.load().get(path) is False
    project.write(json.dumps(dict(_nest(path, None), version=1)))
    assert project.load().get(path) not in (False, None)


def test_logging_levels_off_are_the_sdks_off():
    """A level that is off reaches LoggingIntegration as None (its off), a level name as a number;
    an unset option is left to the SDK's default."""
    assert options_for("logging", {"level": False, "event_level": False,
                                   "sentry_logs_level": "WARNING", "capture_sentry_logs": None}) == \
        {"level": None, "event_level": None, "sentry_logs_level": logging.WARNING}


def test_request_id_header_off_adds_no_tag():
    """`context.request_id_header: false` gives a policy without a request-id header; null (unset)
    gives the default header."""
    assert ContextPolicy.from_config({"request_id_header": False}, False).request_id_header is None
    assert ContextPolicy.from_config({}, False).request_id_header == "x-request-id"


LOGS = """\
import logging
logging.getLogger("shop").warning("a breadcrumb, if any")
logging.getLogger("shop").error("an event, if any")
import sentry_sdk
sentry_sdk.capture_message("marker")
sentry_sdk.flush()
"""


def test_event_level_and_level_false_in_a_real_process(app, sentry_server):
    """With `event_level: false` and `level: false`, logging.error() sends no event and leaves no
    breadcrumb; the default sends the error as an event with the warning as a breadcrumb."""
    app.write("main.py", LOGS)
    app.config(base_config(sentry_server.dsn, "integrations:\n  logging: {level: off, "
                                              "event_level: false}\n"))
    assert run_python(["main.py"], cwd=str(app.path)).returncode == 0
    events = sentry_server.wait_for_events(1)
    assert [e.get("message") or e["logentry"]["message"] for e in events] == ["marker"]
    crumbs = (events[0].get("breadcrumbs") or {}).get("values", [])
    assert not any(c.get("category") == "shop" for c in crumbs)

    app.config(base_config(sentry_server.dsn))
    assert run_python(["main.py"], cwd=str(app.path)).returncode == 0
    events = sentry_server.wait_for_events(3)[1:]
    texts = [e.get("message") or e["logentry"]["message"] for e in events]
    assert sorted(texts) == ["an event, if any", "marker"]
    marker = events[texts.index("marker")]
    assert any(c.get("category") == "shop" for c in marker["breadcrumbs"]["values"])


def test_reference_schema_and_explain_state_the_rule(tmp_path):
    """The reference states the rule and each off key's meaning, the schema's description of each
    off key does, and `explain` marks a null reset and an off key."""
    block = reference.markdown()
    assert NULL_RULE in block
    by_path = {k.path: k for k in reference.keys()}
    schema = json.dumps(json_schema())
    for path, meaning in OFF_KEYS.items():
        assert meaning in by_path[path].description
        assert "`false` or `off`: {}".format(meaning) in schema
    import jsonschema

    validator = jsonschema.Draft202012Validator(json_schema())
    for spelling in (False, "off"):
        document = {"version": 1, "environments": {"production": {}}}
        for path in OFF_KEYS:
            document.update(_merge(document, _nest(path, spelling)))
        document["environments"]["production"] = _nest("integrations.logging.level", None)
        assert list(validator.iter_errors(document)) == []
    write_config(tmp_path, """\
        version: 1
        max_breadcrumbs: 5
        integrations:
          logging:
            event_level: off
        environments:
          production:
            max_breadcrumbs: null
        """)
    proc = cli("explain", "--env", "production", "--json", cwd=tmp_path)
    out = json.loads(proc.stdout)
    assert out["max_breadcrumbs"] == {
        "value": 100, "source": "sentry.yaml:8:5 (environments.production); null: the default"}
    assert out["integrations.logging.event_level"] == {
        "value": False, "source": "sentry.yaml:5:5; off: no events from log records"}
