"""The exact text of each kind of configuration error, with its location, all in one pass."""
import pytest

from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.loader import load_config

from .conftest import problems_of


def fails(project, text, environ=None, **kwargs):
    if text is not None:
        project.write(text)
    with pytest.raises(ConfigError) as excinfo:
        project.load(environ, **kwargs)
    return problems_of(excinfo)


def test_unknown_key_with_suggestion(project):
    """A misspelt nested key points at the key and suggests the real one."""
    assert fails(project, """
        version: 1
        integrations:
          celery:
            monitor_beat_task: true
    """) == ["sentry.yaml:4:5: integrations.celery.monitor_beat_task: unknown key "
             "(did you mean 'monitor_beat_tasks'?)"]


def test_bad_rate_from_env(project):
    """A rate variable that isn't a number quotes the variable and its value."""
    assert fails(project, None, {"SENTRY_TRACES_SAMPLE_RATE": "abc"}) == [
        "env SENTRY_TRACES_SAMPLE_RATE='abc': traces_sample_rate: must be a number between 0 and 1"]


def test_rate_out_of_range_points_at_value(project):
    """An out-of-range rate in the file points at the value."""
    assert fails(project, "version: 1\nsample_rate: 1.5\n") == [
        "sentry.yaml:2:14: sample_rate: must be a number between 0 and 1"]


def test_every_problem_reported_at_once(project):
    """Problems from the file, the overlay and the variables come in one ConfigError."""
    assert fails(project, """
        version: 1
        max_breadcrumbs: lots
        environments:
          production:
            sample_rat: 0.5
    """, {"SENTRY_DEBUG": "maybe"}, env_name="production") == [
        "sentry.yaml:2:18: max_breadcrumbs: must be a whole number",
        "sentry.yaml:5:5: environments.production.sample_rat: unknown key "
        "(did you mean 'sample_rate'?)",
        "env SENTRY_DEBUG='maybe': debug: must be true or false",
    ]


def test_environment_close_to_an_overlay_is_an_error_in_strict_mode(project):
    """In strict mode an environment named like an overlay but not quite is refused, located at
    the variable that chose it, with the overlay it probably meant."""
    assert fails(project, """
        version: 1
        environments:
          production: {}
          staging: {}
    """, {"SENTRY_ENVIRONMENT": "prodution"}, strict=True) == [
        "env SENTRY_ENVIRONMENT='prodution': environment: no overlay environments.prodution in "
        "sentry.yaml (strict mode) (did you mean 'production'?)"]


def test_unknown_environment_without_overlays_is_fine(project):
    """With no overlay in the file, any environment name is accepted."""
    project.write("version: 1\n")
    assert project.load({"SENTRY_ENVIRONMENT": "anything"}).environment == "anything"


def test_overlay_may_not_set_environment(project):
    """An overlay setting `environment` is an error at that key."""
    assert fails(project, """
        version: 1
        environments:
          production:
            environment: prod
    """, env_name="production") == [
        "sentry.yaml:4:5: environments.production.environment: can't be set inside an overlay"]


def test_duplicate_key(project):
    """A key written twice is an error naming the first place it was set."""
    assert fails(project, """
        version: 1
        debug: true
        debug: false
    """) == ["sentry.yaml:3:1: debug: duplicate key (first set at line 2, column 1)"]


def test_python_tag_refused(project):
    """A `!!python/...` tag is refused with its location and builds nothing."""
    assert fails(project, """
        version: 1
        before_send: !!python/object/apply:os.system ["true"]
    """) == ["sentry.yaml:2:14: before_send: the YAML tag '!!python/object/apply:os.system' is "
             "not allowed (only plain values, lists and mappings)"]


def test_invalid_yaml(project):
    """A syntax error gives the parser's line and column."""
    assert fails(project, "version: 1\ntags: [a, b\n") == [
        "sentry.yaml:3:1: invalid YAML: did not find expected ',' or ']'"]


def test_file_must_be_a_mapping(project):
    """A document that is a list is refused."""
    assert fails(project, "- a\n- b\n") == [
        "sentry.yaml:1:1: the file must be a mapping of keys to values, not a list"]


def test_version_required(project):
    """A file with keys but no `version` is an error that says what to add."""
    assert fails(project, "debug: true\n") == [
        "sentry.yaml:1:1: version: required: add 'version: 1' at the top of the file"]


def test_empty_file_needs_no_version(project):
    """An empty file (or one with only comments) is valid and means defaults."""
    project.write("# nothing yet\n")
    assert project.load().get("enabled") is True


def test_newer_version(project):
    """A higher version names the version this release reads."""
    assert fails(project, "version: 2\n") == [
        "sentry.yaml:1:10: version: version 2 is newer than this release understands (it reads "
        "version 1); upgrade sentry-bootstrap"]


def test_callable_shape(project):
    """A callable option must be written `module:function`."""
    assert fails(project, "version: 1\nbefore_send: myapp.hooks.before_send\n") == [
        "sentry.yaml:2:14: before_send: must be a 'module:function' path"]


