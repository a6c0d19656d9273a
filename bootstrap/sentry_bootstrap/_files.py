"""The one way the hook and the commands read a file they did not write themselves, or their own state.

`read_bounded(path, limit)` never blocks and never reads more than `limit` bytes:
- the path is opened with O_NONBLOCK (a fifo or a device opens at once instead of waiting for a
  writer), and with O_NOFOLLOW when `nofollow` is asked (our own state: a symlink planted there is
  refused, never followed);
- the open descriptor is checked with fstat to be a regular file (a check of the path before the
  open could be raced); a path that is plainly not a regular file is refused before the open too, so
  that opening a device has no side effect;
- at most `limit + 1` bytes are read, so a file that grows while it is read is still refused.

`open_state(path, flags)` opens (or creates, 0600) one of our own state files for writing or
locking the same way: never through a link, never blocking, a regular file only.

A refusal raises `FileRefused`, an `OSError` whose `strerror` says what is wrong in words a user can
act on ("is a fifo, not a regular file", "is 52428800 bytes, more than the limit of 1 MiB"), so every
caller that already reports an unreadable file reports these the same way. Standard library only.
"""
import errno
import os
import stat

CONFIG_LIMIT = 1 << 20  # a configuration file, a cached configuration's source, pyproject.toml
SECRET_LIMIT = 64 << 10  # a `SENTRY_*_FILE` secret
SMALL_LIMIT = 64 << 10  # git's HEAD, a loose ref, a `.git` file, commondir

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a fifo"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | \
    getattr(os, "O_NOCTTY", 0)
_STATE_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | \
    getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_CHUNK = 1 << 16


class FileRefused(OSError):
    """The file is not a regular file, is a symlink where none may be, or is over its size bound."""

    def __init__(self, path, reason):
        super().__init__(errno.EINVAL, reason, path)


def read_bounded(path, limit, nofollow=False):
    """The bytes of the regular file at `path`, at most `limit` of them. Raises OSError (FileRefused
    for a special file, a refused symlink or a file over `limit`)."""
    return read_with_stat(path, limit, nofollow)[0]


def read_with_stat(path, limit, nofollow=False):
    """`(bytes, fstat of the descriptor they were read from)`; raises as `read_bounded`."""
    fd, info = open_regular(path, limit, nofollow)
    try:
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise FileRefused(path, "grew past the limit of {} while it was read".format(describe(limit)))
    return b"".join(chunks), info


def open_regular(path, limit, nofollow=False):
    """`(descriptor, its fstat)` of the regular file at `path`, opened without blocking, read-only;
    the caller closes it. Raises as `read_bounded` (for a file over `limit` too)."""
    try:
        info = os.lstat(path) if nofollow else os.stat(path)
    except OSError:
        info = None  # let the open report it (its error names the real cause)
    if info is not None:
        _check(path, info, limit)
    flags = _FLAGS | (getattr(os, "O_NOFOLLOW", 0) if nofollow else 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if nofollow and exc.errno == errno.ELOOP:
            raise FileRefused(path, "is a symbolic link, refused here (it is never followed)")
        raise
    try:
        info = os.fstat(fd)
        _check(path, info, limit)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def open_state(path, flags):
    """A descriptor on our own state file `path` opened with `flags` (`os.O_RDWR | os.O_CREAT`, ...;
    created 0600): never through a link, never blocking, a regular file only. The caller closes it.
    Raises OSError (FileRefused for a link or a special file)."""
    try:
        fd = os.open(path, flags | _STATE_FLAGS, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileRefused(path, "is a symbolic link, refused here (it is never followed)")
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileRefused(path, "is {}, not a regular file".format(
                next((name for test, name in _KINDS if test(mode)), "a special file")))
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_text_bounded(path, limit, nofollow=False, errors="strict"):
    """`read_bounded` decoded as UTF-8 (a leading byte-order mark dropped)."""
    return read_bounded(path, limit, nofollow).decode("utf-8-sig", errors)


def describe(limit):
    """`1048576` -> `1 MiB`, `65536` -> `64 KiB`."""
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return "{} {}".format(limit // size, unit)
    return "{} bytes".format(limit)


def _check(path, info, limit):
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "a special file")
        raise FileRefused(path, "is {}, not a regular file".format(kind))
    if info.st_size > limit:
        raise FileRefused(path, "is {} bytes, more than the limit of {}".format(
            info.st_size, describe(limit)))
