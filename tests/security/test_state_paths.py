"""One trust rule for every state path (the config cache, the outbox, the spool, their locks and
rate-limit files): each directory is opened once as a descriptor, checked there (owner, mode, not a
link, a parent no other user may write), and everything below is opened through it; a directory
swapped mid-run is noticed, never followed."""
import os
import stat

import pytest

from sentry_bootstrap._paths import UnsafeDirectory
from sentry_bootstrap.config import cache
from sentry_bootstrap.config.loader import load_config
from sentry_bootstrap.transport import outbox
from sentry_bootstrap.transport.spool import Spool
from tests.support.users import other_uid

RAW = b'{"event_id":"e"}\n{"type":"event","length":2}\n{}\n'

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


@pytest.fixture
def project(tmp_path, monkeypatch):
    path = tmp_path / "project"
    path.mkdir()
    (path / "sentry.yaml").write_text("version: 1\nsample_rate: 0.5\n")
    monkeypatch.chdir(path)
    return path


def _store_and_look_up(project, env):
    config_file = str(project / "sentry.yaml")
    resolved = load_config(environ=env, cwd=str(project))
    cache.store(config_file, env, str(project), resolved)
    return cache.lookup(config_file, env, str(project))


@needs_root
def test_cache_link_in_a_state_home_owned_by_another_user_is_not_followed(tmp_path, project):
    """The reported attack: another user owns $XDG_STATE_HOME and points `sentry-bootstrap/cache`
    at a root-owned directory; root's cache neither chmods that directory nor writes into it."""
    uid = other_uid()
    home = tmp_path / "their-state"
    (home / "sentry-bootstrap").mkdir(parents=True)
    os.chmod(str(home), 0o755)
    os.chown(str(home), uid, -1)
    os.chown(str(home / "sentry-bootstrap"), uid, -1)
    victim = tmp_path / "root-owned"
    victim.mkdir()
    os.chmod(str(victim), 0o755)
    os.symlink(str(victim), str(home / "sentry-bootstrap" / "cache"))
    env = dict(os.environ, XDG_STATE_HOME=str(home))
    assert _store_and_look_up(project, env) is None
    assert stat.S_IMODE(os.stat(str(victim)).st_mode) == 0o755
    assert os.listdir(str(victim)) == []


@needs_root
def test_state_directory_linked_into_another_users_directory_gets_no_cache(tmp_path, project):
    """`sentry-bootstrap` itself a link into another user's directory: nothing lands there."""
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(str(theirs), other_uid(), -1)
    home = tmp_path / "state"
    home.mkdir(mode=0o700)
    os.symlink(str(theirs), str(home / "sentry-bootstrap"))
    env = dict(os.environ, XDG_STATE_HOME=str(home))
    assert _store_and_look_up(project, env) is None
    assert os.listdir(str(theirs)) == []


def test_cache_works_in_a_trusted_state_directory(tmp_path, project):
    """The same store and lookup in a state directory of our own is a hit (the rule lets it be)."""
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    found = _store_and_look_up(project, env)
    assert found is not None and found.get("sample_rate") == 0.5
    assert stat.S_IMODE(os.lstat(cache.cache_dir(env)).st_mode) == 0o700


def test_cache_directory_writable_by_others_is_refused_not_chmodded(tmp_path, project):
    """A cache directory others may write is a miss and is left as it is (no chmod through it)."""
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    os.makedirs(cache.cache_dir(env), mode=0o700)
    os.chmod(cache.cache_dir(env), 0o777)
    assert _store_and_look_up(project, env) is None
    assert stat.S_IMODE(os.lstat(cache.cache_dir(env)).st_mode) == 0o777
    assert os.listdir(cache.cache_dir(env)) == []


@needs_root
def test_store_under_a_directory_another_user_may_write_is_refused(tmp_path):
    """An outbox or spool whose parent another user owns (and may write) is refused: they could
    swap it for a link between our check and our write."""
    parent = tmp_path / "theirs"
    parent.mkdir(mode=0o755)
    os.chown(str(parent), other_uid(), -1)
    for make in (lambda p: outbox.write_envelope(p, RAW), lambda p: Spool(p).write(RAW)):
        with pytest.raises(UnsafeDirectory, match="owned by uid %d" % other_uid()):
            make(str(parent / "box"))
    assert os.listdir(str(parent)) == []


