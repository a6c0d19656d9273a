"""sentry-bootstrap's hook, for a checkout put on PYTHONPATH as it is.

The directory to put on PYTHONPATH is `bootstrap/` (it holds the hook and the package, nothing else).
So that `PYTHONPATH=<checkout>` works too without making the checkout's other folders (`tests`,
`examples`, `bootstrap` itself, ...) importable names that could shadow the program's own, this file
puts `bootstrap/` in the checkout's place on sys.path, then runs the hook there.
"""
import os
import sys

_ROOT = os.path.dirname(os.path.abspath(__file__))
_DIR = os.path.join(_ROOT, "bootstrap")
# site runs this before Python adds the program's own directory, so every entry here is PYTHONPATH,
# the standard library or site-packages.
sys.path[:] = [_DIR if os.path.abspath(entry or os.curdir) == _ROOT else entry for entry in sys.path]
_HOOK = os.path.join(_DIR, "sitecustomize.py")
with open(_HOOK, "rb") as _source:
    exec(compile(_source.read(), _HOOK, "exec"), {"__file__": _HOOK, "__name__": "sitecustomize"})
del _source, _HOOK, _DIR, _ROOT
