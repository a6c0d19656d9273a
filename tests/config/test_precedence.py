"""Each pair of sources in the precedence chain: defaults < file < overlay < environment variables."""
from sentry_bootstrap.config.loader import load_config


def test_default_when_nothing_sets_a_key(project):
    """With no file and no variable, a key has the SDK's default and the source `default`."""
    resolved = project.load()
    assert resolved.get("sample_rate") == 1.0
    assert resolved.get("max_breadcrumbs") == 100
    assert resolved.source("sample_rate") == "default"
    assert resolved.config_file is None


def test_file_beats_default(project):
    """A base key in the file replaces the default and records its line and column."""
    project.write("""
        version: 1
        sample_rate: 0.25
    """)
    resolved = project.load()
    assert resolved.get("sample_rate") == 0.25
    assert resolved.sources["sample_rate"] == "sentry.yaml:2:1"


def test_overlay_beats_file(project):
    """The active overlay's value replaces the file's base value and names the overlay."""
    project.write("""
        version: 1
        sample_rate: 0.25
        environments:
          production:
            sample_rate: 0.75
    """)
    resolved = project.load(env_name="production")
    assert resolved.get("sample_rate") == 0.75
    assert resolved.sources["sample_rate"] == "sentry.yaml:5:5 (environments.production)"


def test_env_beats_overlay(project):
    """A SENTRY_* variable replaces the active overlay's value."""
    project.write("""
        version: 1
        environments:
          production:
            sample_rate: 0.75
    """)
    resolved = project.load({"SENTRY_SAMPLE_RATE": "0.5"}, env_name="production")
    assert resolved.get("sample_rate") == 0.5
    assert resolved.sources["sample_rate"] == "env SENTRY_SAMPLE_RATE"


def test_env_beats_file(project):
    """A SENTRY_* variable replaces the file's base value."""
    project.write("""
        version: 1
        debug: false
    """)
    resolved = project.load({"SENTRY_DEBUG": "true"})
    assert resolved.get("debug") is True
    assert resolved.sources["debug"] == "env SENTRY_DEBUG"


def test_env_beats_default(project):
    """With no file, a nested SENTRY_<PATH> variable sets its key."""
    resolved = project.load({"SENTRY_INTEGRATIONS__CELERY__MONITOR_BEAT_TASKS": "true"})
    assert resolved.get("integrations.celery.monitor_beat_tasks") is True
    assert resolved.source("integrations.celery.monitor_beat_tasks") == \
        "env SENTRY_INTEGRATIONS__CELERY__MONITOR_BEAT_TASKS"


def test_overlay_maps_deep_merge(project):
    """An overlay's mapping merges key by key into the base mapping."""
    project.write("""
        version: 1
        tags: {team: payments, tier: web}
        environments:
          production:
            tags: {tier: api}
    """)
    resolved = project.load(env_name="production")
    assert resolved.get("tags") == {"team": "payments", "tier": "api"}
    assert resolved.sources["tags.team"] == "sentry.yaml:2:8"
    assert resolved.sources["tags.tier"] == "sentry.yaml:5:12 (environments.production)"


def test_overlay_lists_replace(project):
    """An overlay's list replaces the base list whole."""
    project.write("""
        version: 1
        in_app_include: [a, b]
        environments:
          production:
            in_app_include: [c]
    """)
    assert project.load(env_name="production").get("in_app_include") == ["c"]


def test_overlay_null_resets_to_default(project):
    """`null` in an overlay puts the model's default back, whatever the base said."""
    project.write("""
        version: 1
        max_breadcrumbs: 5
        environments:
          production:
            max_breadcrumbs: null
    """)
    resolved = project.load(env_name="production")
    assert resolved.get("max_breadcrumbs") == 100
    assert resolved.sources["max_breadcrumbs"] == \
        "sentry.yaml:5:5 (environments.production); null: the default"


def test_empty_variable_resets_to_default(project):
    """An empty SENTRY_* variable resets the key to its default, as `null` does."""
    project.write("""
        version: 1
        max_breadcrumbs: 5
    """)
    assert project.load({"SENTRY_MAX_BREADCRUMBS": ""}).get("max_breadcrumbs") == 100


def test_env_json_section_merges_with_file(project):
    """A JSON object in a section variable deep-merges over the file's section."""
    project.write("""
        version: 1
        integrations:
          celery: {propagate_traces: false}
    """)
    resolved = project.load({"SENTRY_INTEGRATIONS__CELERY": '{"monitor_beat_tasks": true}'})
    assert resolved.get("integrations.celery") == {
        "propagate_traces": False, "monitor_beat_tasks": True, "exclude_beat_tasks": None}


def test_active_environment_argument_beats_variables(project):
    """`--env` beats SENTRY_ENVIRONMENT when choosing the overlay, and is the result's environment."""
    project.write("""
        version: 1
        environments:
          staging: {sample_rate: 0.1}
          production: {sample_rate: 0.9}
    """)
    resolved = project.load({"SENTRY_ENVIRONMENT": "production"}, env_name="staging")
    assert (resolved.environment, resolved.get("environment")) == ("staging", "staging")
    assert resolved.get("sample_rate") == 0.1
    assert resolved.sources["environment"] == "argument --env"