@pytest.mark.parametrize("mode, refused", [(0o777, True), (0o775, True), (0o1777, False)])
def test_parent_writable_by_others_is_refused_unless_sticky(tmp_path, mode, refused):
    """A parent writable by group or others is refused; a sticky one (like /tmp) is not."""
    parent = tmp_path / "shared"
    parent.mkdir()
    os.chmod(str(parent), mode)
    if refused:
        with pytest.raises(UnsafeDirectory, match="chmod go-w %s" % parent):
            outbox.write_envelope(str(parent / "box"), RAW)
        assert os.listdir(str(parent)) == []
    else:
        assert outbox.write_envelope(str(parent / "box"), RAW)


@pytest.mark.parametrize("swap", ["directory", "link"])
def test_a_store_directory_swapped_mid_run_is_noticed_not_followed(tmp_path, swap):
    """Once a store has opened its directory, moving it away and putting another directory (or a
    link) in its place makes the next write refuse; nothing is written into the new one, and the
    outbox transport reports it once."""
    path = tmp_path / "spool"
    spool = Spool(str(path), fsync=False)
    spool.write(RAW)
    os.rename(str(path), str(tmp_path / "moved"))
    planted = tmp_path / "planted"
    planted.mkdir(mode=0o700)
    if swap == "directory":
        os.rename(str(planted), str(path))
        planted = path
    else:
        os.symlink(str(planted), str(path))
    with pytest.raises(UnsafeDirectory, match="moved or replaced"):
        spool.write(RAW)
    spool.record_drops({("error", "x"): 1})  # never raises; writes nothing either
    assert spool.try_report_lock() is None
    with pytest.raises(UnsafeDirectory, match="moved or replaced"):
        spool.rate_limits.merge({None: 4e9})
    assert os.listdir(str(planted)) == []
    assert len(os.listdir(str(tmp_path / "moved"))) == 2  # the envelope and the ledger, no more


def test_outbox_transport_swapped_mid_run_stops_writing_and_says_so(tmp_path, capsys):
    """The outbox transport whose directory is swapped reports one line and writes nothing more."""
    from sentry_sdk.envelope import Envelope

    path = tmp_path / "box"
    transport = outbox.make_outbox_transport({"path": str(path)})
    env = Envelope()
    env.add_event({"message": "m"})
    transport.capture_envelope(env)
    os.rename(str(path), str(tmp_path / "moved"))
    path.mkdir(mode=0o700)
    for _ in range(3):
        transport.capture_envelope(env)
    assert os.listdir(str(path)) == []
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "moved or replaced" in lines[0], lines


def test_the_events_reader_refuses_a_linked_outbox(tmp_path):
    """The reader opens the outbox under the same rule: a link to a directory of envelopes is
    refused with the fix, and none of its files is read through it."""
    from sentry_bootstrap.events import reader

    real = tmp_path / "real"
    outbox.write_envelope(str(real), RAW)
    os.symlink(str(real), str(tmp_path / "link"))
    with pytest.raises(UnsafeDirectory, match="symbolic link"):
        reader.list_names(str(tmp_path / "link"))
    [name] = reader.list_names(str(real))
    assert reader.read_file(str(tmp_path / "link"), name) == []
    assert len(reader.read_file(str(real), name)) == 1


def test_threads_listing_one_spool_at_once_each_see_every_file(tmp_path):
    """The drainer thread and the start-up report list the spool at the same time: each listing is
    whole (os.listdir on a shared descriptor would share its directory offset: empty or doubled
    listings, a spool that looks empty while it holds envelopes)."""
    import threading

    spool = Spool(str(tmp_path / "spool"))
    for _ in range(200):
        spool.write(RAW)
    assert len(spool.pending()) == 200
    wrong = []

    def list_many():
        for _ in range(200):
            count = len(spool.pending())
            if count != 200:
                wrong.append(count)

    threads = [threading.Thread(target=list_many) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
