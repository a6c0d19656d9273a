"""The config cache: a warm entry is returned, every input change misses, damage and races are harmless."""
import hashlib
import os
import stat
import subprocess
import sys

import pytest

from sentry_bootstrap.config import cache
from sentry_bootstrap.config.loader import load_config

from tests.support.child import HOOK_DIR
DSN = "http://publickey123@127.0.0.1:9/1"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project directory holding sentry.yaml, used as the working directory."""
    path = tmp_path / "project"
    path.mkdir()
    (path / "sentry.yaml").write_text("version: 1\nsample_rate: 0.5\nrelease: literal-1\n")
    monkeypatch.chdir(path)
    return path


def resolve(project, environ):
    """What the hook does: the cache when warm, else the loader, then store. -> (config, was_hit)."""
    config_file = str(project / "sentry.yaml")
    hit = cache.lookup(config_file, environ, str(project))
    if hit is not None:
        return hit, True
    resolved = load_config(environ=environ, cwd=str(project))
    cache.store(config_file, environ, str(project), resolved)
    return resolved, False


def environ(**extra):
    return dict(os.environ, **extra)


def rewrite_keeping_stat(path, text):
    """Replace a file's content with text of the same length and restore its mtime."""
    before = os.stat(str(path))
    assert len(text) == before.st_size
    path.write_text(text)
    os.utime(str(path), ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(str(path)).st_mtime_ns == before.st_mtime_ns


def entries():
    directory = cache.cache_dir()
    return sorted(n for n in os.listdir(directory) if n.endswith(".entry")) if os.path.isdir(directory) else []


def test_warm_lookup_returns_the_stored_config(project):
    """After one load, the next start gets an equal ResolvedConfig from the cache."""
    env = environ()
    first, hit = resolve(project, env)
    assert not hit
    second, hit = resolve(project, env)
    assert hit and second == first and second.get("sample_rate") == 0.5


def test_a_warm_entry_carries_the_lazy_start_plan(project, monkeypatch):
    """The lazy start's plan (trigger modules, an integration set up at start) is computed by the
    loader from the integrations table and comes back from the cache, so a warm start needs no
    table; the key covers the table's file, so an edited table is a miss."""
    from sentry_bootstrap import integrations_table

    env = environ()
    first, _ = resolve(project, env)
    second, hit = resolve(project, env)
    assert hit
    assert second.start_plan == integrations_table.start_plan(second.values) == first.start_plan
    assert "flask" in second.start_plan["triggers"] and second.start_plan["at_start"] is None
    table = os.path.join(os.path.dirname(integrations_table.__file__), "integrations_table.py")
    monkeypatch.setattr(cache, "_code_cache", None)
    real_stat = cache._stat_text
    monkeypatch.setattr(cache, "_stat_text",
                        lambda path: "edited" if path == table else real_stat(path))
    assert resolve(project, env)[1] is False


def test_edit_with_same_size_and_mtime_misses(project):
    """An edit that keeps the file's size and mtime is still seen, through the content hash."""
    env = environ()
    resolve(project, env)
    rewrite_keeping_stat(project / "sentry.yaml", "version: 1\nsample_rate: 0.7\nrelease: literal-1\n")
    config, hit = resolve(project, env)
    assert not hit and config.get("sample_rate") == 0.7


def test_sentry_variable_change_misses(project):
    """Changing or adding a SENTRY_* variable yields the new value."""
    resolve(project, environ(SENTRY_TRACES_SAMPLE_RATE="0.1"))
    config, hit = resolve(project, environ(SENTRY_TRACES_SAMPLE_RATE="0.2"))
    assert not hit and config.get("traces_sample_rate") == 0.2
    config, hit = resolve(project, environ(SENTRY_TRACES_SAMPLE_RATE="0.2", SENTRY_DEBUG="true"))
    assert not hit and config.get("debug") is True


def test_environment_variable_change_misses(project):
    """ENVIRONMENT (the generic fallback) is part of the key."""
    (project / "sentry.yaml").write_text(
        "version: 1\nsample_rate: 0.5\nenvironments:\n  staging: {sample_rate: 0.25}\n")
    assert resolve(project, environ())[0].environment == "development"
    config, hit = resolve(project, environ(ENVIRONMENT="staging"))
    assert not hit and config.get("sample_rate") == 0.25


def test_referenced_variable_change_misses(project):
    """A variable the file references through ${VAR} is part of the key, set or unset."""
    (project / "sentry.yaml").write_text("version: 1\nserver_name: ${HOST_NAME_X:-fallback}\n")
    assert resolve(project, environ())[0].get("server_name") == "fallback"
    config, hit = resolve(project, environ(HOST_NAME_X="web-1"))
    assert not hit and config.get("server_name") == "web-1"
    config, hit = resolve(project, environ(HOST_NAME_X="web-2"))
    assert not hit and config.get("server_name") == "web-2"
    assert resolve(project, environ(HOST_NAME_X="web-2"))[1]


def test_unrelated_variable_change_hits(project):
    """A variable the configuration doesn't read, and SENTRY_TRACE, don't invalidate the entry."""
    resolve(project, environ(UNRELATED="1", SENTRY_TRACE="a-b-1"))
    assert resolve(project, environ(UNRELATED="2", SENTRY_TRACE="c-d-0"))[1]


def test_secret_file_change_misses(project, tmp_path):
    """A new secret in the file named by SENTRY_DSN_FILE yields the new DSN."""
    secret = tmp_path / "dsn"
    secret.write_text(DSN)
    env = environ(SENTRY_DSN_FILE=str(secret))
    assert resolve(project, env)[0].get("dsn") == DSN
    other = DSN.replace("publickey123", "otherkey4567")
    secret.write_text(other)
    os.utime(str(secret), ns=(1, 10 ** 18))
    config, hit = resolve(project, env)
    assert not hit and config.get("dsn") == other


def test_new_commit_and_branch_switch_miss(project, git):
    """A new commit and a switch to another branch each yield the new release."""
    (project / "sentry.yaml").write_text('version: 1\nrelease: "{branch}@{short_sha}"\n')
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "sentry.yaml")
    git(project, "commit", "-q", "-m", "one")
    env = environ()
    first = git(project, "rev-parse", "--short=7", "HEAD")
    assert resolve(project, env)[0].release == "main@" + first
    assert resolve(project, env)[1]
    (project / "other.txt").write_text("x")
    git(project, "add", "other.txt")
    git(project, "commit", "-q", "-m", "two")
    second = git(project, "rev-parse", "--short=7", "HEAD")
    config, hit = resolve(project, env)
    assert not hit and config.release == "main@" + second
    git(project, "checkout", "-q", "-b", "feature/x")  # same commit, new branch
    config, hit = resolve(project, env)
    assert not hit and config.release == "feature/x@" + second


