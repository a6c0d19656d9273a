"""Diagnostics: the `doctor` checks, the `test` command's sender, the opt-in test endpoint and the
Celery test task.

Nothing here runs unless asked: the CLI imports `doctor` and `test_event`; the activation layer calls
`register(values)` once, which registers post-import hooks only for what `diagnostics:` switches on.
"""


def register(values):
    """Register the post-import hooks that mount the test endpoint and the Celery test task, as the
    `diagnostics` section of `values` (ResolvedConfig.values) asks. Cheap and import-free when both
    are off (the default). Returns the names of what was registered, for the startup report."""
    section = values.get("diagnostics") or {}
    endpoint = section.get("endpoint") or {}
    registered = []
    if not endpoint.get("enabled") and not section.get("celery_task"):
        return registered
    from sentry_bootstrap.activation import import_hooks as hooks

    if endpoint.get("enabled"):
        for module, installer in (
                ("django.core.handlers.base", "install_endpoint_django"),
                ("flask.app", "install_endpoint_flask"),
                ("starlette.applications", "install_endpoint_starlette")):
            hooks.when_imported(module, _install_endpoint, installer, dict(endpoint))
        registered.append("endpoint")
    if section.get("celery_task"):
        hooks.when_imported("celery.app", _install_celery_task)
        registered.append("celery_task")
    return registered


def _install_endpoint(module, installer, endpoint_cfg):
    from sentry_bootstrap.diagnostics import endpoint

    getattr(endpoint, installer)(endpoint_cfg)


def _install_celery_task(module):
    from sentry_bootstrap.diagnostics.celery_task import install_celery_task

    install_celery_task(module)
