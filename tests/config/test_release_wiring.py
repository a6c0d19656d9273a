"""What the loader hands to the release resolver (spec and start directory) and how it records
the source. The resolver's own behaviour is tested with it, in tests/test_release*.py."""

import pytest

from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.loader import load_config

from tests.support.git import make_git_repo

from .conftest import problems_of


def test_literal_release_from_file(project):
    """A literal release is used as written, and its source is the file location."""
    project.write("version: 1\nrelease: billing@1.4.2\n")
    resolved = project.load()
    assert (resolved.release, resolved.release_source) == ("billing@1.4.2", "sentry.yaml:2:1")
    assert resolved.get("release") == "billing@1.4.2"
    assert resolved.sources["release"] == "sentry.yaml:2:1"


def test_sentry_release_beats_file(project):
    """SENTRY_RELEASE replaces the file's release, and the source says so."""
    project.write("version: 1\nrelease: billing@1.4.2\n")
    resolved = project.load({"SENTRY_RELEASE": "hotfix-7"})
    assert (resolved.release, resolved.release_source) == ("hotfix-7", "env SENTRY_RELEASE")


def test_release_from_parent_process_keeps_its_origin(project):
    """A release exported by a parent hook names where the parent found it."""
    resolved = project.load({"SENTRY_RELEASE": "abc",
                             "SENTRY_BOOTSTRAP_RELEASE_SOURCE": "git (HEAD at /srv/app)"})
    assert resolved.release_source == \
        "env SENTRY_RELEASE (from the parent process: git (HEAD at /srv/app))"


def test_auto_release_searches_from_config_file_directory(tmp_path):
    """With a file, git is read from the file's directory, not the working directory."""
    repo = tmp_path / "repo"
    sha = make_git_repo(repo)
    (repo / "sentry.yaml").write_text("version: 1\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    resolved = load_config(environ={"SENTRY_CONFIG_FILE": str(repo / "sentry.yaml")},
                           cwd=str(elsewhere))
    assert resolved.release == sha
    assert resolved.release_source == "git (HEAD at {})".format(repo)
    assert resolved.sources["release"] == resolved.release_source


def test_auto_release_searches_from_entry_script_without_file(tmp_path):
    """Without a file, git is read from the entry script's directory."""
    repo = tmp_path / "repo"
    sha = make_git_repo(repo)
    (repo / "app.py").write_text("")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    resolved = load_config(environ={}, cwd=str(elsewhere), entry_script=str(repo / "app.py"))
    assert resolved.release == sha


def test_release_format_filled_from_git(tmp_path):
    """A format is passed to the resolver and filled from git."""
    repo = tmp_path / "repo"
    sha = make_git_repo(repo)
    (repo / "sentry.yaml").write_text("version: 1\nrelease: 'app@{short_sha}'\n")
    resolved = load_config(environ={}, cwd=str(repo))
    assert resolved.release == "app@" + sha[:7]


def test_release_format_that_cannot_be_filled_is_a_config_error(tmp_path):
    """A format needing git where there is none is a ConfigError at the release key."""
    (tmp_path / "sentry.yaml").write_text("version: 1\nrelease: 'app@{branch}'\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(environ={}, cwd=str(tmp_path))
    (line,) = problems_of(excinfo)
    assert line.startswith("sentry.yaml:2:10: release: {branch} needs a git checkout")
