"""Release resolution against real repositories made with the `git` command in temporary directories."""
import os

import pytest

from sentry_bootstrap.release import (
    CI_RELEASE_VARIABLES,
    ReleaseFormatError,
    package_version,
    read_git,
    resolve_release,
)


@pytest.fixture
def repo(tmp_path, git):
    """A repository on branch main with one commit."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit(git, path, "one")
    return path


def commit(git, path, message):
    (path / "file.txt").write_text(message)
    git(path, "add", "file.txt")
    git(path, "commit", "-q", "-m", message)
    return git(path, "rev-parse", "HEAD")


def no_git_above(path):
    return not any(os.path.exists(os.path.join(p, ".git"))
                   for p in [str(path)] + [str(x) for x in path.parents])


def test_loose_ref(repo, git):
    """A branch stored as a loose ref gives HEAD's sha, the branch and the HEAD file."""
    assert (repo / ".git" / "refs" / "heads" / "main").is_file()
    info = read_git(str(repo))
    assert info.sha == git(repo, "rev-parse", "HEAD")
    assert info.short_sha == info.sha[:7]
    assert info.branch == "main"
    assert info.work_tree == str(repo)
    assert info.git_dir == str(repo / ".git")
    assert info.head_path == str(repo / ".git" / "HEAD")


def test_found_from_a_subdirectory(repo, git):
    """The search walks up from a nested directory to the checkout's root."""
    nested = repo / "a" / "b"
    nested.mkdir(parents=True)
    assert read_git(str(nested)).sha == git(repo, "rev-parse", "HEAD")


def test_packed_refs(repo, git):
    """After `git pack-refs --all` the branch is read from packed-refs."""
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    info = read_git(str(repo))
    assert (info.sha, info.branch) == (git(repo, "rev-parse", "HEAD"), "main")


def test_loose_ref_wins_over_stale_packed_ref(repo, git):
    """A commit after pack-refs updates the loose ref, which shadows the stale packed entry."""
    git(repo, "pack-refs", "--all")
    new = commit(git, repo, "two")
    assert read_git(str(repo)).sha == new


def test_worktree(repo, git, tmp_path):
    """A `git worktree add` checkout reads its own HEAD and the shared refs through commondir."""
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(wt))
    new = commit(git, wt, "in worktree")
    git(repo, "pack-refs", "--all")
    info = read_git(str(wt))
    assert (info.sha, info.branch) == (new, "feature")
    assert info.work_tree == str(wt)
    assert info.git_dir == str(repo / ".git" / "worktrees" / "wt")
    assert info.common_dir == str(repo / ".git")
    assert read_git(str(repo)).branch == "main"


def test_detached_head(repo, git):
    """A detached HEAD gives the sha and no branch."""
    first = git(repo, "rev-parse", "HEAD")
    commit(git, repo, "two")
    git(repo, "checkout", "-q", "--detach", first)
    info = read_git(str(repo))
    assert (info.sha, info.branch) == (first, None)


def test_branch_with_slashes(repo, git):
    """A branch such as feature/x/y is read loose and packed, and fills {branch}."""
    git(repo, "checkout", "-q", "-b", "feature/x/y")
    assert read_git(str(repo)).branch == "feature/x/y"
    git(repo, "pack-refs", "--all")
    assert read_git(str(repo)).branch == "feature/x/y"
    assert resolve_release("b-{branch}", str(repo), {})[0] == "b-feature/x/y"


def test_fresh_repository_without_commits(tmp_path, git):
    """A repository with no commit yet gives a GitInfo with sha None, and auto skips it."""
    path = tmp_path / "fresh"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    info = read_git(str(path))
    assert (info.sha, info.short_sha, info.branch, info.tag) == (None, None, "main", None)
    assert resolve_release("auto", str(path), {}) == (None, (
        "none (tried: git at {}: no commit yet, CI variables: none, package version: none)".format(
            path)))
    with pytest.raises(ReleaseFormatError, match="no commit yet"):
        resolve_release("{sha}", str(path), {})


