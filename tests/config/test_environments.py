"""Environments and overlays: an environment without an overlay runs on the base keys, a name close
to an overlay's gets a did-you-mean (an error in strict mode), and the active overlay is shown."""
import pytest

from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.loader import near_overlay

from tests.support.app import base_config
from tests.support.child import run_python

FILE = """\
version: 1
sample_rate: 0.5
environments:
  production:
    sample_rate: 0.25
"""


@pytest.mark.parametrize("environ", [{"ENVIRONMENT": "staging"}, {"ENVIRONMENT": "development"},
                                     {"SENTRY_ENVIRONMENT": "review-42"}, {}])
def test_environment_without_overlay_runs_on_the_base_keys(project, environ):
    """staging, an explicit development, a review app or nothing: the base keys, no warning."""
    project.write(FILE)
    resolved = project.load(environ)
    assert resolved.get("sample_rate") == 0.5
    assert resolved.overlay is None and resolved.warnings == []
    assert resolved.sources["environments"].startswith(
        "no overlay environments.{}".format(resolved.environment))


def test_overlay_applies_and_its_source_names_it(project):
    """The production overlay applies, and the environment's source says which overlay, where."""
    project.write(FILE)
    resolved = project.load({"SENTRY_ENVIRONMENT": "production"})
    assert resolved.get("sample_rate") == 0.25 and resolved.overlay == "production"
    assert resolved.sources["environments"] == "overlay environments.production at sentry.yaml:4:3"


def test_close_name_warns_with_did_you_mean(project):
    """`prodution` runs on the base keys with one did-you-mean warning naming the variable."""
    project.write(FILE)
    resolved = project.load({"ENVIRONMENT": "prodution"})
    assert resolved.get("sample_rate") == 0.5
    assert resolved.warnings == [
        "env ENVIRONMENT='prodution': environment: no overlay environments.prodution in "
        "sentry.yaml: the base keys apply (did you mean 'production'?)"]


@pytest.mark.parametrize("how", ["argument", "variable", "file"])
def test_close_name_is_refused_in_strict_mode(project, how):
    """Strict mode (the argument, SENTRY_BOOTSTRAP_STRICT=1 or `strict: true`) refuses `prodution`."""
    project.write(("strict: true\n" if how == "file" else "") + FILE)
    environ = {"ENVIRONMENT": "prodution"}
    if how == "variable":
        environ["SENTRY_BOOTSTRAP_STRICT"] = "1"
    with pytest.raises(ConfigError) as excinfo:
        project.load(environ, strict=True if how == "argument" else None)
    assert [p.hint for p in excinfo.value.problems] == ["production"]


@pytest.mark.parametrize("name, expected", [
    ("prodution", "production"), ("Production", "production"), ("stagign", "staging"),
    ("production-eu", None), ("prod", None), ("staging", None), ("development", None),
    ("review-42", None),
])
def test_near_overlay(name, expected):
    """Misspellings and case are close; a distinct name, or one extending an overlay's, is not."""
    assert near_overlay(name, {"production": {}, "staging": {}}) == expected


def test_hook_warns_on_stderr_and_keeps_running(app, sentry_server):
    """The hook on ENVIRONMENT=prodution: the program runs instrumented on the base keys and the
    hook's stderr line carries the did-you-mean; under strict mode it refuses with exit 78."""
    app.config(base_config(sentry_server.dsn))
    app.write("main.py", "import sentry_sdk\nsentry_sdk.capture_message('hi')\n")
    result = run_python(["main.py"], cwd=str(app.path), env={"ENVIRONMENT": "prodution"})
    assert result.returncode == 0, result.stderr
    lines = [l for l in result.stderr.splitlines() if l.startswith("sentry-bootstrap:")]
    assert len(lines) == 1 and "did you mean 'production'?" in lines[0], result.stderr
    assert sentry_server.wait_for_events(1)[0]["environment"] == "prodution"
    strict = run_python(["main.py"], cwd=str(app.path),
                        env={"ENVIRONMENT": "prodution", "SENTRY_BOOTSTRAP_STRICT": "1"})
    assert strict.returncode == 78 and "did you mean 'production'?" in strict.stderr