def test_tag_format_sees_a_new_tag(project, git):
    """With a {tag} release format, a new tag on the same commit yields the new release."""
    (project / "sentry.yaml").write_text('version: 1\nrelease: "v-{tag}"\n')
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "sentry.yaml")
    git(project, "commit", "-q", "-m", "one")
    git(project, "tag", "1.0")
    env = environ()
    assert resolve(project, env)[0].release == "v-1.0"
    git(project, "tag", "1.1")
    config, hit = resolve(project, env)
    assert not hit and config.release == "v-1.1"


def test_no_file_keys_on_working_directory(tmp_path, monkeypatch):
    """Without a file, another working directory is another entry."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path / "a")
    env = environ(SENTRY_SAMPLE_RATE="0.3")
    cache.store(None, env, str(tmp_path / "a"), load_config(environ=env))
    assert cache.lookup(None, env, str(tmp_path / "a")).get("sample_rate") == 0.3
    monkeypatch.chdir(tmp_path / "b")
    assert cache.lookup(None, env, str(tmp_path / "a")) is None


def test_env_name_is_part_of_the_key(project):
    """An explicit environment name gets its own entry."""
    env = environ()
    resolved = load_config(environ=env, cwd=str(project))
    cache.store(str(project / "sentry.yaml"), env, str(project), resolved, env_name="production")
    assert cache.lookup(str(project / "sentry.yaml"), env, str(project), env_name="production") == resolved
    assert cache.lookup(str(project / "sentry.yaml"), env, str(project)) is None


def test_missing_config_file_is_a_miss(project):
    """A config file that can't be read is never served from the cache."""
    resolve(project, environ())
    (project / "sentry.yaml").unlink()
    assert cache.lookup(str(project / "sentry.yaml"), environ(), str(project)) is None


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip", "empty", "bad json", "not utf8"])
def test_corrupt_entry_is_ignored_and_replaced(project, damage):
    """A damaged entry is a miss, never an exception, and the next store replaces it."""
    env = environ()
    resolve(project, env)
    [name] = entries()
    path = os.path.join(cache.cache_dir(), name)
    raw = open(path, "rb").read()
    header, _, body = raw.partition(b"\n")
    damaged = {
        "truncate": raw[:len(raw) // 2],
        "garbage": os.urandom(200),
        "flip": raw[:-5] + b"X" + raw[-4:],
        "empty": b"",
        "bad json": header.rsplit(b" ", 1)[0] + b" " + hashlib.sha256(b"{}").hexdigest().encode()
                    + b"\n{}",
        "not utf8": b"\xff\xfe" + raw,
    }[damage]
    with open(path, "wb") as f:
        f.write(damaged)
    config, hit = resolve(project, env)
    assert not hit and config.get("sample_rate") == 0.5
    assert resolve(project, env)[1]


def test_permissions_and_foreign_writable_entries(project):
    """The directory is 0700 and entries 0600; an entry others may write is not trusted."""
    env = environ()
    resolve(project, env)
    directory = cache.cache_dir()
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    [name] = entries()
    path = os.path.join(directory, name)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o666)
    assert resolve(project, env)[1] is False


