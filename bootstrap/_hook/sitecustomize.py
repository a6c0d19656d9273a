"""sentry-bootstrap's hook: the directory holding this file goes first on PYTHONPATH.

Python imports `sitecustomize` once at start-up. This one runs any `sitecustomize` it shadows (the
user's or the distribution's), then starts the guarded autoload. Neither may break the interpreter.
"""
import os
import sys


def _chain_shadowed():
    """Run the next `sitecustomize` on sys.path after this file's own directory, as site would."""
    # The import system's own PathFinder is already loaded; `importlib.machinery` would add ~1 ms
    # (and importlib.util ~10 ms) to every interpreter start.
    external = sys.modules.get("_frozen_importlib_external")
    if external is None:
        import importlib.machinery as external

    # Ours: this file, and the checkout's top-level sitecustomize.py that runs it.
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    ours = {os.path.realpath(__file__), os.path.join(checkout, "sitecustomize.py")}
    for entry in sys.path:
        spec = external.PathFinder.find_spec("sitecustomize", [entry or os.getcwd()])
        if spec is not None and spec.origin and os.path.realpath(spec.origin) not in ours:
            break
    else:
        return
    module = type(sys)(spec.name)
    module.__spec__, module.__loader__, module.__file__ = spec, spec.loader, spec.origin
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # what site itself does with a failing sitecustomize
        sys.stderr.write("Error in sitecustomize ({}): {}: {}\n".format(spec.origin, type(exc).__name__, exc))


def _autoload():
    # The kill switch is read here, before the package is imported, so "off" costs nothing more.
    # (bootstrap._env.flag is the same rule.)
    if os.environ.get("SENTRY_BOOTSTRAP_DISABLED", "").strip().lower() in ("1", "true", "yes", "on"):
        return
    try:
        import bootstrap._autoload as autoload
    except ImportError:
        # The hook directory sits inside the package; when the package itself is not importable
        # (a checkout that is not installed), make its parent importable, last so it shadows nothing.
        sys.path.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        try:
            import bootstrap._autoload as autoload
        except ImportError as exc:
            sys.stderr.write("sentry-bootstrap: not active: {}\n".format(exc))
            return
    autoload.autoload()


try:
    _chain_shadowed()
except Exception:
    pass
_autoload()
