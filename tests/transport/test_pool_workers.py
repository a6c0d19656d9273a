"""Pool workers lose nothing and duplicate nothing: a real `multiprocessing.Pool` in a hooked child,
left through `with Pool() as p:` (which terminates its workers) or closed and joined, with the fork
and the spawn start methods; every event id reaches the server exactly once (after a `spool flush`
for what waited on disk)."""
import json
import os

import pytest

from tests.cli.helpers import cli
from tests.support.child import run_python

PROGRAM = """\
import json, sys, multiprocessing as mp
import sentry_sdk

def work(i):
    return sentry_sdk.capture_message("pool %d" % i)

if __name__ == "__main__":
    count, method, how = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    context = mp.get_context(method)
    if how == "with":
        with context.Pool(4) as pool:  # __exit__ terminates the workers
            ids = pool.map(work, range(count))
    else:
        pool = context.Pool(4)
        ids = pool.map(work, range(count))
        pool.close()
        pool.join()
    print(json.dumps(ids))
"""
COUNT = 200


def _run_pool(tmp_path, dsn, method, how):
    config = tmp_path / "sentry.yaml"
    # A generous exit budget: the test counts events, it doesn't race the machine's load.
    config.write_text('version: 1\ndsn: "{}"\nshutdown_timeout: 20\n'.format(dsn))
    os.chmod(str(config), 0o600)
    (tmp_path / "pool_prog.py").write_text(PROGRAM)
    result = run_python(["pool_prog.py", str(COUNT), method, how], cwd=str(tmp_path), timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    ids = json.loads(result.stdout)
    assert len(set(ids)) == COUNT
    return ids


def _deliver_the_rest(tmp_path):
    flushed = cli("spool", "flush", cwd=tmp_path)
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr


@pytest.mark.parametrize("method", ["fork", "spawn"])
@pytest.mark.parametrize("how", ["with", "close"])
def test_pool_workers_lose_and_duplicate_nothing(tmp_path, sentry_server, method, how):
    """200 events captured in 4 pool workers: 200 distinct ids at the server, none twice."""
    ids = _run_pool(tmp_path, sentry_server.dsn, method, how)
    _deliver_the_rest(tmp_path)
    sentry_server.wait_for(lambda: set(ids) <= set(sentry_server.accepted), timeout=30,
                           what="every event id")
    assert sentry_server.duplicates() == []
    assert sorted(set(sentry_server.accepted) & set(ids)) == sorted(ids)


def test_pool_workers_during_an_outage_keep_everything_on_disk(tmp_path, sentry_server):
    """The server answers 500 while the pool runs: the workers keep every event on disk (they
    never drain, so a terminate can't cut a send short), and a flush delivers each once."""
    sentry_server.set_mode("status_500")
    ids = _run_pool(tmp_path, sentry_server.dsn, "fork", "with")
    sentry_server.set_mode("ok")
    _deliver_the_rest(tmp_path)
    sentry_server.wait_for(lambda: set(ids) <= set(sentry_server.accepted), timeout=30,
                           what="every event id")
    assert sentry_server.duplicates() == []


def _wait_http(url, timeout=30):
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            return urllib.request.urlopen(url, timeout=2).read()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


GUNICORN_APP = """\
import sentry_sdk

def application(environ, start_response):
    event_id = sentry_sdk.capture_message("request " + environ["PATH_INFO"])
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [event_id.encode()]
"""


def test_gunicorn_workers_stopped_lose_and_duplicate_nothing(tmp_path, sentry_server):
    """A real gunicorn with 2 sync workers answers 60 requests, each capturing an event, and is
    stopped (SIGTERM to the master, which stops its workers): 60 ids at the server, none twice."""
    import signal
    import subprocess
    import urllib.request

    from tests.support.child import child_env
    from tests.support.gunicorn import gunicorn
    from tests.support.redis_server import free_port

    config = tmp_path / "sentry.yaml"
    config.write_text('version: 1\ndsn: "{}"\nshutdown_timeout: 20\n'.format(sentry_server.dsn))
    os.chmod(str(config), 0o600)
    (tmp_path / "wsgi.py").write_text(GUNICORN_APP)
    port = free_port()
    server = subprocess.Popen(gunicorn("--workers", "2", "--bind", "127.0.0.1:{}".format(port),
                                       "wsgi:application"),
                              cwd=str(tmp_path), env=child_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)
    try:
        _wait_http("http://127.0.0.1:{}/warm".format(port))
        ids = [urllib.request.urlopen("http://127.0.0.1:{}/r{}".format(port, i), timeout=10)
               .read().decode() for i in range(60)]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
    _deliver_the_rest(tmp_path)
    sentry_server.wait_for(lambda: set(ids) <= set(sentry_server.accepted), timeout=30,
                           what="every event id")
    assert len(set(ids)) == 60 and sentry_server.duplicates() == []


CELERY_TASKS = """\
import os
import sentry_sdk
from celery import Celery

app = Celery("tasks", broker=os.environ["BROKER_URL"], backend=os.environ["BROKER_URL"])

@app.task
def capture(i):
    return sentry_sdk.capture_message("celery %d" % i)
"""


def test_celery_prefork_workers_lose_and_duplicate_nothing(tmp_path, sentry_server, redis_server):
    """A real Celery prefork pool (2 workers, real Redis) runs 60 tasks, each capturing an event,
    and is stopped (warm shutdown, SIGTERM): 60 ids at the server, none twice."""
    from tests.e2e.deploy import BIN, Server
    from tests.support.child import child_env

    class App(object):
        path = str(tmp_path)

        @staticmethod
        def env(extra):
            return child_env(extra)

    config = tmp_path / "sentry.yaml"
    config.write_text('version: 1\ndsn: "{}"\nshutdown_timeout: 20\n'.format(sentry_server.dsn))
    os.chmod(str(config), 0o600)
    (tmp_path / "tasks.py").write_text(CELERY_TASKS)
    broker = {"BROKER_URL": redis_server.url}
    worker = Server([os.path.join(BIN, "celery"), "-A", "tasks", "worker", "--pool", "prefork",
                     "--concurrency", "2", "--loglevel", "INFO", "--without-gossip",
                     "--without-mingle", "--without-heartbeat"], App, extra_env=broker,
                    name="celery-worker")
    sender = ("import json, tasks\n"
              "results = [tasks.capture.delay(i) for i in range(60)]\n"
              "print(json.dumps([r.get(timeout=60) for r in results]))\n")
    with worker:
        worker.wait_for_log(" ready.", timeout=60)
        sent = run_python(["-c", sender], cwd=str(tmp_path), timeout=120, hook=False,
                          env=dict(broker, SENTRY_BOOTSTRAP_DISABLED="1", PYTHONPATH=str(tmp_path)))
        assert sent.returncode == 0, sent.stderr[-3000:]
    ids = json.loads(sent.stdout)
    _deliver_the_rest(tmp_path)
    sentry_server.wait_for(lambda: set(ids) <= set(sentry_server.accepted), timeout=30,
                           what="every event id")
    assert len(set(ids)) == 60 and sentry_server.duplicates() == [], worker.log()[-3000:]
