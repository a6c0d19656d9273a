"""The configuration reference (docs/configuration.md) is generated from the model and stays in step
with it."""
import os
import shutil

from sentry_bootstrap import _env
from sentry_bootstrap.config import reference
from sentry_bootstrap.config.model import Settings
from tests.support.child import ROOT, run_python

REFERENCE = os.path.join(ROOT, "docs", "configuration.md")
COMMAND = "python -m sentry_bootstrap.config.reference --write docs/configuration.md"


def test_readme_block_matches_the_model():
    """docs/configuration.md between the config-reference markers is exactly what the generator writes now."""
    with open(REFERENCE, encoding="utf-8") as f:
        block = reference.current_block(f.read())
    assert block is not None, "docs/configuration.md lacks the config-reference markers"
    assert block == reference.markdown(), (
        "docs/configuration.md is out of date: run `{}`".format(COMMAND))


def test_every_key_has_a_description():
    """Every key path of the model, nested ones included, has a description."""
    missing = [key.path for key in reference.keys() if not key.description]
    assert missing == [], "add Field(description=...) in bootstrap/sentry_bootstrap/config/model.py"


def test_every_key_path_has_a_row():
    """The key table has one row per key path, each top-level field and section key among them."""
    table = reference.key_table()
    for name in Settings.model_fields:
        assert "| `{}` |".format(name) in table
    for path in ("integrations.celery.monitor_beat_tasks", "instrument[].monitor.slug",
                 "diagnostics.endpoint.token", "data_collection.cookies.mode"):
        assert "| `{}` |".format(path) in table
    rows = [line for line in table.splitlines()[2:]]
    assert len(rows) == len(reference.keys()) == len({r.split(" | ")[0] for r in rows})


def test_descriptions_come_from_the_model_fields():
    """The reference, the schema and explain read a key's description from its model field."""
    from sentry_bootstrap.config import model, schema

    field = model.Settings.model_fields["sample_rate"]
    assert field.description and field.description in reference.key_table()
    assert schema.json_schema()["properties"]["sample_rate"]["description"] == field.description
    assert reference.describe("sample_rate") == field.description
    assert reference.describe("instrument.0.monitor.slug") == \
        model.Monitor.model_fields["slug"].description
    assert not hasattr(reference, "DESCRIPTIONS")


def test_environment_table_lists_legacy_names_switches_and_foreign_variables():
    """The variables table names every legacy variable, the hook's switches and other tools' variables."""
    table = reference.env_table()
    for name in list(_env.LEGACY) + [_env.ENVIRONMENT_FALLBACK, _env.CONFIG_FILE, _env.DISABLED,
                                     _env.STRICT, _env.LOG, "SENTRY_AUTH_TOKEN", "SENTRY_ORG"]:
        assert "`{}`".format(name) in table, name
    assert "SENTRY_INTEGRATIONS__CELERY__MONITOR_BEAT_TASKS=true" in table
    assert "SENTRY_DSN_FILE" in table


def test_types_and_defaults_are_readable():
    """Types and defaults are rendered from the model: rates, callables, literals, lists, sections."""
    rows = {key.path: key for key in reference.keys()}
    assert (rows["sample_rate"].type_text, rows["sample_rate"].default_text) == ("number 0-1", "`1.0`")
    assert rows["before_send"].type_text == "`module:function`"
    assert rows["processes.children"].type_text == "one of `inherit`, `none`"
    assert rows["max_breadcrumbs"].type_text == "integer ≥ 0"
    assert rows["context.user_fields"].default_text == '`["id", "username", "email"]`'
    assert (rows["integrations"].type_text, rows["integrations"].default_text) == ("section", "")
    assert rows["instrument[].monitor.slug"].default_text == "required"


def test_write_rewrites_only_the_block_between_the_markers(tmp_path):
    """`--write` replaces the text between the markers and keeps everything around it."""
    target = tmp_path / "README.md"
    shutil.copy(REFERENCE, str(target))
    text = target.read_text(encoding="utf-8")
    stale = reference.replace_block(text, "stale\n")
    target.write_text("intro\n" + stale + "outro\n", encoding="utf-8")
    proc = run_python(["-m", "sentry_bootstrap.config.reference", "--write", str(target)], hook=False,
                      env={"PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr
    assert target.read_text(encoding="utf-8") == "intro\n" + text + "outro\n"


def test_write_without_markers_fails_and_leaves_the_file(tmp_path):
    """A file without the markers is an error (exit 1) and is not changed."""
    target = tmp_path / "README.md"
    target.write_text("# no markers\n")
    proc = run_python(["-m", "sentry_bootstrap.config.reference", "--write", str(target)], hook=False,
                      env={"PYTHONPATH": ROOT})
    assert proc.returncode == 1
    assert "markers" in proc.stderr
    assert target.read_text() == "# no markers\n"
