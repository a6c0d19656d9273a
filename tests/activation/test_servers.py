"""Pre-fork servers and worker pools, started as users start them, with the hook on PYTHONPATH."""
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.support.app import base_config
from tests.support.child import child_env, run_python
from tests.support.gunicorn import gunicorn
from tests.support.redis_server import free_port

BIN = os.path.dirname(sys.executable)

WSGI_APP = """\
def application(environ, start_response):
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("boom from " + environ["PATH_INFO"])
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def wait_http(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return urllib.request.urlopen(url, timeout=2).read()
        except Exception:
            time.sleep(0.1)
    raise AssertionError("no answer from " + url)


def get_status(url):
    try:
        return urllib.request.urlopen(url, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


@pytest.mark.parametrize("preload", [False, True], ids=["workers", "preload"])
def test_gunicorn_workers_deliver_events(app, sentry_server, preload):
    """A real gunicorn (sync workers, with and without --preload) delivers a request's error."""
    app.config(base_config(sentry_server.dsn))
    app.write("wsgi.py", WSGI_APP)
    port = free_port()
    args = gunicorn("--workers", "2", "--bind", "127.0.0.1:{}".format(port),
                    "wsgi:application") + (["--preload"] if preload else [])
    server = subprocess.Popen(args, cwd=str(app.path), env=child_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)
    try:
        wait_http("http://127.0.0.1:{}/".format(port))
        assert get_status("http://127.0.0.1:{}/boom".format(port)) == 500
        event = sentry_server.wait_for_events(1, timeout=20)[0]
    finally:
        out, err = stop(server)
    assert event["exception"]["values"][-1]["value"] == "boom from /boom"
    assert event["release"] == app.sha
    assert "sentry-bootstrap: not active" not in err


MP_SCRIPT = """\
import multiprocessing, sys

def work(n):
    raise ValueError("child failed with method " + sys.argv[1])

if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1])
    p = ctx.Process(target=work, args=(1,))
    p.start()
    p.join(60)
    print("child exit", p.exitcode)
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_children_deliver_events(app, sentry_server, method):
    """A multiprocessing child's uncaught error arrives, with fork, spawn and forkserver."""
    app.config(base_config(sentry_server.dsn))
    app.write("mp.py", MP_SCRIPT)
    result = run_python(["mp.py", method], cwd=str(app.path), timeout=90)
    assert result.stdout == "child exit 1\n", result.stderr
    event = sentry_server.wait_for_events(1, timeout=20)[0]
    assert event["exception"]["values"][-1]["value"] == "child failed with method " + method


CELERY_TASKS = """\
from celery import Celery
import os

app = Celery("tasks", broker=os.environ["BROKER_URL"], backend=None)

@app.task
def divide(a, b):
    return a / b
"""


def test_celery_prefork_worker_delivers_a_task_error(app, sentry_server, redis_server):
    """A Celery prefork worker on a real Redis broker delivers a task's exception."""
    app.config(base_config(sentry_server.dsn))
    app.write("tasks.py", CELERY_TASKS)
    env = child_env({"BROKER_URL": redis_server.url})
    worker = subprocess.Popen(
        [os.path.join(BIN, "celery"), "-A", "tasks", "worker", "--pool", "prefork",
         "--concurrency", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=str(app.path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True)
    try:
        sent = run_python(["-c", "from tasks import divide; divide.delay(1, 0)"], cwd=str(app.path),
                          env={"BROKER_URL": redis_server.url, "SENTRY_BOOTSTRAP_DISABLED": "1"})
        assert sent.returncode == 0, sent.stderr
        event = sentry_server.wait_for_events(1, timeout=60)[0]
    finally:
        out, err = stop(worker)
    assert event["exception"]["values"][-1]["type"] == "ZeroDivisionError"
    assert event["transaction"] == "tasks.divide"
    assert event["release"] == app.sha


@pytest.mark.parametrize("flags,warned", [([], True),
                                          (["--enable-threads", "--py-call-uwsgi-fork-hooks"], False)],
                         ids=["bare", "with-flags"])
def test_uwsgi_without_threads_and_fork_hooks_gets_one_warning(app, sentry_server, flags, warned):
    """Under uWSGI (pyuwsgi) without --enable-threads/--py-call-uwsgi-fork-hooks, one warning names them."""
    app.config(base_config(sentry_server.dsn))
    app.write("wsgi.py", WSGI_APP)
    port = free_port()
    server = subprocess.Popen(
        [os.path.join(BIN, "uwsgi"), "--http", "127.0.0.1:{}".format(port), "--wsgi-file", "wsgi.py",
         "--master", "--processes", "1"] + flags,
        cwd=str(app.path), env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True)
    try:
        wait_http("http://127.0.0.1:{}/".format(port))
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    lines = [l for l in err.splitlines() if l.startswith("sentry-bootstrap:") and "uWSGI" in l]
    if warned:
        assert len(lines) == 1, err
        assert "--enable-threads" in lines[0] and "--py-call-uwsgi-fork-hooks" in lines[0]
    else:
        assert lines == []


def test_run_starts_gunicorn_with_the_hook(app, sentry_server):
    """`sentry-bootstrap run -- gunicorn ...` (no PYTHONPATH set by the user) delivers a request's error."""
    app.config(base_config(sentry_server.dsn))
    app.write("wsgi.py", WSGI_APP)
    port = free_port()
    server = subprocess.Popen(
        [os.path.join(BIN, "sentry-bootstrap"), "run", "--"] + gunicorn(
            "--workers", "1", "--bind", "127.0.0.1:{}".format(port), "wsgi:application"),
        cwd=str(app.path), env=child_env(hook=False), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True)
    try:
        wait_http("http://127.0.0.1:{}/".format(port))
        assert get_status("http://127.0.0.1:{}/boom".format(port)) == 500
        event = sentry_server.wait_for_events(1, timeout=20)[0]
    finally:
        stop(server)
    assert event["exception"]["values"][-1]["value"] == "boom from /boom"
    assert event["release"] == app.sha
