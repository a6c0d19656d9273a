"""A process that matches a `monitors:` entry reports its own run as cron check-ins.

`start(entry, values)` runs right after the SDK's start (a matched process starts it at once, see
`hook._start`): it sends `in_progress`, then arranges for one final check-in, `ok` or `error` with
the duration, whichever way the process ends:

- a normal end or `sys.exit(0)`: `ok`; `sys.exit(n)` with n not 0 (or a message) in the main
  thread: `error` (`sys.exit` and the builtins `exit`/`quit` are wrapped to see the code, which
  covers argparse, click, Django and console-script wrappers; a bare `raise SystemExit(n)` is not
  seen);
- an uncaught exception, KeyboardInterrupt (SIGINT) included: `error`; the SDK's excepthook sends
  the error event first, and both carry the process's trace id;
- SIGTERM, while the program has no handler of its own: `error`, then the signal is raised again
  with its default action, so the process ends as it would have (killed by SIGTERM).
SIGKILL (the OOM killer) and `os._exit` end the process with no chance to report: the monitor's
`max_runtime` catches them, or `sentry-bootstrap run --monitor`, which reports from the parent.

The final check-in is flushed within `shutdown_timeout`; with a DSN and the server away it is
spooled by the durable transport like any envelope, and sent by a later process. A forked child
inherits none of this (the process id is checked), and child processes started from here get the
slug in `monitors.ANCESTORS`, so the same job is never reported twice.
"""
import os
import signal
import sys
import time

import _thread

from sentry_bootstrap import _log, monitors

_state = {"run": None}


class ProcessRun(object):
    """One run of a monitored process: its check-in id, start time and how it ended."""

    def __init__(self, slug, config, timeout, started=None):
        self.slug = slug
        self.config = config
        self.timeout = timeout
        self.pid = os.getpid()
        # perf_counter: monotonic; the hook's own start is part of the run
        self.started = time.perf_counter() if started is None else started
        self.check_in_id = None
        self.exit_code = None  # the code given to sys.exit, None if it wasn't called
        self.failure = None  # what made the run fail, when it wasn't an exit code
        self.done = False

    def begin(self):
        from sentry_sdk.crons import capture_checkin

        self.check_in_id = capture_checkin(monitor_slug=self.slug, status="in_progress",
                                           monitor_config=self.config)

    def status(self):
        code = self.exit_code
        failed = self.failure is not None or (code is not None and code != 0)
        return "error" if failed else "ok"

    def finish(self):
        """Send the final check-in (once, from this process only) and wait for its delivery."""
        if self.done or os.getpid() != self.pid:
            return
        self.done = True
        try:
            import sentry_sdk
            from sentry_sdk.crons import capture_checkin

            status = self.status()
            capture_checkin(monitor_slug=self.slug, check_in_id=self.check_in_id, status=status,
                            duration=time.perf_counter() - self.started, monitor_config=self.config)
            _log.report("info", "monitor {}: {}{}".format(
                self.slug, status, " ({})".format(self.failure) if self.failure else
                " (exit code {})".format(self.exit_code) if status == "error" else ""))
            sentry_sdk.get_client().flush(timeout=self.timeout)
        except Exception as exc:  # never into the program's exit
            _log.report("error", "monitor {}: final check-in not sent: {}: {}".format(
                self.slug, type(exc).__name__, exc))


