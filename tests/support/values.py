"""Validated values as the hook's code receives them (`ResolvedConfig.values`: every section
complete, the model's defaults included), with some keys set for a test."""


def validated(**keys):
    """The values of an empty configuration, with `keys` merged in (mappings deep-merged)."""
    from sentry_bootstrap.config.model import Settings

    values = Settings().model_dump(mode="json")
    _merge(values, keys)
    return values


def _merge(into, keys):
    for name, value in keys.items():
        if isinstance(value, dict) and isinstance(into.get(name), dict):
            _merge(into[name], value)
        else:
            into[name] = value