def test_no_git_anywhere(tmp_path):
    """Without a .git in the directory or any parent, read_git is None and auto gives none."""
    assert no_git_above(tmp_path)
    assert read_git(str(tmp_path)) is None
    assert resolve_release(None, str(tmp_path), {}) == (None, (
        "none (tried: git at {}: none, CI variables: none, package version: none)".format(
            tmp_path)))


def test_submodule(repo, git, tmp_path):
    """Inside a submodule (a `.git` file pointing into .git/modules) the submodule's HEAD is read."""
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q", "-b", "main")
    lib_sha = commit(git, lib, "lib")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor/lib")
    sub = repo / "vendor" / "lib"
    assert (sub / ".git").is_file()
    info = read_git(str(sub))
    assert info.sha == lib_sha
    assert info.work_tree == str(sub)
    assert info.git_dir == str(repo / ".git" / "modules" / "vendor" / "lib")
    assert read_git(str(repo)).sha == git(repo, "rev-parse", "HEAD")


def test_lightweight_and_annotated_tags(repo, git):
    """A tag at HEAD is found whether lightweight, annotated loose, packed into a pack file, or in
    packed-refs with its peeled line; a tag elsewhere is not."""
    git(repo, "tag", "old")
    commit(git, repo, "two")
    assert read_git(str(repo)).tag is None
    git(repo, "tag", "light")
    assert read_git(str(repo)).tag == "light"
    git(repo, "tag", "-d", "light")
    git(repo, "tag", "-a", "-m", "release", "v1.0")
    assert read_git(str(repo)).tag == "v1.0"  # loose ref to a loose tag object
    git(repo, "repack", "-q", "-a", "-d")
    assert not list((repo / ".git" / "objects").glob("??/*"))
    assert read_git(str(repo)).tag == "v1.0"  # loose ref to a tag object in a pack
    git(repo, "pack-refs", "--all")
    assert "^" in (repo / ".git" / "packed-refs").read_text()
    assert read_git(str(repo)).tag == "v1.0"  # peeled line in packed-refs


def test_several_tags_pick_the_highest(repo, git):
    """With several tags at HEAD the highest in natural order wins (v1.10 over v1.9)."""
    for name in ("v1.9", "v1.10", "v1.2"):
        git(repo, "tag", name)
    assert read_git(str(repo)).tag == "v1.10"


def test_garbage_head_is_no_repository(repo):
    """An unreadable HEAD makes read_git return None rather than raise."""
    (repo / ".git" / "HEAD").write_text("nonsense\n")
    assert read_git(str(repo)) is None


@pytest.mark.parametrize("spec, expected", [
    ("{sha}", "{sha}"),
    ("app@{short_sha}", "app@{short}"),
    ("{branch}-{short_sha}", "main-{short}"),
    ("{tag}", "v2.0"),
    ("{version}+{sha:.10}", "3.4.5+{sha10}"),
    ("{{literal}}-{short_sha}", "{{literal}}-{short}"),
])
def test_format_placeholders(repo, git, spec, expected):
    """Each placeholder of a release format is filled from git and the package version."""
    git(repo, "tag", "v2.0")
    (repo / "pyproject.toml").write_text('[project]\nname = "billing"\nversion = "3.4.5"\n')
    sha = git(repo, "rev-parse", "HEAD")
    release, source = resolve_release(spec, str(repo), {})
    assert release == expected.format(sha=sha, short=sha[:7], sha10=sha[:10])
    assert source.startswith("format {!r}".format(spec))


def test_format_source_names_git(repo):
    """A format's source says it was filled from git at the checkout's root."""
    assert resolve_release("a@{short_sha}", str(repo), {})[1] == \
        "format 'a@{{short_sha}}' with git (HEAD at {})".format(repo)


@pytest.mark.parametrize("spec, message", [
    ("app@{nope}", r"unknown placeholder \{nope\}"),
    ("app@{", "malformed"),
    ("{tag}", "no tag points at HEAD"),
    ("{version}", "no pyproject.toml"),
])
def test_format_errors_in_a_repository(repo, spec, message):
    """An unknown, malformed or unfillable placeholder is a ReleaseFormatError saying which."""
    with pytest.raises(ReleaseFormatError, match=message):
        resolve_release(spec, str(repo), {})


