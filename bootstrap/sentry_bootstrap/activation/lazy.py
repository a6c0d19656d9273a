"""Lazy start: the SDK starts the first time the process needs it, not at interpreter start.

`arm(resolved, started, activate)` runs at interpreter start, on the standard library only and
importing nothing a bare interpreter doesn't load already. It leaves behind what must exist from the
first instruction, all of it small:

- actions on the import watcher (`activation.watcher`, the one every post-import patch uses): the
  SDK's start on the import of a module that needs it, and the patches below;
- `sys.excepthook`, and `threading.excepthook` and `Thread.start` once `threading` is imported;
  each calls the hook it replaced, never the one installed now (a program may have saved ours and
  call it from its own), and `activation.uncaught` sends an exception once whoever reports it;
- a wrapper around `logging.Logger.callHandlers` once `logging` is imported, which keeps the records
  at the breadcrumb level (bounded like `max_breadcrumbs`) and starts the SDK on a record at the
  event level.

`start(reason)` is the SDK's start: it takes its actions off the watcher, calls `activate(reason)` (which runs
the hook's usual activation), replays the kept log records as breadcrumbs and reports the reason.
It starts on: the import of a module that an enabled integration, the context middleware or an
`instrument:` target needs; the program importing `sentry_sdk` itself (the hook's helpers import it
too); an uncaught exception in the main thread or another thread; a log record at the event level;
envelopes waiting in the spool (from a background thread, `SPOOL_DELAY` seconds after start, when
nothing needed the SDK before: never during the program's own start-up, where importing the SDK
concurrently would import `ssl` before gevent patches it, or `anyio` before pytest rewrites it). An
option that needs the SDK from the first instruction makes the start eager (`eager_reason`).
Nothing here raises into the program.
"""
import os
import sys
import time

import _thread

from sentry_bootstrap import _log
from sentry_bootstrap.activation import watcher

_LEVELS = {"CRITICAL": 50, "FATAL": 50, "ERROR": 40, "WARNING": 30, "WARN": 30, "INFO": 20,
           "DEBUG": 10, "NOTSET": 0}

# Seconds after start when a process that still hasn't needed the SDK starts it to send the envelopes
# waiting in the spool. A short script leaves them to the next process that needs the SDK.
SPOOL_DELAY = 10.0

_lock = _thread.RLock()
_state = {"armed": False, "started": False, "reason": None, "activate": None, "t0": None,
          "excepthook": None, "records": None, "logging": None}


def eager_reason(values, strict=False, plan=None):
    """Why the SDK must start at once for these values, or None when it may wait. `strict`: strict
    mode is on (in the values or from SENTRY_BOOTSTRAP_STRICT). `plan`: the values' start plan
    (ResolvedConfig.start_plan), computed here when not given."""
    if values.get("sdk_start") == "eager":
        return "sdk_start: eager"
    for option in ("profiles_sample_rate", "profile_session_sample_rate"):
        rate = values.get(option)
        if isinstance(rate, (int, float)) and rate > 0:
            return "{} needs the profiler from the first instruction".format(option)
    if values.get("profiles_sampler"):
        return "profiles_sampler needs the profiler from the first instruction"
    if values.get("enable_logs"):
        return "enable_logs sends every log record from the first one"
    at_start = _start_plan(values, plan)["at_start"]
    if at_start is not None:
        return "integration {} is set up at start".format(at_start)
    if strict or values.get("strict"):
        # Strict mode is for CI and deploy checks: any failure to start (a `module:function` that
        # can't be imported, a broken SDK) must be exit 78 at start, not an error found later.
        return "strict mode checks that the SDK starts"
    return None


def _start_plan(values, plan):
    """`plan` (the cached ResolvedConfig.start_plan), or the same computed from the table when the
    configuration came without one."""
    if plan is not None:
        return plan
    from sentry_bootstrap.integrations_table import start_plan

    return start_plan(values)


def _applies(values, name):
    """Whether the auto integration `name` applies under the configuration (installed or not)."""
    section = values["integrations"]  # complete: every key of the model
    if name in section["disabled"]:
        return False
    return section["auto"] or name in section["enabled"]


def arm(values, activate, started=None, plan=None):
    """Set up the watchers for `values` (the validated config) and return at once. `plan`: as for
    `eager_reason`.

    `activate(reason)` is called once, from `start`, to start the SDK."""
    with _lock:
        if _state["armed"]:
            return
        _state.update(armed=True, activate=activate,
                      t0=time.perf_counter() if started is None else started)
    for name in _start_plan(values, plan)["triggers"]:
        watcher.watch(name, _start_on_import)
    logging_cfg = _logging_levels(values)
    if logging_cfg is not None:
        watcher.watch("logging", _patch_logging)
        _state["logging"] = logging_cfg
    watcher.watch("threading", patch_threading)
    if _applies(values, "typer"):
        watcher.watch("typer", _patch_typer)
    watcher.watch("multiprocessing.process", _patch_multiprocessing)
    # A watched module imported before the hook ran (rare at sitecustomize time) needs the SDK now.
    watcher.fire_imported()
    if _state["started"]:
        return
    _state["excepthook"] = sys.excepthook
    sys.excepthook = _excepthook
    if _log.enabled("debug"):
        import atexit

        atexit.register(_report_never_started)
    if _spool_waiting(values):
        _thread.start_new_thread(_start_later, (SPOOL_DELAY, "envelopes waiting in the spool"))


