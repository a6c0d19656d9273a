"""Which copy of each dependency the hook uses inside the program's process.

The program's own packages win. Where it has none, the hook's fallback finder (bootstrap/
sitecustomize.py) supplies them from a bundle (`sentry-bootstrap bundle DIR`) or from the environment
`sentry-bootstrap run` was started from. Two cases need more than that:

- `sentry_sdk` (and `urllib3` under it) stay for the life of the process, so the program's own copy is
  used whenever it has one; a version outside the range we support stops the hook with one line that
  says what to do (`sdk_problem()`), and the program runs on.
- `pydantic` and `yaml` are needed only to validate the configuration on a cold start.
  `config_imports()` runs that validation with them in a scope: the program's copies when they are
  versions we support, otherwise the fallback's, and afterwards none of them stays in `sys.modules`.
  So a program on pydantic 1.x or PyYAML 5 keeps its own, and a program that never imports them
  doesn't find them imported.

Versions are read from the packages' own files (bounded reads) without importing them.
"""
import contextlib
import os
import re
import sys

SDK_RANGE = ((2, 73), (3,))  # >= 2.73, < 3: the range pyproject.toml declares (a test holds them together)
SDK3_PREVIEW_HIGH = (4,)  # with SENTRY_BOOTSTRAP_SDK3_PREVIEW on, 3.x is accepted too
_MIN = {"pydantic": (2, 6), "yaml": (6, 0, 1), "urllib3": (1, 26, 11)}
# Packages imported for validation only; the scope removes them (and their own helpers) afterwards.
_SCOPED = frozenset({"pydantic", "pydantic_core", "typing_extensions", "annotated_types",
                     "typing_inspection", "yaml", "_yaml"})
# Where each package states its version, and how.
_VERSION_FILES = {
    "sentry_sdk": ("consts.py", r"^VERSION\s*=\s*['\"]([^'\"]+)"),
    "pydantic": ("version.py", r"^VERSION\s*=\s*['\"]([^'\"]+)"),
    "yaml": ("__init__.py", r"^__version__\s*=\s*['\"]([^'\"]+)"),
    "urllib3": ("_version.py", r"^__version__\s*=\s*(?:version\s*=\s*)?['\"]([^'\"]+)"),
}


_MAX_VERSION_FILE = 512 * 1024  # sentry_sdk/consts.py is about 70 KB and grows with every release


# What to do about a package this interpreter lacks. It is added to a line in one place only,
# MissingDependency, so no line can carry it twice (an ImportError re-reported up the stack).
FIX = "install sentry-bootstrap into its environment, or put a bundle on PYTHONPATH (`sentry-bootstrap bundle DIR`)"


class MissingDependency(ImportError):
    """A package this interpreter lacks. Its text is one complete line: what is missing, in which
    interpreter, and the fix (FIX)."""

    def __init__(self, missing):
        ImportError.__init__(self, "{} in this interpreter ({}); {}".format(missing, sys.executable, FIX))
        self.missing = missing


def missing_line(error):
    """The one line for any ImportError met while starting: a MissingDependency's own text, or the
    error's text made into one (what is missing, the interpreter, the fix)."""
    text = str(error)
    if isinstance(error, MissingDependency) or FIX in text:  # already complete (re-raised as it was)
        return text
    return str(MissingDependency(text))


def _path_finder():
    return sys.modules["_frozen_importlib_external"].PathFinder


def _fallback_finder():
    """The hook's fallback finder (bootstrap/sitecustomize.py), or None when there is none."""
    for finder in sys.meta_path:
        if getattr(finder, "sentry_bootstrap_fallback", False):
            return finder
    return None


def fallback_dirs():
    """The directories the hook's fallback finder supplies packages from ([] when there is none)."""
    finder = _fallback_finder()
    return list(finder.dirs) if finder is not None else []


def _parse(text):
    parts = []
    for piece in re.split(r"[.+-]", text):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def version_of(name, path=None):
    """(version tuple, version text) of top-level package `name` as found on `path` (default
    sys.path), or None when it isn't there or states no version we can read."""
    spec = _path_finder().find_spec(name, sys.path if path is None else path)
    if spec is None or not spec.submodule_search_locations:
        return None
    filename, pattern = _VERSION_FILES[name]
    for location in spec.submodule_search_locations:
        try:
            with open(os.path.join(location, filename), "rb") as handle:
                text = handle.read(_MAX_VERSION_FILE).decode("utf-8", "replace")
        except OSError:
            continue
        match = re.search(pattern, text, re.M)
        if match:
            return _parse(match.group(1)), match.group(1)
    return None


