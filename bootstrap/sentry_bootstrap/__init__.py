"""sentry-bootstrap: zero-code Sentry instrumentation driven by one `sentry.yaml`.

The hook imports this package on every interpreter start, so it imports nothing here: the public
helpers are loaded on first use (PEP 562), which keeps the switched-off path free of sentry_sdk.
"""

__version__ = "0.1.0"

# For type checkers only (they treat the name as true): the real imports happen in __getattr__.
# A plain constant, not typing.TYPE_CHECKING, so the hook's start-up imports nothing for it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from sentry_bootstrap.api import (add_breadcrumb, capture_exception, capture_message,
                                      set_context, set_tag, set_tags, set_transaction, set_user)
    from sentry_bootstrap.decorators import capture_errors, with_sentry_context

__all__ = [
    "add_breadcrumb",
    "capture_errors",
    "capture_exception",
    "capture_message",
    "set_context",
    "set_tag",
    "set_tags",
    "set_transaction",
    "set_user",
    "with_sentry_context",
]

_FROM_DECORATORS = frozenset({"capture_errors", "with_sentry_context"})


def __getattr__(name):
    if name == "test_sentry_task":
        # The Celery test task, as a shared task: `test_sentry_task.delay()` raises a deliberate
        # error in a worker. Not in __all__: it imports Celery, which `import *` must not need.
        from sentry_bootstrap.diagnostics.celery_task import install_celery_task

        task = install_celery_task()
        globals()[name] = task
        return task
    if name not in __all__:
        raise AttributeError("module 'sentry_bootstrap' has no attribute {!r}".format(name))
    if name in _FROM_DECORATORS:
        from sentry_bootstrap import decorators as home
    else:
        from sentry_bootstrap import api as home
    value = getattr(home, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(list(globals()) + __all__ + ["test_sentry_task"]))