def test_sentry_environment_beats_environment(project):
    """SENTRY_ENVIRONMENT beats the generic ENVIRONMENT variable."""
    resolved = project.load({"SENTRY_ENVIRONMENT": "production", "ENVIRONMENT": "staging"})
    assert resolved.environment == "production"
    assert resolved.sources["environment"] == "env SENTRY_ENVIRONMENT"


def test_environment_variable_beats_file_environment(project):
    """The generic ENVIRONMENT variable beats the file's `environment:` key."""
    project.write("""
        version: 1
        environment: staging
    """)
    resolved = project.load({"ENVIRONMENT": "qa"})
    assert resolved.environment == "qa"
    assert resolved.sources["environment"] == "env ENVIRONMENT"


def test_file_environment_selects_overlay(project):
    """The file's `environment:` key selects the overlay when no variable does."""
    project.write("""
        version: 1
        environment: staging
        environments:
          staging: {debug: true}
    """)
    resolved = project.load()
    assert resolved.environment == "staging"
    assert resolved.get("debug") is True


def test_environment_defaults_to_development(project):
    """Nothing choosing the environment gives `development`, even when no overlay has that name."""
    project.write("""
        version: 1
        environments:
          production: {debug: true}
    """)
    resolved = project.load()
    assert resolved.environment == "development"
    assert resolved.get("debug") is None
    assert resolved.sources["environment"] == "default"


def test_yaml_no_stays_a_string_environment(project):
    """YAML 1.2 booleans: `environment: no` is the environment named "no"."""
    project.write("""
        version: 1
        environment: no
        debug: yes
    """)
    resolved = project.load()
    assert resolved.environment == "no"
    assert resolved.get("debug") is True


def test_values_are_plain_json_without_overlays(project):
    """`values` holds every model key as plain JSON, minus the consumed `environments` section."""
    import json

    from sentry_bootstrap.config.model import Settings

    project.write("""
        version: 1
        environments:
          production: {debug: true}
    """)
    values = project.load().values
    assert "environments" not in values
    expected = set(Settings.model_fields) - {"environments"}
    assert set(values) == expected
    assert json.loads(json.dumps(values)) == values


def test_config_file_variable_beats_discovery(project, tmp_path):
    """SENTRY_CONFIG_FILE names the file even when the working directory has a sentry.yaml."""
    project.write("version: 1\nsample_rate: 0.1\n")
    other = project.write("version: 1\nsample_rate: 0.2\n", name="other.yaml")
    resolved = load_config(environ={"SENTRY_CONFIG_FILE": str(other)}, cwd=str(tmp_path))
    assert resolved.get("sample_rate") == 0.2
    assert resolved.config_file == str(other)
    assert resolved.sources["sample_rate"] == "other.yaml:2:1"


def test_file_outside_cwd_is_named_by_absolute_path(project, tmp_path):
    """A file outside the working directory appears under its absolute path in sources."""
    target = project.write("version: 1\nsample_rate: 0.2\n")
    elsewhere = tmp_path / "sub"
    elsewhere.mkdir()
    resolved = load_config(environ={"SENTRY_CONFIG_FILE": str(target)}, cwd=str(elsewhere))
    assert resolved.sources["sample_rate"] == "{}:2:1".format(target)


def test_parent_resolved_config_skips_discovery(project, tmp_path):
    """SENTRY_BOOTSTRAP_CONFIG_RESOLVED set by a parent wins over discovery; "" means no file."""
    project.write("version: 1\nsample_rate: 0.1\n")
    other = project.write("version: 1\nsample_rate: 0.2\n", name="parent.yaml")
    assert project.load({"SENTRY_BOOTSTRAP_CONFIG_RESOLVED": ""}).config_file is None
    chosen = project.load({"SENTRY_BOOTSTRAP_CONFIG_RESOLVED": str(other)})
    assert chosen.get("sample_rate") == 0.2


def test_known_environments_lists_overlays(project):
    """`known_environments` returns the overlay names, for checking every environment."""
    from sentry_bootstrap.config.loader import known_environments

    project.write("version: 1\nenvironments: {staging: {}, production: {debug: true}}\n")
    assert known_environments(environ={}, cwd=str(project.path)) == ["production", "staging"]


def test_relative_outbox_and_spool_paths_start_at_the_config_file(tmp_path):
    """`outbox.path: events` means <config dir>/events wherever the process runs."""
    import os

    from sentry_bootstrap.config.loader import load_config

    (tmp_path / "sentry.yaml").write_text("version: 1\noutbox:\n  path: events\nspool:\n  path: ~/spool\n")
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    resolved = load_config(environ={"SENTRY_CONFIG_FILE": str(tmp_path / "sentry.yaml")}, cwd=str(elsewhere))
    assert resolved.get("outbox.path") == str(tmp_path / "events")
    assert resolved.get("spool.path") == os.path.join(os.path.expanduser("~"), "spool")
