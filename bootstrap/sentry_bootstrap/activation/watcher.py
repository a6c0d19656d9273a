"""The import watcher: the one way the hook runs code right after a module has been imported.

`when_imported(name, action, *args)` runs `action(module, *args)` once module `name` has executed,
before the importer gets it back (at once when it is imported already). So a framework's
integration, middleware, test endpoint and `instrument:` targets are in place before application
code can cache `from framework import thing`, and the lazy start (`activation.lazy`) starts the SDK
on the import of a module that needs it. An action never raises into the import that triggered it: a
failure becomes one stderr line.

The watcher is a meta-path finder of our own, first on `sys.meta_path` while anything is watched.
It finds nothing itself: for a watched name it asks the finders behind it for the spec and wraps the
spec's loader so that the actions run after the module's body. Every other name costs one dict
lookup. Standard library only, and nothing a bare interpreter doesn't load: the lazy start arms it
at interpreter start.
"""
import sys

import _thread

from sentry_bootstrap import _log

_lock = _thread.RLock()
_actions = {}  # module name -> [(action, args)], in registration order
_executing = []  # watched modules whose body is running, outermost first
_when_idle = []  # callables waiting for the outermost watched module's body to finish


def when_imported(name, action, *args):
    """Run `action(module, *args)` once module `name` has executed (now, when it is imported
    already). Never raises into the importer."""
    watch(name, action, *args)
    module = sys.modules.get(name)
    if module is not None:
        fire(name, module)


def watch(name, action, *args):
    """Like `when_imported`, without looking at what is imported already (see `fire_imported`)."""
    with _lock:
        _actions.setdefault(name, []).append((action, args))
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)


def fire_imported():
    """Run the actions of every watched module that is imported already."""
    for name in list(_actions):
        module = sys.modules.get(name)
        if module is not None:
            fire(name, module)


def cancel(action):
    """Forget every registration of `action` that has not run yet."""
    with _lock:
        for name in list(_actions):
            _actions[name] = [entry for entry in _actions[name] if entry[0] is not action]
            if not _actions[name]:
                del _actions[name]
        _leave_if_idle()


def watched():
    """The module names with actions waiting."""
    return set(_actions)


def when_idle(func):
    """Run `func()` now, or once the outermost watched module being executed has finished: an
    action that runs inside another watched module's body (celery importing redis) would otherwise
    set up a half-executed framework."""
    if _executing:
        _when_idle.append(func)
    else:
        func()


def fire(name, module):
    """Run (once) the actions waiting for `name`, now that `module` is imported."""
    with _lock:
        entries = _actions.pop(name, ())
        _leave_if_idle()
    for action, args in entries:
        try:
            action(module, *args)
        except Exception as exc:  # the program's import goes on whatever happens here
            _log.report("error", "setting up for {} failed: {}: {}".format(
                name, type(exc).__name__, exc))


def _leave_if_idle():
    if not _actions:
        try:
            sys.meta_path.remove(_FINDER)
        except ValueError:
            pass


class _Finder:
    """The meta-path finder: wraps the loader of a watched module (see the module docstring)."""

    def __init__(self):
        self._busy = set()

    def find_spec(self, name, path=None, target=None):
        if name not in _actions or name in self._busy:
            return None
        self._busy.add(name)
        try:
            spec = None
            for finder in list(sys.meta_path):
                if finder is self:
                    continue
                find = getattr(finder, "find_spec", None)
                if find is None:
                    continue
                spec = find(name, path, target)
                if spec is not None:
                    break
        finally:
            self._busy.discard(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _ThenAct(spec.loader)
        return spec


class _ThenAct:
    """A loader that runs the real loader, then the actions waiting for the module."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        create = getattr(self.loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module):
        # Put the real loader back first: tracebacks, reload() and pkgutil ask it for the source.
        module.__loader__ = self.loader
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.loader = self.loader
        _executing.append(module.__name__)
        try:
            self.loader.exec_module(module)
        finally:
            _executing.pop()
        fire(module.__name__, module)
        while _when_idle and not _executing:
            _when_idle.pop(0)()

    def __getattr__(self, name):
        return getattr(self.loader, name)


_FINDER = _Finder()