def exit_code_of(status):
    """The process exit code `sys.exit(status)` gives: None and 0 are 0, a message is 1."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    return 1


def start(entry, values, environ=None, started=None):
    """Report this process's run to the monitor of `entry` (a `monitors:` entry); `started` is the
    `time.perf_counter()` the run counts from (the hook's start)."""
    environ = os.environ if environ is None else environ
    if _state["run"] is not None:
        return _state["run"]
    timeout = values.get("shutdown_timeout")
    run = ProcessRun(entry["slug"], monitors.monitor_config(entry),
                     2.0 if timeout is None else float(timeout), started)
    _state["run"] = run
    monitors.add_ancestor(environ, run.slug)
    run.begin()
    _wrap_sys_exit(run)
    _wrap_excepthook(run)
    import atexit

    # Registered after the SDK's own (its atexit integration closes the client): runs before it.
    atexit.register(run.finish)
    _handle_sigterm(run)
    return run


def current():
    """The run reported by this process, or None."""
    return _state["run"]


def _wrap_sys_exit(run):
    original = sys.exit

    main = _thread.get_ident()

    def exit(status=None):
        # In another thread sys.exit ends only that thread; in a forked child, only the child.
        if os.getpid() == run.pid and _thread.get_ident() == main:
            run.exit_code = exit_code_of(status)
        return original(status)

    exit.__wrapped__ = original
    exit.__doc__ = original.__doc__
    sys.exit = exit
    _wrap_quitters(run, main)


def _wrap_quitters(run, main):
    """`exit(n)` and `quit(n)`, the site module's builtins scripts use too, raise SystemExit
    without sys.exit: the same objects, recording the code first (absent under `python -S`)."""
    import builtins

    for name in ("exit", "quit"):
        original = getattr(builtins, name, None)
        if original is None or not callable(original):
            continue
        base = type(original)

        def call(self, code=None, _base=base):
            if os.getpid() == run.pid and _thread.get_ident() == main:
                run.exit_code = exit_code_of(code)
            return _base.__call__(self, code)

        try:
            recording = type(base.__name__, (base,), {"__call__": call})
            quitter = recording.__new__(recording)
            quitter.__dict__.update(original.__dict__)
        except TypeError:  # not the site module's Quitter: left alone
            continue
        setattr(builtins, name, quitter)


def _wrap_excepthook(run):
    original = sys.excepthook

    def excepthook(exc_type, exc_value, exc_tb):
        if os.getpid() == run.pid:
            run.failure = "uncaught {}".format(getattr(exc_type, "__name__", "exception"))
        return original(exc_type, exc_value, exc_tb)

    sys.excepthook = excepthook


def _handle_sigterm(run):
    try:
        if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
            return  # the program's own handler (inherited ignore included) decides
    except (ValueError, AttributeError):  # not the main thread; no SIGTERM on this platform
        return

    def on_sigterm(signum, frame):
        if os.getpid() == run.pid:
            run.failure = "terminated by SIGTERM"
            run.finish()
        # End as the default action would: killed by the signal, no exit handlers.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)


# --- `sentry-bootstrap run --monitor`: the parent reports the child's run ----------------------

def init_reporting_client(resolved):
    """Start a client for check-ins sent from a process that runs no program code of its own
    (`run --monitor`): the configured DSN (durable spool) or the outbox, environment and release,
    no integrations, and none of the `module:function` options (they belong to the program)."""
    from sentry_bootstrap import sdk_compat
    from sentry_bootstrap.activation.activate import _transport
    from sentry_bootstrap.activation.options import CALLABLE_OPTIONS, sdk_options

    values = resolved.values
    options = sdk_options({k: v for k, v in values.items() if k not in CALLABLE_OPTIONS})
    options.update(environment=resolved.environment, release=resolved.release,
                   default_integrations=False, auto_enabling_integrations=False, integrations=[],
                   transport=_transport(values, values.get("dsn")))
    sdk_compat.original_init()(**options)


def trace_environment():
    """`SENTRY_TRACE` and `SENTRY_BAGGAGE` of this process's trace, for a child process whose SDK
    continues it (the SDK reads both at start)."""
    import sentry_sdk

    found = {}
    traceparent = sentry_sdk.get_traceparent()
    if traceparent:
        found["SENTRY_TRACE"] = traceparent
    baggage = sentry_sdk.get_baggage()
    if baggage:
        found["SENTRY_BAGGAGE"] = baggage
    return found


def close_client(timeout):
    import sentry_sdk

    client = sentry_sdk.get_client()
    client.flush(timeout=timeout)
    client.close(timeout=timeout)
