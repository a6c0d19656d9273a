"""Hostile numbers, deep JSON and odd digits in the configuration are located problems: the loader,
`check` and the hook never end in a traceback (OverflowError, int conversion limits, RecursionError)."""
import pytest

from sentry_bootstrap.config.env_source import MAX_JSON_DEPTH, known_names
from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.model import key_tree
from sentry_bootstrap.config.yaml_source import MAX_NUMBER_LENGTH
from tests.cli.helpers import cli, write_config
from tests.support.child import run_python

DEEP_OBJECT = '{"a":' * 600 + "1" + "}" * 600

FILE_CASES = {
    "400-digit sample_rate": ("sample_rate: " + "9" * 400, "sentry.yaml:2:14", "sample_rate"),
    "5,000-digit max_breadcrumbs": ("max_breadcrumbs: " + "9" * 5000, "sentry.yaml:2:18",
                                    "max_breadcrumbs"),
    "5,000-digit hex environment": ("environment: 0x" + "f" * 5000, "sentry.yaml:2:14",
                                    "environment"),
    "5,000-digit octal tag": ("tags: {a: 0o" + "7" * 5000 + "}", "sentry.yaml:2:11", "tags.a"),
    "quoted 5,000-digit version": ("version: '" + "9" * 5000 + "'", "sentry.yaml:1:10", "version"),
    "superscript version": ("version: '\u00b2'", "sentry.yaml:1:10", "version"),
    "superscript log level": ("integrations: {logging: {level: '\u00b2'}}", "sentry.yaml:2:33",
                              "integrations.logging.level"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_hostile_number_in_the_file_is_a_located_problem(project, case):
    """Each hostile value in the file is one problem at its line and column."""
    line, where, path = FILE_CASES[case]
    body = line + "\n" if line.startswith("version") else "version: 1\n" + line + "\n"
    project.write(body)
    with pytest.raises(ConfigError) as caught:
        project.load()
    located = [p for p in caught.value.problems if p.path == path]
    assert located and located[0].source == where, caught.value.problems


def test_a_long_number_says_to_quote_it(project):
    """A number longer than the bound names the bound and the way out (quoting it)."""
    project.write("version: 1\nrelease: " + "1" * (MAX_NUMBER_LENGTH + 1) + "\n")
    with pytest.raises(ConfigError) as caught:
        project.load()
    assert "quote it" in str(caught.value) and str(MAX_NUMBER_LENGTH) in str(caught.value)
    project.write("version: 1\nrelease: '" + "1" * 5000 + "'\n")
    assert project.load().release == "1" * 5000


ENV_CASES = {
    "SENTRY_TAGS nested 600 deep": ("SENTRY_TAGS", DEEP_OBJECT, "nested deeper than"),
    "SENTRY_DATA_COLLECTION lists 600 deep": ("SENTRY_DATA_COLLECTION",
                                              '{"a": ' + "[" * 600 + "]" * 600 + "}",
                                              "nested deeper than"),
    "SENTRY_IN_APP_INCLUDE of 20,001 items": ("SENTRY_IN_APP_INCLUDE",
                                              "[" + '"a",' * 20000 + '"a"]', "more than"),
    "SENTRY_SAMPLE_RATE of 400 digits": ("SENTRY_SAMPLE_RATE", "9" * 400, "between 0 and 1"),
}


@pytest.mark.parametrize("case", sorted(ENV_CASES))
def test_hostile_variable_is_a_problem_on_that_variable(project, case):
    """Each hostile variable is a problem naming the variable."""
    name, value, expected = ENV_CASES[case]
    project.write("version: 1\n")
    with pytest.raises(ConfigError) as caught:
        project.load({name: value})
    lines = [str(p) for p in caught.value.problems]
    assert any(line.startswith("env " + name + "=") and expected in line for line in lines), lines


def test_json_at_the_depth_bound_is_accepted(project):
    """The bound refuses only what no configuration holds: JSON nested to the limit loads."""
    depth = MAX_JSON_DEPTH - 1  # the tags object itself is one level
    value = '{"a": ' + '{"b": ' * (depth - 1) + "1" + "}" * depth
    project.write("version: 1\n")
    with pytest.raises(ConfigError) as caught:  # tags hold strings: a type error, not a bound
        project.load({"SENTRY_TAGS": value})
    assert "nested deeper" not in str(caught.value)


HOSTILE_VARIABLE_VALUES = ["9" * 5000, "-" + "9" * 400, "1e999", "nan", "\u00b9\u00b2", DEEP_OBJECT,
                           "[" * 600 + "]" * 600, "[" + "9" * 5000 + "]"]
HOSTILE_FILE_VALUES = ["9" * 400, "0x" + "f" * 5000, "'" + "9" * 5000 + "'", "-.inf", "'\u00b2'",
                       "[" + "9" * 5000 + "]"]


def _key_paths(tree, prefix=()):
    for key, sub in tree.items():
        yield prefix + (key,)
        if isinstance(sub, dict):
            for path in _key_paths(sub, prefix + (key,)):
                yield path


def _outcome(project, environ):
    try:
        project.load(environ)
    except ConfigError as error:
        assert error.problems
    # any other exception fails the test with its traceback


def test_every_variable_takes_hostile_values(project):
    """Every SENTRY_* variable of the model, given each hostile value: a config or a ConfigError."""
    project.write("version: 1\n")
    for name in known_names(key_tree()) + ["SENTRY_TAGS__X", "ENVIRONMENT"]:
        for value in HOSTILE_VARIABLE_VALUES:
            _outcome(project, {name: value})


def test_every_key_takes_hostile_values(project):
    """Every key of the model, at its place in the file, given each hostile value: a config or a
    ConfigError."""
    for path in _key_paths(key_tree()):
        if path == ("version",):
            continue
        for value in HOSTILE_FILE_VALUES:
            text = "version: 1\n" + "".join("  " * i + part + ":\n" for i, part in
                                             enumerate(path[:-1]))
            project.write(text + "  " * (len(path) - 1) + path[-1] + ": " + value + "\n")
            _outcome(project, {})


ISSUE_CASES = [
    ("version: 1\nsample_rate: " + "9" * 400 + "\n", {}, "sentry.yaml:2:14: sample_rate:"),
    ("version: 1\nmax_breadcrumbs: " + "9" * 5000 + "\n", {}, "sentry.yaml:2:18: max_breadcrumbs:"),
    ("version: 1\n", {"SENTRY_TAGS": DEEP_OBJECT}, "env SENTRY_TAGS="),
    # values the hook can't hand to child processes (it failed at putenv: "internal error")
    ('version: 1\nrelease: "a\\0b"\n', {}, "sentry.yaml:2:10: release: holds a NUL byte"),
    ("version: 1\nrelease: '" + "r" * (128 * 1024) + "'\n", {},
     "sentry.yaml:2:10: release: is 131072 bytes long, too long for child processes"),
    ("version: 1\ndsn: 'https://k@127.0.0.1/" + "1" * 5000 + "'\n", {},
     "sentry.yaml:2:6: dsn: must be a DSN like"),
]


@pytest.mark.parametrize("text,env,expected", ISSUE_CASES)
def test_check_answers_with_a_located_problem(tmp_path, text, env, expected):
    """`check` exits 1 with the located problem, no traceback (the cases of the report)."""
    write_config(tmp_path, text)
    result = cli("check", "--strict", cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and expected in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize("text,env,expected", ISSUE_CASES)
def test_hook_reports_the_located_problem_not_an_internal_error(tmp_path, text, env, expected):
    """The hook's line names where the problem is, and the program runs on."""
    write_config(tmp_path, text)
    result = run_python(["-c", "print('ran')"], cwd=str(tmp_path), env=env)
    assert result.stdout == "ran\n"
    assert "internal error" not in result.stderr and expected in result.stderr, result.stderr[-2000:]
