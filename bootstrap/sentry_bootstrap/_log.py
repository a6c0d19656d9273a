"""The hook's one voice: lines on stderr that start with `sentry-bootstrap: `. Never stdout."""
import os
import sys

from sentry_bootstrap import _env

LEVELS = {"off": 0, "error": 1, "warning": 1, "info": 2, "debug": 3}
PREFIX = "sentry-bootstrap: "


def threshold(environ=None):
    environ = os.environ if environ is None else environ
    return LEVELS.get(environ.get(_env.LOG, "error").strip().lower(), LEVELS["error"])


def enabled(level, environ=None):
    return LEVELS[level] <= threshold(environ)


def exit_notice(pending, timeout):
    """The SDK's atexit callback (`AtexitIntegration(callback=...)`): its three bare lines ("Sentry is
    attempting to send N pending events", "Waiting up to N seconds", "Press Ctrl-C to quit") as one
    line of ours."""
    report("error", "sending {} pending event(s) before exit, waiting up to {} s (Ctrl-C to "
           "quit)".format(pending, timeout))


def report(level, message, environ=None):
    """Write one line to stderr when `level` passes SENTRY_BOOTSTRAP_LOG. Never raises."""
    try:
        if LEVELS[level] and enabled(level, environ):
            line = PREFIX + " ".join(str(message).splitlines())
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
    except Exception:
        pass
