"""Where the hook keeps its per-user state: the outbox, the spool and the config cache."""
import os


def state_dir(environ=None):
    """`$XDG_STATE_HOME/sentry-bootstrap`, else `~/.local/state/sentry-bootstrap`. Not created here."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "sentry-bootstrap")


HOOK_MARK = b"sentry-bootstrap's hook"  # in the first lines of every sitecustomize.py of ours


def hook_dir():
    """The directory holding the `sitecustomize.py` to put first on PYTHONPATH.

    A checkout (and a bundle) has it beside the package: `bootstrap/sitecustomize.py`, in a directory
    that holds nothing else importable. An installed wheel carries the same file in
    `site-packages/sentry-bootstrap-hook/` (a name that can't be imported; site-packages itself must
    not be the hook directory).
    """
    beside = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if is_our_sitecustomize(os.path.join(beside, "sitecustomize.py")):
        return beside
    return os.path.join(beside, "sentry-bootstrap-hook")


def is_our_sitecustomize(path):
    """True when `path` is one of our sitecustomize files (bounded read, never raises)."""
    try:
        with open(path, "rb") as handle:
            return HOOK_MARK in handle.read(400)
    except OSError:
        return False


def make_private_dirs(path):
    """Create `path` and every missing directory above it with mode 0700: the state directory holds
    events (personal data) and cached configuration (which names code to import)."""
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
