"""Which integrations apply, decided from installed metadata without importing any framework."""

from sentry_bootstrap.activation.integrations import installed_distributions, plan_integrations
from tests.support.app import base_config
from tests.support.child import run_python

FLOORS = {"django": (1, 8), "flask": (1, 1, 4), "celery": (4, 4, 7)}


def names(pairs):
    return [pair[0] for pair in pairs]


def test_installed_framework_not_imported_is_deferred_until_its_module():
    """An installed, unimported framework is deferred to the import of its module."""
    plan = plan_integrations({}, modules={}, distributions={"django": "5.2.1"}, min_versions=FLOORS)
    assert ("django", {}, "django") in plan.deferred
    assert "django" not in names(plan.now)


def test_already_imported_framework_is_set_up_at_once():
    """A framework the process already imported is passed to init directly."""
    plan = plan_integrations({}, modules={"flask": object()}, distributions={"flask": "3.1.0"},
                             min_versions=FLOORS)
    assert "flask" in names(plan.now)


def test_framework_older_than_the_sdk_floor_is_skipped_with_a_reason():
    """A version below the SDK's minimum is skipped and says why."""
    plan = plan_integrations({}, modules={}, distributions={"celery": "4.4.0"}, min_versions=FLOORS)
    assert ("celery", "celery 4.4.0 < 4.4.7") in plan.skipped


def test_disabled_list_and_auto_off():
    """`disabled` skips with a reason; `auto: false` enables only what `enabled` lists."""
    dists = {"django": "5.2", "flask": "3.1"}
    plan = plan_integrations({"disabled": ["flask"]}, modules={}, distributions=dists, min_versions=FLOORS)
    assert ("flask", "disabled in config") in plan.skipped
    plan = plan_integrations({"auto": False, "enabled": ["flask"]}, modules={}, distributions=dists,
                             min_versions=FLOORS)
    assert names(plan.deferred) == ["flask"]


def test_opt_in_integrations_and_per_integration_options():
    """Opt-in names are added; options become constructor arguments, level names as numbers."""
    plan = plan_integrations({"enabled": ["sys_exit", "asyncio"],
                              "logging": {"level": "INFO", "event_level": "WARNING"}},
                             modules={}, distributions={}, min_versions=FLOORS)
    now = dict(plan.now)
    assert "sys_exit" in now
    assert now["logging"] == {"level": 20, "event_level": 30}
    assert ("asyncio", {}, "asyncio") in plan.deferred


def test_distributions_are_read_from_dist_info_names():
    """The installed versions come from the environment's metadata directories."""
    found = installed_distributions()
    import django
    from importlib.metadata import version

    assert found["django"] == django.__version__
    assert found["flask"] == version("flask")


def test_logging_options_from_yaml_reach_the_sdk(app, sentry_server):
    """`integrations.logging.event_level: WARNING` turns a logged warning into an event."""
    app.config(base_config(sentry_server.dsn, "integrations:\n  logging:\n    event_level: WARNING\n"))
    app.write("warn.py", "import logging\nlogging.getLogger('billing').warning('card declined')\n")
    run_python(["warn.py"], cwd=str(app.path))
    event = sentry_server.wait_for_events(1)[0]
    assert event["logentry"]["message"] == "card declined"
    assert event["level"] == "warning"


def test_opt_in_sys_exit_captures_a_failing_exit(app, sentry_server):
    """`integrations.enabled: [sys_exit]` reports sys.exit(2)."""
    app.config(base_config(sentry_server.dsn, "integrations:\n  enabled: [sys_exit]\n"))
    app.write("bye.py", "import sys\nsys.exit(2)\n")
    result = run_python(["bye.py"], cwd=str(app.path))
    assert result.returncode == 2
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["type"] == "SystemExit"


def test_activation_imports_exactly_the_models_callable_options():
    """The options the model validates as `module:function` are the ones activation imports."""
    import typing

    from sentry_bootstrap.activation import options
    from sentry_bootstrap.config import model

    callables = {name for name, field in model.Settings.model_fields.items()
                 if model.CallablePath in typing.get_args(field.annotation)}
    assert callables == set(options.CALLABLE_OPTIONS)


def test_options_of_an_integration_without_a_model_reach_its_constructor(app, sentry_server):
    """`integrations.sys_exit.capture_successful_exits: true` (read from the constructor) reports exit 0."""
    app.config(base_config(sentry_server.dsn, "integrations:\n  enabled: [sys_exit]\n"
                                              "  sys_exit: {capture_successful_exits: true}\n"))
    app.write("bye.py", "import sys\nsys.exit(0)\n")
    result = run_python(["bye.py"], cwd=str(app.path))
    assert result.returncode == 0, result.stderr
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["type"] == "SystemExit"
