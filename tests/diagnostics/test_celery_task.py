"""The Celery test task with a real worker (under the hook) on a real Redis broker: enqueued by the
test endpoint in Flask and FastAPI, its deliberate error reaches the test server."""
import gc
import os
import subprocess
import sys
import textwrap
import time

import pytest

from sentry_bootstrap.diagnostics import celery_task, endpoint
from tests.support.child import child_env
from tests.support.sentry_server import SentryServer

TOKEN = "celery-token-77"
CFG = {"enabled": True, "path": endpoint.DEFAULT_PATH, "token": TOKEN}
HEADERS = {"Authorization": "Bearer " + TOKEN}
CELERY = os.path.join(os.path.dirname(sys.executable), "celery")

WORKER_MODULE = textwrap.dedent("""\
    import os
    from celery import Celery

    app = Celery("diag_worker", broker=os.environ["BROKER_URL"], backend=None)
    """)


@pytest.fixture(scope="module")
def worker(tmp_path_factory, redis_server):
    """A solo-pool worker with the hook on, diagnostics.celery_task on, sending to its own
    SentryServer; yields the server."""
    server = SentryServer().start()
    app_dir = tmp_path_factory.mktemp("celery_app")
    (app_dir / "diag_worker.py").write_text(WORKER_MODULE)
    (app_dir / "sentry.yaml").write_text(
        'version: 1\ndsn: "{}"\ndiagnostics:\n  celery_task: true\n'.format(server.dsn))
    process = subprocess.Popen(
        [CELERY, "-A", "diag_worker", "worker", "--pool", "solo", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=str(app_dir), env=child_env({"BROKER_URL": redis_server.url}),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    try:
        yield server
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        server.stop()
        if "sentry_bootstrap.test_sentry_task" not in output:
            print(output)


@pytest.fixture
def producer(redis_server):
    """A Celery app in this process on the same broker: the application whose endpoint enqueues."""
    from celery import Celery

    app = Celery("diag_producer", broker=redis_server.url, backend=None)
    yield app
    app.close()


def _event_for(server, task_id):
    def find():
        return [e for e in server.events
                if task_id in ((e.get("exception") or {}).get("values") or [{}])[-1].get("value", "")]

    return server.wait_for(find, timeout=30, what="the task's error event")[0]


def test_flask_endpoint_enqueues_the_task_and_its_error_arrives(worker, producer, sentry_client):
    """celery=true from Flask enqueues sentry_bootstrap.test_sentry_task; the worker's deliberate error
    reaches the server, naming the task id the endpoint returned."""
    from flask import Flask

    endpoint.install_endpoint_flask(CFG)
    try:
        response = Flask("celery_endpoint").test_client().get(
            endpoint.DEFAULT_PATH + "?celery=true", headers=HEADERS)
    finally:
        endpoint.install_endpoint_flask({"enabled": False})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    [message] = sentry_client.events()
    assert body["event_id"] == message["event_id"]
    event = _event_for(worker, body["celery_task_id"])
    exc = event["exception"]["values"][-1]
    assert exc["type"] == "SentryBootstrapTestError"
    assert event["transaction"] == celery_task.TASK_NAME


def test_fastapi_endpoint_finds_the_application_app_from_its_thread_pool(worker, producer,
                                                                          sentry_client):
    """From FastAPI's executor thread (where Celery's current_app is an unconfigured default) the
    task still goes to the application's app and broker."""
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    endpoint.install_endpoint_starlette(CFG)
    try:
        response = TestClient(FastAPI()).get(endpoint.DEFAULT_PATH + "?celery=true",
                                             headers=HEADERS)
    finally:
        endpoint.install_endpoint_starlette({"enabled": False})
    assert response.status_code == 200, response.text
    event = _event_for(worker, response.json()["celery_task_id"])
    assert event["exception"]["values"][-1]["type"] == "SentryBootstrapTestError"


def test_install_registers_the_task_on_every_app():
    """install_celery_task registers the task on apps created before and after it, once."""
    from celery import Celery

    before = Celery("diag_before", broker="memory://", backend=None)
    first = celery_task.install_celery_task()
    assert celery_task.install_celery_task() is first
    after = Celery("diag_after", broker="memory://", backend=None)
    for app in (before, after):
        assert celery_task.TASK_NAME in app.tasks
        started = time.monotonic()
        result = app.tasks[celery_task.TASK_NAME].apply()
        assert time.monotonic() - started < 5
        assert type(result.result).__name__ == "SentryBootstrapTestError"
        app.close()
    del before, after, app
    gc.collect()  # later tests choose among the apps that still exist


def test_package_exports_the_task_for_delay(worker, producer):
    """`from sentry_bootstrap import test_sentry_task; test_sentry_task.delay()`, as a hand-written
    setup would call it: the worker's deliberate error arrives, naming the task id."""
    from sentry_bootstrap import test_sentry_task

    producer.set_current()
    result = test_sentry_task.delay()
    event = _event_for(worker, result.id)
    assert event["exception"]["values"][-1]["type"] == "SentryBootstrapTestError"
    assert test_sentry_task.name == celery_task.TASK_NAME
