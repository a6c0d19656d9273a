"""Programs that chain `sys.excepthook`, `threading.excepthook` and `logging` run exactly as without
the hook, in real child interpreters: each handler of the program runs as often, stderr is the same
text, and each uncaught exception (or error record) is one event, sent to a real server on
127.0.0.1 with a DSN, or written to the outbox without one.

Every program is run three ways under the hook: `lazy` (the SDK starts on the crash), `eager`
(`sdk_start: eager`), and `started` (the program imports `sentry_sdk` after it set up its hooks, so
the SDK started while the program's hooks held the lazy start's).
"""
import json
import os
import textwrap

import pytest

from sentry_bootstrap.transport import envelope_file
from tests.support.app import base_config
from tests.support.child import run_python

SYS_SAVE_AND_CALL = """\
import sys
previous = sys.excepthook
def report(t, v, tb):
    sys.stderr.write("fatal: %s\\n" % v)
    previous(t, v, tb)
sys.excepthook = report
{trigger}
raise RuntimeError("disk full")
"""

SYS_REPLACE = """\
import sys
def report(t, v, tb):
    sys.stderr.write("fatal: %s\\n" % v)
sys.excepthook = report
{trigger}
raise RuntimeError("disk full")
"""

SYS_WRAP_TWICE = """\
import sys
def wrap(name, previous):
    def hook(t, v, tb):
        sys.stderr.write("%s: %s\\n" % (name, v))
        previous(t, v, tb)
    return hook
sys.excepthook = wrap("outer", wrap("inner", sys.excepthook))
{trigger}
raise RuntimeError("disk full")
"""

SYS_RESTORE = """\
import sys
previous = sys.excepthook
def report(t, v, tb):
    sys.stderr.write("fatal: %s\\n" % v)
    previous(t, v, tb)
sys.excepthook = report
{trigger}
sys.excepthook = previous
raise RuntimeError("disk full")
"""

# Called twice for one exception, as some GUI toolkits' wrappers do: the default hook prints the
# traceback twice, and the exception is still one event.
SYS_CALLS_PREVIOUS_TWICE = """\
import sys
previous = sys.excepthook
def report(t, v, tb):
    sys.stderr.write("fatal: %s\\n" % v)
    previous(t, v, tb)
    previous(t, v, tb)
sys.excepthook = report
{trigger}
raise RuntimeError("disk full")
"""

THREAD_SAVE_AND_CALL = """\
import sys, threading
previous = threading.excepthook
def report(args):
    sys.stderr.write("thread died: %s\\n" % args.exc_value)
    previous(args)
threading.excepthook = report
{trigger}
def work():
    raise KeyError("lost in a thread")
t = threading.Thread(target=work, name="worker-1")
t.start()
t.join()
"""

THREAD_REPLACE = """\
import sys, threading
def report(args):
    sys.stderr.write("thread died: %s\\n" % args.exc_value)
threading.excepthook = report
{trigger}
def work():
    raise KeyError("lost in a thread")
t = threading.Thread(target=work, name="worker-1")
t.start()
t.join()
"""

THREAD_WRAP_TWICE = """\
import sys, threading
def wrap(name, previous):
    def hook(args):
        sys.stderr.write("%s: %s\\n" % (name, args.exc_value))
        previous(args)
    return hook
threading.excepthook = wrap("outer", wrap("inner", threading.excepthook))
{trigger}
def work():
    raise KeyError("lost in a thread")
t = threading.Thread(target=work, name="worker-1")
t.start()
t.join()
"""

THREAD_RESTORE = """\
import sys, threading
previous = threading.excepthook
def report(args):
    sys.stderr.write("thread died: %s\\n" % args.exc_value)
    previous(args)
threading.excepthook = report
{trigger}
threading.excepthook = previous
def work():
    raise KeyError("lost in a thread")
t = threading.Thread(target=work, name="worker-1")
t.start()
t.join()
"""

LOGGING_WRAP_CALLHANDLERS = """\
import logging, sys
logging.basicConfig(format="%(levelname)s %(message)s")
previous = logging.Logger.callHandlers
def call_handlers(self, record):
    sys.stderr.write("seen: %s\\n" % record.getMessage())
    return previous(self, record)
logging.Logger.callHandlers = call_handlers
{trigger}
log = logging.getLogger("jobs")
log.warning("step 1")
log.error("job failed")
log.error("job failed again")
"""

LOGGING_RESTORE_CALLHANDLERS = """\
import logging, sys
logging.basicConfig(format="%(levelname)s %(message)s")
previous = logging.Logger.callHandlers
def call_handlers(self, record):
    sys.stderr.write("seen: %s\\n" % record.getMessage())
    return previous(self, record)
logging.Logger.callHandlers = call_handlers
{trigger}
log = logging.getLogger("jobs")
log.error("job failed")
logging.Logger.callHandlers = previous
log.error("job failed again")
"""

