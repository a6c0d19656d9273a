"""Activation: from a validated configuration to a running Sentry client, integrations and hooks.

`activate(resolved)` is the only place that calls `sentry_sdk.init` for the hook. It passes exactly
the integrations that apply (with `default_integrations` and `auto_enabling_integrations` off), and
leaves everything that needs a framework to post-import hooks, so a plain script imports none.
"""
import os
import time

from sentry_bootstrap import _log
from sentry_bootstrap._mask import mask_dsn

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


class ActivationReport:
    """What activation did, for the startup report and for `sentry-bootstrap` commands."""

    def __init__(self, resolved, plan, client, elapsed_ms, destination):
        self.resolved = resolved
        self.plan = plan
        self.client = client
        self.elapsed_ms = elapsed_ms
        self.destination = destination
        self.notes = []

    def line(self):
        r = self.resolved
        parts = [
            "active:",
            "environment={}".format(r.environment),
            "release={} ({})".format(r.release, r.release_source) if r.release else "release=none",
            "dsn={}".format(self.destination),
            "integrations: {}".format(self.plan.summary()),
            "config={}".format(r.config_file or "none"),
        ]
        parts.extend(self.notes)
        parts.append("took={:.1f}ms".format(self.elapsed_ms))
        return " ".join(parts)


def sdk_options(values, source_of=None):
    """`sentry_sdk.init` keyword arguments for the data options in `values`.

    Unset (None) values are left out so the SDK's own default applies. Callable options are
    imported from their `module:function` path; one that can't be imported is a ConfigError that
    names where the path was set (`source_of(option)`).
    """
    from sentry_sdk.consts import DEFAULT_OPTIONS

    options, problems = {}, []
    for name, value in values.items():
        if name not in DEFAULT_OPTIONS or name in _MANAGED or value is None:
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
        options[name] = value
    if problems:
        from sentry_bootstrap.config.errors import ConfigError

        raise ConfigError(problems)
    return options


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


def activate(resolved, started=None):
    """Initialise Sentry from `resolved` (a ResolvedConfig) and register the post-import hooks."""
    started = time.perf_counter() if started is None else started
    import sentry_sdk

    from sentry_bootstrap.activation import import_hooks as hooks
    from sentry_bootstrap.activation.integrations import instantiate, plan_integrations

    values = resolved.values
    plan = plan_integrations(values.get("integrations") or {})
    options = sdk_options(values, resolved.source)
    dsn = values.get("dsn")
    options.update(
        environment=resolved.environment,
        release=resolved.release,
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[instantiate(name, opts) for name, opts in plan.now],
        transport=_transport(values, dsn),
    )
    scrubber = _scrubber(values, dsn)
    if not options.get("data_collection"):
        options["event_scrubber"] = scrubber
    # Sentry logs never pass through the event scrubber: scrub them first, then the user's hook.
    options["before_send_log"] = _chain(scrubber.scrub_log, options.get("before_send_log"))
    _init_without_frameworks(_original_init(), options, plan.deferred)
    client = sentry_sdk.get_client()

    tags = values.get("tags") or {}
    if tags:
        sentry_sdk.get_global_scope().set_tags(tags)
    if options.get("data_collection"):
        # With `data_collection` the SDK ignores `event_scrubber` (and warns on stderr), so scrub in
        # a global event processor instead: it runs where the scrubber would, before serialisation.
        sentry_sdk.get_global_scope().add_event_processor(_scrubbing_processor(scrubber))
    for name, opts, trigger in plan.deferred:
        hooks.defer_integration(trigger, name, opts, client)
    hooks.when_imported("multiprocessing.process", hooks.patch_multiprocessing)
    _register_middleware(values)
    # After the middleware, so Django's context middleware stays in front of the test endpoint.
    from sentry_bootstrap.diagnostics import register as register_diagnostics

    register_diagnostics(values)
    _register_instrument(resolved)
    _guard_application_init(client, tags)
    hooks.warn_uwsgi()
    resolved.export_release(os.environ)

    report = ActivationReport(resolved, plan, client,
                              (time.perf_counter() - started) * 1000.0,
                              mask_dsn(dsn) if dsn else "outbox")
    report.notes.extend(_spool_notes(client))
    if ((values.get("diagnostics") or {}).get("endpoint") or {}).get("enabled"):
        from sentry_bootstrap.diagnostics.endpoint import endpoint_status

        report.notes.append(endpoint_status(values)[1])
    _log.report("info", report.line())
    if _log.enabled("debug"):
        for path in sorted(resolved.sources):
            _log.report("debug", "{} from {}".format(path, resolved.sources[path]))
    return report


