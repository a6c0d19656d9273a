"""A per-user cache of the validated configuration, so that a warm start imports neither yaml nor
pydantic.

An entry is keyed on everything the loader reads: the file (path, size, mtime, content hash), every
`SENTRY_*` variable and `ENVIRONMENT`, each variable the file references through `${VAR...}`, the
stat of each `SENTRY_*_FILE` secret, the CI release variables, how the file reads from the working directory (the directory itself only
without a file, or for a relative `_FILE` path), the git HEAD (sha and branch, plus
the tag when a `{tag}` format is in play), the nearest pyproject.toml when the release may come from
the package version, the bootstrap code and the installed sentry_sdk. The key material is hashed,
so no value (the DSN included) appears in a file name. Entries live in `state_dir()/cache/` (0700),
one file each (0600, the values in `marshal` format: read without importing json,
which a bare interpreter doesn't load), written to a temporary file and renamed into place, so concurrent starts see
either a whole entry or none. The directory follows the trust rule of every state path
(`_files.StateDir`): opened once per lookup or store as a descriptor, from the state directory down,
never through a link, owned by this user, not writable by others, in a directory no other user may
write; entries are opened relative to it with O_NOFOLLOW. An untrusted directory is a miss and is
never written to (nor chmod'ed). A damaged, foreign or unreadable entry is a miss, and the next store
replaces it. A configuration that failed validation is stored the same way, as its problems
(`store_error`), so that a bad file costs each start a lookup rather than a validation. At most
`MAX_ENTRIES` are kept; the oldest go first. The configuration file's owner and mode are checked (a stat) on every lookup with discovery's trust rule, so an entry stored while the
file was trusted is not used once it is not.

Not noticed (a cache hit returns the previous values): a reinstall of the application that changes
a dynamic package version with no change to pyproject.toml or git; a moved tag when the release
format has no `{tag}`.
"""
import marshal
import os
import sys
import time

# The digest module alone: `hashlib` loads OpenSSL, about 20 ms on a cold start, against well
# under 1 ms for the built-in module (`_sha2` from 3.12, `_sha256` before).
# (A failed import of the other name would cost a search of every sys.path entry.)
try:
    if sys.version_info >= (3, 12):
        from _sha2 import sha256
    else:
        from _sha256 import sha256
except ImportError:
    from hashlib import sha256

import sentry_bootstrap
from sentry_bootstrap import _env, _log, _paths
from sentry_bootstrap._files import CONFIG_LIMIT, StateDir, read_with_stat
from sentry_bootstrap.config.discovery import display, trust_problems
from sentry_bootstrap.config.resolved import ResolvedConfig
from sentry_bootstrap.release import CI_RELEASE_VARIABLES, find_pyproject, read_git

