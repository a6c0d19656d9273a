"""Cron monitors of whole processes (`monitors:`), in real child interpreters sending to the real
local Sentry server: each way a process can end gives one `in_progress` and one final check-in,
with the envelope checked item by item as Relay reads it."""
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support.app import base_config
from tests.support.child import run_python, spawn_python

# A loaded machine may take more than the default 2 s to answer: every check-in is flushed before
# its process ends, and the tests count on that.
MONITORS = """\
shutdown_timeout: 15
monitors:
  - slug: nightly-backup
    script: backup.py
    schedule: "0 3 * * *"
    timezone: Europe/Paris
    checkin_margin: 5
    max_runtime: 30
    failure_issue_threshold: 2
    recovery_threshold: 3
  - slug: feed-import
    module: feeds.importer
    schedule: every 30 minutes
"""
EXPECTED_CONFIG = {
    "schedule": {"type": "crontab", "value": "0 3 * * *"}, "timezone": "Europe/Paris",
    "checkin_margin": 5, "max_runtime": 30, "failure_issue_threshold": 2, "recovery_threshold": 3,
}
HEX = frozenset("0123456789abcdef")


def check_ins(server, count, timeout=20.0):
    server.wait_for(lambda: len(server.items("check_in")) >= count, timeout,
                    "{} check-ins".format(count))
    return [item.json for item in server.items("check_in")]


def assert_run(server, slug, final_status, count=2):
    """The two check-ins of one run, in order, sharing one check-in id; returns them."""
    started, final = check_ins(server, count)[-2:]
    assert (started["monitor_slug"], started["status"]) == (slug, "in_progress")
    assert (final["monitor_slug"], final["status"]) == (slug, final_status)
    assert started["check_in_id"] == final["check_in_id"]
    assert isinstance(final["duration"], float) and final["duration"] >= 0
    return started, final


def test_matched_script_that_succeeds_sends_in_progress_then_ok(app, sentry_server):
    """A script matched by path reports in_progress at start and ok with the duration at the end;
    each envelope holds one `check_in` item in the shape Relay's CheckIn accepts."""
    app.config(base_config(sentry_server.dsn, MONITORS))
    app.write("jobs/backup.py", "import sys\nprint('saved')\n")
    result = run_python(["jobs/backup.py"], cwd=str(app.path))
    assert (result.returncode, result.stdout) == (0, "saved\n")
    started, final = assert_run(sentry_server, "nightly-backup", "ok")
    envelopes = [e for e in sentry_server.envelopes if any(i.type == "check_in" for i in e.items)]
    assert len(envelopes) == 2
    for envelope, payload in zip(envelopes, (started, final)):
        assert [item.type for item in envelope.items] == ["check_in"]
        item = envelope.items[0]
        assert item.headers.get("length") in (None, len(item.payload))
        assert envelope.headers["trace"]["trace_id"] == payload["contexts"]["trace"]["trace_id"]
        # Relay's CheckIn: a 32-hex id, slug, status, environment, duration, monitor_config,
        # contexts.trace.trace_id (32 hex); the rest is ignored by it.
        assert len(payload["check_in_id"]) == 32 and set(payload["check_in_id"]) <= HEX
        assert payload["environment"] == "staging" and payload["release"] == app.sha
        assert payload["monitor_config"] == EXPECTED_CONFIG
        assert set(payload["contexts"]) == {"trace"}
        trace_id = payload["contexts"]["trace"]["trace_id"]
        assert len(trace_id) == 32 and set(trace_id) <= HEX
    assert started["duration"] is None
    assert started["contexts"]["trace"]["trace_id"] == final["contexts"]["trace"]["trace_id"]


def test_uncaught_exception_gives_an_error_check_in_in_the_events_trace(app, sentry_server):
    """An uncaught exception: the error event and both check-ins carry one trace id."""
    app.config(base_config(sentry_server.dsn, MONITORS))
    app.write("backup.py", "raise KeyError('disk-7')\n")
    result = run_python(["backup.py"], cwd=str(app.path))
    assert result.returncode == 1 and "KeyError: 'disk-7'" in result.stderr
    started, final = assert_run(sentry_server, "nightly-backup", "error")
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["type"] == "KeyError"
    trace = event["contexts"]["trace"]["trace_id"]
    assert started["contexts"]["trace"]["trace_id"] == trace
    assert final["contexts"]["trace"]["trace_id"] == trace


