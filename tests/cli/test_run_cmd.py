"""`run`, `hook-path`, `install-pth` and the child-process policy, in real processes."""
import os
import subprocess
import sys
import sysconfig

from tests.support.app import base_config
from tests.support.child import HOOK_DIR, child_env, run_python

BIN = os.path.dirname(sys.executable)


def sentry_bootstrap(args, cwd, env=None, hook=False):
    """The installed console script, as a user runs it (not on PYTHONPATH itself)."""
    return subprocess.run([os.path.join(BIN, "sentry-bootstrap")] + list(args), cwd=str(cwd),
                          env=child_env(env, hook=hook), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120)


def test_hook_path_prints_a_directory_with_the_hook(tmp_path):
    """`hook-path` prints the directory that holds the sitecustomize to put on PYTHONPATH."""
    result = sentry_bootstrap(["hook-path"], tmp_path)
    directory = result.stdout.strip()
    assert result.returncode == 0
    assert os.path.isfile(os.path.join(directory, "sitecustomize.py"))


def test_run_with_a_script_sends_the_event(app, sentry_server):
    """`sentry-bootstrap run -- python crash.py` instruments the script."""
    app.config(base_config(sentry_server.dsn))
    app.write("crash.py", "print('hi')\nraise KeyError('order-17')\n")
    result = sentry_bootstrap(["run", "--", sys.executable, "crash.py"], app.path)
    assert result.stdout == "hi\n"
    assert result.returncode == 1
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["type"] == "KeyError"
    assert event["release"] == app.sha


def test_run_with_python_dash_m(app, sentry_server):
    """`run -- python -m pkg` instruments a module run with -m."""
    app.config(base_config(sentry_server.dsn))
    app.write("pkg/__init__.py", "")
    app.write("pkg/__main__.py", "raise ValueError('from -m')\n")
    sentry_bootstrap(["run", "--", sys.executable, "-m", "pkg"], app.path)
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["value"] == "from -m"


def test_run_with_a_console_script(app, sentry_server, tmp_path):
    """`run -- <console script>` instruments an entry-point script (a pip-installed wrapper)."""
    app.config(base_config(sentry_server.dsn))
    app.write("tool_impl.py", "def main():\n    raise RuntimeError('console script failed')\n")
    script = tmp_path / "bin" / "mytool"
    script.parent.mkdir()
    # The same shape pip writes for a console_scripts entry point.
    script.write_text("#!{}\nimport sys\nsys.path.insert(0, {!r})\nfrom tool_impl import main\n"
                      "sys.exit(main())\n".format(sys.executable, str(app.path)))
    script.chmod(0o755)
    result = sentry_bootstrap(["run", "--", str(script)], app.path)
    assert result.returncode == 1
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["value"] == "console script failed"


def test_run_with_a_shell_that_starts_python(app, sentry_server):
    """A non-Python command (a shell) passes the hook on to the Python it starts."""
    app.config(base_config(sentry_server.dsn))
    app.write("crash.py", "raise KeyError('via shell')\n")
    sentry_bootstrap(["run", "--", "sh", "-c", "{} crash.py; true".format(sys.executable)], app.path)
    assert sentry_server.wait_for_events(1)[0]["exception"]["values"][-1]["value"] == "'via shell'"


def test_run_exports_config_and_release(app, sentry_server, tmp_path):
    """`run` exports the resolved config path and release, so a child elsewhere uses them."""
    app.config(base_config(sentry_server.dsn))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import os; print(os.environ['SENTRY_BOOTSTRAP_CONFIG_RESOLVED']); "
            "print(os.environ['SENTRY_RELEASE'])")
    result = sentry_bootstrap(["run", "--", sys.executable, "-c", code],
                              app.path, env={"SENTRY_BOOTSTRAP_DISABLED": None})
    assert result.stdout.splitlines() == [str(app.path / "sentry.yaml"), app.sha], result.stderr


def test_run_config_holds_for_a_child_started_elsewhere(app, sentry_server, tmp_path):
    """A child that starts in another directory still uses the file `run` resolved."""
    app.config(base_config(sentry_server.dsn))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "crash.py").write_text("raise KeyError('elsewhere')\n")
    code = "import subprocess, sys; subprocess.run([sys.executable, 'crash.py'], cwd={!r})".format(
        str(elsewhere))
    sentry_bootstrap(["run", "--", sys.executable, "-c", code], app.path)
    event = sentry_server.wait_for_events(1)[0]
    assert event["environment"] == "staging" and event["release"] == app.sha


def test_install_pth_covers_python_dash_I(app, sentry_server, tmp_path):
    """A .pth written by install-pth starts the hook even under `python -I`."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.strip()
    # The new venv sees this suite's packages (sentry_sdk, ...) through a path line.
    with open(os.path.join(purelib, "aaa_test_deps.pth"), "w") as handle:
        handle.write(sysconfig.get_paths()["purelib"] + "\n")
    result = subprocess.run([python, "-m", "sentry_bootstrap", "install-pth"], cwd=HOOK_DIR,
                            env=child_env({"PYTHONPATH": None}, hook=False),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert result.returncode == 0, result.stderr
    app.config(base_config(sentry_server.dsn))
    app.write("crash.py", "raise KeyError('isolated')\n")
    subprocess.run([python, "-I", "crash.py"], cwd=str(app.path), env=child_env(hook=False),
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert sentry_server.wait_for_events(1)[0]["exception"]["values"][-1]["value"] == "'isolated'"

    removed = subprocess.run([python, "-m", "sentry_bootstrap", "uninstall-pth"], cwd=HOOK_DIR,
                             env=child_env(hook=False), stdout=subprocess.PIPE, universal_newlines=True)
    assert removed.returncode == 0
    assert not os.path.exists(os.path.join(purelib, "sentry_bootstrap_hook.pth"))


CHILD_PARENT = """\
import subprocess, sys
subprocess.run([sys.executable, "child.py"])
"""


def test_children_inherit_the_hook(app, sentry_server):
    """`processes.children: inherit`: a child Python process is instrumented too."""
    app.config(base_config(sentry_server.dsn))
    app.write("parent.py", CHILD_PARENT)
    app.write("child.py", "import os\nraise KeyError(os.environ.get('SENTRY_RELEASE'))\n")
    run_python(["parent.py"], cwd=str(app.path))
    event = sentry_server.wait_for_events(1)[0]
    # The child got the release through the environment rather than resolving it again.
    assert event["exception"]["values"][-1]["value"] == repr(app.sha)


def test_children_none_takes_the_hook_off(app, sentry_server):
    """`processes.children: none`: the child runs without the hook; the parent keeps it."""
    app.config(base_config(sentry_server.dsn, "processes:\n  children: none\n"))
    app.write("parent.py", CHILD_PARENT + "raise KeyError('parent')\n")
    app.write("child.py", "raise KeyError('child')\n")
    run_python(["parent.py"], cwd=str(app.path))
    # Both processes have exited: whatever they sent was answered, and the server records a request
    # before it answers, so nothing else can arrive.
    values = [e["exception"]["values"][-1]["value"] for e in sentry_server.events]
    assert values == ["'parent'"]
