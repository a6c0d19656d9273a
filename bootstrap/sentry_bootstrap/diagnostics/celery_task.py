"""The Celery test task `sentry_bootstrap.test_sentry_task`: it raises a deliberate error inside the worker,
so that the worker's Celery integration reports it like any failing task.

`install_celery_task()` registers it on every Celery app, present and future, through Celery's own
shared-task mechanism (`celery.shared_task`: connected to each app's finalisation, and added at once
to apps already finalised). `sentry_bootstrap.diagnostics.register` has the import watcher call it
when `diagnostics.celery_task: true` and `celery.app` is imported.
"""
TASK_NAME = "sentry_bootstrap.test_sentry_task"

_installed = []


def test_sentry_task(task):
    """The task body: always raises `SentryBootstrapTestError`, naming the task id."""
    from sentry_bootstrap.diagnostics.sample_event import SentryBootstrapTestError

    raise SentryBootstrapTestError("deliberate error from the Celery task {} (task id {})".format(
        TASK_NAME, task.request.id))


# Not collected by pytest, whose name rule would match the function.
test_sentry_task.__test__ = False


def install_celery_task(celery_app_module=None):
    """Register `sentry_bootstrap.test_sentry_task` on every Celery app. Idempotent. `celery_app_module`
    is `celery.app` (the post-import hook passes it); imported here when not given."""
    if _installed:
        return _installed[0]
    if celery_app_module is None:
        import celery.app as celery_app_module
    proxy = celery_app_module.shared_task(name=TASK_NAME, bind=True, ignore_result=True)(
        test_sentry_task)
    _installed.append(proxy)
    return proxy


def application_app():
    """The application's Celery app, chosen in this order: this thread's current app; the app set
    with `app.set_default()`; the one app the application created (with several: those with a
    broker configured, then by name, so the choice is stable).

    Celery's `current_app` is per thread: in a server's worker thread (gunicorn gthread, Django's
    runserver, FastAPI's thread pool) it falls back to an unconfigured "default" app whose broker is
    amqp://localhost, so it can't be trusted there.
    """
    from celery import _state

    app = getattr(_state._tls, "current_app", None)
    if app is not None:
        return app
    fallback = _state.default_app
    if fallback is not None and not (fallback.main == "default" and not fallback.set_as_current):
        return fallback
    created = [a for a in list(_state._get_active_apps()) if a is not fallback]
    if not created:
        return _state.get_current_app()
    created.sort(key=lambda a: (not a.conf.broker_url, str(a.main)))
    return created[0]


def enqueue(app=None):
    """Send `sentry_bootstrap.test_sentry_task` through `app` (default: `application_app()`); returns the
    task id. Raises what Celery raises when the broker can't be reached."""
    app = application_app() if app is None else app
    return app.send_task(TASK_NAME).id
