"""The payout tasks (tests/e2e/apps/celery_payouts): a Celery prefork worker on a real Redis
reporting a task's error to a real bugsink, and celery beat with `monitor_beat_tasks` sending cron
check-ins (bugsink does not store check-ins, so those go to the project's own test server)."""
import os
import uuid

from tests.e2e.deploy import (BIN, Server, assert_deployed, assert_hook_quiet, deploy, exception_of,
                              find_event)
from tests.support.child import run_python

# The beat schedule file as an earlier beat run leaves it: the every-minute entry last ran two
# minutes ago, so the starting beat sends it at once instead of a minute later.
SEED_SCHEDULE = """\
import datetime, sys, tasks
from celery.beat import PersistentScheduler
scheduler = PersistentScheduler(app=tasks.app, schedule_filename=sys.argv[1])
entry = scheduler.schedule["payout-heartbeat"]
entry.last_run_at = tasks.app.now() - datetime.timedelta(minutes=2)
scheduler.sync()
scheduler.close()
"""

WORKER_FLAGS = ["--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]


def celery(*args):
    return [os.path.join(BIN, "celery"), "-A", "tasks"] + list(args)


def enqueue(app, broker, code):
    """Send tasks as another program of the company would: without the hook."""
    sent = run_python(["-c", "import tasks; " + code], cwd=app.path,
                      env={"BROKER_URL": broker, "SENTRY_BOOTSTRAP_DISABLED": "1"}, hook=False)
    assert sent.returncode == 0, sent.stderr


def test_prefork_task_error_is_stored(bugsink, redis_server, tmp_path):
    """A prefork worker task error is stored with overlay, release, static and service tags, task name, in-app."""
    project_id, dsn = bugsink.create_project("celery-payouts")
    app = deploy("celery_payouts", tmp_path / "payouts", dsn)
    account = "acct-" + uuid.uuid4().hex
    worker = Server(celery("worker", "--pool", "prefork", "--concurrency", "2", *WORKER_FLAGS), app,
                    extra_env={"BROKER_URL": redis_server.url}, name="worker")
    with worker:
        worker.wait_for_log(" ready.", timeout=60)
        enqueue(app, redis_server.url, "tasks.send_payout.delay(%r, 5000)" % account)
        event = find_event(bugsink, project_id, lambda e: account in exception_of(e)["value"], timeout=30)

    assert_deployed(event, app, {"app": "payouts", "tier": "worker"})
    assert exception_of(event)["type"] == "TransferRejected"
    assert event["transaction"] == "tasks.send_payout"
    assert event["transaction_info"] == {"source": "task"}
    assert event["tags"]["service"] == "transfers"
    assert_hook_quiet(worker.log())


def test_beat_with_monitor_beat_tasks_sends_check_ins(sentry_server, redis_server, tmp_path):
    """celery beat and a worker with `monitor_beat_tasks: true` send the entry's in-progress and ok check-ins."""
    app = deploy("celery_payouts", tmp_path / "payouts", sentry_server.dsn)
    broker = {"BROKER_URL": redis_server.url}
    schedule = str(tmp_path / "beat-schedule")
    seeded = run_python(["-c", SEED_SCHEDULE, schedule], cwd=app.path,
                        env=dict(broker, SENTRY_BOOTSTRAP_DISABLED="1"), hook=False)
    assert seeded.returncode == 0, seeded.stderr
    worker = Server(celery("worker", "--pool", "prefork", "--concurrency", "1", "-Q", "celery",
                           *WORKER_FLAGS), app, extra_env=broker, name="worker")
    beat = Server(celery("beat", "--loglevel", "INFO", "--schedule", schedule), app,
                  extra_env=broker, name="beat")

    def statuses():
        return [(c["monitor_slug"], c["status"]) for c in (i.json for i in sentry_server.items("check_in"))]

    with worker, beat:
        worker.wait_for_log(" ready.", timeout=60)
        sentry_server.wait_for(lambda: ("payout-heartbeat", "ok") in statuses(), timeout=60,
                               what="an ok check-in")
    check_ins = [i.json for i in sentry_server.items("check_in")]
    assert ("payout-heartbeat", "in_progress") in statuses()
    first = next(c for c in check_ins if c["monitor_slug"] == "payout-heartbeat")
    assert first["environment"] == "staging"
    assert first["release"] == app.sha
    assert first["monitor_config"]["schedule"] == {"type": "interval", "value": 1, "unit": "minute"}
    assert_hook_quiet(worker.log())
    assert_hook_quiet(beat.log())
