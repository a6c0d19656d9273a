"""The one module that touches sentry_sdk's private names.

Every underscore name, transport or worker internal, `setup_integrations`, `Client.integrations`,
scope slots, `_MIN_VERSIONS`, `_AUTO_ENABLING_INTEGRATIONS`, ... that the rest of the package needs is
reached through a function or constant here, so a minor SDK release that moves one of them breaks this
file and its guard tests (tests/test_sdk_compat.py), not the whole package. docs/sdk-internals.md lists
each one with the reason we need it.

Nothing here is imported at interpreter start: sentry_sdk is imported by the functions that need it.
"""