@pytest.mark.parametrize("code, status, returncode", [
    ("sys.exit(3)", "error", 3), ("sys.exit(0)", "ok", 0), ("sys.exit('no disk')", "error", 1),
    ("exit(5)", "error", 5), ("quit()", "ok", 0),
    ("import threading; t = threading.Thread(target=sys.exit, args=(4,)); t.start(); t.join()",
     "ok", 0),
])
def test_sys_exit_code_decides_the_status(app, sentry_server, code, status, returncode):
    """sys.exit(n) and the builtin exit(n): ok for 0, error otherwise; the exit code is the
    program's own; sys.exit in another thread ends only that thread and decides nothing."""
    app.config(base_config(sentry_server.dsn, MONITORS))
    app.write("backup.py", "import sys\n{}\n".format(code))
    result = run_python(["backup.py"], cwd=str(app.path))
    assert result.returncode == returncode, result.stderr
    assert_run(sentry_server, "nightly-backup", status)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_killed_by_sigterm_or_interrupted_reports_error_and_dies_by_the_signal(app, sentry_server,
                                                                             signum):
    """SIGTERM (no handler of the program's) and SIGINT: error check-in, then the process ends
    by that signal, as it would without the hook."""
    app.config(base_config(sentry_server.dsn, MONITORS))
    app.write("backup.py", "import time\nprint('ready', flush=True)\ntime.sleep(120)\n")
    proc = spawn_python(["backup.py"], cwd=str(app.path))
    try:
        assert proc.stdout.readline() == "ready\n"
        check_ins(sentry_server, 1)  # in_progress is out: the run has started
        proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signum
    assert_run(sentry_server, "nightly-backup", "error")


def test_schedule_rides_on_the_first_check_in_so_the_server_creates_the_monitor(app,
                                                                               sentry_server):
    """`python -m feeds.importer` matches `module:`; its very first check-in (`in_progress`)
    carries the interval schedule as `monitor_config`, which is how Sentry creates (upserts) a
    monitor it doesn't know yet; the final one carries it too."""
    app.config(base_config(sentry_server.dsn, MONITORS))
    app.write("feeds/__init__.py", "")
    app.write("feeds/importer.py", "print('imported')\n")
    run_python(["-m", "feeds.importer"], cwd=str(app.path))
    started, final = assert_run(sentry_server, "feed-import", "ok")
    interval = {"schedule": {"type": "interval", "value": 30, "unit": "minute"}}
    assert started["monitor_config"] == interval and final["monitor_config"] == interval


def test_unmatched_process_starts_as_before(app, sentry_server):
    """A process no entry matches sends nothing and keeps the lazy start (no sentry_sdk)."""
    app.config(base_config(sentry_server.dsn, MONITORS))
    app.write("other.py", "import sys\nprint('sentry_sdk' in sys.modules)\n")
    result = run_python(["other.py"], cwd=str(app.path))
    assert result.stdout == "False\n"
    assert sentry_server.items("check_in") == []


def test_unmatched_start_adds_only_the_matching_module(app, sentry_server):
    """With `monitors:` set, an unmatched process's warm start loads the usual start-up modules and
    `sentry_bootstrap.monitors`, nothing else (no SDK, no `re`)."""
    from tests.activation.test_lazy import HOOK_MODULES, SHA_MODULE, SHOW_MODULES, modules_of

    app.config(base_config(sentry_server.dsn, MONITORS))
    run_python(["-c", "pass"], cwd=str(app.path))  # warms the config cache
    hooked = run_python(["-c", SHOW_MODULES], cwd=str(app.path))
    bare = run_python(["-c", SHOW_MODULES], cwd=str(app.path), hook=False)
    added = modules_of(hooked) - modules_of(bare) - {SHA_MODULE}
    assert added == HOOK_MODULES | {"sentry_bootstrap.monitors"}, hooked.stderr
    assert sentry_server.items("check_in") == []


