"""`sentry-bootstrap bundle DIR` and `run` for interpreters whose environment lacks sentry-bootstrap:
real bundles built from the wheelhouse `scripts/bundle-test-envs` prepared, and real applications in
their own environments (only Flask; the system interpreter; CPython 3.9 with pydantic 1.10 and PyYAML 5;
the oldest sentry-sdk we support), reporting to a real HTTP server on 127.0.0.1."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.support.child import ROOT, child_env

BIN = os.path.dirname(sys.executable)
WHEELHOUSE = os.path.join(ROOT, ".wheelhouse")
APPS = os.path.join(ROOT, ".venv-apps")
SYSTEM_PYTHON = "/usr/bin/python3"
TARGETS = [(p, a) for p in ("3.9", "3.10", "3.11", "3.12", "3.13") for a in ("x86_64", "aarch64")]

FLASK_APP = textwrap.dedent("""\
    import json, sys
    from flask import Flask

    app = Flask(__name__)

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom in flask")

    status = app.test_client().get("/boom").status_code
    seen = {}
    for name in ("pydantic", "yaml", "sentry_sdk"):
        try:
            module = __import__(name)
        except ImportError:
            seen[name] = None
        else:
            seen[name] = [str(getattr(module, "VERSION", None) or module.__version__), module.__file__]
    print(json.dumps({"status": status, "seen": seen}))
    """)


def app_python(name):
    python = os.path.join(APPS, name, "bin", "python")
    assert os.path.exists(python), "run scripts/setup test (scripts/bundle-test-envs) first: " + python
    return python


def sentry_bootstrap(*args, env=None, cwd=None):
    return subprocess.run([os.path.join(BIN, "sentry-bootstrap")] + list(args), env=env or child_env(hook=False),
                          cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=600)


def build_bundle(tmp_path_factory, *options):
    """`sentry-bootstrap bundle` built offline from the wheelhouse (`options`: --python, --platform)."""
    assert os.path.isdir(WHEELHOUSE), "run scripts/setup test (scripts/bundle-test-envs) first"
    target = str(tmp_path_factory.mktemp("bundle") / "hook")
    links = []
    for entry in sorted(os.listdir(WHEELHOUSE)):
        if os.path.isdir(os.path.join(WHEELHOUSE, entry)):
            links += ["--find-links", os.path.join(WHEELHOUSE, entry)]
    env = child_env({"XDG_STATE_HOME": str(tmp_path_factory.mktemp("state"))}, hook=False)
    done = sentry_bootstrap("bundle", target, "--no-index", *options, *links, env=env)
    assert done.returncode == 0, done.stderr
    return target


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A bundle for every target, built offline from the wheelhouse."""
    return build_bundle(tmp_path_factory)


@pytest.fixture
def project(tmp_path, sentry_server):
    """An application directory with a sentry.yaml pointing at the test server."""
    path = tmp_path / "project"
    path.mkdir()
    config = path / "sentry.yaml"
    config.write_text('version: 1\ndsn: "{}"\nenvironment: staging\n'.format(sentry_server.dsn))
    os.chmod(str(config), 0o600)
    (path / "app.py").write_text(FLASK_APP)
    (path / "crash.py").write_text("raise KeyError('crash from {}'.format(__import__('sys').version[:4]))\n")
    return path


def run_app(python, project, bundle=None, script="app.py", extra=None):
    env = child_env(extra or {}, hook=False)
    if bundle:
        env["PYTHONPATH"] = bundle
    return subprocess.run([python, script], cwd=str(project), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120)


def report(result):
    assert result.stdout, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def hook_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("sentry-bootstrap:")]


def flask_error(server):
    event = server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["value"] == "boom in flask"
    assert event["environment"] == "staging"
    return event


def test_bundle_holds_the_hook_and_every_targets_modules(bundle):
    """The bundle has the hook, the package, and compiled modules for CPython 3.9-3.13 on x86_64 and
    aarch64; nothing else in it is an importable top-level name."""
    names = sorted(os.listdir(bundle))
    assert names == ["BUNDLE.json", "__pycache__", "sentry-bootstrap-deps", "sentry_bootstrap",
                     "sitecustomize.py"]
    core = os.listdir(os.path.join(bundle, "sentry-bootstrap-deps", "pydantic_core"))
    for python, arch in TARGETS:
        tag = "cpython-{}-{}-linux-gnu".format(python.replace(".", ""), arch)
        assert any(tag in name for name in core), (python, arch)
    manifest = json.loads(open(os.path.join(bundle, "BUNDLE.json")).read())
    assert {"sentry-sdk", "pydantic", "pydantic-core", "pyyaml", "urllib3", "certifi", "wrapt"} <= set(manifest["packages"])


