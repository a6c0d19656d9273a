"""activation/uncaught.py on its own: the once-per-exception rule and the thread traceback tidy-up,
with the real SDK's event builder (no process started)."""
import threading
import traceback

import pytest

from sentry_bootstrap.activation import uncaught


def _event(exc, mechanism):
    from sentry_sdk.utils import event_from_exception

    event, hint = event_from_exception((type(exc), exc, exc.__traceback__),
                                       mechanism={"type": mechanism, "handled": False})
    return event, hint


def _raised(exc):
    try:
        raise exc
    except BaseException as caught:
        return caught


@pytest.fixture(autouse=True)
def empty_memory(monkeypatch):
    monkeypatch.setattr(uncaught, "_sent", [])


def test_second_uncaught_event_of_one_exception_is_dropped():
    """The same exception reported by two uncaught-exception hooks is one event; another
    exception is not affected."""
    first = _raised(RuntimeError("disk full"))
    other = _raised(RuntimeError("disk full"))
    assert uncaught.once_per_exception(*_event(first, "typer")) is not None
    assert uncaught.sent(first)
    assert uncaught.once_per_exception(*_event(first, "excepthook")) is None
    assert uncaught.once_per_exception(*_event(other, "excepthook")) is not None


def test_other_events_pass_and_are_not_remembered():
    """Handled captures, framework request errors and messages pass through untouched, and the
    memory keeps no reference to them."""
    exc = _raised(ValueError("bad"))
    event, hint = _event(exc, "flask")
    assert uncaught.once_per_exception(event, hint) is event
    assert uncaught.once_per_exception(event, hint) is event
    message = {"message": "hello"}
    assert uncaught.once_per_exception(message, {}) is message
    assert uncaught.once_per_exception(message, None) is message
    assert not uncaught.sent(exc)


def test_memory_is_bounded():
    """At most KEEP exceptions are held."""
    for n in range(uncaught.KEEP * 3):
        uncaught.once_per_exception(*_event(_raised(KeyError(n)), "threading"))
    assert len(uncaught._sent) == uncaught.KEEP


def _fake_sdk_frame():
    # A function compiled under the SDK's threading integration's file name stands in for its
    # wrapper around Thread.run.
    source = "def run(target):\n    return target()\n"
    namespace = {}
    exec(compile(source, "/x/site-packages/sentry_sdk/integrations/threading.py", "exec"), namespace)
    return namespace["run"]


def test_thread_traceback_is_printed_without_the_sdk_frames_and_kept_on_the_exception():
    """The hook after ours prints the traceback without the SDK's frames; the exception's own
    traceback is the same object before and after."""
    def work():
        raise KeyError("lost in a thread")

    run = _fake_sdk_frame()
    exc = _raised_in(lambda: run(work))
    original_tb = exc.__traceback__
    args = threading.ExceptHookArgs([KeyError, exc, original_tb, None])
    printed = []

    def hook(args):
        printed.append("".join(traceback.format_exception(args.exc_type, args.exc_value,
                                                          args.exc_traceback)))
        printed.append("".join(traceback.format_tb(args.exc_value.__traceback__)))

    uncaught.call_tidied(hook, args)
    assert exc.__traceback__ is original_tb
    assert "sentry_sdk" in "".join(traceback.format_tb(original_tb))
    for text in printed:
        assert "sentry_sdk" not in text and "in work" in text, text


def _raised_in(call):
    try:
        call()
    except BaseException as caught:
        return caught


def test_traceback_without_sdk_frames_is_passed_as_is():
    """A thread that didn't run under the SDK gets its own args back, untouched."""
    exc = _raised(KeyError("k"))
    args = threading.ExceptHookArgs([KeyError, exc, exc.__traceback__, None])
    seen = []
    uncaught.call_tidied(seen.append, args)
    assert seen == [args]