def sdk_problem():
    """None when the sentry_sdk (and urllib3) this process will import are versions we support;
    otherwise the line that says what to do. The program's own copies come first on sys.path; the
    fallback's are used only where it has none."""
    found = version_of("sentry_sdk") or version_of("sentry_sdk", fallback_dirs())
    if found is None and (_path_finder().find_spec("sentry_sdk", sys.path) or
                          _path_finder().find_spec("sentry_sdk", fallback_dirs())):
        return None  # there, with no version we can read: importing it will tell
    if found is None:
        return missing_line(MissingDependency("no sentry_sdk"))
    low, high = SDK_RANGE
    if high <= found[0] < SDK3_PREVIEW_HIGH and _preview_on():
        high = SDK3_PREVIEW_HIGH  # sentry-sdk 3 as a preview (SENTRY_BOOTSTRAP_SDK3_PREVIEW)
    if not (low <= found[0] < high):
        wanted = ">={},<{}".format(".".join(map(str, low)), ".".join(map(str, high)))
        return ("this program's sentry-sdk {} is outside the range sentry-bootstrap supports ({}); upgrade "
                "it (pip install 'sentry-sdk{}'), or remove it to use the bundle's".format(found[1], wanted, wanted))
    urllib3 = version_of("urllib3")
    if urllib3 is not None and urllib3[0] < _MIN["urllib3"]:
        return ("this program's urllib3 {} is older than sentry-sdk needs (>=1.26.11); "
                "upgrade it (pip install 'urllib3>=1.26.11')".format(urllib3[1]))
    finder = _fallback_finder()
    for name in ("sentry_sdk", "urllib3", "certifi"):
        mine = _path_finder().find_spec(name, sys.path)
        needs = finder.needs_python(name) if finder is not None and mine is None else None
        if needs:  # the program has none, and the fallback's copy is for a newer Python
            return ("the {} lent to this interpreter needs Python >= {}, and this is Python {}; write a "
                    "bundle (`sentry-bootstrap bundle DIR`) and use `sentry-bootstrap run --bundle DIR -- "
                    "...` or PYTHONPATH=DIR".format(name, ".".join(map(str, needs)), "%d.%d" % sys.version_info[:2]))
    return None


def _preview_on():
    from sentry_bootstrap import _env

    return os.environ.get(_env.SDK3_PREVIEW, "").strip().lower() in _env.TRUE_WORDS


_LABELS = {"pydantic": "pydantic>=2.6", "yaml": "PyYAML>=6.0.1"}


def _unserved(path=None):
    """The labels of the config packages (pydantic, yaml) that `path` (default sys.path) lacks in a
    version we support."""
    missing = []
    for name in ("pydantic", "yaml"):
        found = version_of(name, path)
        if found is None or found[0] < _MIN[name]:
            missing.append(_LABELS[name])
    return missing


def _own_copies_serve():
    """True when the program's own pydantic and yaml (on sys.path) are versions we support."""
    return not _unserved()


def _lending_dirs():
    """The fallback directories that hold both config packages in versions we support."""
    return [d for d in fallback_dirs() if not _unserved([d])]


def _scoped_names():
    return [name for name in sys.modules if name.partition(".")[0] in _SCOPED]


class _Preferred(object):
    """First on sys.meta_path during the scope: the fallback's copies of the scoped packages only."""

    def __init__(self, dirs):
        self.dirs = dirs

    def find_spec(self, name, path=None, target=None):
        if path is None and name in _SCOPED:
            return _path_finder().find_spec(name, self.dirs)
        return None

    def invalidate_caches(self):
        pass


def lend_to_commands():
    """For the `sentry-bootstrap` command's own process, never a program's: when this interpreter's
    own pydantic and yaml don't serve, the fallback's copies (a bundle's) stay importable for the
    rest of the process, so every command works from a bundle alone. True when they were lent."""
    if _own_copies_serve() or any(isinstance(f, _Preferred) for f in sys.meta_path):
        return False
    dirs = _lending_dirs()
    if dirs:
        sys.meta_path.insert(0, _Preferred(dirs))
    return bool(dirs)


# Top-level names of our dependencies: a command that can't import one says so in one line.
DEPENDENCIES = frozenset({"sentry_sdk", "urllib3", "certifi", "wrapt"}) | _SCOPED


def command_needs(error):
    """The one line for an ImportError a command met, when it is a dependency of ours that this
    interpreter lacks; None for any other ImportError (a program's own module, say)."""
    if isinstance(error, MissingDependency):
        return str(error)
    name = (getattr(error, "name", None) or "").partition(".")[0]
    if name in _SCOPED and _unserved():
        return str(MissingDependency("no {} (to validate sentry.yaml)".format(" and ".join(_unserved()))))
    if name in DEPENDENCIES:
        return missing_line(error)
    return None


def release_imports(loaded):
    """Take out of `sys.modules` every module imported since `loaded` (a set of names), and each
    from its parent package: what a cold start imported to validate the configuration is not left
    behind for the program (a module it imports later is imported afresh, as after a warm start).
    `threading` stays while a thread runs on it."""
    import _thread

    for name in [name for name in sys.modules if name not in loaded]:
        if name == "threading" and _thread._count():
            continue
        module = sys.modules.pop(name, None)
        parent, _, child = name.rpartition(".")
        if parent and parent in sys.modules and module is not None and \
                getattr(sys.modules[parent], child, None) is module:
            try:
                delattr(sys.modules[parent], child)
            except AttributeError:
                pass


@contextlib.contextmanager
def config_imports():
    """Run configuration validation with pydantic and yaml imported for it alone (see the module
    docstring). Raises ImportError with a line that says what to do when no usable copy exists."""
    preferred = None
    if not _own_copies_serve():
        dirs = _lending_dirs()
        if not dirs:
            raise MissingDependency("no {} (to validate sentry.yaml)".format(" and ".join(_unserved())))
        preferred = _Preferred(dirs)
    saved = {name: sys.modules.pop(name) for name in _scoped_names()}
    if preferred is not None:
        sys.meta_path.insert(0, preferred)
    try:
        yield
    finally:
        if preferred is not None:
            sys.meta_path.remove(preferred)
        for name in _scoped_names():
            del sys.modules[name]
        sys.modules.update(saved)
