"""Run `python -m sentry_bootstrap ...` in a real child interpreter, without the hook."""
import os
import textwrap

from tests.support.child import ROOT, run_python


def cli(*args, cwd, env=None):
    """The finished `python -m sentry_bootstrap ARGS` run in `cwd` (stdout and stderr as text)."""
    return run_python(["-m", "sentry_bootstrap"] + list(args), hook=False, cwd=str(cwd),
                      env=dict(env or {}, PYTHONPATH=ROOT), timeout=60)


def write_config(directory, text, name="sentry.yaml"):
    """Write dedented `text` as `directory/name` (mode 0644 whatever the umask: the loader refuses
    group-writable files) and return its path."""
    path = os.path.join(str(directory), name)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    os.chmod(path, 0o644)
    return path
