"""Options for every integration the SDK ships, checked against its constructor's source, with no
framework imported, installed or not."""
import importlib.util
import json

import pytest

from sentry_bootstrap import integrations_table, sdk_compat
from sentry_bootstrap.config import integration_options, model
from sentry_bootstrap.config.errors import ConfigError
from tests.cli.helpers import cli, write_config
from tests.support.child import run_python

from .conftest import problems_of


def test_not_installed_framework_options_are_validated(project):
    """huey isn't installed here, yet its options are read, coerced and kept."""
    assert importlib.util.find_spec("huey") is None
    project.write("""
        version: 1
        integrations:
          huey: {monitor_periodic_tasks: "false"}
          loguru: {level: info, event_level: ERROR}
    """)
    values = project.load().values["integrations"]
    assert values["huey"] == {"monitor_periodic_tasks": False}
    assert values["loguru"] == {"level": "INFO", "event_level": "ERROR"}
    assert values["grpc"] is None


def test_misspelt_option_is_a_located_error_with_did_you_mean(project):
    """A misspelt option names the file position and the constructor's parameter it resembles."""
    project.write("""
        version: 1
        integrations:
          huey:
            monitor_periodic_taks: false
    """)
    with pytest.raises(ConfigError) as excinfo:
        project.load()
    assert problems_of(excinfo) == [
        "sentry.yaml:4:5: integrations.huey.monitor_periodic_taks: unknown key "
        "(did you mean 'monitor_periodic_tasks'?)"]


def test_wrong_type_is_a_located_error(project):
    """An annotated parameter's type is checked: `monitor_periodic_tasks: maybe` is refused."""
    project.write("version: 1\nintegrations:\n  huey: {monitor_periodic_tasks: maybe}\n")
    with pytest.raises(ConfigError) as excinfo:
        project.load()
    (problem,) = problems_of(excinfo)
    assert problem.startswith("sentry.yaml:3:34: integrations.huey.monitor_periodic_tasks: must be")


def test_option_from_an_environment_variable(project):
    """SENTRY_INTEGRATIONS__HUEY__MONITOR_PERIODIC_TASKS=true sets the option, coerced to a boolean."""
    project.write("version: 1\n")
    resolved = project.load({"SENTRY_INTEGRATIONS__HUEY__MONITOR_PERIODIC_TASKS": "true"})
    assert resolved.values["integrations"]["huey"] == {"monitor_periodic_tasks": True}
    assert resolved.source("integrations.huey.monitor_periodic_tasks").startswith("env ")


def test_every_integration_has_an_options_model():
    """Each row of the table has an options model built from its constructor, or a hand-written one."""
    for row in integrations_table.ROWS:
        if row.name in sdk_compat.REMOVED_INTEGRATIONS_IN_SDK3 and sdk_compat.is_sdk3():
            continue  # not in 3.x: enabling it is a located error there
        if row.name in model.UNMODELLED_INTEGRATIONS:
            assert integration_options.constructor_params(row.name) is not None, row.name
            assert model.options_model(row.name).model_config.get("extra") == "forbid", row.name
        else:
            assert row.name in model.Integrations.model_fields


def test_hand_written_models_match_the_constructors():
    """The hand-written option models (django, celery, ...) name only parameters of the SDK's constructor."""
    for name in model.Integrations.model_fields:
        if name in ("auto", "enabled", "disabled") or name in model.UNMODELLED_INTEGRATIONS:
            continue
        annotation = model.Integrations.model_fields[name].annotation
        params = {p for p, _, _ in integration_options.constructor_params(name)}
        # On 3.x through sdk_compat's mapping (removed options dropped, logging's levels renamed).
        given = sdk_compat.integration_kwargs(name, dict.fromkeys(annotation.model_fields, 1), enable_logs=True)
        assert set(given) <= params, name


def test_reading_options_imports_neither_the_sdk_nor_a_framework():
    """Reading every integration's options imports no framework and not even sentry_sdk."""
    code = (
        "import sys\n"
        "from sentry_bootstrap import integrations_table as t\n"
        "from sentry_bootstrap.config import integration_options as o\n"
        "count = sum(len(o.options_of(r.name)) for r in t.ROWS)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sentry_sdk', 'django', 'flask', 'celery', 'starlette', 'redis', 'sqlalchemy', 'httpx'})\n"
        "print(count, loaded)\n")
    result = run_python(["-c", code], hook=False)
    assert result.returncode == 0, result.stderr
    count, loaded = result.stdout.split(" ", 1)
    assert int(count) > 40 and loaded.strip() == "[]"


def test_annotations_become_types():
    """Annotation texts map to types; framework types leave the option unchecked."""
    from typing import Any, List, Optional, Union

    assert integration_options.python_type("bool") is bool
    assert integration_options.python_type("'Optional[List[str]]'") == Optional[List[str]]
    assert integration_options.python_type("Set[int]") == List[int]
    assert integration_options.python_type("str | loguru.FormatFunction") is Any
    assert integration_options.python_type("int | None") == Union[int, None]
    assert integration_options.python_type(None) is Any


def test_schema_lists_each_integrations_options(tmp_path):
    """`sentry-bootstrap schema` describes integrations.huey's options, from the constructor."""
    result = cli("schema", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    node = schema["$defs"]["Integrations"]["properties"]["huey"]
    target = node["anyOf"][0]["$ref"].rsplit("/", 1)[1]
    props = schema["$defs"][target]["properties"]
    assert set(props) == {"monitor_periodic_tasks", "exclude_periodic_tasks"}
    assert schema["$defs"][target]["additionalProperties"] is False


def test_explain_shows_integration_options(tmp_path):
    """`explain integrations.huey` lists each option with its value and source."""
    write_config(tmp_path, "version: 1\nintegrations:\n  huey: {monitor_periodic_tasks: true}\n")
    result = cli("explain", "integrations.huey", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(l.startswith("integrations.huey.monitor_periodic_tasks") and "= true" in l
               and "sentry.yaml:3:10" in l for l in lines)
    assert any(l.startswith("integrations.huey.exclude_periodic_tasks") and "(default)" in l
               for l in lines)
