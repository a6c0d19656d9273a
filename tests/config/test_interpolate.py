"""The `${...}` grammar in scalar values, and its errors with their locations."""
import pytest

from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.interpolate import InterpolationError, substitute

from .conftest import problems_of


@pytest.mark.parametrize("text, environ, expected", [
    ("${A}", {"A": "x"}, "x"),
    ("pre-${A}-post", {"A": "x"}, "pre-x-post"),
    ("${A}${B}", {"A": "1", "B": "2"}, "12"),
    ("${A}", {"A": ""}, ""),
    ("${A:-dflt}", {}, "dflt"),
    ("${A:-dflt}", {"A": ""}, "dflt"),
    ("${A:-dflt}", {"A": "set"}, "set"),
    ("${A:-}", {}, ""),
    ("${A:-a:-b}", {}, "a:-b"),
    ("${A:?needed}", {"A": "v"}, "v"),
    ("$$", {}, "$"),
    ("$${A}", {"A": "x"}, "${A}"),
    ("cost $5", {}, "cost $5"),
    ("trailing $", {}, "trailing $"),
    ("no placeholders", {}, "no placeholders"),
])
def test_grammar(text, environ, expected):
    """Each form of placeholder fills as documented; a lone `$` stays."""
    assert substitute(text, environ) == expected


@pytest.mark.parametrize("text, message", [
    ("${A}", "variable A is not set (write '${A:-default}' to give a default)"),
    ("${A:?set A to the DSN}", "variable A is not set: set A to the DSN"),
    ("${A:?}", "variable A is not set: a value is required"),
    ("x ${A", "unterminated '${' at character 3 (write '$$' for a literal '$')"),
    ("${1A}", "invalid variable name '1A' in '${1A}' (letters, digits and '_', not starting with "
              "a digit)"),
    ("${}", "invalid variable name '' in '${}' (letters, digits and '_', not starting with a "
            "digit)"),
])
def test_grammar_errors(text, message):
    """A placeholder that can't be filled raises with a message that says what to write."""
    with pytest.raises(InterpolationError) as excinfo:
        substitute(text, {})
    assert str(excinfo.value) == message


def test_substituted_value_is_validated_as_written(project):
    """A substituted string is converted and validated like a value written in the file."""
    project.write("""
        version: 1
        sample_rate: ${RATE}
        debug: ${DEBUG:-false}
    """)
    resolved = project.load({"RATE": "0.3"})
    assert resolved.get("sample_rate") == 0.3
    assert resolved.get("debug") is False


def test_substitution_never_injects_structure(project):
    """A variable holding YAML text stays one string; it adds no keys."""
    project.write("""
        version: 1
        server_name: "${NAME}"
    """)
    resolved = project.load({"NAME": "x\ndebug: true\ntags: {a: b}"})
    assert resolved.get("server_name") == "x\ndebug: true\ntags: {a: b}"
    assert resolved.get("debug") is None


def test_keys_are_never_substituted(project):
    """`${...}` in a key is kept as written (here: a tag named literally `${TEAM}`)."""
    project.write("""
        version: 1
        tags: {"${TEAM}": x}
    """)
    assert project.load({"TEAM": "payments"}).get("tags") == {"${TEAM}": "x"}


def test_missing_variable_error_has_location(project):
    """A missing `${VAR}` is an error pointing at the value, and every one is reported."""
    project.write("""
        version: 1
        dsn: ${DSN_VALUE}
        tags:
          team: ${TEAM:?set TEAM to your team's slug}
    """)
    with pytest.raises(ConfigError) as excinfo:
        project.load()
    assert problems_of(excinfo) == [
        "sentry.yaml:2:6: dsn: variable DSN_VALUE is not set (write '${DSN_VALUE:-default}' to "
        "give a default)",
        "sentry.yaml:4:9: tags.team: variable TEAM is not set: set TEAM to your team's slug",
    ]


def test_unused_overlay_is_not_interpolated(project):
    """Placeholders in an overlay that isn't active are not evaluated."""
    project.write("""
        version: 1
        environments:
          production: {dsn: "${PROD_DSN}"}
    """)
    assert project.load().get("dsn") is None


def test_overlay_interpolation_error_names_overlay_path(project):
    """An error in the active overlay's placeholder gives the full key path and its location."""
    project.write("""
        version: 1
        environments:
          production:
            server_name: ${HOST}
    """)
    with pytest.raises(ConfigError) as excinfo:
        project.load(env_name="production")
    assert problems_of(excinfo) == [
        "sentry.yaml:4:18: environments.production.server_name: variable HOST is not set "
        "(write '${HOST:-default}' to give a default)"]
