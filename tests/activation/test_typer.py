"""A real Typer app under the hook, in child interpreters: a crash is one event (the SDK's Typer
integration is set up when typer is imported) and the app's output is what it is without the hook,
with Typer's rich tracebacks and with TYPER_STANDARD_TRACEBACK=1; a run that succeeds never starts
the SDK."""
import sys

import pytest

from tests.activation.test_chained_hooks import outbox_events
from tests.support.app import base_config
from tests.support.child import run_python

if sys.version_info < (3, 10):  # the test extra installs typer from 3.10 on (pyproject.toml)
    pytest.skip("typer is not installed for Python 3.9 (see pyproject.toml)", allow_module_level=True)
import typer  # noqa: E402,F401  (a test dependency from 3.10 on: missing is a failure, not a skip)

CLI = """\
import sys
import typer

app = typer.Typer()

@app.command()
def main(name: str = "world", fail: bool = True):
    print("hello %s" % name)
    if fail:
        raise RuntimeError("cannot greet %s" % name)
    print("sentry_sdk imported: %s" % ("sentry_sdk" in sys.modules))

if __name__ == "__main__":
    app()
"""

# Typer before 0.16 reads only the underscored name.
STYLES = {"rich": {}, "standard": {"TYPER_STANDARD_TRACEBACK": "1", "_TYPER_STANDARD_TRACEBACK": "1"}}
MODES = {"lazy": "", "eager": "sdk_start: eager\n"}


def _config(dsn, extra=""):
    text = base_config(dsn, extra)
    return text if dsn else text.replace('dsn: ""\n', "")


@pytest.mark.parametrize("destination", ["dsn", "outbox"])
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("style", sorted(STYLES))
def test_typer_crash_is_one_event_and_the_output_is_unchanged(
        style, mode, destination, app, sentry_server, isolated_environ):
    """A crash in a default Typer app sends exactly one event, with the Typer mechanism, and its
    stdout, stderr and exit code are those of the app without the hook."""
    app.write("cli.py", CLI)
    env = STYLES[style]
    bare = run_python(["cli.py"], cwd=str(app.path), env=env, hook=False)
    assert "RuntimeError: cannot greet world" in bare.stderr
    dsn = sentry_server.dsn if destination == "dsn" else ""
    app.config(_config(dsn, MODES[mode]))
    hooked = run_python(["cli.py"], cwd=str(app.path), env=env)
    assert (hooked.returncode, hooked.stdout, hooked.stderr) == (
        bare.returncode, bare.stdout, bare.stderr)
    if dsn:
        sentry_server.wait_for_events(1)
        events = sentry_server.events  # the child has exited: its flush at exit is done
    else:
        events = outbox_events(isolated_environ)
    assert len(events) == 1, hooked.stderr
    value = events[0]["exception"]["values"][-1]
    assert (value["type"], value["value"]) == ("RuntimeError", "cannot greet world")
    assert value["mechanism"] == {"type": "typer", "handled": False}


def test_a_typer_app_that_succeeds_never_starts_the_sdk(app, sentry_server):
    """Importing typer and running a command that succeeds starts nothing: a CLI pays for the SDK
    only when it crashes."""
    app.write("cli.py", CLI)
    app.config(_config(sentry_server.dsn))
    result = run_python(["cli.py", "--no-fail"], cwd=str(app.path))
    assert (result.returncode, result.stdout) == (0, "hello world\nsentry_sdk imported: False\n")
    assert result.stderr == ""


@pytest.mark.parametrize("style", sorted(STYLES))
def test_typer_integration_disabled(style, app, sentry_server):
    """With `integrations.disabled: [typer]` Typer's rich traceback (which calls no other hook)
    sends nothing, as with the SDK alone; a standard traceback reaches the excepthook: one event."""
    app.write("cli.py", CLI)
    app.config(_config(sentry_server.dsn, "integrations:\n  disabled: [typer]\n"))
    bare = run_python(["cli.py"], cwd=str(app.path), env=STYLES[style], hook=False)
    hooked = run_python(["cli.py"], cwd=str(app.path), env=STYLES[style])
    assert (hooked.returncode, hooked.stdout, hooked.stderr) == (
        bare.returncode, bare.stdout, bare.stderr)
    if style == "standard":
        (event,) = sentry_server.wait_for_events(1)
        assert event["exception"]["values"][-1]["mechanism"]["type"] == "excepthook"
        assert len(sentry_server.events) == 1
    else:
        assert sentry_server.events == []  # the child has exited: nothing was sent