def _init_without_frameworks(init, options, deferred):
    """Call `init` while the deferred frameworks look absent (see hooks.frameworks_hidden).

    During init the SDK probes for Django even when its integration is not enabled: the threading
    integration reads Django's version (it matters only on Python < 3.9), and `sentry_sdk.spotlight`,
    imported by every `Client`, imports Django for its middleware. Spotlight users keep Django.
    """
    from sentry_bootstrap.activation import import_hooks as hooks

    names = {trigger.partition(".")[0] for _name, _opts, trigger in deferred}
    if options.get("spotlight") or os.environ.get("SENTRY_SPOTLIGHT"):
        names.discard("django")
    with hooks.frameworks_hidden(names):
        return init(**options)


def _transport(values, dsn):
    if dsn:
        from sentry_bootstrap.transport.durable import make_transport

        # A class: the SDK instantiates it with its full options (proxies, TLS, compression).
        return make_transport(None, values.get("spool") or {})
    from sentry_bootstrap.transport.outbox import make_outbox_transport

    return make_outbox_transport(values.get("outbox") or {})


def _spool_notes(client):
    """What the startup report says of the spool: drops so far, and envelopes waiting. Costs a stat
    and one small read (the counter log), nothing on a healthy machine."""
    spool = getattr(client.transport, "spool", None)
    if spool is None:
        return []
    notes = []
    try:
        dropped = sum(spool.drop_counts().values())
        waiting = spool.has_work()
    except OSError:  # an untrusted spool directory: the transport said so already
        return []
    if dropped:
        notes.append("spool: {} envelope(s) dropped so far, see `sentry-bootstrap spool status`".format(dropped))
    if waiting:
        notes.append("spool: envelopes waiting to be sent")
    return notes


def _scrubbing_processor(scrubber):
    def scrub(event, hint):
        scrubber.scrub_event(event)
        return event

    return scrub


def _chain(first, second):
    if second is None:
        return first

    def chained(item, hint):
        item = first(item, hint)
        return None if item is None else second(item, hint)

    return chained


def _scrubber(values, dsn):
    from sentry_bootstrap.scrub import make_scrubber

    return make_scrubber(values.get("scrub") or {}, dsn, bool(values.get("send_default_pii")))


def _register_middleware(values):
    """The context middleware goes in when each framework is imported."""
    from sentry_bootstrap.activation import import_hooks as hooks

    context = values.get("context") or {}
    collection = values.get("data_collection") or {}
    # As in the SDK: data_collection.user_info, when the user set it, wins over send_default_pii.
    pii = bool(collection.get("user_info")) if collection else bool(values.get("send_default_pii"))

    def install(module, installer_path):
        import importlib

        module_name, _, func = installer_path.partition(":")
        installer = getattr(importlib.import_module(module_name), func)
        policy_cls = importlib.import_module("sentry_bootstrap.middleware.common").ContextPolicy
        installer(policy_cls.from_config(context, pii))

    hooks.when_imported("django.core.handlers.base", install, "sentry_bootstrap.middleware.django:install_django")
    hooks.when_imported("flask.app", install, "sentry_bootstrap.middleware.flask:install_flask")
    hooks.when_imported("starlette.applications", install,
                        "sentry_bootstrap.middleware.starlette:install_starlette")


def _register_instrument(resolved):
    entries = resolved.values.get("instrument") or []
    if not entries:
        return
    from sentry_bootstrap.activation.instrument import apply_instrument

    apply_instrument(entries, locate=lambda index: resolved.source("instrument.{}".format(index)))


_ORIGINAL = {}


def _original_init():
    """`sentry_sdk.init` as the SDK defines it, even after `_guard_application_init` replaced it."""
    import sentry_sdk._init_implementation as impl

    return _ORIGINAL.get("init", impl.init)


def _guard_application_init(client, tags):
    """If the application calls `sentry_sdk.init` itself, its call wins.

    The hook's client is closed (its worker thread ends and its queue is flushed, so nothing is
    lost and nothing is sent twice), the hook's static tags leave the global scope, and one warning
    says what happened. Relies on `sentry_sdk.init` being `_init_implementation.init`, re-exported
    by `sentry_sdk.api` and `sentry_sdk` (docs/sdk-internals.md).
    """
    import sentry_sdk
    import sentry_sdk._init_implementation as impl
    import sentry_sdk.api as api

    original = _ORIGINAL.setdefault("init", impl.init)

    def init(*args, **kwargs):
        # Flag first: the application's init imports frameworks, and the hook's deferred
        # integrations must not set themselves up on the way (see hooks.setup_deferred_integration).
        first = not client.options.get("_bootstrap_replaced")
        client.options["_bootstrap_replaced"] = True
        result = original(*args, **kwargs)
        if first:
            try:
                scope = sentry_sdk.get_global_scope()
                for key in tags:
                    scope.remove_tag(key)
                client.close(timeout=client.options.get("shutdown_timeout", 2))
            finally:
                _log.report("error", "the application called sentry_sdk.init itself; its "
                            "configuration wins and sentry-bootstrap's client was closed")
        return result

    init.__doc__ = original.__doc__
    init.__wrapped__ = original
    for namespace in (sentry_sdk, api, impl):
        namespace.init = init


