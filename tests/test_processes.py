"""Process policy: how a process is recognised, which are excluded, and what children inherit.

The child tests start real interpreters with a tiny `sitecustomize` that reports
`ProcessInfo.current()` and the decision on stderr, as the hook sees them at start-up.
"""
import json
import os
import subprocess
import sys

import pytest

from sentry_bootstrap.processes import DEFAULT_EXCLUDES, ProcessInfo, apply_child_policy, decide, matches

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
MARK = "PROCESS-INFO "

SITECUSTOMIZE = """
import json, sys
from sentry_bootstrap.processes import ProcessInfo, decide
info = ProcessInfo.current()
included, reason = decide(info, include=(), exclude=())
sys.stderr.write({mark!r} + json.dumps(dict(program=info.program, module=info.module,
    console_script=info.console_script, command=info.command, kind=info.kind, argv=list(info.argv),
    included=included, reason=reason)) + "\\n")
"""


@pytest.fixture
def hook(tmp_path):
    """A directory holding the reporting sitecustomize, and a runner for child commands."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(mark=MARK))

    def run(*command, cwd=None):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), ROOT]))
        proc = subprocess.run(list(command), cwd=str(cwd or tmp_path), env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=60)
        lines = [line for line in proc.stderr.splitlines() if line.startswith(MARK)]
        assert len(lines) == 1, proc.stderr
        return json.loads(lines[0][len(MARK):])
    return run


def test_child_module_pip_is_excluded(hook):
    """`python -m pip --version` is seen as module pip and excluded by the default pip rule."""
    seen = hook(sys.executable, "-m", "pip", "--version")
    assert (seen["kind"], seen["module"]) == ("module", "pip")
    assert (seen["included"], seen["reason"]) == (False, "excluded by default rule 'pip'")


def test_child_pip_console_script_is_excluded(hook):
    """The `pip` console script is excluded by the default pip rule."""
    seen = hook(os.path.join(BIN, "pip"), "--version")
    assert (seen["program"], seen["console_script"]) == ("pip", "pip")
    assert seen["reason"] == "excluded by default rule 'pip'"


def test_child_venv_is_excluded(hook):
    """`python -m venv --help` is excluded by the default venv rule."""
    seen = hook(sys.executable, "-m", "venv", "--help")
    assert seen["module"] == "venv"
    assert seen["reason"] == "excluded by default rule 'venv'"


def test_child_sentry_bootstrap_is_excluded(hook):
    """`python -m sentry_bootstrap` (the command itself) is excluded."""
    seen = hook(sys.executable, "-m", "sentry_bootstrap", "--help")
    assert seen["reason"] == "excluded by default rule 'sentry-bootstrap'"


def test_child_script(hook, tmp_path):
    """A script is known by its file name, with its arguments in argv, and is included."""
    (tmp_path / "app.py").write_text("pass\n")
    seen = hook(sys.executable, "-X", "dev", "app.py", "--flag")
    assert (seen["program"], seen["kind"], seen["console_script"]) == ("app.py", "script", None)
    assert seen["argv"][-2:] == ["app.py", "--flag"]
    assert seen["included"] is True


def test_child_console_script(hook):
    """An installed console script (gunicorn) is known by its name as program and console script."""
    seen = hook(os.path.join(BIN, "gunicorn"), "--version")
    assert (seen["program"], seen["console_script"], seen["kind"]) == ("gunicorn", "gunicorn", "script")
    assert seen["included"] is True


def test_child_command(hook):
    """`python -c CODE` is kind command with its code, named after the interpreter."""
    seen = hook(sys.executable, "-c", "pass", "arg")
    assert (seen["kind"], seen["command"], seen["module"]) == ("command", "pass", None)
    assert seen["program"] == os.path.basename(sys.executable)


def test_child_module_after_options(hook):
    """`python -X dev -W ignore -mjson.tool` finds the module past options that take values."""
    seen = hook(sys.executable, "-X", "dev", "-W", "ignore", "-mjson.tool", "--help")
    assert (seen["kind"], seen["module"]) == ("module", "json.tool")
    assert seen["included"] is True


def test_child_without_orig_argv_reads_proc(tmp_path):
    """Without sys.orig_argv (Python 3.9) the real command line comes from /proc/self/cmdline."""
    # Python 3.9 has no sys.orig_argv to delete; later versions have it deleted here.
    code = ("import sys; sys.__dict__.pop('orig_argv', None); "
            "from sentry_bootstrap.processes import ProcessInfo; "
            "i = ProcessInfo.current(); print(i.kind, i.module)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    assert out.split() == ["command", "None"]


@pytest.mark.parametrize("argv, fields", [
    (["python3", "-m", "celery", "-A", "x"], ("python3", "celery", None, None, "module")),
    (["python3", "-Bm", "http.server"], ("python3", "http.server", None, None, "module")),
    (["python3", "-Wignore", "-c", "1"], ("python3", None, None, "1", "command")),
    (["python3", "--check-hash-based-pycs", "never", "x.py"], ("x.py", None, None, None, "script")),
    (["python3", "-", "a"], ("python3", None, None, None, "stdin")),
    (["python3", "-i"], ("python3", None, None, None, "interactive")),
    (["/v/bin/python3", "/v/bin/celery", "worker"], ("celery", None, "celery", None, "script")),
    (["C:\\py\\python.exe", "C:\\v\\Scripts\\gunicorn.exe"], ("gunicorn", None, "gunicorn", None, "script")),
    (["/usr/bin/python3.13t", "app.py"], ("app.py", None, None, None, "script")),
    (["/usr/bin/uwsgi", "--http", ":8000", "--wsgi-file", "app.py"], ("uwsgi", None, "uwsgi", None, "embedded")),
])
def test_command_line_parsing(argv, fields):
    """Interpreter options are skipped and the script, module or command is found."""
    if "\\" in argv[0] and os.sep != "\\":
        argv = [a.replace("\\", "/") for a in argv]
    info = ProcessInfo.from_command_line(argv)
    assert (info.program, info.module, info.console_script, info.command, info.kind) == fields


def info_for(*argv):
    return ProcessInfo.from_command_line(["python3"] + list(argv))


@pytest.mark.parametrize("argv, rule", [
    (["-m", "pip", "install", "x"], "pip"),
    (["/v/bin/pip3.11", "install"], "pip"),
    (["/tmp/pip/__pip-runner__.py", "install"], "pip"),
    (["setup.py", "bdist_wheel"], "setup.py"),
    (["-c", "exec(compile('''import setuptools''', 'setup.py', 'exec'))"], "setup.py"),
    (["/x/pyproject_hooks/_in_process/_in_process.py", "build_wheel", "/tmp/x"], "build backend hook"),
    (["-m", "hatchling", "build"], "hatchling"),
    (["-m", "flit_core.wheel"], "flit"),
    (["/v/bin/poetry", "install"], "poetry"),
    (["/v/bin/pdm", "sync"], "pdm"),
    (["-m", "build"], "build"),
    (["/v/bin/wheel", "unpack"], "wheel"),
    (["-m", "ensurepip", "--upgrade"], "ensurepip"),
    (["-m", "venv", "/tmp/v"], "venv"),
    (["/v/bin/virtualenv", "/tmp/v"], "venv"),
    (["/v/bin/sentry-bootstrap", "check"], "sentry-bootstrap"),
    (["-m", "sentry_bootstrap.cli", "check"], "sentry-bootstrap"),
])
def test_default_excludes(argv, rule):
    """Each installer, build backend and the command itself is excluded by its named default rule."""
    assert decide(info_for(*argv)) == (False, "excluded by default rule {!r}".format(rule))


def test_default_excludes_spare_applications():
    """Ordinary programs are not caught by a default rule."""
    for argv in (["app.py"], ["-m", "pipeline"], ["/v/bin/gunicorn", "app:app"], ["-m", "celery"],
                 ["manage.py", "runserver"], ["-c", "import app"], ["-m", "myapp.build"]):
        assert decide(info_for(*argv))[0] is True, argv
    assert all(name for name, _ in DEFAULT_EXCLUDES)


def test_user_exclude():
    """processes.exclude removes a matching process and names the pattern."""
    assert decide(info_for("/v/bin/celery", "beat"), exclude=["celery"]) == (
        False, "excluded by processes.exclude 'celery'")


def test_include_restricts_to_matches():
    """A non-empty processes.include admits only matching processes."""
    include = ["gunicorn", "module:celery"]
    assert decide(info_for("/v/bin/gunicorn"), include=include) == (
        True, "included by processes.include 'gunicorn'")
    assert decide(info_for("-m", "celery", "worker"), include=include)[0] is True
    assert decide(info_for("app.py"), include=include) == (False, "not matched by processes.include")


def test_exclude_beats_include():
    """A process matched by both include and exclude is excluded."""
    assert decide(info_for("/v/bin/celery", "beat"), include=["celery"], exclude=["argv:* beat*"])[0] is False


def test_default_rule_beats_include():
    """The default excludes apply even to a process the user includes."""
    assert decide(info_for("-m", "pip"), include=["*"])[1] == "excluded by default rule 'pip'"


@pytest.mark.parametrize("argv, rule", [
    (["/v/bin/pytest", "-q"], "pytest"),
    (["/v/bin/py.test", "tests"], "pytest"),
    (["-m", "pytest", "-x"], "pytest"),
    (["-m", "unittest", "discover"], "unittest"),
    (["-m", "unittest.__main__"], "unittest"),
    (["/v/bin/tox", "-e", "py311"], "tox"),
    (["-m", "tox"], "tox"),
    (["/v/bin/nox", "-s", "tests"], "nox"),
    (["-m", "nox"], "nox"),
])
def test_test_runners_are_excluded_by_default(argv, rule):
    """pytest, py.test, python -m pytest, python -m unittest, tox and nox are off by default."""
    assert decide(info_for(*argv)) == (False, "excluded by default rule {!r} (a test runner; "
                                       "processes.include brings it back)".format(rule))


def test_include_brings_a_test_runner_back():
    """A processes.include pattern that matches a test runner includes it; others don't."""
    assert decide(info_for("-m", "pytest"), include=["pytest"]) == (
        True, "included by processes.include 'pytest'")
    assert decide(info_for("/v/bin/tox"), include=["tox"])[0] is True
    assert decide(info_for("-m", "pytest"), include=["gunicorn"])[0] is False
    assert decide(info_for("-m", "pytest"), include=["pytest"], exclude=["module:pytest"])[0] is False


