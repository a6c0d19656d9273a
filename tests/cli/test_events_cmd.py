"""`sentry-bootstrap events`: events written by the real SDK in one child, listed by the command in
another, in human and JSON form, with --limit, --clear, --follow and the configured outbox path."""
import json
import os
import queue
import shutil
import textwrap
import threading

import pytest

from sentry_bootstrap.events import reader
from sentry_bootstrap.transport import outbox
from tests.support.child import HOOK_DIR, run_python, spawn_python

EVENTS_CLI = "import sys; sys.path.insert(0, {!r}); from sentry_bootstrap.cli import main; " \
             "sys.exit(main(['events'] + sys.argv[1:]))".format(HOOK_DIR)

PRODUCER = textwrap.dedent("""\
    import logging, sys
    sys.path.insert(0, {root!r})
    import sentry_sdk
    from sentry_bootstrap.transport.outbox import make_outbox_transport
    sentry_sdk.init(transport=make_outbox_transport({{"path": sys.argv[1]}}), environment="qa",
                    release="shop@2.0.0", auto_enabling_integrations=False)
    sentry_sdk.set_tag("region", "eu")
    with sentry_sdk.new_scope() as scope:
        scope.set_transaction_name("nightly-import")
        logging.getLogger("shop.imports").error("import of %s failed", "prices.csv")
    def settle(ledger):
        return ledger["missing"]
    settle({{}})
    """).format(root=HOOK_DIR)

KEYS = {"event_id", "type", "timestamp", "level", "title", "environment", "release", "transaction", "tags",
        "file"}


def events(*args, cwd, env=None):
    return run_python(["-c", EVENTS_CLI] + list(args), hook=False, cwd=str(cwd), env=env, timeout=30)


def default_box(state):
    return os.path.join(str(state), "sentry-bootstrap", "outbox")


@pytest.fixture(scope="module")
def sample_box(tmp_path_factory):
    """An outbox filled once by the real SDK in a child: a logged error, then an uncaught KeyError."""
    where = tmp_path_factory.mktemp("sample")
    box = str(where / "outbox")
    proc = run_python(["-c", PRODUCER, box], hook=False, cwd=str(where))
    assert proc.returncode == 1 and "KeyError" in proc.stderr, proc.stderr
    return box


def fill(sample_box, box):
    shutil.copytree(sample_box, box)
    return box


