"""The cache key and the working directory: processes started from different directories share an
entry when the file reads the same from each (issue 25, point 3), and get their own when what the
loader shows or reads from the working directory differs."""
import os

from sentry_bootstrap.config import cache
from sentry_bootstrap.config.loader import load_config
from tests.support.child import run_python


def _project(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    config = project / "sentry.yaml"
    config.write_text("version: 1\nsample_rate: 0.5\nrelease: literal-1\n")
    config.chmod(0o600)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    return project, str(config)


def test_an_absolute_config_file_shares_one_entry_across_directories(tmp_path, monkeypatch):
    """SENTRY_CONFIG_FILE outside the working directory: the file shows the same (absolute) from
    /a and /b, so the entry stored from one is found from the other."""
    project, config = _project(tmp_path)
    env = dict(os.environ, SENTRY_CONFIG_FILE=config)
    monkeypatch.chdir(tmp_path / "a")
    cache.store(config, env, str(project), load_config(environ=env))
    monkeypatch.chdir(tmp_path / "b")
    found = cache.lookup(config, env, str(project))
    assert found is not None and found.get("sample_rate") == 0.5


def test_where_the_file_shows_differently_the_entry_differs(tmp_path, monkeypatch):
    """From the file's own directory the loader shows `sentry.yaml:2:14`; from elsewhere the
    absolute path: two entries, each with its own sources."""
    project, config = _project(tmp_path)
    env = dict(os.environ)
    monkeypatch.chdir(project)
    resolved = load_config(environ=env)
    assert resolved.sources["sample_rate"].startswith("sentry.yaml:")
    cache.store(config, env, str(project), resolved)
    monkeypatch.chdir(tmp_path / "a")
    assert cache.lookup(config, env, str(project)) is None


def test_a_relative_secret_file_keys_on_the_directory(tmp_path, monkeypatch):
    """A `_FILE` variable with a relative path is read from the working directory: another
    directory is another entry."""
    project, config = _project(tmp_path)
    for name in ("a", "b"):
        (tmp_path / name / "dsn").write_text("http://k@127.0.0.1:9/1\n")
    env = dict(os.environ, SENTRY_CONFIG_FILE=config, SENTRY_DSN_FILE="dsn")
    monkeypatch.chdir(tmp_path / "a")
    cache.store(config, env, str(project), load_config(environ=env))
    assert cache.lookup(config, env, str(project)) is not None
    monkeypatch.chdir(tmp_path / "b")
    assert cache.lookup(config, env, str(project)) is None


def test_processes_in_other_directories_start_warm(tmp_path):
    """Real interpreters: the first process, in /a, validates; one started in /b with the same
    SENTRY_CONFIG_FILE finds the entry and imports no pydantic while starting."""
    project, config = _project(tmp_path)
    show = "import sys; print('pydantic' in sys.modules, len(__import__('os').listdir(sys.argv[1])))"
    cache_dir = os.path.join(os.environ["XDG_STATE_HOME"], "sentry-bootstrap", "cache")
    env = {"SENTRY_CONFIG_FILE": config}
    first = run_python(["-c", show, cache_dir], cwd=str(tmp_path / "a"), env=env)
    assert first.returncode == 0 and first.stdout == "False 1\n", first.stderr
    second = run_python(["-X", "importtime", "-c", show, cache_dir], cwd=str(tmp_path / "b"),
                        env=env)
    assert second.stdout == "False 1\n", second.stderr  # still one entry: the same one
    assert " pydantic\n" not in second.stderr  # not even imported and released
