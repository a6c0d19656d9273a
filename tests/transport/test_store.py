"""The envelope store on a real filesystem: one implementation under the outbox and the spool, and
state directories that another local user can't tamper with (links, modes, owners, special files)."""
import os
import stat
import time

import pytest

from sentry_bootstrap.events import reader
from sentry_bootstrap.transport import envelope_file, outbox, store
from sentry_bootstrap.transport.durable import make_transport
from sentry_bootstrap.transport.spool import RATE_LIMITS_FILE, Spool
from tests.support.child import run_code
from tests.support.users import other_uid

RAW = b'{"event_id":"e"}\n{"type":"event","length":2}\n{}\n'
VICTIM_TEXT = b"precious data of another file\n"


def _victim(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM_TEXT)
    return victim


def _other_uid():
    return other_uid()


def test_outbox_and_spool_are_one_store():
    """The outbox and the spool are the same store class under two policies."""
    box = outbox.make_outbox_transport({"path": "/nonexistent/box"})
    assert type(box.store) is outbox.Outbox and type(box.store).__bases__ == (store.EnvelopeStore,)
    assert Spool.__bases__ == (store.EnvelopeStore,)


def test_list_and_read_envelopes_oldest_first(tmp_path):
    """envelope_file.list_names gives the outbox's files oldest first; read returns their bytes."""
    for i in range(3):
        outbox.write_envelope(str(tmp_path), RAW.replace(b'"e"', b'"e%d"' % i))
    names = envelope_file.list_names(str(tmp_path))
    assert len(names) == 3 and names == sorted(names)
    assert names == outbox.envelope_names(str(tmp_path)) == Spool(str(tmp_path)).pending()
    assert envelope_file.read(os.path.join(str(tmp_path), names[-1])) == RAW.replace(b'"e"', b'"e2"')
    with pytest.raises(OSError):
        envelope_file.read(os.path.join(str(tmp_path), names[-1]), limit=10)


def test_directories_are_created_0700(isolated_environ):
    """The state directory and the spool directories under it are created 0700."""
    spool = Spool.for_dsn("http://k@127.0.0.1:9/1")
    spool.write(RAW)
    for path in (spool.directory, os.path.dirname(spool.directory),
                 os.path.join(str(isolated_environ), "sentry-bootstrap")):
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o700, path


def test_symlinked_outbox_directory_is_refused_with_one_line(tmp_path, capsys):
    """An outbox directory that is a symbolic link is refused: nothing written, one line with the fix."""
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = tmp_path / "box"
    link.symlink_to(target)
    transport = outbox.make_outbox_transport({"path": str(link)})
    from sentry_sdk.envelope import Envelope
    for _ in range(3):
        env = Envelope()
        env.add_event({"message": "m"})
        transport.capture_envelope(env)
    assert os.listdir(str(target)) == []
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "symbolic link" in lines[0] and "events are not written" in lines[0]


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_group_or_world_writable_directory_is_refused(tmp_path, mode):
    """A store directory writable by group or others is refused, with the chmod that fixes it."""
    directory = tmp_path / "box"
    directory.mkdir()
    os.chmod(str(directory), mode)
    with pytest.raises(store.UnsafeDirectory) as err:
        outbox.write_envelope(str(directory), RAW)
    assert "chmod 700 %s" % directory in str(err.value)
    assert os.listdir(str(directory)) == []


def test_writable_state_directory_above_the_outbox_is_refused(isolated_environ):
    """An existing 0777 state directory is refused for the default outbox under it."""
    state = os.path.join(str(isolated_environ), "sentry-bootstrap")
    os.makedirs(state)
    os.chmod(state, 0o777)
    with pytest.raises(store.UnsafeDirectory) as err:
        outbox.write_envelope(outbox.outbox_dir(None), RAW)
    assert state in str(err.value) and "chmod 700" in str(err.value)


