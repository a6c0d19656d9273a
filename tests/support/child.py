"""Real child interpreters for end-to-end-ish tests, with or without the hook on PYTHONPATH.

The child gets a clean environment: only PATH, HOME, XDG_STATE_HOME (the test's private state dir,
from the autouse fixture), TMPDIR and the locale variables are inherited; every SENTRY_* variable is
dropped unless the test passes it in `env`. With `hook=True` the repository root (where the top-level
`sitecustomize.py` lives) is first on PYTHONPATH. With `hook=False` nothing of the repository is on the
path: a child that needs `sentry_bootstrap` without the hook inserts `HOOK_DIR` into `sys.path` itself.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOOK_DIR = os.path.join(ROOT, "bootstrap")  # the hook and the package, nothing else importable

INHERITED = ("PATH", "HOME", "XDG_STATE_HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "SYSTEMROOT")


def child_env(env=None, hook=True):
    """The environment a child runs with. In `env`, a value of None removes that variable; a
    PYTHONPATH given there comes after the repository root when `hook` is on."""
    result = {name: os.environ[name] for name in INHERITED if name in os.environ}
    extra = dict(env or {})
    user_path = extra.pop("PYTHONPATH", None)
    for name, value in extra.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = str(value)
    parts = ([ROOT] if hook else []) + ([user_path] if user_path else [])
    if parts:
        result["PYTHONPATH"] = os.pathsep.join(parts)
    return result


def run_python(args, *, env=None, cwd=None, hook=True, timeout=60, input=None):
    """Run `sys.executable ARGS` to completion; stdout and stderr captured as text."""
    return subprocess.run(
        [sys.executable] + list(args),
        env=child_env(env, hook),
        cwd=cwd,
        input=input,
        timeout=timeout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
    )


def spawn_python(args, *, env=None, cwd=None, hook=True, **popen_kwargs):
    """Start `sys.executable ARGS` and return the Popen (text mode; stdout and stderr piped unless
    given in `popen_kwargs`). The caller ends it (`terminate()` / `kill()`) and waits for it."""
    popen_kwargs.setdefault("stdout", subprocess.PIPE)
    popen_kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(
        [sys.executable] + list(args),
        env=child_env(env, hook),
        cwd=cwd,
        universal_newlines=True,
        **popen_kwargs
    )


def make_git_repo(path, files=None):
    """`git init` a real repository at `path`, commit `files` ({relative name: text}, by default one
    README), and return the commit's full sha."""
    os.makedirs(str(path), exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(path),  # no user or system git config leaks in
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.invalid",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "author@example.invalid",
    }

    def git(*argv):
        return subprocess.run(["git"] + list(argv), cwd=str(path), env=env, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True).stdout.strip()

    git("init", "-q", "-b", "main")
    for name, text in (files or {"README": "test repository\n"}).items():
        target = os.path.join(str(path), name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            f.write(text)
    git("add", "-A")
    git("commit", "-q", "-m", "initial commit")
    return git("rev-parse", "HEAD")