def start(reason):
    """Start the SDK now (once; later calls return at once). Never raises."""
    if _state["started"] or not _state["armed"]:
        return
    with _lock:
        if _state["started"]:
            return
        _state["started"] = True
        _state["reason"] = reason
        for action in _ACTIONS:
            watcher.cancel(action)
        if sys.excepthook is _excepthook:
            sys.excepthook = _state["excepthook"]
        _unpatch_logging()
        elapsed = (time.perf_counter() - _state["t0"]) * 1000.0
        _log.report("info", "sdk started on {} after {:.0f} ms".format(reason, elapsed))
        try:
            _state["activate"](reason)
        except Exception as exc:
            _log.report("error", "not active: internal error {}: {}".format(type(exc).__name__, exc))
            return
        _replay_records()


def started():
    """True once the SDK was started by `start`; the reason is `reason()`."""
    return _state["started"]


def reason():
    return _state["reason"]


def _start_later(delay, why):
    try:
        time.sleep(delay)
        start(why)
    except Exception:
        pass


def _start_on_import(module):
    why = "import of {}".format(module.__name__)
    # Inside another watched module's body (celery importing redis), the SDK starts once the
    # outermost one is done: starting now would set up that half-executed framework.
    watcher.when_idle(lambda: start(why))


def _report_never_started():
    if not _state["started"]:
        elapsed = (time.perf_counter() - _state["t0"]) * 1000.0
        _log.report("debug", "sdk never started: nothing needed it in {:.0f} ms".format(elapsed))


# --- uncaught exceptions ------------------------------------------------------------------------

def _excepthook(exc_type, exc_value, exc_tb):
    start("uncaught {}".format(getattr(exc_type, "__name__", "exception")))
    _capture_uncaught((exc_type, exc_value, exc_tb), "excepthook")
    # Then the hook saved at arm time, never `sys.excepthook`: a program that saved this function
    # as its "previous" hook and calls it from its own is `sys.excepthook` (wrapped by the SDK's
    # excepthook if it started since), and calling that would call this again, without end.
    _state["excepthook"](exc_type, exc_value, exc_tb)


def _capture_uncaught(exc_info, mechanism):
    """Send the exception, unless it was sent already: the SDK's own hook (its excepthook around
    the program's, its threading integration) reports first when it is in the chain."""
    if not _state["started"]:
        return
    try:
        from sentry_bootstrap import sdk_compat
        from sentry_bootstrap.activation import uncaught

        if not uncaught.sent(exc_info[1]):
            sdk_compat.capture_uncaught(exc_info, mechanism)
    except Exception:
        pass


def patch_threading(module):
    """Wrap `threading.excepthook` (once; the lazy start when `threading` is imported, activation
    for an eager start). Before the SDK's start, a thread's uncaught exception starts it; a thread
    started before the SDK is captured here, as its threading integration would; and the hook saved
    when threading was imported prints the traceback as it would without the SDK."""
    if _state.get("threading"):
        return
    _state["threading"] = True
    original = module.excepthook

    def excepthook(args):
        if args.exc_type is not SystemExit and _state["armed"]:
            start("uncaught {} in thread {}".format(
                getattr(args.exc_type, "__name__", "exception"),
                getattr(args.thread, "name", "?")))
            # A thread started before the SDK doesn't run under its threading integration; one
            # that did was sent from there already.
            _capture_uncaught((args.exc_type, args.exc_value, args.exc_traceback), "threading")
        # The hook saved when threading was imported, never `threading.excepthook` (see above).
        try:
            from sentry_bootstrap.activation import uncaught
        except Exception:
            return original(args)
        return uncaught.call_tidied(original, args)

    module.excepthook = excepthook
    if _state["armed"] and not _state["started"]:
        _report_from_run(module)


def _report_from_run(module):
    """A thread started before the SDK reports what escapes its `run` itself, as the SDK's threading
    integration does for the threads started after: so a program that replaces
    `threading.excepthook` without calling the one it replaced loses no event to the lazy start.
    (Its frame is left out of the traceback the saved excepthook prints, like the SDK's.)"""
    thread_class = module.Thread
    original = thread_class.start

    def start_thread(self, *args, **kwargs):
        if not _state["started"]:
            try:
                self.run = _reporting_run(self.run, module)
            except Exception:
                pass
        return original(self, *args, **kwargs)

    start_thread.__name__ = start_thread.__qualname__ = "start"
    start_thread.__doc__ = original.__doc__
    thread_class.start = start_thread


