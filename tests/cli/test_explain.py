"""`sentry-bootstrap explain`: every effective value with its source, as text or one JSON object."""
import json
import os

from sentry_bootstrap.config.model import Integrations
from tests.cli.helpers import cli, write_config
from tests.support.git import make_git_repo

SECRET = "supersecretkey0123"

CONFIG = """\
    version: 1
    sample_rate: 0.5
    release: shop@1.2.3
    integrations:
      disabled: [redis]
      celery:
        monitor_beat_tasks: true
    environments:
      production:
        sample_rate: 1.0
        tags: {tier: prod}
    """


def explain_json(*args, cwd, env=None):
    proc = cli("explain", "--json", *args, cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_json_maps_each_leaf_path_to_value_and_source(tmp_path):
    """One object: dotted leaf path -> {value, source}, with default, file:line:col, overlay and env sources."""
    write_config(tmp_path, CONFIG)
    out = explain_json("--env", "production", cwd=tmp_path,
                       env={"SENTRY_TRACES_SAMPLE_RATE": "0.2"})
    assert out["max_breadcrumbs"] == {"value": 100, "source": "default"}
    assert out["release"] == {"value": "shop@1.2.3", "source": "sentry.yaml:3:1"}
    assert out["integrations.celery.monitor_beat_tasks"] == {"value": True,
                                                             "source": "sentry.yaml:7:5"}
    assert out["integrations.disabled"] == {"value": ["redis"], "source": "sentry.yaml:5:3"}
    assert out["sample_rate"] == {"value": 1.0,
                                  "source": "sentry.yaml:10:5 (environments.production)"}
    assert out["tags.tier"] == {"value": "prod",
                                "source": "sentry.yaml:11:12 (environments.production)"}
    assert out["traces_sample_rate"] == {"value": 0.2, "source": "env SENTRY_TRACES_SAMPLE_RATE"}
    assert out["environment"] == {
        "value": "production",
        "source": "argument --env; overlay environments.production at sentry.yaml:9:3"}
    # Leaves only: no value is a non-empty mapping, and every entry has exactly the two keys.
    assert all(set(e) == {"value", "source"} for e in out.values())
    assert not any(isinstance(e["value"], dict) and e["value"] for e in out.values())
    assert "integrations" not in out and "integrations.celery" not in out
    assert "environments" not in out


def test_release_source_is_the_resolvers_description(tmp_path):
    """With `release: auto` in a git checkout, the release's source says git and where HEAD is."""
    sha = make_git_repo(tmp_path / "repo", {"sentry.yaml": "version: 1\nrelease: auto\n"})
    os.chmod(str(tmp_path / "repo" / "sentry.yaml"), 0o644)
    out = explain_json("release", cwd=tmp_path / "repo")
    assert out == {"release": {"value": sha,
                               "source": "git (HEAD at {})".format(tmp_path / "repo")}}


def test_text_form_aligns_key_value_and_source(tmp_path):
    """`explain KEY` prints the key and its children as aligned `key = value  (source)` lines."""
    write_config(tmp_path, CONFIG)
    proc = cli("explain", "integrations.celery", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "# " + Integrations.model_fields["celery"].description + "\n"
        "integrations.celery.propagate_traces   = true  (default)\n"
        "integrations.celery.monitor_beat_tasks = true  (sentry.yaml:7:5)\n"
        "integrations.celery.exclude_beat_tasks = null  (default)\n")


def test_without_key_every_value_is_shown(tmp_path):
    """Without KEY the text form has one line per leaf, the same paths as the JSON form."""
    write_config(tmp_path, CONFIG)
    text = cli("explain", cwd=tmp_path).stdout.splitlines()
    paths = [line.split(" = ", 1)[0].rstrip() for line in text]
    assert paths == list(explain_json(cwd=tmp_path))
    assert len({line.index(" = ") for line in text}) == 1  # one column for every `=`
    line = next(line for line in text if line.startswith("sample_rate "))
    assert line.split(" = ", 1)[1] == "0.5  (sentry.yaml:2:1)"


def test_unknown_key_is_an_error_with_did_you_mean(tmp_path):
    """An unknown KEY exits 2 and suggests the nearest key path."""
    proc = cli("explain", "integrations.celery.monitor_beat_task", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == ("error: unknown key 'integrations.celery.monitor_beat_task' "
                           "(did you mean 'integrations.celery.monitor_beat_tasks'?)\n")


def test_config_error_is_reported_like_check(tmp_path):
    """explain on an invalid file prints its problems and exits 1."""
    write_config(tmp_path, "version: 1\nsample_rate: x\n")
    proc = cli("explain", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == "sentry.yaml:2:14: sample_rate: must be a number between 0 and 1\n"


def test_secrets_are_masked_in_both_forms(tmp_path):
    """The DSN shows as https://***@host/id; every other secret field's value as ***."""
    write_config(tmp_path, """\
        version: 1
        dsn: https://{secret}@127.0.0.1/42
        http_proxy: http://user:{secret}@127.0.0.1:3128
        proxy_headers: {{Proxy-Authorization: Basic {secret}}}
        diagnostics:
          endpoint: {{token: {secret}}}
        """.format(secret=SECRET))
    out = explain_json(cwd=tmp_path)
    assert out["dsn"] == {"value": "https://***@127.0.0.1/42", "source": "sentry.yaml:2:1"}
    assert out["http_proxy"]["value"] == "***"
    assert out["proxy_headers.Proxy-Authorization"]["value"] == "***"
    assert out["diagnostics.endpoint.token"]["value"] == "***"
    assert out["https_proxy"]["value"] is None  # unset secrets stay null
    text = cli("explain", cwd=tmp_path)
    assert text.returncode == 0
    assert 'dsn ' in text.stdout and '"https://***@127.0.0.1/42"' in text.stdout
    for proc_output in (json.dumps(out), text.stdout, text.stderr):
        assert SECRET not in proc_output


def test_dsn_from_the_environment_is_masked(tmp_path):
    """SENTRY_DSN's key is masked too, and its source names the variable."""
    out = explain_json("dsn", cwd=tmp_path,
                       env={"SENTRY_DSN": "http://{}@127.0.0.1:9000/7".format(SECRET)})
    assert out == {"dsn": {"value": "http://***@127.0.0.1:9000/7", "source": "env SENTRY_DSN"}}


def test_explain_says_when_no_overlay_applies(tmp_path):
    """An environment without an overlay: `explain environment` says the base keys apply."""
    write_config(tmp_path, """\
        version: 1
        environments:
          production: {}
        """)
    proc = cli("explain", "environment", cwd=tmp_path, env={"ENVIRONMENT": "staging"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == (
        'environment = "staging"  (env ENVIRONMENT; no overlay environments.staging in '
        'sentry.yaml: the base keys apply)')


def test_explain_release_says_what_was_tried(tmp_path):
    """With no git, no CI variable and no package version, `explain release` names each place tried."""
    write_config(tmp_path, "version: 1\n")
    proc = cli("explain", "release", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == (
        "release = null  (none (tried: git at {}: none, CI variables: none, package version: "
        "none))".format(os.path.realpath(str(tmp_path))))
