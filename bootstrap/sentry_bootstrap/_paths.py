"""Where the hook keeps its per-user state (the outbox, the spool and the config cache), and the
trust rule for those directories: created 0700, and refused when a symbolic link, owned by another
user or writable by group or others, or when the directory holding them may be written by another
user (who could swap them), since another local user could then plant or read files there.
`_files.StateDir` applies the rule once, on open descriptors, and opens everything below through them.
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
    check_private_stat(path, os.lstat(path))


def check_private_stat(path, st):
    """`check_private_dir` on a stat result (the `fstat` of an open directory, or an `lstat`)."""
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


def check_parent_stat(path, st, child):
    """Raise UnsafeDirectory when the directory `path` (its stat `st`), which holds the state
    directory `child`, may be written by another user, who could then swap `child` for a link or a
    directory of theirs: owned by a user other than this one and root (and writable by its owner),
    or writable by group or others without the sticky bit (`/tmp` is fine)."""
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    if uid is not None and st.st_uid not in (uid, 0) and st.st_mode & 0o200:
        raise UnsafeDirectory("{} (which holds {}) is owned by uid {}, who could replace what it "
                              "holds; use a directory of your own (`chown {} {}`) or set another "
                              "path".format(path, child, st.st_uid, uid, path))
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        raise UnsafeDirectory("{} (which holds {}) is writable by {} (mode {:o}); `chmod go-w {}` "
                              "or set another path".format(
                                  path, child, "others" if st.st_mode & 0o002 else "group",
                                  stat.S_IMODE(st.st_mode), path))