def test_json_lists_real_sdk_events_with_their_fields(tmp_path, isolated_environ, sample_box):
    """A logged error and an uncaught exception from the real SDK appear in `events --json`, one object per line."""
    fill(sample_box, default_box(isolated_environ))
    proc = events("--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [set(line) for line in lines] == [KEYS, KEYS]
    logged, crash = lines
    assert logged["title"] == "import of prices.csv failed"
    assert logged["transaction"] == "nightly-import"
    assert crash["title"] == "KeyError: 'missing'"
    for line in lines:
        assert line["level"] == "error"
        assert (line["environment"], line["release"]) == ("qa", "shop@2.0.0")
        assert line["tags"] == {"region": "eu"}
        assert len(line["event_id"]) == 32 and line["timestamp"].endswith("Z")


def test_human_output_has_one_readable_line_per_event(tmp_path, isolated_environ, sample_box):
    """Without --json each event is one line with time, level, title, environment, release and transaction."""
    fill(sample_box, default_box(isolated_environ))
    proc = events(cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "ERROR" in lines[0] and "import of prices.csv failed" in lines[0]
    assert "environment=qa" in lines[0] and "release=shop@2.0.0" in lines[0]
    assert "transaction=nightly-import" in lines[0]
    assert "KeyError: 'missing'" in lines[1]
    assert lines[2] == "2 items in {}".format(default_box(isolated_environ))


def test_empty_outbox_prints_a_hint(tmp_path, isolated_environ):
    """An empty outbox says where it looked and how to fill it; --json prints nothing."""
    proc = events(cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith("No events in the outbox ({})".format(default_box(isolated_environ)))
    assert "hook-path" in proc.stdout
    assert events("--json", cwd=tmp_path).stdout == ""


def test_the_empty_outbox_hint_names_the_command_as_it_was_run(tmp_path, isolated_environ):
    """Run by its path with the venv not on PATH, the hint's commands use that path, so they work
    when pasted."""
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(sys.executable), "sentry-bootstrap")
    proc = subprocess.run([script, "events"], cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(isolated_environ)})
    assert proc.returncode == 0, proc.stderr
    assert '  PYTHONPATH="$({} hook-path)" python app.py\n'.format(script) in proc.stdout
    assert "then run `{} events` again.\n".format(script) in proc.stdout


def test_limit_shows_only_the_newest(tmp_path, isolated_environ, sample_box):
    """--limit 1 shows only the newest event."""
    fill(sample_box, default_box(isolated_environ))
    proc = events("--json", "--limit", "1", cwd=tmp_path)
    assert [json.loads(line)["title"] for line in proc.stdout.splitlines()] == ["KeyError: 'missing'"]
    assert events("--limit", "0", cwd=tmp_path).returncode == 2


def test_clear_empties_the_outbox(tmp_path, isolated_environ, sample_box):
    """--clear removes every event, says how many, and the next listing is empty."""
    box = fill(sample_box, default_box(isolated_environ))
    proc = events("--clear", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == "Removed 2 envelopes from {}.\n".format(box)
    assert reader.read_rows(box) == []
    assert events("--json", cwd=tmp_path).stdout == ""


def test_outbox_path_comes_from_the_configuration(tmp_path, sample_box):
    """`outbox.path` from sentry.yaml, and its SENTRY_OUTBOX__PATH override, say where events are read."""
    box = fill(sample_box, str(tmp_path / "custom-box"))
    (tmp_path / "sentry.yaml").write_text("version: 1\noutbox:\n  path: {}\n".format(box))
    assert len(events("--json", cwd=tmp_path).stdout.splitlines()) == 2
    proc = events("--json", cwd=tmp_path, env={"SENTRY_OUTBOX__PATH": str(tmp_path / "empty")})
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr


def test_configuration_error_exits_1_with_the_error_on_stderr(tmp_path):
    """A broken configuration makes `events` print the problem on stderr and exit 1."""
    (tmp_path / "sentry.yaml").write_text("version: 1\noutbox:\n  max_bytes: -5\n")
    proc = events(cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "outbox.max_bytes" in proc.stderr


def _lines(stream):
    """Lines of a child's stdout on a queue, so the test can wait for one with a timeout."""
    found = queue.Queue()

    def pump():
        for line in stream:
            found.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return found


def test_follow_prints_events_as_they_arrive(tmp_path, isolated_environ):
    """--follow --json keeps running and prints an event written after it started."""
    box = default_box(isolated_environ)
    proc = spawn_python(["-c", EVENTS_CLI, "--follow", "--json"], hook=False, cwd=str(tmp_path))
    try:
        lines = _lines(proc.stdout)
        payload = json.dumps({"event_id": "f" * 32, "message": "late arrival", "level": "warning"})
        envelope = "{{}}\n{{\"type\":\"event\",\"length\":{}}}\n{}\n".format(len(payload), payload)
        outbox.write_envelope(box, envelope.encode())
        event = json.loads(lines.get(timeout=10))
        assert (event["title"], event["level"], event["event_id"]) == ("late arrival", "warning", "f" * 32)
        assert proc.poll() is None  # still following
    finally:
        proc.kill()
        proc.communicate(timeout=10)


def test_show_names_the_logger_of_a_logged_event(tmp_path, isolated_environ, sample_box):
    """`events show` of an event from a log record says which logger sent it, as Sentry does."""
    box = fill(sample_box, default_box(isolated_environ))
    row = [r for r in reader.read_rows(box) if r["type"] == "message"][0]
    out = events("show", row["event_id"][:8], cwd=tmp_path).stdout
    assert out.startswith("MESSAGE  import of prices.csv failed\n")
    assert "\n  logger       shop.imports\n" in out


def test_module_level_frames_leave_out_the_interpreters_own_globals(tmp_path, isolated_environ, sample_box):
    """The SDK sends a module-level frame's globals as its locals; `events show` leaves out
    `__builtins__`, `__doc__` and the other dunder names and keeps the program's own."""
    box = fill(sample_box, default_box(isolated_environ))
    row, payload = reader.find(box, [r for r in reader.read_rows(box) if r["type"] == "error"][0]["event_id"])
    module_frame = [f for f in reader.frames(reader.exceptions(payload)[-1]) if f["function"] == "<module>"][0]
    assert "__builtins__" in module_frame["vars"] and "__doc__" in module_frame["vars"]  # as sent
    out = events("show", row["event_id"], cwd=tmp_path).stdout
    module_part = out[out.index(", in <module>"):out.index(", in settle")]
    assert "locals:" in module_part and "<module 'logging'" in module_part
    names = [line.split()[0] for line in module_part.split("locals:", 1)[1].splitlines()
             if line.startswith("        ")]
    assert "logging" in names and not [n for n in names if n.startswith("__")], names
