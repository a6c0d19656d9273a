"""Diagnostics: the `doctor` checks, the `test` command's sender, the opt-in test endpoint and the
Celery test task.

Nothing here runs unless asked: the CLI imports `doctor` and `sample_event`; the hook hands
`register_with_notes` to activation, which calls it once: it registers post-import hooks only for
what `diagnostics:` switches on. Diagnostics uses activation's public API; activation never imports
diagnostics.
"""


def register(values):
    """Register the post-import hooks that mount the test endpoint and the Celery test task, as the
    `diagnostics` section of `values` (ResolvedConfig.values) asks, for the frameworks of
    integrations_table.FRAMEWORKS. Cheap and import-free when both are off (the default). Returns
    the names of what was registered."""
    section = values["diagnostics"]
    endpoint = section["endpoint"]
    registered = []
    if not endpoint["enabled"] and not section["celery_task"]:
        return registered
    from sentry_bootstrap.activation.watcher import when_imported
    from sentry_bootstrap.integrations_table import frameworks

    if endpoint["enabled"]:
        # Through the context middleware's patch of each framework (see diagnostics.endpoint).
        for row in frameworks("middleware"):
            when_imported(row.module, _install_endpoint, row.name, dict(endpoint))
        registered.append("endpoint")
    if section["celery_task"]:
        for row in frameworks("diagnostics"):
            when_imported(row.module, _install_celery_task)
        registered.append("celery_task")
    return registered


def register_with_notes(values):
    """`register`, for activation (`activate(..., extras=...)`): the startup report's notes."""
    if "endpoint" not in register(values):
        return []
    from sentry_bootstrap.diagnostics.endpoint import endpoint_status

    return [endpoint_status(values)[1]]


def _install_endpoint(module, framework, endpoint_cfg):
    from sentry_bootstrap.diagnostics import endpoint

    getattr(endpoint, "install_endpoint_" + framework)(endpoint_cfg)


def _install_celery_task(module):
    from sentry_bootstrap.diagnostics.celery_task import install_celery_task

    install_celery_task(module)
