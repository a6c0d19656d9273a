"""SENTRY_* variables: legacy names, the general `__` rule, JSON, `_FILE` secrets, warnings."""
import pytest

from tests.support.collecting import sdk3_refuses

from sentry_bootstrap.config.env_source import resolve_name
from sentry_bootstrap.config.model import key_tree

TREE = key_tree()


@pytest.mark.parametrize("name, value, path, expected", [
    ("SENTRY_DSN", "https://k@127.0.0.1/1", "dsn", "https://k@127.0.0.1/1"),
    ("SENTRY_RELEASE", "app@1.2", "release", "app@1.2"),
    ("SENTRY_SAMPLE_RATE", "0.5", "sample_rate", 0.5),
    ("SENTRY_TRACES_SAMPLE_RATE", "0.25", "traces_sample_rate", 0.25),
    ("SENTRY_PROFILES_SAMPLE_RATE", "1", "profiles_sample_rate", 1.0),
    ("SENTRY_DEBUG", "1", "debug", True),
])
def test_legacy_names(project, name, value, path, expected):
    """The variable names in use today set their keys."""
    if sdk3_refuses(path):
        pytest.skip("sentry-sdk 3 removed {}: a located error there".format(path))
    resolved = project.load({name: value})
    assert resolved.get(path) == expected
    assert resolved.source(path) == "env " + name


def test_legacy_environment_selects_environment(project):
    """SENTRY_ENVIRONMENT is both the environment value and the overlay choice."""
    assert project.load({"SENTRY_ENVIRONMENT": "production"}).get("environment") == "production"


def test_general_rule_nested_and_map_keys(project):
    """`__` separates levels; a map section takes any key (lower-cased)."""
    resolved = project.load({"SENTRY_TAGS__TEAM": "payments",
                             "SENTRY_DIAGNOSTICS__ENDPOINT__ENABLED": "true",
                             "SENTRY_CONTEXT__REQUEST_ID_HEADER": "X-Trace"})
    assert resolved.get("tags") == {"team": "payments"}
    assert resolved.get("diagnostics.endpoint.enabled") is True
    assert resolved.get("context.request_id_header") == "X-Trace"


def test_lists_as_json_or_commas(project):
    """A list variable takes JSON or a comma-separated string."""
    resolved = project.load({"SENTRY_IN_APP_INCLUDE": '["a", "b"]',
                             "SENTRY_IN_APP_EXCLUDE": "c, d,",
                             "SENTRY_INTEGRATIONS__DISABLED": "redis,celery"})
    assert resolved.get("in_app_include") == ["a", "b"]
    assert resolved.get("in_app_exclude") == ["c", "d"]
    assert resolved.get("integrations.disabled") == ["redis", "celery"]


def test_map_as_json(project):
    """A map variable takes a JSON object."""
    resolved = project.load({"SENTRY_TAGS": '{"team": "a", "tier": "web"}'})
    assert resolved.get("tags") == {"team": "a", "tier": "web"}


def test_secret_from_file(project, tmp_path):
    """`SENTRY_DSN_FILE` reads the DSN from a file, without its trailing newline."""
    secret = tmp_path / "dsn"
    secret.write_text("https://abc@127.0.0.1:9000/42\n")
    resolved = project.load({"SENTRY_DSN_FILE": str(secret)})
    assert resolved.get("dsn") == "https://abc@127.0.0.1:9000/42"
    assert resolved.sources["dsn"] == "env SENTRY_DSN_FILE"


def test_key_ending_in_file_is_a_key_not_a_file_form(project):
    """`SENTRY_CERT_FILE` sets the `cert_file` option; `SENTRY_CERT_FILE_FILE` reads it from a file."""
    assert project.load({"SENTRY_CERT_FILE": "/etc/ssl/c.pem"}).get("cert_file") == "/etc/ssl/c.pem"


def test_switches_and_foreign_variables_are_left_alone(project):
    """The hook's switches and other tools' variables are neither errors nor warnings."""
    resolved = project.load({"SENTRY_BOOTSTRAP_LOG": "debug", "SENTRY_AUTH_TOKEN": "t0ken",
                             "SENTRY_ORG": "acme", "SENTRY_PROJECT": "web",
                             "SENTRY_KEEP_ALIVE": "nonsense", "SENTRY_URL": "http://x.invalid"})
    assert resolved.warnings == []
    assert resolved.get("keep_alive") is None


def test_near_miss_gets_did_you_mean_warning(project):
    """An unknown name close to a real one is a warning with the suggestion, not an error."""
    resolved = project.load({"SENTRY_TRACES_SAMPLERATE": "0.5",
                             "SENTRY_INTEGRATIONS__CELERY__MONITOR_BEAT_TASK": "true"})
    assert resolved.warnings == [
        "env SENTRY_INTEGRATIONS__CELERY__MONITOR_BEAT_TASK: unknown variable, ignored "
        "(did you mean 'SENTRY_INTEGRATIONS__CELERY__MONITOR_BEAT_TASKS'?)",
        "env SENTRY_TRACES_SAMPLERATE: unknown variable, ignored "
        "(did you mean 'SENTRY_TRACES_SAMPLE_RATE'?)",
    ]
    assert resolved.get("traces_sample_rate") is None


def test_unrelated_sentry_name_is_silent(project):
    """A SENTRY_* name far from every key (another tool's) is ignored silently."""
    assert project.load({"SENTRY_SOMETHING_ELSE_ENTIRELY": "x"}).warnings == []


def test_double_underscore_name_that_matches_nothing_warns(project):
    """A `__` name is clearly meant for the hook: when it matches no key, a warning says so."""
    assert project.load({"SENTRY_SCRUB__QWERTYUIOP": "x"}).warnings == [
        "env SENTRY_SCRUB__QWERTYUIOP: no configuration key has this name, ignored"]


@pytest.mark.parametrize("name, path", [
    ("SENTRY_DSN", ("dsn",)),
    ("SENTRY_TAGS__TEAM", ("tags", "team")),
    ("SENTRY_INTEGRATIONS__CELERY", ("integrations", "celery")),
    ("SENTRY_ENVIRONMENTS__PRODUCTION__DEBUG", None),
    ("SENTRY_VERSION", None),
    ("SENTRY_DSN__X", None),
    ("SENTRY_TAGS__A__B", None),
    ("SENTRY_", None),
    ("SENTRY___DSN", None),
])
def test_name_to_path(name, path):
    """Variable names map to key paths by the `__` rule; overlays and the version are not settable."""
    assert resolve_name(name, TREE) == path
