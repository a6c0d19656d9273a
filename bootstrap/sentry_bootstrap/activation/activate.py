"""Activation: from a validated configuration to a running Sentry client, integrations and hooks.

`activate(resolved)` is the only place that calls `sentry_sdk.init` for the hook. It passes exactly
the integrations that apply (with `default_integrations` and `auto_enabling_integrations` off), and
leaves everything that needs a framework to post-import hooks, so a plain script imports none.
"""
import os
import time

from sentry_bootstrap import _log, sdk_compat
from sentry_bootstrap._mask import mask_dsn
from sentry_bootstrap.activation.options import sdk_options
from sentry_bootstrap.activation.watcher import when_imported
from sentry_bootstrap.integrations_table import frameworks


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


def activate(resolved, started=None, extras=None):
    """Initialise Sentry from `resolved` (a ResolvedConfig) and register the post-import hooks.

    `extras(values)`, when given, registers what a higher layer adds once the context middleware is
    registered (the hook passes `diagnostics.register_with_notes`: the test endpoint must come after
    Django's context middleware), and returns notes for the startup report."""
    started = time.perf_counter() if started is None else started
    import sentry_sdk

    from sentry_bootstrap.activation import import_hooks as hooks
    from sentry_bootstrap.activation.integrations import plan_integrations

    values = resolved.values
    plan = plan_integrations(values["integrations"])
    plan.adapt_options(lambda name, opts: sdk_compat.integration_kwargs(
        name, opts, enable_logs=bool(values.get("enable_logs"))))
    options = sdk_options(values, resolved.source)
    dsn = values.get("dsn")
    options.update(
        environment=resolved.environment,
        release=resolved.release,
        default_integrations=False,
        auto_enabling_integrations=False,
        transport=_transport(values, dsn),
    )
    scrubber = _scrubber(values, dsn)
    in_processor = _scrub_every_item(options, scrubber)
    _init_without_frameworks(sdk_compat.original_init(), options, plan)
    client = sentry_sdk.get_client()
    from sentry_bootstrap.transport import own_traffic

    own_traffic.mark_spotlight(client)  # its sends log to us, like the transport's
    # One event per uncaught exception, whichever of the chained hooks report it.
    from sentry_bootstrap.activation import uncaught

    uncaught.install()

    tags = values["tags"]
    if tags:
        sentry_sdk.get_global_scope().set_tags(tags)
    if in_processor:
        # With `data_collection` the SDK ignores `event_scrubber` (and warns on stderr), and 3.x has
        # none, so scrub in a global event processor: it runs where the scrubber would, before
        # serialisation.
        sentry_sdk.get_global_scope().add_event_processor(_scrubbing_processor(scrubber))
    for name, opts, trigger in plan.deferred:
        hooks.defer_integration(trigger, name, opts, client)
    when_imported("multiprocessing.process", hooks.patch_multiprocessing)
    # Thread tracebacks as the program alone prints them (a lazy start has it done already).
    from sentry_bootstrap.activation import lazy

    when_imported("threading", lazy.patch_threading)
    _register_middleware(values)
    notes = extras(values) if extras is not None else []
    _register_instrument(resolved)
    _guard_application_init(client, tags)
    resolved.export_release(os.environ)

    report = ActivationReport(resolved, plan, client,
                              (time.perf_counter() - started) * 1000.0,
                              mask_dsn(dsn) if dsn else "outbox")
    report.notes.extend(_spool_notes(client))
    report.notes.extend(notes)
    _log.report("info", report.line())
    if _log.enabled("debug"):
        for path in sorted(resolved.sources):
            _log.report("debug", "{} from {}".format(path, resolved.sources[path]))
    return report


def _instantiate_now(plan, instantiate):
    """The integrations to start now. One the configuration asked for that can't be built here (its
    package is missing: the SDK raises DidNotEnable) is skipped with one warning, so a configuration
    `check` accepted still activates."""
    built = []
    for name, opts in list(plan.now):
        try:
            built.append(instantiate(name, opts))
        except Exception as exc:  # DidNotEnable, ImportError
            plan.now.remove((name, opts))
            reason = " ".join(str(exc).split()) or type(exc).__name__
            plan.skipped.append((name, reason))
            _log.report("error", "warning: integrations.enabled: {}: not enabled: {}".format(
                name, reason))
    return built


