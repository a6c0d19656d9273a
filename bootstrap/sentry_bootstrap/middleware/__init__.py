"""The context middleware: user and request facts on every event captured during a request.

`common` holds the policy (`ContextPolicy.from_config`) and the framework-neutral binding; one
module per framework holds its adapter and its `install_*(policy)`:
`django.install_django`, `flask.install_flask`, `starlette.install_starlette` (FastAPI too).
Nothing is imported here at module level, so importing one adapter never imports another
framework; `install(framework, policy)` imports the one adapter it is asked for.
"""


def install(framework, policy):
    """Install the context middleware with `policy` into `framework` (the name of a `middleware`
    row of integrations_table.FRAMEWORKS), once its module is imported."""
    if framework == "django":
        from sentry_bootstrap.middleware.django import install_django as install_adapter
    elif framework == "flask":
        from sentry_bootstrap.middleware.flask import install_flask as install_adapter
    elif framework == "starlette":
        from sentry_bootstrap.middleware.starlette import install_starlette as install_adapter
    else:
        raise ValueError("no context middleware for {!r}".format(framework))
    install_adapter(policy)
