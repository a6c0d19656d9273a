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
