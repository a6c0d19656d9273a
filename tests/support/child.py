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
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOOK_DIR = os.path.join(ROOT, "bootstrap")  # the hook and the package, nothing else importable

# SENTRY_BOOTSTRAP_SDK3_PREVIEW: the matrix's sentry-sdk 3 cell sets it for every process of its run.
INHERITED = ("PATH", "HOME", "XDG_STATE_HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "SYSTEMROOT",
             "SENTRY_BOOTSTRAP_SDK3_PREVIEW")


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



def code_env(env=None):
    """The environment of a `run_code` child: the checkout importable (`tests` included) and the
    hook switched off (the checkout's sitecustomize.py would start it; these children drive the SDK
    and the package directly)."""
    return child_env(dict({"PYTHONPATH": ROOT, "SENTRY_BOOTSTRAP_DISABLED": "1"}, **(env or {})),
                     hook=False)


def run_code(code, timeout=60, env=None, check=True):
    """Run dedented `code` with `python -c` in a fresh interpreter (see `code_env`); with `check`,
    a non-zero exit fails the test with the child's output."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=code_env(env),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout, cwd=ROOT)
    if check and proc.returncode != 0:
        raise AssertionError("child failed (%s):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
    return proc


def start_code(code, env=None):
    """Start dedented `code` in a fresh interpreter without waiting; returns the Popen (text pipes
    for stdin, stdout and stderr). The caller ends it and waits for it."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=code_env(env),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, cwd=ROOT)
