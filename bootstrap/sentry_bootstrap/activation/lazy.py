"""Lazy start: the SDK starts the first time the process needs it, not at interpreter start.

`arm(resolved, started, activate)` runs at interpreter start, on the standard library only and
importing nothing a bare interpreter doesn't load already. It leaves behind what must exist from the
first instruction, all of it small:

- actions on the import watcher (`activation.watcher`, the one every post-import patch uses): the
  SDK's start on the import of a module that needs it, and the patches below;
- `sys.excepthook`, and `threading.excepthook` once `threading` is imported;
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


def eager_reason(values, strict=False):
    """Why the SDK must start at once for these values, or None when it may wait. `strict`: strict
    mode is on (in the values or from SENTRY_BOOTSTRAP_STRICT)."""
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
    from sentry_bootstrap.activation.integrations import AUTO, DEFAULT, OPT_IN_TRIGGERS

    for name in values["integrations"]["enabled"]:
        # An opt-in integration with no module to wait for (sys_exit patches sys.exit) is needed
        # from the first instruction.
        if name not in OPT_IN_TRIGGERS and name not in AUTO and name not in DEFAULT:
            return "integration {} is set up at start".format(name)
    if strict or values.get("strict"):
        # Strict mode is for CI and deploy checks: any failure to start (a `module:function` that
        # can't be imported, a broken SDK) must be exit 78 at start, not an error found later.
        return "strict mode checks that the SDK starts"
    return None


def triggers(values):
    """Module names whose import starts the SDK: the SDK itself (the program, or the hook's helpers,
    use it), the frameworks the hook goes into (integrations_table.FRAMEWORKS), the triggers of the
    integrations that apply, and the modules of `instrument:` targets."""
    from sentry_bootstrap import integrations_table as table
    from sentry_bootstrap.activation.integrations import AUTO, OPT_IN_TRIGGERS

    section = values["integrations"]
    disabled = set(section["disabled"])
    opted_in = set(section["enabled"])
    auto = section["auto"]
    rows = table.frameworks("middleware")
    if values["diagnostics"]["celery_task"]:
        rows += table.frameworks("diagnostics")
    names = {"sentry_sdk"} | {row.module.partition(".")[0] for row in rows}
    for name, (_dists, trigger) in AUTO.items():
        if name not in disabled and (auto or name in opted_in):
            names.add(trigger)
    for name in opted_in:
        if name in OPT_IN_TRIGGERS and name not in disabled:
            names.add(OPT_IN_TRIGGERS[name])
    for entry in values["instrument"]:
        target = entry.get("target") if isinstance(entry, dict) else None
        if isinstance(target, str) and ":" in target:
            names.add(target.partition(":")[0])
    return names


def arm(values, activate, started=None):
    """Set up the watchers for `values` (the validated config) and return at once.

    `activate(reason)` is called once, from `start`, to start the SDK."""
    with _lock:
        if _state["armed"]:
            return
        _state.update(armed=True, activate=activate,
                      t0=time.perf_counter() if started is None else started)
    for name in triggers(values):
        watcher.watch(name, _start_on_import)
    logging_cfg = _logging_levels(values)
    if logging_cfg is not None:
        watcher.watch("logging", _patch_logging)
        _state["logging"] = logging_cfg
    watcher.watch("threading", _patch_threading)
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
    # The SDK's excepthook integration has wrapped the original hook by now.
    hook = sys.excepthook if sys.excepthook is not _excepthook else _state["excepthook"]
    hook(exc_type, exc_value, exc_tb)


def _patch_threading(module):
    original = module.excepthook

    def excepthook(args):
        if args.exc_type is not SystemExit:
            start("uncaught {} in thread {}".format(
                getattr(args.exc_type, "__name__", "exception"),
                getattr(args.thread, "name", "?")))
            try:
                from sentry_bootstrap import sdk_compat

                # Threads started before the SDK don't run under its threading integration; one
                # that did was captured there already, and the dedupe integration drops the copy.
                sdk_compat.capture_thread_exception((args.exc_type, args.exc_value,
                                                     args.exc_traceback))
            except Exception:
                pass
        return original(args)

    module.excepthook = excepthook


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
            if not _state["started"]:
                try:
                    _on_record(record, records, breadcrumb_level, event_level, keep)
                except Exception:
                    pass

    module.Logger.callHandlers = callHandlers


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
_ACTIONS = (_start_on_import, _patch_logging, _patch_threading, _patch_multiprocessing)