def _init_without_frameworks(init, options, plan):
    """Build the integrations of `plan.now` and call `init` while the deferred frameworks look
    absent (see hooks.frameworks_hidden).

    During init the SDK probes for Django even when its integration is not enabled: the threading
    integration reads Django's version (it matters only on Python < 3.9), and `sentry_sdk.spotlight`,
    imported by every `Client`, imports Django for its middleware. Spotlight users keep Django.
    """
    from sentry_bootstrap.activation import import_hooks as hooks

    from sentry_bootstrap.activation.integrations import instantiate

    names = {trigger.partition(".")[0] for _name, _opts, trigger in plan.deferred}
    if options.get("spotlight") or os.environ.get("SENTRY_SPOTLIGHT"):
        names.discard("django")
    import warnings

    from sentry_bootstrap.sdk_compat import init_with_pii

    options = dict(options)
    pii = options.pop("send_default_pii", None)
    with hooks.frameworks_hidden(names), warnings.catch_warnings(record=True) as caught:
        # Inside: a framework already imported (the lazy start on `import flask`) has its
        # integration built here, and the SDK's shared WSGI module probes for Django.
        options["integrations"] = _instantiate_now(plan, instantiate)
        # No subprocess, ever: with no release found the SDK would ask `git` for one; and
        # `send_default_pii` without the SDK's deprecation warning (2.75+), same client.
        result = sdk_compat.init_without_git_release(
            lambda **opts: init_with_pii(pii, init=init, **opts), options)
    # The SDK warns about option combinations on stderr (warnings.warn); they are the hook's doing,
    # so they are said in the hook's voice, once each.
    for message in dict.fromkeys(str(w.message) for w in caught
                                 if not issubclass(w.category, DeprecationWarning)):
        _log.report("error", "warning: sentry_sdk: " + message)
    return result


def _transport(values, dsn):
    from sentry_bootstrap.transport import own_traffic

    own_traffic.install()  # the transport's urllib3 records and the SDK's own: ours, not the program's
    if dsn:
        from sentry_bootstrap.transport.durable import make_transport

        # A class: the SDK instantiates it with its full options (proxies, TLS, compression).
        return make_transport(None, values["spool"])
    from sentry_bootstrap.transport.outbox import make_outbox_transport

    return make_outbox_transport(values["outbox"])


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

    return make_scrubber(values["scrub"], dsn, bool(values.get("send_default_pii")))


def _scrub_every_item(options, scrubber):
    """Every item type is scrubbed (docs/security.md, "Every item type"): events through the event
    scrubber; logs, metrics and streamed spans through their `before_send_*`, ours first and then
    the user's; everything else as the transport receives the envelope."""
    from sentry_sdk.consts import DEFAULT_OPTIONS

    from sentry_bootstrap.scrub.items import scrubbing_transport

    in_processor = bool(options.get("data_collection")) or not sdk_compat.accepts_event_scrubber()
    if not in_processor:
        options["event_scrubber"] = scrubber
    callbacks = [("before_send_log", scrubber.scrub_log), ("before_send_metric", scrubber.scrub_metric)]
    if sdk_compat.span_streaming(options):  # the SDK warns about before_send_span otherwise
        callbacks.append(("before_send_span", scrubber.scrub_span))
    for name, callback in callbacks:
        if name in DEFAULT_OPTIONS:
            options[name] = _chain(callback, options.get(name))
    options["transport"] = scrubbing_transport(options["transport"], scrubber)
    return in_processor  # True: events are scrubbed in a global event processor (see activate)


def _register_middleware(values):
    """The context middleware goes into each framework of the table when it is imported."""
    context = values["context"]
    collection = values["data_collection"] or {}  # null: not set
    # As in the SDK: data_collection.user_info, when the user set it, wins over send_default_pii.
    pii = bool(collection.get("user_info")) if collection else bool(values.get("send_default_pii"))
    for row in frameworks("middleware"):
        when_imported(row.module, _install_context, row.name, context, pii)


def _install_context(module, framework, context, pii):
    from sentry_bootstrap import middleware
    from sentry_bootstrap.middleware.common import ContextPolicy

    middleware.install(framework, ContextPolicy.from_config(context, pii))


def _register_instrument(resolved):
    entries = resolved.values.get("instrument") or []
    if not entries:
        return
    from sentry_bootstrap.activation.instrument import apply_instrument

    apply_instrument(entries, locate=lambda index: resolved.source("instrument.{}".format(index)))


def _guard_application_init(client, tags):
    """If the application calls `sentry_sdk.init` itself, its call wins.

    The hook's client is closed (its worker thread ends and its queue is flushed, so nothing is
    lost and nothing is sent twice), the hook's static tags leave the global scope, and one warning
    says what happened. `sdk_compat.replace_init` puts the wrapper wherever the SDK exports `init`.
    """
    import sentry_sdk

    def make_init(original):
        def init(*args, **kwargs):
            # Flag first: the application's init imports frameworks, and the hook's deferred
            # integrations must not set themselves up on the way (see setup_deferred_integration).
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

        return init

    sdk_compat.replace_init(make_init)
