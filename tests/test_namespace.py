"""The hook's namespace: under every way of switching it on, a program's own `bootstrap` module (or any
other name of its own) is the one it imports, and the hook adds no importable top-level name other
than `sitecustomize` and `sentry_bootstrap`."""
import json
import os
import subprocess
import sys
import sysconfig
import textwrap

import pytest

from tests.support.child import HOOK_DIR, ROOT, child_env

BIN = os.path.dirname(sys.executable)

# Prints what the program imported as `bootstrap`, and every importable top-level name that the
# sys.path entries absent from a bare interpreter of the same environment provide.
PROGRAM = textwrap.dedent("""\
    import json, os, subprocess, sys
    import bootstrap
    bare = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(sys.path))"],
                          env={"PATH": os.environ.get("PATH", ""), "SENTRY_BOOTSTRAP_DISABLED": "1"},
                          stdout=subprocess.PIPE, universal_newlines=True).stdout
    baseline = {os.path.abspath(p or os.curdir) for p in json.loads(bare)}
    baseline.add(os.path.dirname(os.path.abspath(__file__)))
    names = set()
    for entry in sys.path:
        entry = os.path.abspath(entry or os.curdir)
        if entry in baseline or not os.path.isdir(entry) or entry == os.environ.get("APP_LIB"):
            continue
        for name in os.listdir(entry):
            stem = name.split(".")[0]
            path = os.path.join(entry, name)
            if name == "__pycache__":
                continue
            if name.endswith((".py", ".so", ".pyc")) or (os.path.isdir(path) and stem.isidentifier() and "." not in name):
                names.add(stem)
    print(json.dumps({"bootstrap": bootstrap.MARK, "added": sorted(names),
                      "hooked": "sentry_bootstrap" in sys.modules}))
    """)


@pytest.fixture
def program(tmp_path):
    """A program directory with its own `bootstrap.py` beside the script."""
    app = tmp_path / "prog"
    app.mkdir()
    (app / "bootstrap.py").write_text("MARK = 'beside the script'\n")
    (app / "main.py").write_text(PROGRAM)
    return app


@pytest.fixture
def library(tmp_path):
    """A `bootstrap` package elsewhere on the program's path (as an installed package would be)."""
    lib = tmp_path / "lib"
    (lib / "bootstrap").mkdir(parents=True)
    (lib / "bootstrap" / "__init__.py").write_text("MARK = 'own package'\n")
    return lib


def run(argv, cwd, env):
    result = subprocess.run(argv, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def hooked_env(way, library=None):
    """The environment for one way of switching on (`checkout`, `hook-path`), with the program's
    library (if any) after the hook on PYTHONPATH."""
    hook = {"checkout": ROOT, "hook-path": HOOK_DIR}[way]
    env = child_env({"PYTHONPATH": str(library) if library else None}, hook=False)
    env["PYTHONPATH"] = os.pathsep.join([hook] + ([str(library)] if library else []))
    if library:
        env["APP_LIB"] = str(library)
    return env


@pytest.mark.parametrize("way", ["checkout", "hook-path"])
def test_own_bootstrap_beside_the_script_wins(way, program):
    """With the checkout or the hook directory on PYTHONPATH, `import bootstrap` is the program's own
    module, and the hook adds only `sitecustomize` and `sentry_bootstrap`."""
    out = run([sys.executable, "main.py"], program, hooked_env(way))
    assert out["hooked"], "the hook did not run"
    assert out["bootstrap"] == "beside the script"
    assert set(out["added"]) <= {"sitecustomize", "sentry_bootstrap"}, out["added"]


@pytest.mark.parametrize("way", ["checkout", "hook-path"])
def test_own_bootstrap_package_elsewhere_wins(way, program, library):
    """A `bootstrap` package later on the path than the hook is still the one imported."""
    (program / "bootstrap.py").unlink()
    out = run([sys.executable, "main.py"], program, hooked_env(way, library))
    assert out["hooked"] and out["bootstrap"] == "own package"
    assert set(out["added"]) <= {"sitecustomize", "sentry_bootstrap"}, out["added"]


def test_checkout_folders_are_not_importable(tmp_path):
    """With the checkout on PYTHONPATH, its `tests`, `benchmarks`, `examples`, `scripts` and
    `bootstrap` folders are not importable names."""
    code = ("import importlib.util as u, json; print(json.dumps({n: u.find_spec(n) is not None for n in "
            "['tests', 'benchmarks', 'examples', 'scripts', 'docs', 'bootstrap', 'sentry_bootstrap']}))")
    env = hooked_env("checkout")
    found = run([sys.executable, "-c", code], tmp_path, env)
    assert found == {"tests": False, "benchmarks": False, "examples": False, "scripts": False,
                     "docs": False, "bootstrap": False, "sentry_bootstrap": True}


def test_run_keeps_the_programs_own_bootstrap(program, library):
    """`sentry-bootstrap run -- python main.py`: both forms of the program's own `bootstrap` win."""
    env = child_env({"PYTHONPATH": None}, hook=False)
    out = run([os.path.join(BIN, "sentry-bootstrap"), "run", "--", sys.executable, "main.py"], program, env)
    assert out["hooked"] and out["bootstrap"] == "beside the script"
    assert set(out["added"]) <= {"sitecustomize", "sentry_bootstrap"}, out["added"]
    (program / "bootstrap.py").unlink()
    env = dict(env, PYTHONPATH=str(library), APP_LIB=str(library))
    out = run([os.path.join(BIN, "sentry-bootstrap"), "run", "--", sys.executable, "main.py"], program, env)
    assert out["hooked"] and out["bootstrap"] == "own package"


def test_install_pth_keeps_the_programs_own_bootstrap(program, library, tmp_path):
    """A venv covered by `install-pth` from the checkout: the program's own `bootstrap` wins, and the
    hook leaves no lasting sys.path entry of its own."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.strip()
    # The new venv sees this suite's dependencies (sentry_sdk, ...) through a path line; the package
    # itself is not installed there, so install-pth has to make it importable.
    with open(os.path.join(purelib, "aaa_test_deps.pth"), "w") as handle:
        handle.write(sysconfig.get_paths()["purelib"] + "\n")
    env = child_env({"PYTHONPATH": None}, hook=False)
    done = subprocess.run([python, "-m", "sentry_bootstrap", "install-pth"], cwd=HOOK_DIR, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert done.returncode == 0, done.stderr
    out = run([python, "main.py"], program, env)
    assert out["hooked"] and out["bootstrap"] == "beside the script"
    assert set(out["added"]) <= {"sentry_bootstrap"}, out["added"]
    (program / "bootstrap.py").unlink()
    out = run([python, "main.py"], program, dict(env, PYTHONPATH=str(library), APP_LIB=str(library)))
    assert out["hooked"] and out["bootstrap"] == "own package"