def test_children_report_only_monitors_of_their_own(app, sentry_server):
    """A child that matches the parent's monitor doesn't report it again, a forked child ending
    with sys.exit sends nothing, and a child matching another monitor reports that one."""
    app.config(base_config(sentry_server.dsn, MONITORS))
    app.write("feeds/__init__.py", "")
    app.write("feeds/importer.py", "print('imported')\n")
    app.write("backup.py", """\
        import os, subprocess, sys
        if len(sys.argv) > 1:
            sys.exit(0)  # the child run of the same script
        subprocess.run([sys.executable, 'backup.py', 'child'], check=True)
        subprocess.run([sys.executable, '-m', 'feeds.importer'], check=True)
        pid = os.fork()
        if pid == 0:
            sys.exit(4)
        os.waitpid(pid, 0)
        """)
    result = run_python(["backup.py"], cwd=str(app.path))
    assert result.returncode == 0, result.stderr
    found = check_ins(sentry_server, 4)
    by_slug = {}
    for check_in in found:
        by_slug.setdefault(check_in["monitor_slug"], []).append(check_in["status"])
    assert by_slug == {"nightly-backup": ["in_progress", "ok"], "feed-import": ["in_progress", "ok"]}


def test_django_management_command_matched_by_argv(app, sentry_server):
    """`manage.py clearsessions` matched by its argv pattern reports its run; `manage.py migrate`
    (same script, another command) doesn't."""
    app.config(base_config(sentry_server.dsn, """\
        shutdown_timeout: 15
        monitors:
          - slug: clear-sessions
            argv: manage.py clearsessions
            schedule: "@daily"
        """))
    app.write("settings.py", """\
        SECRET_KEY = 'test'
        INSTALLED_APPS = ['django.contrib.sessions']
        DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'db.sqlite3'}}
        USE_TZ = True
        """)
    app.write("manage.py", """\
        import os, sys
        os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')
        from django.core.management import execute_from_command_line
        execute_from_command_line(sys.argv)
        """)
    migrate = run_python(["manage.py", "migrate", "-v", "0"], cwd=str(app.path), timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    result = run_python([os.path.join(str(app.path), "manage.py"), "clearsessions"],
                        cwd=str(app.path), timeout=120)
    assert result.returncode == 0, result.stderr
    started, final = assert_run(sentry_server, "clear-sessions", "ok")
    assert final["monitor_config"] == {"schedule": {"type": "crontab", "value": "0 0 * * *"}}
    assert len(sentry_server.items("check_in")) == 2  # nothing from migrate
    # A failing command (an unknown option: Django's parser calls sys.exit(2)) is an error.
    failed = run_python(["manage.py", "clearsessions", "--no-such-option"], cwd=str(app.path),
                        timeout=120)
    assert failed.returncode == 2
    assert_run(sentry_server, "clear-sessions", "error", count=4)


def test_check_ins_sent_after_the_server_was_down_during_the_run(app, sentry_server):
    """The server refuses connections for the whole run: both check-ins wait in the spool and
    reach the server later, once, in order, with their ids and duration."""
    app.config(base_config(sentry_server.dsn, MONITORS))
    app.write("backup.py", "print('saved')\n")
    sentry_server.set_mode("refuse")
    result = run_python(["backup.py"], cwd=str(app.path))
    assert result.returncode == 0
    assert sentry_server.items("check_in") == []
    sentry_server.set_mode("ok")
    flush = subprocess.run([sys.executable, "-m", "sentry_bootstrap", "spool", "flush"],
                           cwd=str(app.path), env=dict(os.environ, PYTHONPATH=_checkout()),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
    assert flush.returncode == 0, flush.stderr
    started, final = assert_run(sentry_server, "nightly-backup", "ok")
    assert len(sentry_server.items("check_in")) == 2 and not sentry_server.duplicates()


def test_without_a_dsn_check_ins_go_to_the_outbox_and_events_shows_them(app):
    """No DSN: the check-ins land in the outbox; `events` lists slug, status and duration."""
    app.config("version: 1\n" + MONITORS)
    app.write("backup.py", "import sys\nsys.exit(3)\n")
    assert run_python(["backup.py"], cwd=str(app.path)).returncode == 3
    shown = subprocess.run([sys.executable, "-m", "sentry_bootstrap", "events", "--json"],
                           cwd=str(app.path), env=dict(os.environ, PYTHONPATH=_checkout()),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
    import json

    rows = [json.loads(line) for line in shown.stdout.splitlines()]  # JSON lines
    rows = [r for r in rows if r["type"] == "check-in"]
    titles = [r["title"] for r in rows]
    assert titles[0] == "nightly-backup: in_progress", titles
    assert titles[1].startswith("nightly-backup: error (") and titles[1].endswith(" s)"), titles


def _checkout():
    from tests.support.child import HOOK_DIR

    return HOOK_DIR
