"""The context middleware: user and request facts on every event captured during a request.

`common` holds the policy (`ContextPolicy.from_config`) and the framework-neutral binding; one
module per framework holds its adapter and its `install_*(policy)`:
`django.install_django`, `flask.install_flask`, `starlette.install_starlette` (FastAPI too).
Nothing is imported here, so importing one adapter never imports another framework.
"""