def test_dsn_not_in_key_or_header(project):
    """The entry's name and header are hashes: the DSN appears in neither."""
    env = environ(SENTRY_DSN=DSN)
    assert resolve(project, env)[0].get("dsn") == DSN
    [name] = entries()
    header = open(os.path.join(cache.cache_dir(), name), "rb").readline().decode()
    assert "publickey123" not in name + header
    assert name == cache.cache_key(str(project / "sentry.yaml"), env, str(project)) + ".entry"


def test_bounded_oldest_evicted(project):
    """Past MAX_ENTRIES stores, the oldest entries are removed and the newest kept."""
    resolved = load_config(environ=environ(), cwd=str(project))
    for i in range(cache.MAX_ENTRIES + 6):
        env = environ(SENTRY_TAGS__N=str(i))
        cache.store(str(project / "sentry.yaml"), env, str(project), resolved)
        path = os.path.join(cache.cache_dir(), cache.cache_key(str(project / "sentry.yaml"), env, str(project)) + ".entry")
        os.utime(path, (1000 + i, 1000 + i))  # a distinct age per entry, whatever the clock resolution
    assert len(entries()) == cache.MAX_ENTRIES
    lookup = lambda i: cache.lookup(str(project / "sentry.yaml"), environ(SENTRY_TAGS__N=str(i)), str(project))
    assert lookup(0) is None and lookup(5) is None
    assert lookup(6) == resolved and lookup(cache.MAX_ENTRIES + 5) == resolved


def test_unwritable_state_dir_is_harmless(project, isolated_environ):
    """When the state directory can't be created, store and lookup do nothing and raise nothing."""
    isolated_environ.parent.joinpath("blocker").write_text("")
    env = environ(XDG_STATE_HOME=str(isolated_environ.parent / "blocker"))
    resolved = load_config(environ=env, cwd=str(project))
    cache.store(str(project / "sentry.yaml"), env, str(project), resolved)
    assert cache.lookup(str(project / "sentry.yaml"), env, str(project)) is None


CONCURRENT = r"""
import os, sys
sys.path.insert(0, {root!r})
from sentry_bootstrap.config import cache
from sentry_bootstrap.config.resolved import ResolvedConfig
worker = int(sys.argv[1])
config_file, start = {config_file!r}, {start!r}
hits = broken = 0
for i in range(50):
    big = [worker] * (2000 + 97 * (i % 7))
    resolved = ResolvedConfig({{"big": big, "n": len(big)}}, {{}}, config_file=config_file)
    cache.store(config_file, os.environ, start, resolved)
    got = cache.lookup(config_file, os.environ, start)
    if got is not None:
        hits += 1
        values = got.values
        if values["n"] != len(values["big"]) or len(set(values["big"])) != 1:
            broken += 1
print(hits, broken)
"""