def test_format_branch_on_detached_head(repo, git):
    """{branch} on a detached HEAD is an error that says HEAD is detached."""
    git(repo, "checkout", "-q", "--detach")
    with pytest.raises(ReleaseFormatError, match="detached"):
        resolve_release("{branch}", str(repo), {})


def test_format_without_git(tmp_path):
    """{short_sha} with no repository is an error naming the directory searched."""
    with pytest.raises(ReleaseFormatError, match="needs a git checkout.*" + str(tmp_path)):
        resolve_release("x@{short_sha}", str(tmp_path), {})


def test_literal(repo):
    """A plain string is returned as it is, with source literal."""
    assert resolve_release(" 1.2.3 ", str(repo), {}) == ("1.2.3", "literal")


def test_auto_prefers_git_over_ci(repo, git):
    """auto: git wins over a CI variable."""
    release, source = resolve_release("auto", str(repo), {"CIRCLE_SHA1": "circle"})
    assert release == git(repo, "rev-parse", "HEAD")
    assert source == "git (HEAD at {})".format(repo)


def test_auto_ci_variables_in_sdk_order(tmp_path):
    """auto without git: the first set CI variable in the SDK's order, blank ones skipped."""
    environ = {name: name.lower() for name in CI_RELEASE_VARIABLES}
    environ[CI_RELEASE_VARIABLES[0]] = "  "
    assert resolve_release("auto", str(tmp_path), environ) == (
        CI_RELEASE_VARIABLES[1].lower(), "env " + CI_RELEASE_VARIABLES[1])
    assert resolve_release("auto", str(tmp_path), {"K_REVISION": "rev-7"}) == ("rev-7", "env K_REVISION")


def test_auto_ci_wins_over_package_version(tmp_path):
    """auto without git: a CI variable wins over the package version."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1.0"\n')
    assert resolve_release("auto", str(tmp_path), {"SOURCE_VERSION": "abc"}) == ("abc", "env SOURCE_VERSION")


def test_auto_falls_back_to_static_package_version(tmp_path):
    """auto without git or CI: the static [project] version of the nearest pyproject.toml."""
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nversion = "no"\n\n[project]\nname = "x"  # n\nversion = \'2.1\'\n')
    (tmp_path / "src").mkdir()
    assert resolve_release(None, str(tmp_path / "src"), {}) == (
        "2.1", "package version ({})".format(tmp_path / "pyproject.toml"))


def test_dynamic_version_asks_the_installed_distribution(tmp_path):
    """A pyproject.toml with a dynamic version gives the installed distribution's version."""
    import pytest as installed

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "pytest"\ndynamic = ["version"]\n')
    assert package_version(str(tmp_path)) == (installed.__version__, "package version (installed pytest)")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "not-installed-xyz"\ndynamic = ["version"]\n')
    assert package_version(str(tmp_path)) == (None, "none")


def test_version_search_stops_at_the_checkout_root(repo, tmp_path):
    """A pyproject.toml above the git checkout is not taken as the application's."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "outer"\nversion = "9"\n')
    assert package_version(str(repo)) == (None, "none")


def test_tag_with_thousands_of_digits_is_ordered_without_int(repo, git):
    """A packed tag of 5,000 digits at HEAD is compared by its digits (int() refuses that many):
    the highest tag is found, no ValueError."""
    sha = git(repo, "rev-parse", "HEAD")
    huge, small = "v" + "9" * 5000, "v" + "0" * 4990 + "12"
    with open(str(repo / ".git" / "packed-refs"), "w") as handle:
        handle.write("# pack-refs with: peeled fully-peeled sorted\n")
        handle.write("{} refs/tags/{}\n{} refs/tags/{}\n".format(sha, small, sha, huge))
    git(repo, "tag", "v13")
    assert read_git(str(repo)).tag == huge
