"""The hook's own traffic logs only to the hook.

urllib3 logs every retry of the transport's pool as a WARNING on `urllib3.connectionpool` (and
debug lines on its other loggers); through the program's handlers, a program that logs to stdout
(`logging.basicConfig(stream=sys.stdout)`) got three `Retrying ...` lines per send to an
unreachable DSN. The transport marks the thread while it makes a request (`hook_request()`); a
filter on urllib3's loggers turns a record made under that mark into the hook's stderr line (ERROR
and above at `error`, the rest at `debug`) and stops it there. Records of the program's own urllib3
use, in any thread, pass untouched.

The SDK's own logger (`sentry_sdk.errors`) keeps its own stderr handler (`debug: true`) but no longer
propagates to the program's handlers. The SDK's Spotlight client sends from the capturing thread
(the program's): `mark_spotlight(client)` marks its sends too, and the SDK's records on the
`spotlight` logger (made in sentry_sdk/spotlight.py) become our lines as well.
"""
import logging
import threading

from sentry_bootstrap import _log

# Every logger urllib3 (1.26 and 2.x) writes to; a filter applies only to the logger it is on.
URLLIB3_LOGGERS = ("urllib3", "urllib3.connectionpool", "urllib3.connection",
                   "urllib3.poolmanager", "urllib3.response", "urllib3.util.retry",
                   "urllib3.util.ssl_", "urllib3.contrib.socks")
SDK_LOGGER = "sentry_sdk.errors"

_marks = threading.local()
_installed = []


class hook_request(object):
    """`with hook_request():` around one HTTP request of the hook's transport, in its thread."""

    __slots__ = ()

    def __enter__(self):
        _marks.depth = getattr(_marks, "depth", 0) + 1
        return self

    def __exit__(self, *exc_info):
        _marks.depth -= 1
        return False


class _OwnTrafficFilter(logging.Filter):
    def filter(self, record):
        if not getattr(_marks, "depth", 0):
            return True  # the program's own request: as without the hook
        try:
            level = "error" if record.levelno >= logging.ERROR else "debug"
            _log.report(level, "transport: {}: {}".format(record.name, record.getMessage()))
        except Exception:
            pass
        return False


class _SdkSpotlightFilter(logging.Filter):
    """The `spotlight` logger's records made by the SDK's own module; a program's own `spotlight`
    logger is left alone."""

    def filter(self, record):
        path = (record.pathname or "").replace("\\", "/")
        if not path.endswith("sentry_sdk/spotlight.py"):
            return True
        try:
            level = "error" if record.levelno >= logging.ERROR else "debug"
            _log.report(level, "spotlight: {}".format(record.getMessage()))
        except Exception:
            pass
        return False


def mark_spotlight(client):
    """Mark the sends of `client.spotlight` (the SDK's Spotlight client, when `spotlight` is on) as
    the hook's traffic. Never raises."""
    try:
        spotlight = getattr(client, "spotlight", None)
        send = getattr(spotlight, "capture_envelope", None)
        if send is None or getattr(send, "_sentry_bootstrap_marked", False):
            return

        def capture_envelope(envelope):
            with hook_request():
                return send(envelope)

        capture_envelope._sentry_bootstrap_marked = True
        spotlight.capture_envelope = capture_envelope
    except Exception:
        pass


def install():
    """Put the filter on urllib3's loggers and keep the SDK's logger to itself. Idempotent."""
    if _installed:
        return
    own = _OwnTrafficFilter()
    for name in URLLIB3_LOGGERS:
        logging.getLogger(name).addFilter(own)
    logging.getLogger(SDK_LOGGER).propagate = False
    logging.getLogger("spotlight").addFilter(_SdkSpotlightFilter())
    _installed.append(own)