@pytest.mark.parametrize("pattern, value", [
    ("a*b?c", "axxbyc"), ("*", ""), ("*import setuptools*", "python -c import setuptools; x"),
    ("pip3.*", "pip3.11"), ("x[ab]y", "xby"), ("**a", "ba"), ("a*", "b"), ("?", ""), ("a*a*a", "aaa"),
    ("a*a*a", "aa"), ("*.py", "setup.pyc"),
])
def test_glob_is_fnmatchcase(pattern, value):
    """The start-up glob matcher agrees with fnmatch.fnmatchcase."""
    import fnmatch

    from sentry_bootstrap.processes import _glob

    assert _glob(value, pattern) is fnmatch.fnmatchcase(value, pattern)


def test_empty_include_includes_everything():
    """With no rules a process is included and the reason says so."""
    assert decide(info_for("app.py")) == (True, "included (no processes.include rules)")


@pytest.mark.parametrize("pattern, expected", [
    ("manage.py", True),
    ("manage*", True),
    ("program:manage.py", True),
    ("module:manage.py", False),
    ("script:manage.py", False),
    ("argv:*manage.py migrate*", True),
    ("argv:*runserver*", False),
    ("Manage.py", False),
    ("weird:pattern", False),
])
def test_pattern_fields(pattern, expected):
    """Bare globs try program/module/script; prefixes select one field; matching is case-sensitive."""
    assert matches(info_for("manage.py", "migrate", "--noinput"), pattern) is expected


