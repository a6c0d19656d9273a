"""A quick look at the configuration file, without YAML: is the hook switched off there (`enabled:
false`), is strict mode on (`strict: true`)?

The hook asks this before it knows whether it needs yaml and pydantic at all, so a cold start that is
switched off in the file pays for one bounded read, not for two heavy imports. Standard library only.
Only the plain case is answered: a top-level `enabled: false` in a file without `environments:`
(an overlay could switch the hook back on, which only the full load can tell), and a top-level
`strict: true` (consulted when the full load failed, to refuse to start). Anything else is left to
`config.loader`.
"""
import os
import stat

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
