"""The model covers every data option of `sentry_sdk.init`, with the SDK's defaults."""
import sentry_sdk.consts

from sentry_bootstrap import sdk_compat
from sentry_bootstrap.config import model
from sentry_bootstrap.config.model import SDK_EXCLUDED, SECRET_PATHS, Settings


def test_every_sdk_option_is_modelled_or_excluded_with_a_reason():
    """A new option in DEFAULT_OPTIONS fails here until it is modelled or excluded on purpose."""
    fields = set(Settings.model_fields)
    missing = [name for name in sentry_sdk.consts.DEFAULT_OPTIONS
               if name not in fields and name not in SDK_EXCLUDED]
    assert missing == []
    assert all(reason.strip() for reason in SDK_EXCLUDED.values())
    stale = [name for name in SDK_EXCLUDED if name not in sentry_sdk.consts.DEFAULT_OPTIONS]
    if sdk_compat.is_sdk3():  # 3.x has no event_scrubber: the hook scrubs in an event processor
        stale = [name for name in stale if name != "event_scrubber"]
    assert stale == []


def test_excluded_options_that_share_a_name_are_our_sections():
    """An excluded option is only a model field when the bootstrap section replaces it."""
    assert set(SDK_EXCLUDED) & set(Settings.model_fields) == {"integrations"}


def test_defaults_match_the_sdk():
    """Each modelled SDK option defaults to the SDK's own default (as JSON)."""
    values = Settings().model_dump(mode="json")
    overridden = {"release", "integrations"}  # `auto` means "resolve it"; our own section
    differing = {}
    for name, default in sentry_sdk.consts.DEFAULT_OPTIONS.items():
        if name in SDK_EXCLUDED or name in overridden:
            continue
        sdk = sorted(default) if isinstance(default, (set, frozenset)) else default
        if values[name] != sdk:
            differing[name] = (values[name], sdk)
    if sdk_compat.is_sdk3():
        # Kept at 2.x's meaning on 3.x (docs/sdk-internals.md): no stack trace on messages, and
        # data_collection derived from send_default_pii when unset (sdk_compat.adapt_options).
        assert set(differing) == {"attach_stacktrace", "data_collection"}
        return
    assert differing == {}


def test_forbid_extra_at_every_level():
    """Every model class refuses unknown keys."""
    seen = set()

    def walk(cls):
        if cls in seen:
            return
        seen.add(cls)
        assert cls.model_config.get("extra") == "forbid", cls
        for field in cls.model_fields.values():
            sub = model._submodel(field.annotation)
            if sub is not None:
                walk(sub)

    walk(Settings)
    assert len(seen) > 20


def test_integration_options_match_sdk_signatures():
    """Option names of each integration section are parameters of that SDK integration."""
    import inspect

    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.integrations.redis import RedisIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    classes = {"django": DjangoIntegration, "flask": FlaskIntegration,
               "starlette": StarletteIntegration, "fastapi": FastApiIntegration,
               "celery": CeleryIntegration, "logging": LoggingIntegration,
               "redis": RedisIntegration}
    for name, cls in classes.items():
        params = set(inspect.signature(cls.__init__).parameters) - {"self"}
        section = model.Integrations.model_fields[name].annotation
        # On 3.x through sdk_compat's mapping (removed options dropped, logging's levels renamed).
        given = sdk_compat.integration_kwargs(name, dict.fromkeys(section.model_fields, 1), enable_logs=True)
        assert set(given) == params, name


def test_secret_paths_are_fields():
    """Every secret path names a real field, and overlay forms are secret too."""
    for path in SECRET_PATHS:
        node = Settings
        for part in path.split("."):
            assert part in node.model_fields, path
            node = model._submodel(node.model_fields[part].annotation) or node
    assert model.is_secret("environments.production.dsn")
    assert model.is_secret("diagnostics.endpoint.token")
    assert not model.is_secret("diagnostics.endpoint.path")


def test_json_schema_builds():
    """The model produces a JSON Schema (what `schema` and editors use)."""
    schema = Settings.model_json_schema()
    assert "dsn" in schema["properties"]
    assert schema["additionalProperties"] is False


def test_rate_accepts_strings_and_bounds():
    """Rates accept numeric strings (from variables) and refuse booleans and NaN."""
    import pytest
    from pydantic import ValidationError

    assert Settings(sample_rate="0.5").sample_rate == 0.5
    for bad in (True, "nan", -0.1, 2):
        with pytest.raises(ValidationError):
            Settings(sample_rate=bad)


def test_logging_levels_by_name_or_number():
    """Logging levels are written as names (any case) or numbers; names are kept upper case."""
    options = model.LoggingOptions(level="info", event_level=40, sentry_logs_level=None)
    assert (options.level, options.event_level, options.sentry_logs_level) == ("INFO", 40, None)
