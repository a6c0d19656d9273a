"""Run real child interpreters for the transport tests."""
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def child_env(extra=None):
    """The test's environment (its private XDG_STATE_HOME included) with the checkout importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SENTRY_DSN", None)
    # The checkout's own sitecustomize.py would run the hook; these tests drive the SDK directly.
    env["SENTRY_BOOTSTRAP_DISABLED"] = "1"
    env.update(extra or {})
    return env


def run_child(code, timeout=60, env=None, check=True):
    """Run `code` (dedented) in a fresh interpreter; returns the CompletedProcess."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=child_env(env),
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if check and proc.returncode != 0:
        raise AssertionError("child failed (%s):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
    return proc


def start_child(code, env=None):
    """Start `code` in a fresh interpreter without waiting; returns the Popen (text pipes for
    stdin, stdout and stderr)."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=child_env(env),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
