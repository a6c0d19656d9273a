"""Every file the hook or a command reads is opened without blocking, must be a regular file and is
read with a size bound: a fifo, a device, a directory, a huge file or a symlink to a fifo is a located
configuration error within a second, and the program runs on (exit 78 in strict mode)."""
import os
import time

import pytest

from sentry_bootstrap import _files
from sentry_bootstrap.release import read_git
from tests.support.child import run_python

KINDS = ["fifo", "dev-zero", "dev-urandom", "directory", "50MB", "symlink-to-fifo"]
VARIABLES = ["SENTRY_CONFIG_FILE", "SENTRY_DSN_FILE", "SENTRY_BOOTSTRAP_CONFIG_RESOLVED"]
EXPECTED = {"fifo": "is a fifo, not a regular file", "dev-zero": "is a character device",
            "dev-urandom": "is a character device", "directory": "is a directory",
            "50MB": "more than the limit of", "symlink-to-fifo": "is a fifo, not a regular file"}


def hostile(tmp_path, kind):
    """A path of the given kind inside tmp_path (or a device)."""
    if kind == "dev-zero":
        return "/dev/zero"
    if kind == "dev-urandom":
        return "/dev/urandom"
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(str(path))
    elif kind == "directory":
        path.mkdir()
    elif kind == "50MB":
        with open(str(path), "wb") as handle:
            handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB of zero bytes, no disk used
    elif kind == "symlink-to-fifo":
        os.mkfifo(str(tmp_path / "target-fifo"))
        os.symlink(str(tmp_path / "target-fifo"), str(path))
    return str(path)


@pytest.mark.parametrize("variable", VARIABLES)
@pytest.mark.parametrize("kind", KINDS)
def test_hook_refuses_special_file_and_runs_on(tmp_path, kind, variable):
    """A special or huge file named by a variable is one located error line; the program runs on."""
    path = hostile(tmp_path, kind)
    started = time.monotonic()
    result = run_python(["-c", "print('ran')"], cwd=str(tmp_path), env={variable: path}, timeout=30)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ran\n"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sentry-bootstrap: not active: configuration error:"), lines
    assert EXPECTED[kind] in lines[0], lines
    # Located: by the variable, or (a regular file too big to read) by the file's own name.
    assert (variable in lines[0]) or (kind == "50MB" and "50MB: can't read the file" in lines[0])
    if kind == "50MB":
        assert ("64 KiB" if variable == "SENTRY_DSN_FILE" else "1 MiB") in lines[0], lines
    assert elapsed < 10, elapsed  # a child interpreter's start, not a hang or a 5 GiB read


@pytest.mark.parametrize("kind", KINDS)
def test_strict_mode_refuses_to_start_on_special_file(tmp_path, kind):
    """In strict mode a special or huge configuration file is exit 78 with the located reason."""
    path = hostile(tmp_path, kind)
    result = run_python(["-c", "print('ran')"], cwd=str(tmp_path), timeout=30,
                        env={"SENTRY_CONFIG_FILE": path, "SENTRY_BOOTSTRAP_STRICT": "1"})
    assert result.returncode == 78, result.stderr
    assert result.stdout == ""
    assert "refusing to start (strict mode)" in result.stderr
    assert EXPECTED[kind] in result.stderr


def test_discovered_huge_sentry_yaml_is_refused_with_its_bound(tmp_path):
    """A 50 MB ./sentry.yaml is refused before it is parsed, naming the 1 MiB bound."""
    with open(str(tmp_path / "sentry.yaml"), "wb") as handle:
        handle.write(b"version: 1\n" + b"k: v\n" * (10 * 1024 * 1024))
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    started = time.monotonic()
    result = run_python(["-c", "print('ran')"], cwd=str(tmp_path), timeout=30)
    assert time.monotonic() - started < 10
    assert result.stdout == "ran\n"
    assert "sentry.yaml: can't read the file: is 52428811 bytes, more than the limit of 1 MiB" \
        in result.stderr, result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_read_bounded_refuses_without_blocking(tmp_path, kind):
    """The one bounded reader raises FileRefused at once for every special or huge file."""
    path = hostile(tmp_path, kind)
    started = time.monotonic()
    with pytest.raises(_files.FileRefused) as caught:
        _files.read_bounded(path, _files.CONFIG_LIMIT)
    assert time.monotonic() - started < 1
    assert EXPECTED[kind] in caught.value.strerror


