"""The `sentry_sdk.init` keyword arguments a configuration asks for.

`sdk_options(values)` is shared by the hook (`activation.activate`) and `sentry-bootstrap test`
(`diagnostics.sample_event`), so both build the client the same way. Callable options are imported
from their `module:function` path here, on the program's own path.
"""
import os

# SDK options that take a callable; the file gives them as "module:function".
CALLABLE_OPTIONS = frozenset({
    "before_send", "before_send_transaction", "before_breadcrumb", "before_send_log",
    "before_send_metric", "before_send_span", "traces_sampler", "profiles_sampler",
    "error_sampler", "custom_repr",
})
# SDK options this layer sets itself, whatever the values hold.
_MANAGED = frozenset({
    "integrations", "default_integrations", "auto_enabling_integrations", "disabled_integrations",
    "transport", "event_scrubber", "environment", "release",
})


def _program_path_entry():
    """What Python will insert as sys.path[0] for this program, or None (`-I`, `-P`)."""
    import sys

    from sentry_bootstrap.processes import entry_script

    if sys.flags.isolated or getattr(sys.flags, "safe_path", False):
        return None
    script = entry_script()
    return os.path.dirname(os.path.realpath(script)) if script else os.getcwd()


def sdk_options(values, source_of=None):
    """`sentry_sdk.init` keyword arguments for the data options in `values`.

    Unset (None) values are left out so the SDK's own default applies. Callable options are
    imported from their `module:function` path; one that can't be imported is a ConfigError that
    names where the path was set (`source_of(option)`).
    """
    from sentry_sdk.consts import DEFAULT_OPTIONS

    from sentry_bootstrap import sdk_compat

    known = set(DEFAULT_OPTIONS)
    if sdk_compat.is_sdk3():  # 2.x options 3.x dropped: adapt_options maps or drops them
        known |= sdk_compat.MAPPED_IN_SDK3 | set(sdk_compat.REMOVED_IN_SDK3)
    options, problems = {}, []
    for name, value in values.items():
        if name not in known or name in _MANAGED or value is None:
            continue
        if name in CALLABLE_OPTIONS:
            try:
                value = import_callable(value)
            except Exception as exc:
                from sentry_bootstrap.config.errors import Problem

                where = source_of(name) if source_of else "config"
                problems.append(Problem(where, name, "can't import {!r}: {}: {}".format(
                    value, type(exc).__name__, exc)))
                continue
        if name == "data_collection":
            value = _without_none(value)  # the SDK reads absent keys as its defaults, not None
        options[name] = value
    if problems:
        from sentry_bootstrap.config.errors import ConfigError

        raise ConfigError(problems)
    return sdk_compat.adapt_options(options)


def _without_none(value):
    """A copy of the mapping `value` without its None entries, at every level."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return value


def import_callable(path):
    """`pkg.mod:func` (or `pkg.mod:Class.method`) -> the object.

    The hook runs before Python puts the program's own directory first on sys.path (the script's
    directory, or the working directory for `-m` and `-c`), so that directory is searched too, as
    it will be for the program itself.
    """
    import importlib
    import sys

    module_name, sep, qualname = str(path).partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError("not a 'module:function' path")
    home = _program_path_entry()
    added = home is not None and home not in sys.path
    if added:
        sys.path.insert(0, home)
    try:
        target = importlib.import_module(module_name)
    finally:
        if added:
            sys.path.remove(home)
    for part in qualname.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise ValueError("not callable")
    return target