MAX_ENTRIES = 64
# An entry holds a validated configuration (from a file of at most 1 MiB) and its sources.
ENTRY_LIMIT = 4 << 20
FORMAT = "sentry-bootstrap-cache 3"  # 3: ResolvedConfig.start_plan
_SUFFIX = ".entry"
_TMP_PREFIX = ".tmp-"
_STALE_TMP_SECONDS = 60
# Per-request or cosmetic variables: they never change the configuration, and SENTRY_TRACE and
# SENTRY_BAGGAGE differ in every process of a distributed trace, which would defeat the cache.
_IGNORED_VARIABLES = frozenset({_env.LOG, "SENTRY_TRACE", "SENTRY_BAGGAGE"})
_CODE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The key of an entry that holds a configuration error (a ResolvedConfig's data has no such key).
_ERROR = "config_error"


def lookup(config_file, environ, start_dir, env_name=None, handoff=False):
    """The cached ResolvedConfig for these inputs, the cached `ConfigError` when they were found
    wrong (see `store_error`), or None (a miss, or anything going wrong).

    `config_file` is the discovered file's path or None; `start_dir` is where git is searched from
    (the file's directory, or the entry script's). `handoff=True` looks for the entry `sentry-bootstrap
    run` stored for its command (see `store_handoff`). Never raises.
    """
    try:
        environ = os.environ if environ is None else environ
        if config_file and trust_problems(config_file, config_file):
            # Trust is judged on every start, not once when the entry was stored: a `chmod 666` or
            # `chown` since then makes this a miss, and the loader reports the refusal.
            return None
        key = cache_key(config_file, environ, start_dir, env_name, handoff)
        if key is None:
            return None
        found = _read_entry(environ, key)
        if found is None:
            found = _read_baked(key)
        if isinstance(found, _StoredError):
            return found.error if found.inputs == _error_inputs(config_file, environ) else None
        return found
    except Exception as exc:
        _log.report("debug", "config cache lookup failed: {}".format(exc), environ)
        return None


def store(config_file, environ, start_dir, resolved, env_name=None, handoff=False):
    """Save `resolved` for these inputs (the same arguments as `lookup`). Never raises."""
    _store(config_file, environ, start_dir, resolved.to_data(), env_name, handoff)


def store_error(config_file, environ, start_dir, error, env_name=None):
    """Save the `ConfigError` these inputs gave, under the key a good configuration would have: a
    bad configuration then costs a start one lookup, not a validation (4,000 unknown keys took
    seconds on every start). Any change to the inputs is a miss, as for a good entry, and a
    corrected configuration stored under the same key replaces it. Never raises."""
    try:
        problems = [{"source": p.source, "path": p.path, "message": p.message, "hint": p.hint}
                    for p in error.problems]
        inputs = _error_inputs(config_file, environ)
    except Exception as exc:
        _log.report("debug", "config cache store failed: {}".format(exc), environ)
        return
    _store(config_file, environ, start_dir, {_ERROR: problems, "inputs": inputs}, env_name, False)


def _error_inputs(config_file, environ):
    """What an error may depend on beyond the key: the owner, mode and change time of the file and
    of each `SENTRY_*_FILE` secret (a `chmod go-w` or a readable secret fixes a refusal without
    changing the content). A stored error counts only while these are the same."""
    environ = os.environ if environ is None else environ
    paths = [config_file] + [environ[name] for name in sorted(environ)
                             if name.startswith("SENTRY_") and name.endswith("_FILE")]
    inputs = []
    for path in paths:
        try:
            st = os.stat(path) if path else None
        except (OSError, ValueError):
            st = None
        inputs.append([path, None] if st is None else [path, st.st_uid, st.st_mode, st.st_ctime_ns])
    return inputs


class _StoredError(object):
    __slots__ = ("error", "inputs")

    def __init__(self, error, inputs):
        self.error = error
        self.inputs = inputs


def _store(config_file, environ, start_dir, data, env_name, handoff):
    try:
        environ = os.environ if environ is None else environ
        key = cache_key(config_file, environ, start_dir, env_name, handoff)
        if key is None:
            return
        body = marshal.dumps(data)
        header = "{} {} {}\n".format(FORMAT, key, sha256(body).hexdigest()).encode("ascii")
        directory = StateDir.open(cache_dir(environ), environ, create=True)
        try:
            tmp = "{}{}-{}".format(_TMP_PREFIX, os.getpid(), os.urandom(6).hex())
            fd = directory.open_file(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)  # created 0600
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(header + body)
                directory.rename(tmp, key + _SUFFIX)
            except BaseException:
                _unlink(directory, tmp)
                raise
            _evict(directory)
        finally:
            directory.close()
    except Exception as exc:
        _log.report("debug", "config cache store failed: {}".format(exc), environ)


def cache_dir(environ=None):
    """Where the entries live: `state_dir()/cache`."""
    return os.path.join(_paths.state_dir(environ), "cache")


def store_handoff(config_file, child_environ, resolved):
    """What `sentry-bootstrap run` resolved, stored for the processes of its command.

    The command's interpreter may be another Python, in an environment without pydantic (or with
    pydantic 1.x): the hand-off entry is keyed on the inputs alone (the file, the variables the
    child starts with, the working directory and our package), not on the interpreter or git,
    since `run` exports the release it resolved. Processes below it find it with
    `lookup(..., handoff=True)`, and validate afresh when anything differs.
    """
    store(config_file, child_environ, None, resolved, handoff=True)


def cache_key(config_file, environ, start_dir, env_name=None, handoff=False):
    """The hex digest naming the entry for these inputs; None when the config file can't be read."""
    if handoff:
        parts = ["handoff", str(env_name), "bootstrap", sentry_bootstrap.__version__, _CODE_DIR]
    else:
        parts = ["env_name", str(env_name), "python", "%d.%d" % sys.version_info[:2]]
        parts += _code_parts()
    text = ""
    if config_file:
        path = os.path.abspath(config_file)
        try:
            data, st = read_with_stat(path, CONFIG_LIMIT)
        except OSError:
            return None  # the loader reports it; nothing to cache
        text = data.decode("utf-8", "replace")
        parts += ["file", path, str(st.st_size), str(st.st_mtime_ns), sha256(data).hexdigest()]
    # What of the working directory reaches the result, not the directory itself, so that processes
    # started from different directories share an entry: with a file, only how the loader shows its
    # location (relative under the working directory, else absolute; relative paths in it start at
    # its own directory); without one, the directory (relative paths start there).
    cwd = os.getcwd()
    if config_file:
        parts += ["shown", display(path, cwd)]
    else:
        parts += ["cwd", cwd]
    start = os.path.abspath(start_dir or os.getcwd())
    if not handoff:
        parts += ["start", start]

    for name in sorted(environ):
        if (name.startswith("SENTRY_") and name not in _IGNORED_VARIABLES) or \
                name == _env.ENVIRONMENT_FALLBACK:
            value = environ[name]
            parts += ["var", name, value]
            if name.endswith("_FILE"):
                parts += ["file-var", _stat_text(value)]
                if not os.path.isabs(value):  # read from the working directory
                    parts += ["cwd", cwd]
    for name in sorted(_references(text)):
        parts += ["ref", name, _optional(environ.get(name))]
    for name in CI_RELEASE_VARIABLES:
        parts += ["ci", name, _optional(environ.get(name))]

    if handoff:  # the release came resolved, in SENTRY_RELEASE (a variable of the key)
        return sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    git = read_git(start)
    release_texts = text + "\0" + environ.get("SENTRY_RELEASE", "")
    if git is not None:
        parts += ["git", git.work_tree, _optional(git.sha), _optional(git.branch)]
        if "{tag" in release_texts:
            parts += ["tag", _optional(git.tag)]
    if git is None or git.sha is None or "{version" in release_texts:
        pyproject = find_pyproject(start)
        parts += ["pyproject", _optional(pyproject), _stat_text(pyproject) if pyproject else ""]
    material = "\0".join(parts).encode("utf-8", "surrogatepass")
    return sha256(material).hexdigest()


# --- key parts -------------------------------------------------------------------------------

_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_REST = _NAME_START | frozenset("0123456789")


def _references(text):
    """Names of the variables that `${NAME...}` references in `text` (spaces allowed after `{`).
    A scan, not a regex: `re` is not loaded by a bare interpreter, and this runs at every start."""
    names = set()
    at = text.find("${")
    while at != -1:
        i = at + 2
        while i < len(text) and text[i] in " \t\r\n\f\v":
            i += 1
        j = i
        if j < len(text) and text[j] in _NAME_START:
            while j < len(text) and text[j] in _NAME_REST:
                j += 1
            names.add(text[i:j])
        at = text.find("${", j if j > at + 2 else at + 2)
    return names


_code_cache = None


def _code_parts():
    """bootstrap's version and its config code (a checkout edited in place changes the model
    without a version bump), and the installed sentry_sdk (its consts.py holds the version)."""
    global _code_cache
    if _code_cache is None:
        parts = ["bootstrap", sentry_bootstrap.__version__, _CODE_DIR]
        config_dir = os.path.join(_CODE_DIR, "config")
        # release.py and the integrations table (ResolvedConfig.start_plan) are read by validation.
        for path in [os.path.join(_CODE_DIR, n) for n in ("release.py", "integrations_table.py")] + sorted(
                os.path.join(config_dir, n) for n in os.listdir(config_dir) if n.endswith(".py")):
            parts += [path, _stat_text(path)]
        parts += ["sentry_sdk", _stat_text(_sentry_sdk_consts())]
        _code_cache = parts
    return _code_cache


def _sentry_sdk_consts():
    # A path walk, not importlib: find_spec costs an import of importlib.util on the hot path.
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "sentry_sdk", "consts.py")
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    return None


