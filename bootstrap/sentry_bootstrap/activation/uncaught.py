"""One event per uncaught exception, whichever hook reports it.

An uncaught exception can reach several reporters in one process: the SDK's `sys.excepthook`
wrapper, Typer's wrapped `except_hook`, the SDK's threading integration (around `Thread.run`), and
the lazy start's own `sys.excepthook` / `threading.excepthook` (activation/lazy.py), which a program
may have saved as its "previous" hook and call from its own. Which of them run, and in what order,
depends on what the program did with the hooks. So the rule is kept in one place, keyed on the
exception object: an exception is sent as unhandled at most once.

`once_per_exception` is a global event processor (set up by activation, for the lazy and the eager
start): it drops an event of an uncaught exception (mechanism `UNCAUGHT`, unhandled) already sent as
one, and remembers the last few such exceptions. `sent(exc)` lets the lazy hooks skip building an
event that would be dropped. Exceptions can't be weakly referenced, so the memory holds strong references, a few only:
the duplicates it catches arrive within the same call chain, moments apart.
"""
import _thread

KEEP = 8

_lock = _thread.allocate_lock()
_sent = []  # the last exceptions sent as unhandled, oldest first
_installed = []  # the scope it was added to, once


def sent(exc):
    """Whether `exc` (the exception object) was already sent as unhandled."""
    with _lock:
        return any(seen is exc for seen in _sent)


def once_per_exception(event, hint):
    """The event processor: None (drop) for a second unhandled event of the same exception."""
    exc_info = (hint or {}).get("exc_info")
    exc = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None
    if exc is None or not _unhandled(event):
        return event
    with _lock:
        if any(seen is exc for seen in _sent):
            return None
        _sent.append(exc)
        del _sent[:-KEEP]
    return event


# The mechanisms of the hooks an uncaught exception passes through. A framework's request error
# (also unhandled) is reported once by its integration, and is not kept here: the memory would hold
# the request's frames.
UNCAUGHT = frozenset({"excepthook", "threading", "typer"})


def _unhandled(event):
    for value in (event.get("exception") or {}).get("values") or ():
        mechanism = value.get("mechanism") if isinstance(value, dict) else None
        if (isinstance(mechanism, dict) and mechanism.get("handled") is False
                and mechanism.get("type") in UNCAUGHT):
            return True
    return False


def install():
    """Add the processor to the SDK's global scope, once per process (twice, it would drop every
    unhandled event: the second pass would find the first one's mark)."""
    import sentry_sdk

    scope = sentry_sdk.get_global_scope()
    with _lock:
        if _installed:
            return
        _installed.append(scope)
    scope.add_event_processor(once_per_exception)


# --- thread tracebacks -------------------------------------------------------------------------

def call_tidied(hook, args):
    """`hook(args)` for `threading.excepthook`, with the traceback printed as the program alone
    would print it: without the frames of the SDK's threading integration, which runs a thread's
    `run` inside its own and re-raises what escapes (eight more lines in every thread's crash).

    The default hook prints `exc_value.__traceback__`, not the traceback it is given, so a copy
    without those frames is on the exception for the time of the call only, and the exception's
    own traceback is put back after."""
    exc = args.exc_value
    original = getattr(exc, "__traceback__", None)
    tidy = _without_sdk_frames(original)
    if tidy is original:
        return hook(args)
    import threading

    try:
        exc.__traceback__ = tidy
    except Exception:
        return hook(args)
    try:
        return hook(threading.ExceptHookArgs([args.exc_type, exc, tidy, args.thread]))
    finally:
        exc.__traceback__ = original


_SDK_THREADING = ("sentry_sdk", "integrations", "threading.py")
_SDK_UTILS = ("sentry_sdk", "utils.py")
_LAZY = ("sentry_bootstrap", "activation", "lazy.py")  # its `run_thread`, for threads started early


def _sdk_frame(code):
    parts = tuple(code.co_filename.replace("\\", "/").split("/")[-3:])
    return (parts == _SDK_THREADING or (parts[-2:] == _SDK_UTILS and code.co_name == "reraise")
            or (parts == _LAZY and code.co_name == "run_thread"))


def _without_sdk_frames(tb):
    """A copy of the traceback `tb` without the SDK's threading frames; `tb` itself when it has
    none."""
    kept = []
    removed = False
    each = tb
    while each is not None:
        if _sdk_frame(each.tb_frame.f_code):
            removed = True
        else:
            kept.append(each)
        each = each.tb_next
    if not removed:
        return tb
    import types

    copy = None
    for each in reversed(kept):
        copy = types.TracebackType(copy, each.tb_frame, each.tb_lasti, each.tb_lineno)
    return copy
