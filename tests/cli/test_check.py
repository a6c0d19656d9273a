"""`sentry-bootstrap check`: exit codes, exact problem texts with locations, every environment, masking."""
import os

from tests.cli.helpers import cli, write_config
from tests.support.child import ROOT

SECRET = "supersecretkey0123"


def test_valid_file_prints_one_ok_line(tmp_path):
    """A valid file: exit 0 and `ok: <file> (environment <name>)` on stdout, nothing on stderr."""
    write_config(tmp_path, """\
        version: 1
        sample_rate: 0.5
        """)
    proc = cli("check", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0, "ok: sentry.yaml (environment development)\n", "")


def test_no_file_is_valid_and_says_so(tmp_path):
    """Without a file the defaults and variables are checked, and the ok line says no file was read."""
    proc = cli("check", cwd=tmp_path, env={"SENTRY_ENVIRONMENT": "staging"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("ok: no configuration file (defaults and environment variables) "
                           "(environment staging)\n")


def test_invalid_file_prints_every_problem_with_its_location(tmp_path):
    """Every problem of the file at once, one per line, `file:line:col: key: message`, exit 1."""
    write_config(tmp_path, """\
        version: 1
        sample_rate: 2
        integrations:
          celery:
            monitor_beat_task: true
        """)
    proc = cli("check", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        "sentry.yaml:2:14: sample_rate: must be a number between 0 and 1\n"
        "sentry.yaml:5:5: integrations.celery.monitor_beat_task: unknown key "
        "(did you mean 'monitor_beat_tasks'?)\n")


def test_variable_problem_names_the_variable_and_its_value(tmp_path):
    """A bad SENTRY_* value is reported as `env NAME='value': key: message`."""
    proc = cli("check", cwd=tmp_path, env={"SENTRY_TRACES_SAMPLE_RATE": "abc"})
    assert proc.returncode == 1
    assert proc.stderr == ("env SENTRY_TRACES_SAMPLE_RATE='abc': traces_sample_rate: "
                           "must be a number between 0 and 1\n")


def test_config_option_names_the_file(tmp_path):
    """`--config FILE` checks that file, wherever the command runs."""
    path = write_config(tmp_path, "version: 1\n", name="other.yaml")
    proc = cli("check", "--config", path, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ok: other.yaml (environment development)\n"


def test_env_option_close_to_an_overlay_warns_and_strict_refuses(tmp_path):
    """`--env prodution` next to a production overlay: ok on the base keys with a did-you-mean
    warning; with `--strict` the same is an error and exit 1."""
    write_config(tmp_path, """\
        version: 1
        environments:
          production: {}
          staging: {}
        """)
    proc = cli("check", "--env", "prodution", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "ok: sentry.yaml (environment prodution)\n")
    assert proc.stderr == (
        "warning: argument --env='prodution': environment: no overlay environments.prodution in "
        "sentry.yaml: the base keys apply (did you mean 'production'?)\n")
    strict = cli("check", "--strict", "--env", "prodution", cwd=tmp_path)
    assert (strict.returncode, strict.stdout) == (1, "")
    assert strict.stderr == (
        "argument --env='prodution': environment: no overlay environments.prodution in "
        "sentry.yaml (strict mode) (did you mean 'production'?)\n")


def test_all_environments_reports_each_environment(tmp_path):
    """--all-environments: an ok line per valid environment, the bad overlay's problems, exit 1."""
    write_config(tmp_path, """\
        version: 1
        environments:
          staging:
            sample_rate: 0.5
          production:
            sample_rate: 7
        """)
    assert cli("check", cwd=tmp_path).returncode == 0  # development alone is fine
    proc = cli("check", "--all-environments", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ("ok: sentry.yaml (environment development)\n"
                           "ok: sentry.yaml (environment staging)\n")
    assert proc.stderr == (
        "error: environment production: 1 problem\n"
        "sentry.yaml:6:18: environments.production.sample_rate: must be a number between 0 and 1\n")


def test_all_environments_prints_a_base_problem_once(tmp_path):
    """A problem in the base keys fails every environment but is printed once, then counted."""
    write_config(tmp_path, """\
        version: 1
        max_breadcrumbs: -1
        environments:
          production:
            debug: true
        """)
    proc = cli("check", "--all-environments", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        "error: environment as chosen: 1 problem\n"
        "sentry.yaml:2:18: max_breadcrumbs: must be at least 0\n"
        "error: environment production: 1 problem (1 shown above)\n")


def test_all_environments_on_an_unparsable_file(tmp_path):
    """A YAML syntax error stops --all-environments with the parser's location, exit 1."""
    write_config(tmp_path, "version: 1\ntags: [a\n")
    proc = cli("check", "--all-environments", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("sentry.yaml:3:1: invalid YAML:"), proc.stderr


def test_dsn_key_is_masked_in_problems(tmp_path):
    """The DSN's key never appears in check's output, from the file or from SENTRY_DSN."""
    write_config(tmp_path, """\
        version: 1
        dsn: https://{}@127.0.0.1
        sample_rate: 3
        """.format(SECRET))
    proc = cli("check", cwd=tmp_path)
    assert proc.returncode == 1
    assert "sentry.yaml:2:6: dsn: must be a DSN like" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr

    os.remove(str(tmp_path / "sentry.yaml"))
    proc = cli("check", cwd=tmp_path,
               env={"SENTRY_DSN": "https://{}@127.0.0.1/notanumber".format(SECRET)})
    assert proc.returncode == 1
    assert proc.stderr.startswith("env SENTRY_DSN='https://***@127.0.0.1/notanumber': dsn: ")
    assert SECRET not in proc.stdout + proc.stderr


def test_unknown_variable_close_to_a_key_warns_but_passes(tmp_path):
    """A misspelt SENTRY_* name is a did-you-mean warning on stderr; the check still passes."""
    proc = cli("check", cwd=tmp_path, env={"SENTRY_TRACES_SAMPLE_RAT": "0.5"})
    assert proc.returncode == 0
    assert proc.stderr.startswith("warning: env SENTRY_TRACES_SAMPLE_RAT: unknown variable")
    assert "SENTRY_TRACES_SAMPLE_RATE" in proc.stderr


def test_repository_examples_pass_in_every_environment():
    """The annotated sentry.yaml and the demo's examples/sentry.yaml pass check --all-environments."""
    for where, names in ((ROOT, ("development", "production", "staging")),
                         (os.path.join(ROOT, "examples"), ("development", "production"))):
        proc = cli("check", "--all-environments", cwd=where)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "".join(
            "ok: sentry.yaml (environment {})\n".format(n) for n in names)
        assert proc.stderr == ""


def test_group_writable_file_is_refused_with_the_fix(tmp_path):
    """check fails on a group-writable file and says the chmod that fixes it (0644 passes)."""
    path = write_config(tmp_path, "version: 1\n")
    os.chmod(path, 0o664)
    proc = cli("check", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == ("sentry.yaml: refused: the file is writable by its group (mode 664); its "
                           "module:function paths import code, so fix it with: chmod go-w "
                           "sentry.yaml\n")
    os.chmod(path, 0o644)
    assert cli("check", cwd=tmp_path).returncode == 0