def test_unknown_integration_name(project):
    """A name in `integrations.disabled` must be a known integration; the nearest is suggested."""
    assert fails(project, "version: 1\nintegrations: {disabled: [redis, celerey]}\n") == [
        "sentry.yaml:2:34: integrations.disabled.1: unknown integration 'celerey' "
        "(did you mean 'celery'?)"]


def test_literal_choice(project):
    """A value outside a fixed set lists the accepted ones."""
    assert fails(project, "version: 1\nintegrations: {django: {transaction_style: path}}\n") == [
        "sentry.yaml:2:44: integrations.django.transaction_style: must be one of "
        "'url' or 'function_name'"]


def test_wrong_type_for_section(project):
    """A section given a scalar says it must be a mapping."""
    assert fails(project, "version: 1\nscrub: yes\n") == ["sentry.yaml:2:8: scrub: must be a mapping"]


def test_missing_required_field_in_list_item(project):
    """A list item missing a required key points at the item."""
    assert fails(project, "version: 1\ninstrument:\n  - context: svc\n") == [
        "sentry.yaml:3:5: instrument.0.target: required"]


def test_bad_regex_in_scrub(project):
    """A scrub pattern must compile."""
    assert fails(project, "version: 1\nscrub: {patterns: ['(']}\n") == [
        "sentry.yaml:2:20: scrub.patterns.0: not a valid regular expression: missing ), "
        "unterminated subpattern at position 0"]


def test_both_secret_forms(project, tmp_path):
    """Setting both SENTRY_DSN and SENTRY_DSN_FILE is an error; neither value is shown."""
    secret = tmp_path / "dsn.txt"
    secret.write_text("https://filekey@127.0.0.1/1\n")
    assert fails(project, None, {"SENTRY_DSN": "https://envkey@127.0.0.1/1",
                                 "SENTRY_DSN_FILE": str(secret)}) == [
        "env SENTRY_DSN_FILE='{}': dsn: both SENTRY_DSN and SENTRY_DSN_FILE are set; keep one"
        .format(secret)]


def test_unreadable_secret_file(project, tmp_path):
    """A `_FILE` variable naming a missing file says it can't be read."""
    missing = tmp_path / "nope"
    assert fails(project, None, {"SENTRY_DSN_FILE": str(missing)}) == [
        "env SENTRY_DSN_FILE='{}': dsn: can't read the file: No such file or directory".format(
            missing)]


def test_config_file_variable_missing(project):
    """SENTRY_CONFIG_FILE naming a missing file is an error."""
    assert fails(project, None, {"SENTRY_CONFIG_FILE": "conf/missing.yaml"}) == [
        "env SENTRY_CONFIG_FILE='conf/missing.yaml': configuration file conf/missing.yaml: "
        "not found"]


def test_bad_json_for_a_list(project):
    """A list variable starting with `[` must be valid JSON."""
    assert fails(project, None, {"SENTRY_IN_APP_INCLUDE": "[a, b"}) == [
        "env SENTRY_IN_APP_INCLUDE='[a, b': in_app_include: must be a JSON list (invalid JSON: "
        "Expecting value: line 1 column 2 (char 1))"]


def test_release_format_placeholder(project):
    """An unknown placeholder in a release format lists the known ones."""
    assert fails(project, "version: 1\nrelease: 'app@{commit}'\n") == [
        "sentry.yaml:2:10: release: unknown placeholder '{commit}' (use {branch}, {sha}, "
        "{short_sha}, {tag}, {version}; double a brace for a literal one)"]


def test_dsn_key_never_in_errors_from_env(project):
    """An invalid DSN in a variable is reported with its key masked."""
    lines = fails(project, None, {"SENTRY_DSN": "https://topsecretkey@127.0.0.1/notanumber"})
    assert lines == ["env SENTRY_DSN='https://***@127.0.0.1/notanumber': dsn: must be a DSN like "
                     "'https://<key>@<host>/<project id>'"]
    assert "topsecretkey" not in "\n".join(lines)


def test_secrets_never_in_errors_from_file(project):
    """Secret values from the file (a keyless DSN, a token) never appear in any error text."""
    lines = fails(project, """
        version: 1
        dsn: topsecretvalue
        diagnostics: {endpoint: {token: tokenvalue123, enabled: maybe}}
    """)
    text = "\n".join(lines)
    assert "topsecretvalue" not in text and "tokenvalue123" not in text
    assert lines[0] == ("sentry.yaml:2:6: dsn: must be a DSN like "
                        "'https://<key>@<host>/<project id>'")


def test_explicit_config_file_argument_missing(tmp_path):
    """An explicit `config_file` that doesn't exist is an error naming the flag."""
    with pytest.raises(ConfigError) as excinfo:
        load_config(environ={}, cwd=str(tmp_path), config_file="x.yaml")
    assert problems_of(excinfo) == ["--config 'x.yaml': configuration file x.yaml: not found"]