def test_read_bounded_refuses_a_symlink_in_our_state(tmp_path):
    """With nofollow (our own state files) a symlink is refused even when it points at a good file."""
    (tmp_path / "real").write_bytes(b"data")
    os.symlink(str(tmp_path / "real"), str(tmp_path / "link"))
    assert _files.read_bounded(str(tmp_path / "link"), 10) == b"data"
    with pytest.raises(_files.FileRefused, match="symbolic link"):
        _files.read_bounded(str(tmp_path / "link"), 10, nofollow=True)


def test_read_bounded_reads_exactly_up_to_its_limit(tmp_path):
    """A file of exactly `limit` bytes is read whole; one byte more is refused naming the limit."""
    (tmp_path / "f").write_bytes(b"x" * 1024)
    assert _files.read_bounded(str(tmp_path / "f"), 1024) == b"x" * 1024
    with pytest.raises(_files.FileRefused, match="more than the limit of 1023 bytes"):
        _files.read_bounded(str(tmp_path / "f"), 1023)


def test_git_head_that_is_a_fifo_gives_no_release_instead_of_a_hang(tmp_path):
    """A fifo in place of .git/HEAD (or a ref) is not read: the release lookup finds no git."""
    git = tmp_path / ".git"
    git.mkdir()
    os.mkfifo(str(git / "HEAD"))
    started = time.monotonic()
    assert read_git(str(tmp_path)) is None
    os.unlink(str(git / "HEAD"))
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads").mkdir(parents=True)
    os.mkfifo(str(git / "refs" / "heads" / "main"))
    info = read_git(str(tmp_path))
    assert info is not None and info.sha is None and info.branch == "main"
    assert time.monotonic() - started < 1


# Start the SDK, then wait (10 s at most) until the spool holds no envelope: both are drained.
DRAIN = ("import os, time, sentry_sdk\n"
         "sentry_sdk.flush(5)\n"
         "deadline = time.monotonic() + 10\n"
         "while time.monotonic() < deadline and any(\n"
         "        n.endswith('.envelope') or '.claimed' in n for n in os.listdir({!r})):\n"
         "    time.sleep(0.05)\n")


def test_spool_sets_aside_a_planted_fifo_and_delivers_the_rest(tmp_path):
    """A fifo named like a spooled envelope is never waited on: it is set aside as corrupt, and the
    next start delivers the real envelope next to it and finishes."""
    from tests.support.sentry_server import SentryServer

    spool_dir = tmp_path / "spool"
    (tmp_path / "sentry.yaml").write_text("version: 1\nspool: {{path: {}}}\n".format(spool_dir))
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    with SentryServer() as server:
        server.set_mode("refuse")
        first = run_python(["-c", "import sentry_sdk; sentry_sdk.capture_message('kept')"],
                           cwd=str(tmp_path), env={"SENTRY_DSN": server.dsn}, timeout=60)
        assert first.returncode == 0, first.stderr
        names = [n for n in os.listdir(str(spool_dir)) if n.endswith(".envelope")]
        assert names, os.listdir(str(spool_dir))
        stamp, rest = names[0].split("-", 1)
        os.mkfifo(str(spool_dir / "{}-{}".format(int(stamp) - 1, rest)))  # drained first
        server.set_mode("ok")
        started = time.monotonic()
        second = run_python(["-c", DRAIN.format(str(spool_dir))], cwd=str(tmp_path),
                            env={"SENTRY_DSN": server.dsn}, timeout=60)
        assert time.monotonic() - started < 30
        assert second.returncode == 0, second.stderr
        deadline = time.monotonic() + 10
        while not server.envelopes and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(e.event_id for e in server.envelopes)
    import stat

    aside = os.listdir(str(spool_dir / "corrupt"))
    assert len(aside) == 1 and stat.S_ISFIFO(os.lstat(str(spool_dir / "corrupt" / aside[0])).st_mode)


def test_discovered_sentry_yaml_that_is_a_symlink_to_a_fifo_is_a_located_error(tmp_path):
    """./sentry.yaml linked to a fifo is not waited on: one line names it and the reason, even when
    the cache holds the configuration of the start before it appeared."""
    warm = run_python(["-c", "print('ran')"], cwd=str(tmp_path), timeout=30)  # caches "no file"
    assert warm.stderr == "", warm.stderr
    os.mkfifo(str(tmp_path / "fifo"))
    os.symlink(str(tmp_path / "fifo"), str(tmp_path / "sentry.yaml"))
    result = run_python(["-c", "print('ran')"], cwd=str(tmp_path), timeout=30)
    assert result.stdout == "ran\n"
    assert result.stderr == ("sentry-bootstrap: not active: configuration error: sentry.yaml: is a "
                             "fifo, not a regular file\n"), result.stderr