def _stat_text(path):
    if not path:
        return "-"
    try:
        st = os.stat(path)
    except OSError:
        return "missing " + path
    return "{} {} {}".format(path, st.st_size, st.st_mtime_ns)


def _optional(value):
    return "\1" if value is None else value  # absent differs from empty


# --- entries ---------------------------------------------------------------------------------

def _read_entry(environ, key):
    try:
        directory = StateDir.open(cache_dir(environ), environ)
    except OSError:  # missing, or not to be trusted
        return None
    try:
        raw, st = directory.read(key + _SUFFIX, ENTRY_LIMIT)
    except OSError:
        return None
    finally:
        directory.close()
    if not _trusted(st):
        return None
    return _parse_entry(raw, key)


# --- baked entries: written at an image's build time, read-only -------------------------------

# Beside the package (in a bundle, `DIR/sentry-bootstrap-baked`): part of the image, unlike the
# state directory, which a container starts without. A name that can't be imported.
BAKED_DIR = os.path.join(os.path.dirname(_CODE_DIR), "sentry-bootstrap-baked")


def bake(config_file, environ, start_dir, resolved, directory=BAKED_DIR):
    """Write `resolved` for these inputs (as `store`) into `directory`, read-only (0444, the
    directory 0755): the entry `lookup` finds when the per-user cache has none, so that the first
    process of every container of an image starts warm. Returns the entry's path; raises OSError."""
    key = cache_key(config_file, environ, start_dir)
    if key is None:
        raise OSError("cannot read {}".format(config_file))
    body = marshal.dumps(resolved.to_data())
    header = "{} {} {}\n".format(FORMAT, key, sha256(body).hexdigest()).encode("ascii")
    os.makedirs(directory, mode=0o755, exist_ok=True)
    path = os.path.join(directory, key + _SUFFIX)
    tmp = os.path.join(directory, "{}{}".format(_TMP_PREFIX, os.getpid()))
    with open(tmp, "wb") as handle:
        handle.write(header + body)
    os.chmod(tmp, 0o444)
    os.replace(tmp, path)
    return path