def test_symlinked_state_directory_is_refused_for_the_spool(isolated_environ, tmp_path):
    """A state directory that is a link (to a directory another user could own) is refused for
    the default spool under it, and nothing is written through it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    os.makedirs(str(isolated_environ))
    os.symlink(str(elsewhere), os.path.join(str(isolated_environ), "sentry-bootstrap"))
    spool = Spool.for_dsn("http://k@127.0.0.1:9/1")
    with pytest.raises(store.UnsafeDirectory) as err:
        spool.write(RAW)
    assert "symbolic link" in str(err.value)
    assert os.listdir(str(elsewhere)) == []


def test_directory_owned_by_another_user_is_refused(tmp_path):
    """A store directory owned by another local user is refused, with the chown that fixes it."""
    uid = _other_uid()
    directory = tmp_path / "box"
    directory.mkdir(mode=0o700)
    os.chown(str(directory), uid, -1)
    with pytest.raises(store.UnsafeDirectory) as err:
        Spool(str(directory)).write(RAW)
    assert "owned by uid %d" % uid in str(err.value)
    assert "chown %d %s" % (os.geteuid(), directory) in str(err.value)
    assert os.listdir(str(directory)) == []


@pytest.mark.parametrize("name", [store.STATE_FILE, store.DROPS_FILE, store.LOCK_FILE,
                                  store.REPORT_LOCK_FILE, RATE_LIMITS_FILE])
def test_symlink_planted_at_a_state_file_name_is_never_followed(tmp_path, name):
    """A link named like any state file leaves its target untouched through writes, evictions,
    drop counting, rate-limit sharing and the report lock."""
    victim = _victim(tmp_path)
    directory = tmp_path / "spool"
    directory.mkdir(mode=0o700)
    os.symlink(str(victim), str(directory / name))
    spool = Spool(str(directory), max_bytes=3 * len(RAW), fsync=False)
    for _ in range(5):
        try:
            spool.write(RAW)
        except OSError:
            pass  # the ledger is a link: the write is refused, not redirected
    spool.record_drops({("error", "cache_overflow"): 1})
    try:
        spool.rate_limits.merge({"transaction": time.time() + 60})
    except OSError:
        pass
    lock = spool.try_report_lock()
    if lock is not None:
        os.close(lock)
    spool.status()
    assert victim.read_bytes() == VICTIM_TEXT
    assert stat.S_IMODE(os.stat(str(victim)).st_mode) == 0o644


def test_symlinked_corrupt_directory_is_not_written_through(tmp_path):
    """A link planted at `corrupt/` is not used: a corrupt file is removed instead, still counted."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    directory = tmp_path / "spool"
    directory.mkdir(mode=0o700)
    os.symlink(str(elsewhere), str(directory / store.CORRUPT_DIR))
    spool = Spool(str(directory), fsync=False)
    bad = directory / ".tmp-1-x-1"
    bad.write_bytes(b"partial")
    spool.set_aside(str(bad))
    assert os.listdir(str(elsewhere)) == [] and not bad.exists()
    assert spool.drop_counts() == {"internal_sdk_error:error": 1}


def test_links_and_fifos_named_like_envelopes_are_never_read(tmp_path):
    """A link or a fifo named like an envelope is quarantined by the outbox reader without blocking
    and without its target being read or sent."""
    victim = _victim(tmp_path)
    directory = tmp_path / "box"
    directory.mkdir(mode=0o700)
    # Named older than the real envelope, so the drain below meets them first.
    link = "%020d-1-abcd-1-%d.envelope" % (time.time_ns() - 2, len(RAW))
    fifo = "%020d-1-abcd-2-%d.envelope" % (time.time_ns() - 1, len(RAW))
    outbox.write_envelope(str(directory), RAW)
    os.symlink(str(victim), str(directory / link))
    os.mkfifo(str(directory / fifo))
    reader.read_rows(str(directory))
    for name in (link, fifo):
        with pytest.raises(OSError):
            envelope_file.read(str(directory / name))
    # The spool's drainer sets both aside (counted) and sends only the real envelope.
    proc = run_code("""
        from sentry_bootstrap.transport.durable import flush
        print(flush("http://k@127.0.0.1:9/1", {"path": %r, "timeout": 0.5}))
        """ % str(directory))
    assert "'sent': 0" in proc.stdout  # nothing listens on port 9: the real one stays
    assert victim.read_bytes() == VICTIM_TEXT
    # The reader met them first and quarantined both (the drain would have: see test_no_wedge.py).
    assert sorted(os.listdir(str(directory / store.CORRUPT_DIR))) == [link, fifo]
    assert len(outbox.envelope_names(str(directory))) == 1


def test_symlinked_spool_directory_falls_back_to_plain_sending(sentry_server, tmp_path, capfd):
    """A spool directory that is a link is refused: one line, events still sent, nothing spooled."""
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = tmp_path / "spool"
    link.symlink_to(target)
    Spool(str(target), fsync=False).write(RAW)  # leftovers in the target: never drained through the link
    transport = make_transport({"dsn": sentry_server.dsn}, {"path": str(link), "backoff": 0.1})
    try:
        from sentry_sdk.envelope import Envelope
        env = Envelope(headers={"event_id": "a" * 32})
        env.add_event({"event_id": "a" * 32, "message": "m"})
        transport.capture_envelope(env)
        transport.flush(5)
        sentry_server.wait_for_events(1)
        sentry_server.set_mode("refuse")
        env = Envelope(headers={"event_id": "b" * 32})
        env.add_event({"event_id": "b" * 32, "message": "m"})
        transport.capture_envelope(env)
        transport.flush(2)
    finally:
        transport.kill()
    assert list(sentry_server.accepted) == ["a" * 32]
    assert len(os.listdir(str(target))) == 2  # the leftover and the ledger, nothing more
    lines = [line for line in capfd.readouterr().err.splitlines() if "spool" in line]
    assert len(lines) == 1 and "symbolic link" in lines[0] and "without a spool" in lines[0]
