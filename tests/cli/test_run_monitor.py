"""`sentry-bootstrap run --monitor SLUG -- CMD`: `run` stays CMD's parent and reports its run as
check-ins to the real local Sentry server, whatever CMD is and however it ends."""
import os
import signal
import subprocess
import sys
import textwrap

from tests.support.app import base_config
from tests.support.child import child_env
from tests.cli.test_run_cmd import BIN, sentry_bootstrap


# Every check-in is flushed before `run` ends, even on a loaded machine.
PATIENT = "shutdown_timeout: 15\n"


def check_ins(server, count):
    server.wait_for(lambda: len(server.items("check_in")) >= count, 20.0,
                    "{} check-ins".format(count))
    return [item.json for item in server.items("check_in")]


def assert_run(server, slug, status):
    started, final = check_ins(server, 2)
    assert (started["monitor_slug"], started["status"]) == (slug, "in_progress")
    assert (final["monitor_slug"], final["status"]) == (slug, status)
    assert started["check_in_id"] == final["check_in_id"]
    assert isinstance(final["duration"], float) and final["duration"] >= 0
    return started, final


def test_child_killed_by_sigkill_is_reported_by_run(app, sentry_server):
    """A Python child killed by SIGKILL (as by the OOM killer): `run` exits 137 and sends the
    error check-in; the child's own event carries the check-ins' trace, and the child, though a
    `monitors:` entry with the same slug matches it, sends no check-in of its own."""
    app.config(base_config(sentry_server.dsn, PATIENT + textwrap.dedent("""\
        monitors:
          - slug: nightly
            script: job.py
        """)))
    app.write("job.py", """\
        import logging, os, signal
        import sentry_sdk
        logging.error('half done')
        sentry_sdk.flush()
        os.kill(os.getpid(), signal.SIGKILL)
        """)
    result = sentry_bootstrap(["run", "--monitor", "nightly", "--schedule", "*/10 * * * *",
                               "--max-runtime", "5", "--", sys.executable, "job.py"], app.path)
    assert result.returncode == 128 + signal.SIGKILL, result.stderr
    started, final = assert_run(sentry_server, "nightly", "error")
    assert final["monitor_config"] == {"schedule": {"type": "crontab", "value": "*/10 * * * *"},
                                       "max_runtime": 5}
    event = sentry_server.wait_for_events(1)[0]
    assert event["logentry"]["message"] == "half done"
    assert event["contexts"]["trace"]["trace_id"] == final["contexts"]["trace"]["trace_id"]
    assert started["contexts"]["trace"]["trace_id"] == final["contexts"]["trace"]["trace_id"]
    assert len(sentry_server.items("check_in")) == 2


def test_any_command_exit_code_is_run_s_and_decides_the_status(app, sentry_server):
    """A non-Python command: exit 3 is `error` and run's exit code 3; the entry's schedule from
    sentry.yaml applies."""
    app.config(base_config(sentry_server.dsn, PATIENT + textwrap.dedent("""\
        monitors:
          - slug: shell-job
            argv: never-matches-anything
            schedule: every 2 hours
            checkin_margin: 10
        """)))
    result = sentry_bootstrap(["run", "--monitor", "shell-job", "--", "sh", "-c", "exit 3"],
                              app.path)
    assert result.returncode == 3
    started, final = assert_run(sentry_server, "shell-job", "error")
    assert final["monitor_config"] == {"schedule": {"type": "interval", "value": 2,
                                                    "unit": "hour"}, "checkin_margin": 10}


def test_success_is_ok(app, sentry_server):
    """Exit 0: `ok`, run exits 0, the output is the command's alone."""
    app.config(base_config(sentry_server.dsn, PATIENT))
    result = sentry_bootstrap(["run", "--monitor", "echoer", "--", "sh", "-c", "echo done"],
                              app.path)
    assert (result.returncode, result.stdout) == (0, "done\n")
    assert_run(sentry_server, "echoer", "ok")


def test_sigterm_to_run_is_forwarded_to_the_command(app, sentry_server):
    """SIGTERM sent to `run` reaches CMD; CMD's answer (here exit 7) is run's exit code."""
    app.config(base_config(sentry_server.dsn, PATIENT))
    proc = subprocess.Popen(
        [os.path.join(BIN, "sentry-bootstrap"), "run", "--monitor", "waiter", "--", "sh", "-c",
         "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done"],
        cwd=str(app.path), env=child_env(hook=False), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, universal_newlines=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == 7
    assert_run(sentry_server, "waiter", "error")


def test_command_that_cannot_start_is_an_error_run(app, sentry_server):
    """A missing command: exit 127, and the run is reported as failed."""
    app.config(base_config(sentry_server.dsn, PATIENT))
    result = sentry_bootstrap(["run", "--monitor", "missing", "--", "no-such-command-here"],
                              app.path)
    assert result.returncode == 127 and "cannot run 'no-such-command-here'" in result.stderr
    assert_run(sentry_server, "missing", "error")


def test_bad_slug_or_schedule_is_a_usage_error(app, sentry_server):
    """A slug Sentry would change, or a wrong crontab, stops `run` before CMD starts (exit 2)."""
    app.config(base_config(sentry_server.dsn, PATIENT))
    bad_slug = sentry_bootstrap(["run", "--monitor", "Nightly Job", "--", "true"], app.path)
    assert bad_slug.returncode == 2 and "try 'nightly-job'" in bad_slug.stderr
    bad_cron = sentry_bootstrap(["run", "--monitor", "x", "--schedule", "0 3 * *", "--", "true"],
                                app.path)
    assert bad_cron.returncode == 2 and "5 fields" in bad_cron.stderr
    assert sentry_server.items("check_in") == []


def test_switched_off_configuration_runs_the_command_without_check_ins(app, sentry_server):
    """`enabled: false` (or SENTRY_BOOTSTRAP_DISABLED=1): CMD runs and its code is run's, with one
    stderr line saying no check-ins were sent."""
    app.config(base_config(sentry_server.dsn, "enabled: false\n"))
    result = sentry_bootstrap(["run", "--monitor", "off", "--", "sh", "-c", "exit 4"], app.path)
    assert result.returncode == 4 and "enabled: false; running 'sh' without check-ins" in result.stderr
    result = sentry_bootstrap(["run", "--monitor", "off", "--", "sh", "-c", "exit 5"], app.path,
                              env={"SENTRY_BOOTSTRAP_DISABLED": "1"})
    assert result.returncode == 5 and "without check-ins" in result.stderr
    assert sentry_server.items("check_in") == []
