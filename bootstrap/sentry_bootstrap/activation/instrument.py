"""Declarative instrumentation: the config's `instrument:` entries, applied when their module is imported.

An entry is a plain dict (the validated config's `instrument` list):

    {"target": "pkg.mod:Class.method", "context": "user_service" | None,
     "capture_errors": {"service": ..., "reraise": True} | None,
     "trace": {"op": ..., "name": ...} | None, "monitor": {"slug": ..., "schedule": "0 3 * * *"} | None}

`apply_instrument` registers one post-import hook per entry (`activation.watcher.when_imported`): it runs
as soon as the target module has been executed, or at once when it is already imported, so a later
`from pkg.mod import f` gets the wrapped function. Nothing here imports an application module.
`Class.method` is resolved through the class `__dict__` (wrapt `resolve_path`), so staticmethods and
classmethods stay what they are.

Layering, outermost first: monitor, trace, context, capture_errors. The check-in covers everything;
the span is the transaction that performance shows; inside it the context names the error events, and
the error is captured inside the call's scope, so it carries the context's tag and name.

A target whose module or attribute doesn't exist gets one line through `sentry_bootstrap._log.report("error",
...)`, prefixed with the entry's YAML location from `locate(index)`; nothing is raised. A missing
module can only be noticed when it is imported, so a module that is never imported stays silent.
Applying the same entry twice (one call after another, or two identical entries) wraps once.
"""
import json
import re
import threading

from sentry_bootstrap import _log
from sentry_bootstrap.activation.watcher import when_imported
from sentry_bootstrap.config.errors import Problem

__all__ = ["apply_instrument", "wrap_entry"]

_MARK = "__sentry_bootstrap_instrument__"  # on the underlying function: keys of the entries applied
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_lock = threading.Lock()
_reported = set()


def apply_instrument(entries, locate=None):
    """Register the post-import hooks for `entries` (see the module docstring). Never raises."""
    for index, entry in enumerate(entries or ()):
        try:
            _register(index, entry, locate)
        except Exception as exc:  # a malformed entry must not stop the others, nor the program
            _warn(index, entry, locate, "cannot apply: {}: {}".format(type(exc).__name__, exc))


def _register(index, entry, locate):
    target = entry.get("target") if isinstance(entry, dict) else None
    module, _, path = (target or "").partition(":")
    if not _IDENTIFIER.match(module) or not _IDENTIFIER.match(path):
        _warn(index, entry, locate, "target must look like 'package.module:Class.method', got {!r}"
              .format(target))
        return

    def hook(loaded):
        try:
            _apply(index, entry, locate, loaded, path)
        except Exception as exc:
            _warn(index, entry, locate, "cannot apply: {}: {}".format(type(exc).__name__, exc))

    when_imported(module, hook)


def _apply(index, entry, locate, module, path):
    from wrapt.patches import resolve_path

    try:
        parent, attribute, original = resolve_path(module, path)
    except Exception:
        _warn(index, entry, locate, "target {!r} not found: module {!r} has no attribute {!r}".format(
            entry["target"], module.__name__, path))
        return
    key = json.dumps(entry, sort_keys=True, default=str)
    with _lock:
        applied = getattr(_underlying(original), _MARK, ())
        if key in applied:
            return
        wrapped = wrap_entry(original, entry)
        try:
            setattr(_underlying(wrapped), _MARK, tuple(applied) + (key,))
        except (AttributeError, TypeError):  # a callable that takes no attributes: wrap once anyway
            pass
        setattr(parent, attribute, wrapped)


def wrap_entry(func, entry):
    """`func` wrapped with the decorators that `entry` asks for (see the module docstring for the order)."""
    from sentry_bootstrap import decorators

    target = entry.get("target") or ""
    default_name = target.replace(":", ".")
    errors = entry.get("capture_errors")
    if errors is not None:
        service = errors.get("service") or entry.get("context") or target.partition(":")[0]
        func = decorators.capture_errors(service, reraise=errors.get("reraise", True))(func)
    if entry.get("context"):
        func = decorators.with_sentry_context(entry["context"])(func)
    span = entry.get("trace")
    if span is not None:
        func = decorators.trace(span.get("op") or "function", span.get("name") or default_name)(func)
    cron = entry.get("monitor")
    if cron is not None:
        func = decorators.monitor(cron.get("slug") or default_name, cron.get("schedule"),
                                  cron.get("timezone"), cron.get("checkin_margin"),
                                  cron.get("max_runtime"))(func)
    return func


def _underlying(obj):
    return getattr(obj, "__func__", obj)  # a classmethod/staticmethod holds the function


def _warn(index, entry, locate, message):
    target = entry.get("target") if isinstance(entry, dict) else None
    with _lock:
        if (index, target, message) in _reported:
            return
        _reported.add((index, target, message))
    source = None
    if locate is not None:
        try:
            source = locate(index)
        except Exception:
            source = None
    _log.report("error", str(Problem(source or "instrument", "instrument[{}].target".format(index),
                                     message)))
