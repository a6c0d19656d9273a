"""sentry-bootstrap's hook: the directory holding this file goes first on PYTHONPATH.

Python imports `sitecustomize` once at start-up. This one runs any `sitecustomize` it shadows (the
user's or the distribution's), then starts the guarded autoload. Neither may break the interpreter.
"""
import os
import sys


def _chain_shadowed():
    """Run the next `sitecustomize` on sys.path after this file's own directory, as site would."""
    import importlib.machinery  # not importlib.util: its imports cost ~10 ms on every start

    # Ours: this file, and the checkout's top-level sitecustomize.py that runs it.
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    ours = {os.path.realpath(__file__), os.path.join(checkout, "sitecustomize.py")}
    for entry in sys.path:
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", [entry or os.getcwd()])
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
