"""sentry-bootstrap's hook. The directory holding this file is the one to put on PYTHONPATH: it holds
this file and the `sentry_bootstrap` package, and nothing else importable.

Python imports `sitecustomize` once at start-up. This one runs any `sitecustomize` it shadows (the
user's or the distribution's), then hands over to `sentry_bootstrap.hook`. Neither may break the
interpreter. The same file is installed as `sentry_bootstrap/_hook/sitecustomize.py` by the wheel.
"""
import os
import sys

_MARK = "sentry-bootstrap's hook"  # how a sitecustomize.py is recognised as one of ours (see _ours)


def _ours(path):
    """True for this file and for any copy of it or shim that runs it (the checkout's top level)."""
    try:
        with open(path, "rb") as handle:
            return _MARK.encode() in handle.read(400)
    except OSError:
        return False


def _chain_shadowed():
    """Run the next `sitecustomize` on sys.path that is not ours, as site would."""
    # The import system's own PathFinder is already loaded; `importlib.machinery` would add ~1 ms
    # (and importlib.util ~10 ms) to every interpreter start.
    external = sys.modules.get("_frozen_importlib_external")
    if external is None:
        import importlib.machinery as external

    for entry in sys.path:
        spec = external.PathFinder.find_spec("sitecustomize", [entry or os.getcwd()])
        if spec is not None and spec.origin and not _ours(spec.origin):
            break
    else:
        return
    module = type(sys)(spec.name)
    module.__spec__, module.__loader__, module.__file__ = spec, spec.loader, spec.origin
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # what site itself does with a failing sitecustomize
        sys.stderr.write("Error in sitecustomize ({}): {}: {}\n".format(spec.origin, type(exc).__name__, exc))


def _start():
    # The kill switch is read here, before the package is imported, so "off" costs nothing more.
    # (sentry_bootstrap._env.flag is the same rule.)
    if os.environ.get("SENTRY_BOOTSTRAP_DISABLED", "").strip().lower() in ("1", "true", "yes", "on"):
        return
    try:
        from sentry_bootstrap import hook
    except ImportError as exc:
        sys.stderr.write("sentry-bootstrap: not active: {}\n".format(exc))
        return
    hook.start()


try:
    _chain_shadowed()
except Exception:
    pass
_start()
