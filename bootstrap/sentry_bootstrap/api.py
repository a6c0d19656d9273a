"""The public helpers: thin, safe calls over `sentry_sdk` for application code.

Every helper is a silent no-op while Sentry is off (no active client: the hook is disabled, the process
excluded, or `sentry_sdk.init` never ran), and none of them ever raises into the caller: a failure inside
the SDK is swallowed (and, when a client exists, reported through the SDK's own internal-error log).
`capture_message` and `capture_exception` return the event id, or None when nothing was captured.

Tags, user, context and breadcrumbs go to the isolation scope (one request, task or
`with_sentry_context` call); the transaction name goes to the current scope, so a running transaction
is renamed as well.
"""
from __future__ import annotations  # annotations stay text: nothing of `typing` at run time

from typing import TYPE_CHECKING

import sentry_sdk
from sentry_sdk.utils import capture_internal_exceptions

from sentry_bootstrap import sdk_compat

if TYPE_CHECKING:
    from typing import Any, Mapping, Optional, Union

    from typing_extensions import Literal

    Level = Literal["fatal", "critical", "error", "warning", "info", "debug"]

__all__ = [
    "add_breadcrumb",
    "capture_exception",
    "capture_message",
    "set_context",
    "set_tag",
    "set_tags",
    "set_transaction",
    "set_user",
]


def _active() -> bool:
    try:
        return sentry_sdk.get_client().is_active()
    except Exception:
        return False


def capture_message(message: str, level: Level = "info") -> Optional[str]:
    """Send `message` as an event at `level` (fatal, error, warning, info, debug); return its id or None."""
    if not _active():
        return None
    with capture_internal_exceptions():
        return sentry_sdk.capture_message(message, level=level)
    return None


def capture_exception(exc: Optional[BaseException] = None) -> Optional[str]:
    """Send `exc` (default: the exception being handled) as an event; return its id or None."""
    if not _active():
        return None
    with capture_internal_exceptions():
        return sentry_sdk.capture_exception(exc)
    return None


def set_user(user: Optional[Mapping[str, Any]]) -> None:
    """Attach `user` (a dict such as {"id", "email", "username"}) to later events; None forgets the user."""
    if _active():
        with capture_internal_exceptions():
            sentry_sdk.set_user(dict(user) if user is not None else None)


def set_context(name: str, context: Optional[Mapping[str, Any]]) -> None:
    """Attach the dict `context` under `name` to later events."""
    if _active():
        with capture_internal_exceptions():
            sentry_sdk.set_context(name, dict(context) if context is not None else None)


def set_transaction(name: str) -> None:
    """Name the current transaction (and the `transaction` of later events) `name`."""
    if _active():
        with capture_internal_exceptions():
            sdk_compat.settle_lazy_scope()  # inside with_sentry_context: fork first, so the name stays in the call
            sentry_sdk.get_current_scope().set_transaction_name(name, source="custom")


def set_tag(key: str, value: Any) -> None:
    """Attach the tag `key`=`value` to later events."""
    if _active():
        with capture_internal_exceptions():
            sentry_sdk.set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Attach every `key: value` of the mapping `tags` as a tag to later events."""
    if _active():
        with capture_internal_exceptions():
            sentry_sdk.set_tags(dict(tags))


def add_breadcrumb(message: Union[str, Mapping[str, Any], None] = None,
                   category: Optional[str] = None, level: Level = "info",
                   data: Optional[Mapping[str, Any]] = None, type: Optional[str] = None,
                   **fields: Any) -> None:
    """Record a breadcrumb for later events. A dict as the only argument is taken as the whole crumb,
    as `sentry_sdk.add_breadcrumb` accepts it."""
    if not _active():
        return
    with capture_internal_exceptions():
        if isinstance(message, dict):
            crumb = dict(message)
        else:
            crumb = {"message": message, "category": category, "level": level, "data": data,
                     "type": type}
            crumb = {key: value for key, value in crumb.items() if value is not None}
        crumb.update(fields)
        sentry_sdk.add_breadcrumb(crumb)