LOGGING_WRAP_HANDLER = """\
import logging, sys
handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
previous = handler.handle
def handle(record):
    sys.stderr.write("handler: %s\\n" % record.getMessage())
    return previous(record)
handler.handle = handle
logging.getLogger().addHandler(handler)
{trigger}
log = logging.getLogger("jobs")
log.warning("step 1")
log.error("job failed")
"""

# name: (program, events expected: each an exception type or a log message)
PROGRAMS = {
    "sys-save-and-call": (SYS_SAVE_AND_CALL, ["RuntimeError"]),
    # A program that takes uncaught exceptions over without calling the previous hook gets no
    # event, as with the SDK alone (its excepthook is replaced too); unless the SDK started after
    # the program's hook was in place, and wrapped it, as the SDK always does.
    "sys-replace": (SYS_REPLACE, {"lazy": [], "eager": [], "started": ["RuntimeError"]}),
    "sys-wrap-twice": (SYS_WRAP_TWICE, ["RuntimeError"]),
    "sys-restore": (SYS_RESTORE, ["RuntimeError"]),
    "sys-calls-previous-twice": (SYS_CALLS_PREVIOUS_TWICE, ["RuntimeError"]),
    "thread-save-and-call": (THREAD_SAVE_AND_CALL, ["KeyError"]),
    # Replaced without calling the previous hook: what escapes `Thread.run` is still sent, by the
    # SDK's threading integration, or by the lazy start's own wrapper for a thread started before.
    "thread-replace": (THREAD_REPLACE, ["KeyError"]),
    "thread-wrap-twice": (THREAD_WRAP_TWICE, ["KeyError"]),
    "thread-restore": (THREAD_RESTORE, ["KeyError"]),
    "logging-wrap-callhandlers": (LOGGING_WRAP_CALLHANDLERS, ["job failed", "job failed again"]),
    "logging-restore-callhandlers": (LOGGING_RESTORE_CALLHANDLERS,
                                     ["job failed", "job failed again"]),
    "logging-wrap-handler": (LOGGING_WRAP_HANDLER, ["job failed"]),
}
MODES = {
    "lazy": ("", ""),
    "eager": ("sdk_start: eager\n", ""),
    "started": ("", "import sentry_sdk  # starts the SDK, after the program's set-up"),
}


def outbox_events(state):
    """The event payloads in the default outbox of the state directory `state`."""
    box = os.path.join(str(state), "sentry-bootstrap", "outbox")
    events = []
    for name in envelope_file.list_names(box):
        for headers, payload in envelope_file.parse(envelope_file.read(os.path.join(box, name))).items:
            if headers.get("type") == "event":
                events.append(json.loads(payload))
    return events


def what(event):
    """The exception type of an error event, the message of a log event."""
    if event.get("exception"):
        return event["exception"]["values"][-1]["type"]
    return (event.get("logentry") or {}).get("message")


@pytest.mark.parametrize("destination", ["dsn", "outbox"])
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_runs_as_without_the_hook_and_sends_one_event_each(
        name, mode, destination, app, sentry_server, isolated_environ):
    """The program's handlers run as often and stderr is the same as without the hook; each
    uncaught exception or error record is exactly one event."""
    program, expected = PROGRAMS[name]
    expected = expected[mode] if isinstance(expected, dict) else expected
    extra, trigger = MODES[mode]
    app.write("prog.py", program.format(trigger=trigger))
    bare = run_python(["prog.py"], cwd=str(app.path), hook=False)
    assert bare.stderr.strip(), "the program writes to stderr"
    dsn = sentry_server.dsn if destination == "dsn" else ""
    config = base_config(dsn, extra)
    if not dsn:
        config = config.replace('dsn: ""\n', "")
    app.config(config)
    hooked = run_python(["prog.py"], cwd=str(app.path), timeout=60)
    assert (hooked.returncode, hooked.stdout) == (bare.returncode, bare.stdout)
    assert hooked.stderr == bare.stderr
    if dsn:
        if expected:
            sentry_server.wait_for_events(len(expected))
        events = sentry_server.events  # the child has exited: its flush at exit is done
    else:
        events = outbox_events(isolated_environ)
    assert sorted(what(e) for e in events) == sorted(expected), hooked.stderr


def test_the_issue_example_prints_its_line_once(app, sentry_server):
    """The program of issue 25 prints `fatal: disk full` once, not 331 times, and sends one event
    with the excepthook's mechanism."""
    app.write("prog.py", SYS_SAVE_AND_CALL.format(trigger=""))
    app.config(base_config(sentry_server.dsn))
    result = run_python(["prog.py"], cwd=str(app.path))
    assert result.stderr.count("fatal: disk full") == 1, result.stderr
    assert "RecursionError" not in result.stderr
    (event,) = sentry_server.wait_for_events(1)
    assert event["exception"]["values"][-1]["mechanism"] == {"type": "excepthook",
                                                             "handled": False}
