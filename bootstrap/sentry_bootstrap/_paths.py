"""Where the hook keeps its per-user state (the outbox, the spool and the config cache), and the
trust rule for those directories: created 0700, and refused when a symbolic link, owned by another
user or writable by group or others, since another local user could then plant or read files there.
"""
import os
import stat


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
    # lexists: a symbolic link in the way is left for `check_private_dir` to refuse, not followed.
    while path and not os.path.lexists(path):
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


class UnsafeDirectory(OSError):
    """A state directory another local user could tamper with; the message says the fix."""


def check_private_dir(path):
    """Raise UnsafeDirectory unless `path` is a real directory (not a symbolic link) owned by this
    user and not writable by group or others. `lstat`, so a link is never followed."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeDirectory("{} is a symbolic link; remove it (`rm {}`) or set another path"
                              .format(path, path))
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeDirectory("{} is not a directory; remove it or set another path".format(path))
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    if uid is not None and st.st_uid != uid:
        raise UnsafeDirectory("{} is owned by uid {}, not by this user (uid {}); `chown {} {}` or set "
                              "another path".format(path, st.st_uid, uid, uid, path))
    if st.st_mode & 0o022:
        raise UnsafeDirectory("{} is writable by {} (mode {:o}); `chmod 700 {}`".format(
            path, "group and others" if st.st_mode & 0o022 == 0o022 else
            ("others" if st.st_mode & 0o002 else "group"), stat.S_IMODE(st.st_mode), path))


def private_dir(path, environ=None):
    """Create `path` (missing directories 0700) and check it with `check_private_dir`; inside the
    state directory, every directory from the state directory down is checked before anything is
    created in it, so nothing is ever made through a link. Returns `path`."""
    root = state_dir(environ)
    try:
        inside = os.path.commonpath([root, path]) == root
    except ValueError:
        inside = False
    chain = [path]
    if inside:
        while chain[-1] != root and os.path.dirname(chain[-1]) != chain[-1]:
            chain.append(os.path.dirname(chain[-1]))
    make_private_dirs(os.path.dirname(chain[-1]))
    for directory in reversed(chain):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        check_private_dir(directory)
    return path
