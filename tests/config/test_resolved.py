"""Defaults written once: the validated values hand out every section complete, the cache keeps
them so, and the numbers code outside the model needs come from config/defaults.py."""
import marshal

from sentry_bootstrap.config import defaults
from sentry_bootstrap.config.loader import load_config
from sentry_bootstrap.config.model import Settings
from sentry_bootstrap.config.resolved import ResolvedConfig


def _sections(model_cls):
    return {name for name, field in model_cls.model_fields.items()
            if isinstance(field.annotation, type) and hasattr(field.annotation, "model_fields")}


def test_every_section_is_complete_after_a_cache_round_trip(tmp_path):
    """A ResolvedConfig read back from the cache's format (marshal, no pydantic) holds each section
    with every key of its model, defaults included: code indexes it and restates nothing."""
    (tmp_path / "sentry.yaml").write_text("version: 1\nspool:\n  max_age: 60\n")
    (tmp_path / "sentry.yaml").chmod(0o600)
    resolved = load_config(environ={}, cwd=str(tmp_path))
    back = ResolvedConfig.from_data(marshal.loads(marshal.dumps(resolved.to_data())))
    sections = _sections(Settings)
    assert {"spool", "outbox", "diagnostics", "context", "processes", "scrub"} <= sections
    for name in sections:
        model = Settings.model_fields[name].annotation
        assert set(back.section(name)) >= set(model.model_fields), name
    assert back.section("spool") == {"path": None, "max_bytes": defaults.SPOOL_MAX_BYTES,
                                     "max_age": 60, "write_ahead": False}
    assert back.section("outbox")["max_bytes"] == defaults.OUTBOX_MAX_BYTES
    assert back.values["diagnostics"]["endpoint"]["path"] == defaults.ENDPOINT_PATH


def test_the_model_declares_its_defaults_from_the_one_place():
    """The model's defaults are config/defaults.py's numbers (the transport uses the same names)."""
    from sentry_bootstrap.transport import outbox, spool

    settings = Settings()
    assert settings.spool.max_bytes == defaults.SPOOL_MAX_BYTES
    assert settings.spool.max_age == defaults.SPOOL_MAX_AGE
    assert settings.outbox.max_bytes == defaults.OUTBOX_MAX_BYTES
    assert settings.diagnostics.endpoint.path == defaults.ENDPOINT_PATH
    assert tuple(settings.context.user_fields) == defaults.CONTEXT_USER_FIELDS
    assert settings.context.request_id_header == defaults.CONTEXT_REQUEST_ID_HEADER
    assert outbox.DEFAULT_MAX_BYTES == defaults.OUTBOX_MAX_BYTES
    assert not hasattr(spool, "DEFAULT_MAX_BYTES") and not hasattr(spool, "DEFAULT_MAX_AGE")