def _reporting_run(run, module):
    def run_thread(*args, **kwargs):
        try:
            return run(*args, **kwargs)
        except Exception:
            exc_info = sys.exc_info()
            start("uncaught {} in thread {}".format(exc_info[0].__name__,
                                                    module.current_thread().name))
            _capture_uncaught(exc_info, "threading")
            raise

    return run_thread


def _patch_typer(module):
    """Typer prints a crash itself (rich) and, so, calls no other hook: `Typer.__call__` installs
    `typer.main.except_hook` as `sys.excepthook`. Wrapped here, a crash starts the SDK, which sets
    up its Typer integration (around this wrapper, for later crashes), and is sent once; then
    Typer's hook prints it as always. Importing typer starts nothing: a CLI that succeeds never
    pays for the SDK."""
    main = sys.modules.get("typer.main")
    original = getattr(main, "except_hook", None)
    if _state["started"] or not callable(original):
        return

    def except_hook(exc_type, exc_value, exc_tb):
        start("uncaught {} in a Typer app".format(getattr(exc_type, "__name__", "exception")))
        _capture_uncaught((exc_type, exc_value, exc_tb), "typer")
        return original(exc_type, exc_value, exc_tb)

    main.except_hook = except_hook


def _patch_multiprocessing(module):
    # A forked child ends with os._exit, past every excepthook: the activation layer's patch
    # captures what escapes run(); it starts the SDK only when something does.
    from sentry_bootstrap.activation import import_hooks

    import_hooks.patch_multiprocessing(module)


# --- logging -----------------------------------------------------------------------------------

def _level(value):
    """A validated level (a name or a number) as a number; None when it is off (`false`)."""
    if value is None or value is False:
        return None
    if isinstance(value, int):
        return value
    return _LEVELS.get(str(value).strip().upper())


def _logging_levels(values):
    """(breadcrumb level or None, event level or None, max kept) from the validated values (every
    key is there, defaults included), or None when the logging integration is off."""
    section = values["integrations"]
    if "logging" in section["disabled"]:
        return None
    cfg = section["logging"]
    return _level(cfg["level"]), _level(cfg["event_level"]), values["max_breadcrumbs"]


def _patch_logging(module):
    breadcrumb_level, event_level, keep = _state["logging"]
    records = _state["records"] = []
    original = module.Logger.callHandlers

    def callHandlers(self, record):
        try:
            return original(self, record)
        finally:
            try:
                if not _state["started"]:
                    _on_record(record, records, breadcrumb_level, event_level, keep)
                elif module.Logger.callHandlers is callHandlers:
                    # Started, and this wrapper is back in place: the program saved it before the
                    # start and restored it since, which took the SDK's wrapper out. Hand the
                    # record to the SDK as its wrapper would have.
                    from sentry_bootstrap import sdk_compat

                    sdk_compat.handle_log_record(record)
            except Exception:
                pass

    module.Logger.callHandlers = callHandlers
    _state["callhandlers"] = (module.Logger, callHandlers, original)


def _unpatch_logging():
    """At the start: when the wrapper is still in place, the original goes back, so that the SDK's
    logging integration wraps the original. A program's wrapper stays; so does ours under it."""
    patched = _state.get("callhandlers")
    if patched is not None:
        logger_class, ours, original = patched
        if logger_class.__dict__.get("callHandlers") is ours:
            logger_class.callHandlers = original


def _on_record(record, records, breadcrumb_level, event_level, keep):
    if event_level is not None and record.levelno >= event_level:
        records.append(record)
        start("log record at {} from logger {!r}".format(record.levelname, record.name))
    elif breadcrumb_level is not None and record.levelno >= breadcrumb_level and keep:
        records.append(record)
        if len(records) > keep:
            del records[0]


def _replay_records():
    """The records kept before the start go to the SDK's logging integration, in order: breadcrumbs
    for the earlier ones, an event for the one at the event level that started it."""
    records = _state["records"]
    if not records:
        return
    _state["records"] = None
    from sentry_bootstrap import sdk_compat

    for record in records:
        try:
            sdk_compat.handle_log_record(record)
        except Exception:
            pass


# --- the spool ---------------------------------------------------------------------------------

def _spool_waiting(values):
    """Whether a spool directory holds anything: a stat or two on the healthy path."""
    if not values.get("dsn"):
        return False
    spool = values["spool"]
    root = spool["path"]
    if root:
        root = os.path.abspath(os.path.expanduser(root))
    else:
        from sentry_bootstrap._paths import state_dir

        root = os.path.join(state_dir(), "spool")
    try:
        if not os.path.isdir(root):
            return False
        if spool["path"]:
            return bool(os.listdir(root))
        return any(os.listdir(os.path.join(root, name)) for name in os.listdir(root)
                   if os.path.isdir(os.path.join(root, name)))
    except OSError:
        return False


# What the lazy start watches for; taken back when the SDK starts (its integrations take over).
_ACTIONS = (_start_on_import, _patch_logging, patch_threading, _patch_typer,
            _patch_multiprocessing)