def test_concurrent_store_and_lookup(project):
    """8 processes storing and looking up one key at once only ever see whole entries."""
    code = CONCURRENT.format(root=HOOK_DIR, config_file=str(project / "sentry.yaml"), start=str(project))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(n)], stdout=subprocess.PIPE,
                              universal_newlines=True, env=environ()) for n in range(8)]
    results = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(broken == "0" for _hits, broken in results), results
    assert sum(int(hits) for hits, _ in results) > 0
    assert not [n for n in os.listdir(cache.cache_dir()) if not n.endswith(".entry")]


def test_warm_lookup_imports_neither_yaml_nor_pydantic(project):
    """A warm lookup in a fresh interpreter returns the config without importing yaml or pydantic."""
    env = environ(SENTRY_DSN=DSN)
    resolve(project, env)
    code = ("import sys; sys.path.insert(0, {root!r}); from sentry_bootstrap.config import cache; "
            "r = cache.lookup({f!r}, None, {d!r}); "
            "print(r.get('dsn'), sorted(m for m in ('yaml', 'pydantic', 'sentry_sdk') if m in sys.modules))"
            ).format(root=HOOK_DIR, f=str(project / "sentry.yaml"), d=str(project))
    out = subprocess.run([sys.executable, "-c", code], cwd=str(project), env=env, check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    assert out == [DSN, "[]"]


def test_references_scan_agrees_with_the_regex():
    """The start-up scan for `${NAME` finds the same names as the regex it replaces."""
    import re

    from sentry_bootstrap.config.cache import _references

    pattern = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)")
    for text in ("dsn: ${SENTRY_DSN}", "a: ${ A_1:-x} b: ${B:?m} $${C} ${", "${${D}}", "${1X} ${_y}",
                 "${\tTAB}", "x" * 50 + "${", "${A}${B}${A}"):
        assert _references(text) == set(pattern.findall(text)), text


def test_configuration_error_is_stored_under_the_key_of_a_good_one(project):
    """`store_error` keeps the problems under the inputs' key: `lookup` gives the same ConfigError
    back (no validation), and a good configuration stored for the same inputs replaces it."""
    from sentry_bootstrap.config.errors import ConfigError

    config_file, env = str(project / "sentry.yaml"), environ()
    (project / "sentry.yaml").write_text("version: 1\nsample_rate: lots\nbogus: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(environ=env, cwd=str(project))
    cache.store_error(config_file, env, str(project), caught.value)
    assert len(entries()) == 1
    found = cache.lookup(config_file, env, str(project))
    assert isinstance(found, ConfigError) and str(found) == str(caught.value)
    fields = ("source", "path", "message", "hint")
    assert [[getattr(p, f) for f in fields] for p in found.problems] == \
        [[getattr(p, f) for f in fields] for p in caught.value.problems]

    cache.store(config_file, env, str(project), _good(project))
    assert len(entries()) == 1
    assert cache.lookup(config_file, env, str(project)).values["sample_rate"] == 0.5


def _good(project):
    from sentry_bootstrap.config.resolved import ResolvedConfig

    return ResolvedConfig({"sample_rate": 0.5}, {})


def test_stored_error_misses_when_a_secret_file_changes_mode(project, tmp_path):
    """A stored error counts only while the file's and the secrets' owner, mode and change time
    are those it was found with (a chmod fixes a refusal without changing any content)."""
    from sentry_bootstrap.config.errors import ConfigError, Problem

    secret = tmp_path / "dsn"
    secret.write_text("not a dsn")
    config_file, env = str(project / "sentry.yaml"), environ(SENTRY_DSN_FILE=str(secret))
    cache.store_error(config_file, env, str(project), ConfigError([Problem("x", "dsn", "bad")]))
    assert isinstance(cache.lookup(config_file, env, str(project)), ConfigError)
    os.chmod(str(secret), 0o640)
    assert cache.lookup(config_file, env, str(project)) is None
