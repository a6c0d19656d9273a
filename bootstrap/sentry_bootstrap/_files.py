"""The one way the hook and the commands read a file they did not write themselves, or their own state.

`read_bounded(path, limit)` never blocks and never reads more than `limit` bytes:
- the path is opened with O_NONBLOCK (a fifo or a device opens at once instead of waiting for a
  writer), and with O_NOFOLLOW when `nofollow` is asked (our own state: a symlink planted there is
  refused, never followed);
- the open descriptor is checked with fstat to be a regular file (a check of the path before the
  open could be raced); a path that is plainly not a regular file is refused before the open too, so
  that opening a device has no side effect;
- at most `limit + 1` bytes are read, so a file that grows while it is read is still refused.

Our own state (the config cache, the outbox, the spool, their locks and rate-limit files) is opened
through a `StateDir`: the directory is opened once as a descriptor (never through a link) and
checked on that descriptor with `_paths`' trust rule (owner, mode, and a parent no other user may
write); every file below it is then opened, read, renamed and removed relative to that descriptor,
with O_NOFOLLOW, so a path swapped afterwards is never followed, and `verify()` notices the swap.
`open_state(path, flags)` is the same open for a path.

A refusal raises `FileRefused`, an `OSError` whose `strerror` says what is wrong in words a user can
act on ("is a fifo, not a regular file", "is 52428800 bytes, more than the limit of 1 MiB"), so every
caller that already reports an unreadable file reports these the same way. Standard library only.
"""
import os
import stat

from sentry_bootstrap import _paths

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
        # `errno` is imported on the error paths only: a bare interpreter doesn't load it, and a
        # warm start takes none of them.
        import errno

        super().__init__(errno.EINVAL, reason, path)


def read_bounded(path, limit, nofollow=False):
    """The bytes of the regular file at `path`, at most `limit` of them. Raises OSError (FileRefused
    for a special file, a refused symlink or a file over `limit`)."""
    return read_with_stat(path, limit, nofollow)[0]


def read_with_stat(path, limit, nofollow=False):
    """`(bytes, fstat of the descriptor they were read from)`; raises as `read_bounded`."""
    fd, info = open_regular(path, limit, nofollow)
    return _read_fd(fd, info, path, limit)


def _read_fd(fd, info, path, limit):
    """Read at most `limit` bytes from `fd` and close it; `(bytes, info)`."""
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
        import errno

        if nofollow and exc.errno == errno.ELOOP:
            raise FileRefused(path, "is a symbolic link, refused here (it is never followed)")
        raise
    return fd, _checked(fd, path, limit)


def _checked(fd, path, limit):
    """The fstat of open `fd` once `_check` passes it; otherwise `fd` is closed and the refusal
    raised."""
    try:
        info = os.fstat(fd)
        _check(path, info, limit)
    except BaseException:
        os.close(fd)
        raise
    return info


def open_state(path, flags, dir_fd=None, name=None):
    """A descriptor on our own state file `path` opened with `flags` (`os.O_RDWR | os.O_CREAT`, ...;
    created 0600): never through a link, never blocking, a regular file only. The caller closes it.
    With `dir_fd`, `name` is opened relative to it (`path` is then for messages). Raises OSError
    (FileRefused for a link or a special file)."""
    try:
        fd = os.open(path if name is None else name, flags | _STATE_FLAGS, 0o600, dir_fd=dir_fd)
    except OSError as exc:
        import errno

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


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


