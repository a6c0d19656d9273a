"""sentry_bootstrap.deps: versions read without importing, and the validation scope that leaves
pydantic and yaml out of sys.modules and the program's own copies in place."""
import sys
import types

from sentry_bootstrap import deps


def test_versions_are_read_from_the_packages_files_without_importing(tmp_path):
    """version_of reads a package's version file on a given path and imports nothing."""
    pkg = tmp_path / "sentry_sdk"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    (pkg / "consts.py").write_text('x = 1\nVERSION = "2.31.0"\n')
    assert deps.version_of("sentry_sdk", [str(tmp_path)]) == ((2, 31, 0), "2.31.0")
    assert deps.version_of("yaml", [str(tmp_path)]) is None


def test_the_scope_leaves_nothing_imported_and_restores_what_was(monkeypatch):
    """Inside config_imports pydantic and yaml import; afterwards neither is in sys.modules, and a
    module of one of those names that was there before is back, the same object."""
    for name in [n for n in sys.modules if n.partition(".")[0] in ("pydantic", "pydantic_core", "yaml", "_yaml")]:
        monkeypatch.delitem(sys.modules, name)
    placeholder = types.ModuleType("yaml")
    monkeypatch.setitem(sys.modules, "yaml", placeholder)
    with deps.config_imports():
        import pydantic
        import yaml

        assert yaml is not placeholder and pydantic.VERSION.startswith("2.")
    assert sys.modules["yaml"] is placeholder
    assert "pydantic" not in sys.modules and "pydantic_core" not in sys.modules


def test_an_sdk_outside_the_range_is_named_with_the_fix(tmp_path, monkeypatch):
    """A program's own sentry_sdk 1.x gives the line that says how to upgrade."""
    pkg = tmp_path / "sentry_sdk"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "consts.py").write_text('VERSION = "1.45.0"\n')
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)
    problem = deps.sdk_problem()
    assert "sentry-sdk 1.45.0 is outside the range" in problem and "pip install" in problem


def test_sdk3_runs_only_with_the_preview_switch(tmp_path, monkeypatch):
    """A program's sentry-sdk 3.x is outside the range, unless SENTRY_BOOTSTRAP_SDK3_PREVIEW is on;
    4.x stays outside either way."""
    pkg = tmp_path / "sentry_sdk"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "consts.py").write_text('VERSION = "3.0.0b2"\n')
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)
    monkeypatch.delenv("SENTRY_BOOTSTRAP_SDK3_PREVIEW", raising=False)  # the sdk3 cell sets it
    assert "sentry-sdk 3.0.0b2 is outside the range" in deps.sdk_problem()
    monkeypatch.setenv("SENTRY_BOOTSTRAP_SDK3_PREVIEW", "1")
    assert deps.sdk_problem() is None or "outside the range" not in deps.sdk_problem()
    (pkg / "consts.py").write_text('VERSION = "4.0.0"\n')
    assert "sentry-sdk 4.0.0 is outside the range" in deps.sdk_problem()


def test_the_sdk_range_is_the_one_pyproject_declares():
    """deps.SDK_RANGE, which the hook enforces on a program's own sentry_sdk, is pyproject.toml's."""
    import os
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = open(os.path.join(root, "pyproject.toml")).read()
    low, high = re.search(r'"sentry-sdk>=([0-9.]+),<([0-9.]+)"', text).groups()
    as_tuple = lambda v: tuple(int(p) for p in v.split("."))
    assert deps.SDK_RANGE == (as_tuple(low), as_tuple(high))


def test_an_interpreter_without_the_dependencies_gets_one_line_saying_it_once(tmp_path):
    """The hook in an interpreter with no site-packages (no pydantic, no PyYAML): exactly one line,
    which names what is missing, the interpreter and the fix, each once (the fix was once appended a
    second time by the hook to the line deps had already finished)."""
    import os
    import subprocess

    from tests.support.child import HOOK_DIR

    (tmp_path / "sentry.yaml").write_text("version: 1\n")
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    # -S: no site-packages, so only the standard library; the hook is imported as site would.
    code = "import sys; sys.path.insert(0, {!r}); import sitecustomize; print('ran')".format(HOOK_DIR)
    env = {"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, "-S", "-c", code], cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "ran\n"), done.stderr
    assert done.stderr == (
        "sentry-bootstrap: not active: no pydantic>=2.6 and PyYAML>=6.0.1 (to validate sentry.yaml) in "
        "this interpreter ({}); install sentry-bootstrap into its environment, or put a bundle on "
        "PYTHONPATH (`sentry-bootstrap bundle DIR`)\n".format(sys.executable))


def test_the_fix_is_added_once_however_often_an_import_error_is_reported():
    """missing_line adds the interpreter and the fix to a bare ImportError, and leaves a line that
    already has them as it is: re-reporting can't repeat them."""
    bare = deps.missing_line(ImportError("No module named 'wrapt'"))
    assert bare == "No module named 'wrapt' in this interpreter ({}); {}".format(sys.executable, deps.FIX)
    once = deps.MissingDependency("no sentry_sdk")
    for reported in (once, ImportError(str(once)), ImportError(deps.missing_line(once))):
        line = deps.missing_line(reported)
        assert line == "no sentry_sdk in this interpreter ({}); {}".format(sys.executable, deps.FIX)
