"""Each framework is patched in exactly one place: the middleware module owns the patch, and the
test endpoint registers with it (issue 12, point 4)."""
import ast
import os

import wrapt

from sentry_bootstrap.diagnostics import endpoint
from sentry_bootstrap.diagnostics.endpoint import DEFAULT_PATH
from sentry_bootstrap.middleware.common import ContextPolicy
from tests.support.child import HOOK_DIR

PACKAGE = os.path.join(HOOK_DIR, "sentry_bootstrap")
CFG = {"enabled": True, "path": DEFAULT_PATH, "token": "t0ken-for-the-test"}


def _patch_sites():
    """(target, file) for every wrapt.wrap_function_wrapper("module", "Name.attr", ...) call."""
    sites = []
    for folder, _dirs, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as handle:
                tree = ast.parse(handle.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == \
                        "wrap_function_wrapper" and len(node.args) >= 2:
                    target = tuple(getattr(a, "value", None) for a in node.args[:2])
                    sites.append((target, os.path.relpath(path, PACKAGE)))
    return sites


def test_each_framework_method_is_patched_in_one_module():
    """Flask.wsgi_app, Starlette.__call__ and BaseHandler.load_middleware are each wrapped by one
    call, in sentry_bootstrap/middleware/."""
    sites = _patch_sites()
    targets = [t for t, _ in sites]
    assert len(targets) == len(set(targets)), sites
    for wanted in (("flask.app", "Flask.wsgi_app"), ("starlette.applications", "Starlette.__call__"),
                   ("django.core.handlers.base", "BaseHandler.load_middleware")):
        assert [f for t, f in sites if t == wanted] == [
            os.path.join("middleware", wanted[0].split(".")[0] + ".py")]


def _layers(owner, name):
    attr = owner.__dict__[name]
    count = 0
    while isinstance(attr, wrapt.FunctionWrapper):
        count += 1
        attr = attr.__wrapped__
    return count


def test_context_and_endpoint_share_one_wrapper_at_runtime():
    """With the context middleware and the endpoint both installed, each framework method carries
    one wrapper of ours."""
    from django.core.handlers.base import BaseHandler
    from flask import Flask
    from starlette.applications import Starlette

    from sentry_bootstrap.middleware.django import install_django
    from sentry_bootstrap.middleware.flask import install_flask
    from sentry_bootstrap.middleware.starlette import install_starlette

    policy = ContextPolicy.from_config({}, False)
    try:
        for install in (install_flask, install_starlette, install_django):
            install(policy)
        assert endpoint.install_endpoint_flask(CFG)
        assert endpoint.install_endpoint_starlette(CFG)
        assert endpoint.install_endpoint_django(CFG)
        assert (_layers(Flask, "wsgi_app"), _layers(Starlette, "__call__"),
                _layers(BaseHandler, "load_middleware")) == (1, 1, 1)
    finally:
        for uninstall in (endpoint.install_endpoint_flask, endpoint.install_endpoint_starlette,
                          endpoint.install_endpoint_django):
            uninstall({"enabled": False})
