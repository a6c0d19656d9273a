"""Smoke test of the hook in real processes, the four ways it is used: a script, a Flask app and a
Django app under gunicorn, and a Celery prefork worker on a real Redis. Each is started as a user
starts it, with only the hook on PYTHONPATH, and its error must reach a real Sentry server on
127.0.0.1 carrying the release the hook resolved from git. `scripts/matrix` runs this (with the rest
of the suite but the end-to-end tests) on every Python and dependency set it tests."""
import os
import sys

from tests.support.app import base_config
from tests.support.child import child_env, run_python
from tests.support.collecting import named
from tests.support.gunicorn import gunicorn
from tests.support.redis_server import free_port
from tests.e2e.deploy import Server, http

BIN = os.path.dirname(sys.executable)

SCRIPT = """\
def settle(account):
    raise ValueError("ledger off for " + account)

settle("acct-7")
"""

FLASK_APP = """\
from flask import Flask

app = Flask(__name__)

@app.route("/health")
def health():
    return "ok"

@app.route("/orders/<order_id>")
def order(order_id):
    raise LookupError("no order " + order_id)
"""

DJANGO_SETTINGS = """\
SECRET_KEY = "smoke-test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "site_urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
"""

DJANGO_URLS = """\
from django.http import HttpResponse
from django.urls import path

def health(request):
    return HttpResponse("ok")

def invoice(request, number):
    raise KeyError("no invoice %d" % number)

urlpatterns = [path("health", health), path("invoices/<int:number>", invoice)]
"""

DJANGO_WSGI = """\
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""

CELERY_TASKS = """\
import os
from celery import Celery

app = Celery("tasks", broker=os.environ["BROKER_URL"], backend=None)

@app.task
def refund(amount):
    raise ArithmeticError("refund of %d bounced" % amount)
"""


class _Deployed(object):
    """What tests.e2e.deploy.Server needs of an app: its directory and environment (hook on)."""

    def __init__(self, app, extra=None):
        self.path = str(app.path)
        self._extra = extra

    def env(self, extra=None):
        values = dict(self._extra or {})
        values.update(extra or {})
        return child_env(values, hook=True)


def raised(event):
    return event["exception"]["values"][-1]


def hook_problems(output):
    return [line for line in output.splitlines() if line.startswith("sentry-bootstrap:")]


def test_script_crash_arrives(app, sentry_server):
    """A plain script's uncaught error arrives with the git release."""
    app.config(base_config(sentry_server.dsn))
    app.write("settle.py", SCRIPT)
    result = run_python(["settle.py"], cwd=str(app.path))
    assert result.returncode == 1 and "ledger off for acct-7" in result.stderr, result.stderr
    event = sentry_server.wait_for_events(1, timeout=30)[0]
    assert (raised(event)["type"], raised(event)["value"]) == ("ValueError", "ledger off for acct-7")
    assert event["release"] == app.sha
    assert hook_problems(result.stderr) == []


def _serve_and_fail(app, argv, base, failing_path, sentry_server):
    with Server(argv, _Deployed(app), name="web") as server:
        server.wait_http(base + "/health", timeout=60)
        status, _headers, body = http(base + failing_path)
        assert status == 500, body
        event = sentry_server.wait_for_events(1, timeout=30)[0]
    assert hook_problems(server.log()) == []
    return event


def test_flask_app_under_gunicorn_reports_a_request_error(app, sentry_server):
    """A Flask app under gunicorn reports a request's error with its endpoint and the git release."""
    app.config(base_config(sentry_server.dsn))
    app.write("shop.py", FLASK_APP)
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    argv = gunicorn("--workers", "1", "--bind", "127.0.0.1:%d" % port, "shop:app")
    event = _serve_and_fail(app, argv, base, "/orders/o-41", sentry_server)
    assert (raised(event)["type"], raised(event)["value"]) == ("LookupError", "no order o-41")
    assert event["transaction"] == named("order", "/orders/<order_id>")  # the endpoint: Flask's default (3.x: the route)
    assert event["release"] == app.sha


def test_django_app_under_gunicorn_reports_a_request_error(app, sentry_server):
    """A Django app under gunicorn reports a view's error with its route and the git release."""
    app.config(base_config(sentry_server.dsn))
    app.write("site_settings.py", DJANGO_SETTINGS)
    app.write("site_urls.py", DJANGO_URLS)
    app.write("site_wsgi.py", DJANGO_WSGI)
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    argv = gunicorn("--workers", "1", "--bind", "127.0.0.1:%d" % port, "site_wsgi:application")
    event = _serve_and_fail(app, argv, base, "/invoices/12", sentry_server)
    assert raised(event)["value"] == "'no invoice 12'"
    assert event["transaction"] == "/invoices/{number}"
    assert event["release"] == app.sha


def test_celery_worker_reports_a_task_error(app, sentry_server, redis_server):
    """A Celery prefork worker on Redis reports a task's error, named by its task, with the git release."""
    app.config(base_config(sentry_server.dsn))
    app.write("tasks.py", CELERY_TASKS)
    broker = {"BROKER_URL": redis_server.url}
    argv = [os.path.join(BIN, "celery"), "-A", "tasks", "worker", "--pool", "prefork",
            "--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
            "--without-heartbeat"]
    with Server(argv, _Deployed(app, broker), name="worker") as worker:
        worker.wait_for_log(" ready.", timeout=60)
        # Sent as another program would: without the hook.
        sent = run_python(["-c", "import tasks; tasks.refund.delay(250)"], cwd=str(app.path),
                          env=dict(broker, SENTRY_BOOTSTRAP_DISABLED="1"), hook=False)
        assert sent.returncode == 0, sent.stderr
        event = sentry_server.wait_for_events(1, timeout=60)[0]
    assert (raised(event)["type"], raised(event)["value"]) == ("ArithmeticError", "refund of 250 bounced")
    assert event["transaction"] == "tasks.refund"
    assert event["release"] == app.sha
    assert hook_problems(worker.log()) == []

