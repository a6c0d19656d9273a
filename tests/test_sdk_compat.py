"""Guards for the SDK internals listed in docs/sdk-internals.md: a failure here means the installed
sentry_sdk changed shape and the hook's lazy integrations or init guard need attention."""
import inspect

import sentry_sdk
import sentry_sdk._init_implementation as impl
import sentry_sdk.api as api
from sentry_sdk import integrations as sdk_integrations

from sentry_bootstrap.activation import integrations


def test_setup_integrations_signature_accepts_what_hooks_pass():
    """setup_integrations still takes a list, with_defaults and options."""
    params = inspect.signature(sdk_integrations.setup_integrations).parameters
    assert {"integrations", "with_defaults", "options"} <= set(params)


def test_client_keeps_integrations_in_a_dict():
    """Client.integrations is a dict consulted by get_integration."""
    client = sentry_sdk.Client(default_integrations=False)
    assert isinstance(client.integrations, dict)
    source = inspect.getsource(type(client).get_integration)
    assert "self.integrations" in source


def test_min_versions_table_exists():
    """_MIN_VERSIONS maps names to version tuples."""
    floors = sdk_integrations._MIN_VERSIONS
    assert isinstance(floors, dict) and floors["django"] and isinstance(floors["flask"], tuple)


def test_every_auto_enabling_integration_is_in_the_table():
    """A new auto-enabling integration in the SDK must be added to sentry_bootstrap.activation.integrations.AUTO."""
    sdk_names = {path.split(".")[-2] for path in sdk_integrations._AUTO_ENABLING_INTEGRATIONS}
    # The class path's module is the identifier, except for packages (celery/__init__ -> celery).
    missing = sdk_names - set(integrations.AUTO)
    assert not missing, "add these to sentry_bootstrap.activation.integrations.AUTO: {}".format(sorted(missing))


def test_default_integrations_match_the_sdk():
    """The hook passes the SDK's default integrations itself, so the lists must agree."""
    sdk_defaults = {path.split(".")[-2] for path in sdk_integrations._DEFAULT_INTEGRATIONS}
    assert sdk_defaults == set(integrations.DEFAULT)


def test_init_is_reexported_from_init_implementation():
    """sentry_sdk.init, sentry_sdk.api.init and _init_implementation.init are one function."""
    original = getattr(impl.init, "__wrapped__", impl.init)
    for namespace in (sentry_sdk, api):
        assert getattr(namespace.init, "__wrapped__", namespace.init) is original


def test_scope_context_variables_used_by_the_decorators_exist():
    """The lazy isolation scope needs the SDK's scope context variables and Scope.__slots__."""
    import contextvars

    from sentry_sdk import scope

    assert isinstance(scope._isolation_scope, contextvars.ContextVar)
    assert isinstance(scope._current_scope, contextvars.ContextVar)
    assert "_tags" in scope.Scope.__slots__
