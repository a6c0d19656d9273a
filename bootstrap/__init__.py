"""sentry-bootstrap: zero-code Sentry instrumentation driven by one `sentry.yaml`.

The hook imports this package on every interpreter start, so it imports nothing here: the public
helpers are loaded on first use (PEP 562), which keeps the switched-off path free of sentry_sdk.
"""

__version__ = "0.1.0"

__all__ = [
    "add_breadcrumb",
    "capture_errors",
    "capture_exception",
    "capture_message",
    "set_context",
    "set_tag",
    "set_tags",
    "set_transaction",
    "set_user",
    "with_sentry_context",
]

_HOMES = {
    "add_breadcrumb": "bootstrap.api",
    "capture_exception": "bootstrap.api",
    "capture_message": "bootstrap.api",
    "set_context": "bootstrap.api",
    "set_tag": "bootstrap.api",
    "set_tags": "bootstrap.api",
    "set_transaction": "bootstrap.api",
    "set_user": "bootstrap.api",
    "capture_errors": "bootstrap.decorators",
    "with_sentry_context": "bootstrap.decorators",
}


def __getattr__(name):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError("module 'bootstrap' has no attribute {!r}".format(name))
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
