"""Put this checkout on PYTHONPATH and every Python program started with it is instrumented.

The real hook lives in the package (bootstrap/_hook/sitecustomize.py, the directory that
`sentry-bootstrap hook-path` prints); this file runs it, so both ways behave the same.
"""
import os

_HOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap", "_hook", "sitecustomize.py")
with open(_HOOK, "rb") as _source:
    exec(compile(_source.read(), _HOOK, "exec"), {"__file__": _HOOK, "__name__": "sitecustomize"})
del _source, _HOOK
