"""Work that waits until the program imports a framework, registered on the import watcher
(`activation.watcher.when_imported`): deferred integrations (with the frameworks not set up yet
hidden from the SDK's probes), the multiprocessing child patch, and the uWSGI warning.
"""
import os
import sys

from sentry_bootstrap import _env, _log
from sentry_bootstrap.activation.watcher import when_imported


class _Unimportable:
    """A meta-path finder that makes the named top-level packages look absent while installed."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ImportError("{} is not imported during sentry-bootstrap's set-up".format(name))
        return None


class frameworks_hidden:
    """While active, the named frameworks (and `channels`) look uninstalled, unless already imported.

    The SDK probes for frameworks it does not need: `sentry_sdk.integrations._wsgi_common`, which
    the Flask and Starlette integrations import, imports Django's request module (163 modules, ~100
    ms) to catch one exception type. The probes are all `try: import ... except ImportError`, so a
    hidden framework costs them nothing; a framework the program imports later is set up then.
    """

    def __init__(self, names):
        self.blocker = _Unimportable({n for n in set(names) | {"channels"} if n not in sys.modules})

    def __enter__(self):
        sys.meta_path.insert(0, self.blocker)
        return self

    def __exit__(self, *exc):
        sys.meta_path.remove(self.blocker)


# Trigger modules of deferred integrations not set up yet: hidden while another one is set up.
_pending = set()


def defer_integration(trigger, name, options, client):
    """Set up integration `name` on `client` when `trigger` is imported."""
    _pending.add(trigger)
    when_imported(trigger, setup_deferred_integration, name, options, client)


def setup_deferred_integration(module, name, options, client):
    """Set up one SDK integration on `client` now that its framework is imported.

    `sdk_compat.setup_integration` installs it once per process and shows it to the running client.
    """
    import sentry_sdk

    _pending.discard(module.__name__)
    if sentry_sdk.get_client() is not client or client.options.get("_bootstrap_replaced"):
        return  # the application's own sentry_sdk.init won; its integrations are its own
    from sentry_bootstrap import sdk_compat
    from sentry_bootstrap.activation.integrations import instantiate

    with frameworks_hidden(t.partition(".")[0] for t in _pending):
        sdk_compat.setup_integration(instantiate(name, options), client)
    _log.report("debug", "integration {} set up on import of {}".format(name, module.__name__))


def patch_multiprocessing(module):
    """Capture an exception that escapes a child's `run()` and flush before the child exits.

    A forked multiprocessing child ends with `os._exit()`, so neither excepthook nor atexit runs:
    without this, its errors are printed and its queued events are lost.
    """
    import wrapt

    process_cls = module.BaseProcess

    @wrapt.decorator
    def bootstrap_wrapper(wrapped, instance, args, kwargs):
        original_run = instance.run

        def run():
            try:
                return original_run()
            except Exception:
                _capture_child_crash()
                raise

        instance.run = run
        try:
            return wrapped(*args, **kwargs)
        finally:
            _flush_current_client()

    if not getattr(process_cls._bootstrap, "_sentry_bootstrap", False):
        process_cls._bootstrap = bootstrap_wrapper(process_cls._bootstrap)
        process_cls._bootstrap._sentry_bootstrap = True


def _capture_child_crash():
    """The exception being handled killed a multiprocessing child: unhandled, with its own mechanism."""
    try:
        import sentry_sdk

        from sentry_bootstrap import sdk_compat

        client = sentry_sdk.get_client()
        if not client.is_active():
            return
        event, hint = sdk_compat.event_from_exception(
            sys.exc_info(), mechanism={"type": "multiprocessing", "handled": False})
        sentry_sdk.capture_event(event, hint=hint)
    except Exception:
        pass


def _flush_current_client():
    if "sentry_sdk" not in sys.modules:
        return  # the SDK never started in this child (lazy start): nothing queued
    try:
        import sentry_sdk

        client = sentry_sdk.get_client()
        if client.is_active():
            client.flush(timeout=client.options.get("shutdown_timeout", 2))
    except Exception:
        pass


_UWSGI_FLAGS = ("enable-threads", "py-call-uwsgi-fork-hooks")
_UWSGI_WARNED = "SENTRY_BOOTSTRAP_UWSGI_WARNED"  # one warning per server, not per interpreter init


def warn_uwsgi(argv=None, environ=None):
    """One warning when uWSGI runs without the options that the SDK's threads and forks need.

    The options are read from `uwsgi.opt` when the embedded module is there, else from the command
    line (pyuwsgi runs this hook before uWSGI exists).
    """
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    uwsgi = sys.modules.get("uwsgi")
    program = os.path.basename(argv[0]) if argv else ""
    if uwsgi is None and program not in ("uwsgi", "pyuwsgi"):
        return
    if environ.get(_UWSGI_WARNED):
        return
    if uwsgi is not None and getattr(uwsgi, "opt", None):
        present = {flag for flag in _UWSGI_FLAGS if _truthy(uwsgi.opt.get(flag))}
    else:
        present = {arg.lstrip("-").partition("=")[0] for arg in argv if arg.startswith("--")}
    missing = [flag for flag in _UWSGI_FLAGS if flag not in present]
    if missing:
        environ[_UWSGI_WARNED] = "1"
        flags = " ".join("--" + flag for flag in missing)
        _log.report("error", "uWSGI runs without {}: Sentry's background sending needs threads and "
                    "fork hooks, or events are lost; add {} to the uWSGI command".format(flags, flags))


def _truthy(value):
    # uwsgi.opt holds bytes, or True for a bare flag.
    if value is True:
        return True
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return isinstance(value, str) and value.strip().lower() in _env.TRUE_WORDS
