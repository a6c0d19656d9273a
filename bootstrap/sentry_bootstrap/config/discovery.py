"""Which configuration file applies, and whether it may be trusted. Standard library only: the hook
asks this before it knows whether it needs yaml and pydantic at all.

The hook reads a file from these places only, in this order: the `--config` argument of a command,
`SENTRY_CONFIG_FILE`, the file `sentry-bootstrap run` resolved for its process tree
(`SENTRY_BOOTSTRAP_CONFIG_RESOLVED`; "" means it found none), `sentry.yaml` in the working directory.
Nothing else on the machine is ever read as configuration.

Also the quick look at the file (`quick_look`: `enabled: false`, `strict: true`, without YAML). Both
run at every start with a file, so they share one module (each module the hook imports at start
costs about as much as what it runs).
"""
import os
import stat

from sentry_bootstrap import _env

CONFIG_NAME = "sentry.yaml"


def discover(environ, cwd, config_file=None):
    """`(absolute path or None, display name or None, problems)`."""
    if config_file:
        given, named_by = config_file, None
    elif environ.get(_env.CONFIG_FILE):
        given, named_by = environ[_env.CONFIG_FILE], _env.CONFIG_FILE
    elif _env.RESOLVED_CONFIG in environ:
        given, named_by = environ[_env.RESOLVED_CONFIG], _env.RESOLVED_CONFIG
        if not given:
            return None, None, []
    else:
        candidate = os.path.join(cwd, CONFIG_NAME)
        if os.path.isfile(candidate):
            return candidate, display(candidate, cwd), []
        if os.path.exists(candidate):  # a fifo, a device, a directory: never read, but said
            from sentry_bootstrap.config.errors import Problem  # not on the start-up path

            return None, None, [Problem(display(candidate, cwd), "", _not_regular(candidate))]
        return None, None, []
    path = os.path.abspath(os.path.join(cwd, os.path.expanduser(given)))
    if not os.path.isfile(path):
        # Not on the start-up path: the quoting (and its regular expressions) only for a problem.
        from sentry_bootstrap._mask import QUOTE_LIMIT, quote
        from sentry_bootstrap.config.errors import Problem

        where = "--config {}".format(quote(given)) if named_by is None else \
            "env {}={}".format(named_by, quote(given))
        shown = display(path, cwd)
        return None, None, [Problem(where, "", "configuration file {}: {}".format(
            shown if len(shown) <= QUOTE_LIMIT else quote(shown), _not_regular(path)))]
    return path, display(path, cwd), []


def _not_regular(path):
    try:
        os.stat(path)
    except OSError:
        return "not found"
    from sentry_bootstrap._files import FileRefused, open_regular

    try:
        os.close(open_regular(path, 1 << 62)[0])
    except FileRefused as exc:
        return exc.strerror
    except OSError as exc:
        return exc.strerror or str(exc)
    return "not a regular file"


def display(path, cwd):
    """The path as messages show it: relative when under `cwd`, else absolute."""
    relative = os.path.relpath(path, cwd)
    return path if relative.startswith(os.pardir) else relative


def trust_problems(path, shown):
    """Problems that make the file untrustworthy, as ssh judges its own files.

    `module:function` paths in the file import code, so whoever can write the file can run code in
    every instrumented process: a file writable by group or others, or owned by another user (root
    excepted), is refused.
    """
    try:
        info = os.stat(path)
    except OSError:
        return []  # reading it will report the real problem
    foreign = hasattr(os, "geteuid") and info.st_uid not in (os.geteuid(), 0)
    if not foreign and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return []  # the warm start's case: one stat, nothing imported
    from sentry_bootstrap.config.errors import Problem

    problems = []
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        problems.append(Problem(shown, "", "refused: the file is writable by {} (mode {:o}); its "
                                "module:function paths import code, so fix it with: chmod go-w {}".format(
                                    "others" if info.st_mode & stat.S_IWOTH else "its group",
                                    stat.S_IMODE(info.st_mode), shown)))
    if foreign:
        problems.append(Problem(shown, "", "refused: the file is owned by uid {}, not by you (uid {}) "
                                "or root; fix it with: chown {} {}".format(
                                    info.st_uid, os.geteuid(), os.geteuid(), shown)))
    return problems


# --- the quick look -----------------------------------------------------------------------------
# A look at the file without YAML: is the hook switched off there (`enabled: false`), is strict mode
# on (`strict: true`)? The hook asks this before it knows whether it needs yaml and pydantic at all,
# so a cold start that is switched off in the file pays for one bounded read, not for two heavy
# imports. Only the plain case is answered: a top-level `enabled: false` in a file without
# `environments:` (an overlay could switch the hook back on, which only the full load can tell), and
# a top-level `strict: true` (consulted when the full load failed, to refuse to start). Anything
# else is left to `config.loader`.

READ_LIMIT = 64 * 1024  # the two keys sit at the top of any file worth a quick look

_FALSE = ("false", "False", "FALSE")
_TRUE = ("true", "True", "TRUE")


def _top_level(text, key, words):
    """Whether a line of `text` is `KEY: WORD`, as `(?m)^KEY:[ \t]*(?:WORDS)[ \t]*(?:#[^\n]*)?$`.
    A line scan, not a regex: this runs at every start with a file, and a bare interpreter doesn't
    load `re`. Linear in the text."""
    prefix = key + ":"
    if prefix not in text:
        return False
    for line in text.split("\n"):
        if line.startswith(prefix):
            rest = line[len(prefix):].lstrip(" \t")
            for word in words:
                if rest.startswith(word):
                    after = rest[len(word):].lstrip(" \t")
                    if not after or after.startswith("#"):
                        return True
    return False


class QuickLook(object):
    """What the first `READ_LIMIT` bytes of the file say: `switched_off` (a top-level
    `enabled: false` and no overlays) and `strict` (a top-level `strict: true`)."""

    __slots__ = ("switched_off", "strict")

    def __init__(self, switched_off=False, strict=False):
        self.switched_off = switched_off
        self.strict = strict


def quick_look(path, environ=None):
    """A `QuickLook` at `path` (None: nothing to look at). Never raises: a file that can't be read
    gives the empty answer, and the full load reports why. A `SENTRY_ENABLED*` variable may switch
    the hook back on, so with one set the file is never taken as switched off."""
    text = _head(path) if path else None
    if text is None:
        return QuickLook()
    environ = os.environ if environ is None else environ
    overridden = any(name.startswith("SENTRY_ENABLED") for name in environ)
    # Any mention of overlays (top level, quoted, flow style) leaves the answer to the full load.
    switched_off = not overridden and "environments" not in text and \
        _top_level(text, "enabled", _FALSE)
    return QuickLook(switched_off, _top_level(text, "strict", _TRUE))


def _head(path):
    """The first READ_LIMIT bytes of a regular file as text, or None. Opened with the one bounded
    reader's rules (non-blocking: a FIFO put in the file's place must not hang the interpreter's
    start; a regular file, checked on the descriptor)."""
    from sentry_bootstrap._files import open_regular

    try:
        fd, _info = open_regular(path, 1 << 62)  # only the head is read, whatever the size
    except (OSError, ValueError, TypeError):
        return None
    try:
        return os.read(fd, READ_LIMIT).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)
