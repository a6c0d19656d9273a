"""Where the hook keeps its per-user state: the outbox, the spool and the config cache."""
import os


def state_dir(environ=None):
    """`$XDG_STATE_HOME/sentry-bootstrap`, else `~/.local/state/sentry-bootstrap`. Not created here."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "sentry-bootstrap")


def hook_dir():
    """The directory holding the `sitecustomize.py` to put first on PYTHONPATH."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_hook")


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
