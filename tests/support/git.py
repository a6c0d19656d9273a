"""Real git repositories for the tests, made with the `git` command in temporary directories, with
no user or system git configuration leaking in.

- `make_git_repo(path, files)`: init, commit `files`, return the sha (the one-shot case);
- fixture `git`: `git(cwd, *args)` runs one git command and returns its stripped stdout (the
  release tests build branches, tags, worktrees and submodules with it).
"""
import os
import subprocess

import pytest


def git_env(home):
    """An environment in which `git commit` works: identity set, `home` as HOME and global config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.path.join(str(home), ".gitconfig"),
               GIT_AUTHOR_NAME="Test Author", GIT_AUTHOR_EMAIL="author@example.invalid",
               GIT_COMMITTER_NAME="Test Author", GIT_COMMITTER_EMAIL="author@example.invalid")
    return env


def run_git(cwd, *args, env):
    """Run one git command in `cwd`; its stripped stdout."""
    return subprocess.run(["git"] + list(args), cwd=str(cwd), env=env, check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True).stdout.strip()


def make_git_repo(path, files=None):
    """`git init` a real repository at `path` (branch main), commit `files` ({relative name: text},
    by default one README), and return the commit's full sha."""
    os.makedirs(str(path), exist_ok=True)
    env = git_env(path)
    run_git(path, "init", "-q", "-b", "main", env=env)
    for name, text in (files or {"README": "test repository\n"}).items():
        target = os.path.join(str(path), name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            f.write(text)
    run_git(path, "add", "-A", env=env)
    run_git(path, "commit", "-q", "-m", "initial commit", env=env)
    return run_git(path, "rev-parse", "HEAD", env=env)


@pytest.fixture
def git(tmp_path):
    """`git(cwd, *args)`: run git with an isolated identity and configuration; its stdout."""
    home = tmp_path / "_git_home"
    home.mkdir()
    env = git_env(home)
    return lambda cwd, *args: run_git(cwd, *args, env=env)