def test_bundle_carries_bytecode_this_python_uses_as_it_is(bundle):
    """Every file of the hook and of its dependencies has checked-hash bytecode for this Python
    (the one target with an interpreter here): valid for the file as it is, whatever its times,
    so a read-only bundle compiles nothing."""
    import importlib.util

    manifest = json.loads(open(os.path.join(bundle, "BUNDLE.json")).read())
    assert "%d.%d" % sys.version_info[:2] in manifest["bytecode"]
    checked = 0
    for root, _dirs, files in os.walk(bundle):
        for name in files:
            if not name.endswith(".py") or "__pycache__" in root:
                continue
            source = os.path.join(root, name)
            with open(importlib.util.cache_from_source(source), "rb") as handle:
                header = handle.read(16)
            with open(source, "rb") as handle:
                digest = importlib.util.source_hash(handle.read())
            assert header[:4] == importlib.util.MAGIC_NUMBER, source
            assert int.from_bytes(header[4:8], "little") == 0b11, source  # checked hash
            assert header[8:16] == digest, source
            checked += 1
    assert checked > 300  # the hook, sentry_sdk, pydantic, yaml, urllib3, ...


def test_a_baked_image_starts_warm_in_a_fresh_container(bundle, project, sentry_server, tmp_path):
    """`bake` at build time (a copy of the bundle stands for the image): a process with an empty
    state directory (a new container) imports no pydantic nor yaml at all, writes no cache entry,
    and reports a crash; the entry is read-only. A process whose variables differ validates."""
    image = str(tmp_path / "image-hook")
    shutil.copytree(bundle, image)
    build_env = child_env({"XDG_STATE_HOME": str(tmp_path / "build-state"), "PYTHONPATH": image},
                          hook=False)
    baked = subprocess.run([sys.executable, "-m", "sentry_bootstrap", "bake"], cwd=str(project),
                           env=build_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
    assert baked.returncode == 0, baked.stderr
    entries = os.listdir(os.path.join(image, "sentry-bootstrap-baked"))
    assert len(entries) == 1 and baked.stdout.startswith("baked " + image)
    mode = os.stat(os.path.join(image, "sentry-bootstrap-baked", entries[0])).st_mode
    assert mode & 0o777 == 0o444

    container_state = tmp_path / "container-state"
    env = {"XDG_STATE_HOME": str(container_state), "PYTHONPATH": image}
    result = subprocess.run([sys.executable, "-X", "importtime", "crash.py"], cwd=str(project),
                            env=child_env(env, hook=False), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert "KeyError" in result.stderr
    imported = {line.rpartition("|")[2].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert not {"pydantic", "yaml", "sentry_bootstrap.config.loader"} & imported
    assert not os.path.isdir(str(container_state / "sentry-bootstrap" / "cache"))
    assert sentry_server.wait_for_events(1)[0]["exception"]["values"][-1]["type"] == "KeyError"

    other = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"], cwd=str(project),
                           env=child_env(dict(env, SENTRY_ENVIRONMENT="other"), hook=False),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=120)
    assert any(line.endswith(" pydantic") for line in other.stderr.splitlines()), other.stderr


def test_a_copied_bundle_compiles_nothing(bundle, project, sentry_server, tmp_path):
    """A copy of the bundle with new file times (as `COPY` into an image makes): the hook starts
    from it and reports a crash, and Python rewrites no bytecode file (timestamp bytecode would be
    stale here and compiled again in every process of a read-only mount)."""
    copy = str(tmp_path / "copied-hook")
    shutil.copytree(bundle, copy, copy_function=shutil.copy)  # new times

    def bytecode():
        return {os.path.join(root, name): os.stat(os.path.join(root, name)).st_mtime_ns
                for root, _dirs, files in os.walk(copy) for name in files if name.endswith(".pyc")}

    before = bytecode()
    result = run_app(sys.executable, project, copy, script="crash.py")
    assert "KeyError" in result.stderr
    assert sentry_server.wait_for_events(1)[0]["exception"]["values"][-1]["type"] == "KeyError"
    assert bytecode() == before


def test_fresh_flask_venv_reports_and_finds_nothing_of_ours(bundle, project, sentry_server):
    """A venv with only Flask, PYTHONPATH=bundle: the error reaches the server, and the program still
    can't import pydantic or yaml (the bundle lends them to the validation alone)."""
    result = run_app(app_python("flask"), project, bundle)
    out = report(result)
    assert out["status"] == 500
    assert out["seen"]["pydantic"] is None and out["seen"]["yaml"] is None
    assert out["seen"]["sentry_sdk"][1].startswith(bundle)
    flask_error(sentry_server)


def test_system_interpreter_reports_a_crash(bundle, project, sentry_server):
    """The distribution's own python3, with no packages at all, reports an uncaught exception."""
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.fail("no system interpreter at " + SYSTEM_PYTHON)
    result = run_app(SYSTEM_PYTHON, project, bundle, script="crash.py")
    assert result.returncode == 1 and "KeyError" in result.stderr
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["mechanism"]["handled"] is False


def test_pydantic1_and_pyyaml5_stay_the_programs_own(bundle, project, sentry_server):
    """CPython 3.9 with pydantic 1.10 and PyYAML 5: the program keeps them, the hook still validates
    the configuration (with the bundle's pydantic 2, for the validation alone) and reports."""
    result = run_app(app_python("legacy"), project, bundle)
    out = report(result)
    assert out["seen"]["pydantic"][0].startswith("1.10.")
    assert out["seen"]["yaml"][0].startswith("5.")
    assert not out["seen"]["pydantic"][1].startswith(bundle)
    flask_error(sentry_server)
    # Validation really ran: a misspelt key is a located error, and the program runs on.
    (project / "sentry.yaml").write_text((project / "sentry.yaml").read_text() + "sample_rat: 1\n")
    result = run_app(app_python("legacy"), project, bundle)
    assert report(result)["status"] == 500
    assert any("sentry.yaml:4" in line and "sample_rat" in line for line in hook_lines(result)), result.stderr


def test_oldest_supported_sdk_is_used_as_the_programs_own(bundle, project, sentry_server):
    """A venv with the oldest sentry-sdk pyproject.toml admits: the hook uses the program's SDK."""
    result = run_app(app_python("oldsdk"), project, bundle)
    out = report(result)
    assert out["seen"]["sentry_sdk"][1].startswith(os.path.join(APPS, "oldsdk"))
    assert hook_lines(result) == []
    flask_error(sentry_server)


def test_an_sdk_outside_the_range_leaves_the_program_alone(bundle, project, tmp_path):
    """A program whose own sentry_sdk is older than we support: one line saying what to do, and the
    program's output and exit status are its own."""
    own = tmp_path / "own" / "sentry_sdk"
    own.mkdir(parents=True)
    (own / "__init__.py").write_text('VERSION = "1.45.0"\n')
    (own / "consts.py").write_text('VERSION = "1.45.0"\n')
    env = child_env({}, hook=False)
    env["PYTHONPATH"] = os.pathsep.join([bundle, str(tmp_path / "own")])
    result = subprocess.run([app_python("flask"), "app.py"], cwd=str(project), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert report(result)["status"] == 500
    lines = hook_lines(result)
    assert len(lines) == 1 and "sentry-sdk 1.45.0 is outside the range" in lines[0], result.stderr


def test_run_from_its_own_environment_instruments_another_interpreter(project, sentry_server):
    """`sentry-bootstrap run` installed in its own environment instruments the system interpreter,
    which has none of our packages, and hands it the configuration it validated (no pydantic there)."""
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.fail("no system interpreter at " + SYSTEM_PYTHON)
    result = sentry_bootstrap("run", "--", SYSTEM_PYTHON, "-X", "importtime", "crash.py", cwd=str(project))
    assert result.returncode == 1
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["value"].startswith("'crash from 3.")
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in result.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "sentry_sdk" in imported and not imported & {"pydantic", "yaml"}


def test_run_with_a_bundle_covers_another_python(bundle, project, sentry_server):
    """CMD on CPython 3.9 (whose environment has pydantic 1.10): `run` alone says in one line to use a
    bundle, the program runs on unchanged; `run --bundle DIR` reports its error."""
    plain = sentry_bootstrap("run", "--", app_python("legacy"), "app.py", cwd=str(project))
    assert report(plain)["status"] == 500
    lines = hook_lines(plain)
    assert len(lines) == 1 and "--bundle" in lines[0], plain.stderr
    with_bundle = sentry_bootstrap("run", "--bundle", bundle, "--", app_python("legacy"), "app.py", cwd=str(project))
    assert report(with_bundle)["seen"]["pydantic"][0].startswith("1.10.")
    flask_error(sentry_server)
