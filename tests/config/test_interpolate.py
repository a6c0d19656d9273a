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


def test_value_expansion_is_bounded_with_a_located_error(project):
    """Placeholders may insert VALUE_LIMIT characters into one value; past it, a problem at the
    value that says what to do, found before the text is built."""
    from sentry_bootstrap.config.interpolate import VALUE_LIMIT

    project.write("version: 1\nrelease: '${A}${A}'\ndist: '${B}'\n")
    big = "x" * (VALUE_LIMIT // 2 + 1)
    with pytest.raises(ConfigError) as caught:
        project.load({"A": big, "B": "x" * VALUE_LIMIT})
    lines = problems_of(caught)
    assert len(lines) == 1 and lines[0].startswith("sentry.yaml:2:10: release: '${A}' makes"), lines
    assert str(VALUE_LIMIT) in lines[0] and "shorten the variable" in lines[0]
    assert project.load({"A": "x" * (VALUE_LIMIT // 2), "B": "y"}).release == "x" * VALUE_LIMIT


def test_file_expansion_is_bounded_and_reported_once(project):
    """The report's case: 300 tags of twenty `${A}`, A of 100 KB (6 s and 1.8 GB a start before).
    Values past the file's bound are left alone: one problem, at the value that crossed it."""
    from sentry_bootstrap.config.interpolate import FILE_LIMIT, VALUE_LIMIT

    tags = "".join("  t{}: '{}'\n".format(i, "${A}" * 20) for i in range(300))
    project.write("version: 1\ntags:\n" + tags)
    with pytest.raises(ConfigError) as caught:
        project.load({"A": "a" * 100000})
    lines = problems_of(caught)
    assert len(lines) == 300 and "the limit for one value" in lines[0], lines[:2]

    project.write("version: 1\ntags:\n" + "".join("  t{}: '${{A}}'\n".format(i) for i in range(300))
                  + "environments:\n  production:\n    dist: '${A}'\n")
    count = FILE_LIMIT // VALUE_LIMIT  # values of VALUE_LIMIT that fit exactly
    with pytest.raises(ConfigError) as caught:
        project.load({"A": "a" * VALUE_LIMIT}, env_name="production")
    lines = problems_of(caught)
    assert len(lines) == 1, lines[:3]
    name = "t{}".format(count)
    assert lines[0].startswith("sentry.yaml:{}:{}: tags.{}: '${{A}}'".format(
        3 + count, len(name) + 5, name)) and str(FILE_LIMIT) in lines[0] and "fewer times" in lines[0], lines


def test_overlay_shares_the_file_bound(project):
    """The base keys and the active overlay draw on one bound for the file."""
    from sentry_bootstrap.config.interpolate import FILE_LIMIT, VALUE_LIMIT

    count = FILE_LIMIT // VALUE_LIMIT
    project.write("version: 1\ntags:\n" + "".join("  t{}: '${{A}}'\n".format(i) for i in range(count))
                  + "environments:\n  production:\n    dist: '${A}'\n")
    assert project.load({"A": "a" * VALUE_LIMIT}).values["tags"]["t0"] == "a" * VALUE_LIMIT
    with pytest.raises(ConfigError) as caught:
        project.load({"A": "a" * VALUE_LIMIT}, env_name="production")
    assert problems_of(caught)[0].startswith("sentry.yaml:{}:11: environments.production.dist:"
                                             .format(count + 5)), problems_of(caught)
