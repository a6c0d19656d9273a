"""Payout tasks run by a Celery worker, with a beat schedule. No Sentry here: sentry.yaml and the
hook do that."""
import os

from celery import Celery

import payouts

app = Celery("tasks", broker=os.environ["BROKER_URL"])
app.conf.update(
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    beat_schedule={
        "payout-heartbeat": {"task": "tasks.heartbeat", "schedule": 60.0},
    },
)


@app.task
def send_payout(account, amount):
    return payouts.transfer(account, amount)


@app.task
def heartbeat():
    return "alive"
