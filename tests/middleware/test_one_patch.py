"""Each framework is patched in exactly one place: the middleware module owns the patch, and the
test endpoint registers with it (issue 12, point 4)."""
import ast
import os

from tests.support.child import HOOK_DIR, run_python

PACKAGE = os.path.join(HOOK_DIR, "sentry_bootstrap")


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


def test_the_framework_table_names_each_patch():
    """integrations_table.FRAMEWORKS (read by the lazy start, activation and diagnostics) names
    exactly the patches the middleware modules make, each in its own module."""
    from sentry_bootstrap.integrations_table import frameworks

    sites = dict(_patch_sites())
    rows = frameworks("middleware")
    assert {(row.module, row.patched) for row in rows} == set(sites)
    for row in rows:
        assert sites[(row.module, row.patched)] == os.path.join("middleware", row.name + ".py")


RUNTIME = """\
import sys
sys.path.insert(0, {hook_dir!r})
import wrapt
from django.core.handlers.base import BaseHandler
from flask import Flask
from starlette.applications import Starlette

from sentry_bootstrap.diagnostics import endpoint
from sentry_bootstrap.middleware.common import ContextPolicy
from sentry_bootstrap.middleware.django import install_django
from sentry_bootstrap.middleware.flask import install_flask
from sentry_bootstrap.middleware.starlette import install_starlette


def layers(owner, name):
    attr, count = owner.__dict__[name], 0
    while isinstance(attr, wrapt.FunctionWrapper):
        count, attr = count + 1, attr.__wrapped__
    return count


policy = ContextPolicy.from_config({{}}, False)
for install in (install_flask, install_starlette, install_django):
    install(policy)
cfg = {{"enabled": True, "path": "/t/", "token": "t0ken"}}
assert endpoint.install_endpoint_flask(cfg) and endpoint.install_endpoint_starlette(cfg)
assert endpoint.install_endpoint_django(cfg)
print(layers(Flask, "wsgi_app"), layers(Starlette, "__call__"), layers(BaseHandler, "load_middleware"))
"""


def test_context_and_endpoint_share_one_wrapper_at_runtime():
    """In a fresh interpreter, with the context middleware and the endpoint both installed, each
    framework method carries one wrapper of ours."""
    result = run_python(["-c", RUNTIME.format(hook_dir=HOOK_DIR)], hook=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1", "1"]