def key_variables(config_file, environ):
    """The names of the variables set in `environ` that the key of `config_file` reads: a process
    whose values of these differ misses a baked entry."""
    try:
        text = read_with_stat(config_file, CONFIG_LIMIT)[0].decode("utf-8", "replace")
    except (OSError, TypeError):
        text = ""
    names = {name for name in environ if (name.startswith("SENTRY_") and name not in
                                          _IGNORED_VARIABLES) or name == _env.ENVIRONMENT_FALLBACK}
    names.update(name for name in _references(text) if name in environ)
    names.update(name for name in CI_RELEASE_VARIABLES if name in environ)
    return sorted(names)


def _read_baked(key):
    """The baked entry for `key`, or None. Believed only when neither it nor its directory may be
    changed by anyone but this user or root (its values name modules the hook imports)."""
    path = os.path.join(BAKED_DIR, key + _SUFFIX)
    try:
        folder = os.stat(BAKED_DIR)
        raw, st = read_with_stat(path, ENTRY_LIMIT, nofollow=True)
    except OSError:
        return None
    owners = (0, os.geteuid()) if hasattr(os, "geteuid") else None
    for info in (folder, st):
        if info.st_mode & 0o022 or (owners is not None and info.st_uid not in owners):
            return None
    return _parse_entry(raw, key)


def _parse_entry(raw, key):
    header, newline, body = raw.partition(b"\n")
    try:
        label, _, rest = header.decode("ascii").rpartition(" ")
        fmt, _, stored_key = label.rpartition(" ")
    except UnicodeDecodeError:
        return None
    if not newline or fmt != FORMAT or stored_key != key or rest != sha256(body).hexdigest():
        return None
    try:
        data = marshal.loads(body)
        if isinstance(data, dict) and _ERROR in data:
            # Imported only for a stored error: a warm start with a good configuration needs no
            # error type.
            from sentry_bootstrap.config.errors import ConfigError, Problem

            return _StoredError(ConfigError([Problem(p["source"], p["path"], p["message"],
                                                     p["hint"]) for p in data[_ERROR]]),
                                data["inputs"])
        return ResolvedConfig.from_data(data)
    except (ValueError, KeyError, TypeError, EOFError):
        return None


def _trusted(st):
    """An entry is only believed when this user wrote it and nobody else may change it: its values
    name modules the hook imports (before_send and the like)."""
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return False
    return not st.st_mode & 0o022


def _evict(directory):
    """Keep the newest MAX_ENTRIES entries of the StateDir `directory`; drop temporary files
    abandoned by a crashed writer."""
    entries = []
    now = time.time()
    for name in directory.listdir():
        try:
            mtime = directory.lstat(name).st_mtime
        except OSError:
            continue  # removed by a concurrent process
        if name.endswith(_SUFFIX):
            entries.append((mtime, name))
        elif name.startswith(_TMP_PREFIX) and now - mtime > _STALE_TMP_SECONDS:
            _unlink(directory, name)
    if len(entries) > MAX_ENTRIES:
        entries.sort()
        for _mtime, name in entries[:len(entries) - MAX_ENTRIES]:
            _unlink(directory, name)


def _unlink(directory, name):
    try:
        directory.unlink(name)
    except OSError:
        pass
