"""sentry-bootstrap's hook. The directory holding this file is the one to put on PYTHONPATH: it holds
this file and the `sentry_bootstrap` package, and nothing else importable.

Python imports `sitecustomize` once at start-up. This one runs any `sitecustomize` it shadows (the
user's or the distribution's), then hands over to `sentry_bootstrap.hook`. Neither may break the
interpreter. The same file is installed as `sentry_bootstrap/_hook/sitecustomize.py` by the wheel.
"""
import os
import sys

_MARK = "sentry-bootstrap's hook"  # how a sitecustomize.py is recognised as one of ours (see _ours)
# Top-level names the fallback finder may supply: our package and what stays in use in the program's
# process. Nothing else of a bundle's or another environment's packages becomes importable (pydantic
# and yaml are lent to the configuration's validation alone: sentry_bootstrap/deps.py).
_FALLBACK_NAMES = frozenset({
    "sentry_bootstrap", "sentry_sdk", "urllib3", "certifi", "wrapt", "importlib_metadata", "zipp",
})


def _ours(path):
    """True for this file and for any copy of it or shim that runs it (the checkout's top level)."""
    try:
        with open(path, "rb") as handle:
            return _MARK.encode() in handle.read(400)
    except OSError:
        return False


def _candidate(entry):
    """Whether sys.path `entry` may hold a `sitecustomize`: two stats for a directory (a module or a
    package); an entry that is not a directory (a zip file) is left to the import system to say."""
    directory = entry or os.getcwd()
    if not os.path.isdir(directory):
        return os.path.exists(directory)
    return (os.path.isfile(os.path.join(directory, "sitecustomize.py"))
            or os.path.isfile(os.path.join(directory, "sitecustomize", "__init__.py")))


def _chain_shadowed():
    """Run the next `sitecustomize` on sys.path that is not ours, as site would."""
    # A few stats per entry find the candidates; only those are asked of the import system's
    # PathFinder (already loaded: `importlib.machinery` would add ~1 ms, importlib.util ~10 ms), whose
    # walk of every entry would cost ~1 ms at every interpreter start. A sourceless `.pyc` or an
    # extension module named sitecustomize is not looked for.
    external = sys.modules.get("_frozen_importlib_external")
    if external is None:
        import importlib.machinery as external

    for entry in sys.path:
        if not _candidate(entry):
            continue
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


class _Fallback(object):
    """The last finder on sys.meta_path: it supplies our package and its dependencies from a bundle
    (`sentry-bootstrap-deps/` beside this file), from the environment `sentry-bootstrap run` was
    started from (SENTRY_BOOTSTRAP_DEPS), or from the site-packages an installed hook directory sits
    in, and only where the program's own path has none. The program's packages always win."""

    sentry_bootstrap_fallback = True

    def __init__(self, dirs):
        self.dirs = dirs

    def find_spec(self, name, path=None, target=None):
        if path is not None or name not in _FALLBACK_NAMES or self.needs_python(name):
            return None
        return sys.modules["_frozen_importlib_external"].PathFinder.find_spec(name, self.dirs)

    def needs_python(self, name):
        """The newer Python (a version tuple) that our copy of package `name` declares it needs
        (its dist-info's `Requires-Python: >=X.Y`), or None when this interpreter will do. A copy
        made for another interpreter must look absent, not break the program's own imports."""
        prefix = name.replace("_", "-").lower() + "-"
        for directory in self.dirs:
            try:
                entries = os.listdir(directory)
            except OSError:
                continue
            for entry in entries:
                if entry.endswith(".dist-info") and entry.replace("_", "-").lower().startswith(prefix):
                    try:
                        with open(os.path.join(directory, entry, "METADATA"), "rb") as handle:
                            head = handle.read(65536).decode("utf-8", "replace")
                    except OSError:
                        return None
                    for line in head.splitlines():
                        if line.startswith("Requires-Python:") and ">=" in line:
                            try:
                                needed = tuple(int(p) for p in line.split(">=", 1)[1].split(",")[0].strip().split(".")[:2])
                            except ValueError:
                                return None
                            return needed if sys.version_info[:2] < needed else None
                    return None
        return None

    def invalidate_caches(self):
        pass


def _install_fallback():
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [os.path.join(here, "sentry-bootstrap-deps")]
    dirs += os.environ.get("SENTRY_BOOTSTRAP_DEPS", "").split(os.pathsep)
    if os.path.basename(here) == "sentry-bootstrap-hook":  # an installed wheel's hook directory
        dirs.append(os.path.dirname(here))
    dirs = [d for d in dirs if d and os.path.isdir(d)]
    if dirs and not any(getattr(f, "sentry_bootstrap_fallback", False) for f in sys.meta_path):
        sys.meta_path.append(_Fallback(dirs))


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
try:
    _install_fallback()
except Exception:
    pass
_start()