def test_console_script_field():
    """`script:` matches the console script name and not a .py program."""
    assert matches(info_for("/v/bin/celery"), "script:cel*")
    assert not matches(info_for("celery.py"), "script:cel*")


def test_child_policy_none_removes_hook_dir(tmp_path):
    """`none` removes the hook directory (also as a different spelling) and keeps other entries."""
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    environ = {"PYTHONPATH": os.pathsep.join([str(hook_dir), "/other", str(hook_dir) + "/./", ""])}
    apply_child_policy("none", str(hook_dir), environ)
    assert environ["PYTHONPATH"] == os.pathsep.join(["/other", ""])
    only = {"PYTHONPATH": str(hook_dir)}
    apply_child_policy("none", str(hook_dir), only)
    assert "PYTHONPATH" not in only


def test_child_policy_inherit_keeps_hook_dir(tmp_path):
    """`inherit` leaves PYTHONPATH as it is."""
    environ = {"PYTHONPATH": str(tmp_path)}
    apply_child_policy("inherit", str(tmp_path), environ)
    assert environ == {"PYTHONPATH": str(tmp_path)}


def test_child_policy_unknown():
    """Another policy is a ValueError naming the valid ones."""
    with pytest.raises(ValueError, match="inherit, none"):
        apply_child_policy("some", "/x", {})


def test_child_policy_none_reaches_a_real_child(tmp_path):
    """After `none`, a child interpreter started with that environment does not run the hook."""
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text("import sys; sys.stderr.write('HOOKED\\n')\n")
    environ = dict(os.environ, PYTHONPATH=str(hook_dir))

    def child():
        return subprocess.run([sys.executable, "-c", "pass"], env=environ, stderr=subprocess.PIPE,
                              universal_newlines=True, check=True).stderr
    assert "HOOKED" in child()
    apply_child_policy("none", str(hook_dir), environ)
    assert "HOOKED" not in child()