class StateDir(object):
    """One of our state directories, open as a descriptor checked once (see the module docstring).
    Names given to the methods are single file names inside it. Close it, or let it be collected."""

    __slots__ = ("path", "fd", "_ident")

    def __init__(self, path, fd, info):
        self.path, self.fd, self._ident = path, fd, (info.st_dev, info.st_ino)

    @classmethod
    def open(cls, path, environ=None, create=False):
        """The state directory `path`, made (0700, with what is missing above it) when `create`.
        Inside the state directory (`_paths.state_dir`) every directory from the state directory
        down is opened relative to the one above it and checked; the directory holding the first of
        them is checked not writable by another user. Raises UnsafeDirectory (the message says the
        fix), FileNotFoundError when it is missing and not `create`, or another OSError."""
        path = os.path.abspath(path)
        root = os.path.abspath(_paths.state_dir(environ))
        try:
            inside = os.path.commonpath([root, path]) == root
        except ValueError:
            inside = False
        top = root if inside else path
        parts = [p for p in os.path.relpath(path, root).split(os.sep) if p not in ("", ".")] \
            if inside else []
        parent = os.path.dirname(top)
        if create:
            _paths.make_private_dirs(parent)  # what lies above is the user's layout, links and all
        parent_fd = os.open(parent, _DIR_FLAGS)
        try:
            _paths.check_parent_stat(parent, os.fstat(parent_fd), top)
            current = cls._child(parent, parent_fd, os.path.basename(top), create)
        finally:
            os.close(parent_fd)
        for name in parts:
            below = current.subdir(name, create)
            current.close()
            current = below
        return current

    @classmethod
    def _child(cls, parent, parent_fd, name, create):
        path = os.path.join(parent, name)
        if create:
            try:
                os.mkdir(name, 0o700, dir_fd=parent_fd)
            except FileExistsError:
                pass
        try:
            fd = os.open(name, _DIR_FLAGS | getattr(os, "O_NOFOLLOW", 0), dir_fd=parent_fd)
        except OSError as exc:
            import errno

            if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # a link or a file: say which
                _paths.check_private_stat(path, os.stat(name, dir_fd=parent_fd,
                                                        follow_symlinks=False))
            raise
        try:
            _paths.check_private_stat(path, os.fstat(fd))
            return cls(path, fd, os.fstat(fd))
        except BaseException:
            os.close(fd)
            raise

    def subdir(self, name, create=False):
        """The directory `name` inside this one, opened and checked the same way."""
        return self._child(self.path, self.fd, name, create)

    def verify(self):
        """Raise UnsafeDirectory when the path no longer leads to the directory opened (moved,
        or swapped for a link or another directory since): nothing more is done through it."""
        try:
            info = os.lstat(self.path)
            same = (info.st_dev, info.st_ino) == self._ident
        except OSError:
            same = False
        if not same:
            raise _paths.UnsafeDirectory(
                "{} was moved or replaced while in use; it is not followed (start again to use "
                "what is there now)".format(self.path))

    def open_file(self, name, flags):
        """A descriptor on the regular file `name` here (see `open_state`); the caller closes it."""
        return open_state(os.path.join(self.path, name), flags, self.fd, name)

    def read(self, name, limit):
        """`(bytes, fstat)` of the regular file `name` here, at most `limit` bytes; raises as
        `read_bounded` with `nofollow`."""
        path = os.path.join(self.path, name)
        fd = self.open_file(name, os.O_RDONLY)
        return _read_fd(fd, _checked(fd, path, limit), path, limit)

    def listdir(self):
        """Every name here. Read through a descriptor of its own ("." opened relative to ours, so not
        through a path): `os.listdir(fd)` reads through a dup of `fd`, which shares its directory
        offset, so two threads listing through one descriptor at once each see part of the names,
        none, or some twice."""
        fd = os.open(".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0), dir_fd=self.fd)
        try:
            return os.listdir(fd)
        finally:
            os.close(fd)

    def lstat(self, name):
        return os.stat(name, dir_fd=self.fd, follow_symlinks=False)

    def rename(self, src, dst, into=None):
        """Rename `src` here to `dst` here (or in the StateDir `into`), replacing it."""
        os.replace(src, dst, src_dir_fd=self.fd, dst_dir_fd=(into or self).fd)

    def unlink(self, name):
        os.unlink(name, dir_fd=self.fd)

    def touch(self, name):
        os.utime(name, None, dir_fd=self.fd, follow_symlinks=False)

    def close(self):
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self):
        try:
            self.close()
        except (OSError, AttributeError):
            pass


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
