"""Every command from a bundle alone: `PYTHONPATH=BUNDLE python3 -m sentry_bootstrap ...` in the
system interpreter, which has none of our packages (no pydantic, no sentry_sdk), with a real bundle
built from the wheelhouse; the bundle lends the command pydantic and yaml as it lends them to the
hook. Without a bundle, a command says in one line what is missing and what to do."""
import os
import platform
import re
import subprocess

import pytest

from tests.cli.test_bundle import SYSTEM_PYTHON, build_bundle
from tests.support.child import HOOK_DIR


def _system_python():
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.fail("no system interpreter at " + SYSTEM_PYTHON)
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2]); import pydantic"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env={})
    assert probe.returncode == 1 and "No module named 'pydantic'" in probe.stderr, \
        "these tests need an interpreter without pydantic: " + SYSTEM_PYTHON
    return probe.stdout.strip()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A bundle for the system interpreter's Python and this machine, built offline from the wheelhouse."""
    return build_bundle(tmp_path_factory, "--python", _system_python(), "--platform", platform.machine())


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "project"
    path.mkdir()
    config = path / "sentry.yaml"
    config.write_text("version: 1\nenvironment: staging\nenvironments:\n  production:\n    sample_rate: 0.5\n")
    os.chmod(str(config), 0o600)
    (path / "crash.py").write_text("def divide(a, b):\n    return a / b\n\ndivide(1, 0)\n")
    return path


def _bare(python_path, project, state, extra=None):
    """The environment of a host with only the bundle: a bare PATH, PYTHONPATH the bundle."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(state), "XDG_STATE_HOME": str(state), "PYTHONPATH": python_path}
    env.update(extra or {})
    return env


def _python3(args, project, env):
    return subprocess.run([SYSTEM_PYTHON] + list(args), cwd=str(project), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120)


def test_events_check_and_explain_work_from_a_bundle_alone(bundle, project, tmp_path):
    """A crash under the bundled hook lands in the outbox; `python3 -m sentry_bootstrap events`,
    `events show`, `check --all-environments` and `explain` read it and the config with the bundle's
    pydantic and yaml."""
    env = _bare(bundle, project, tmp_path / "state")
    crash = _python3(["crash.py"], project, env)
    assert crash.returncode == 1 and "ZeroDivisionError" in crash.stderr
    assert "sentry-bootstrap:" not in crash.stderr, crash.stderr
    listed = _python3(["-m", "sentry_bootstrap", "events"], project, env)
    assert listed.returncode == 0, listed.stderr
    line = listed.stdout.splitlines()[0]
    assert "ZeroDivisionError: division by zero  [environment=staging" in line
    shown = _python3(["-m", "sentry_bootstrap", "events", "show", line.split()[0]], project, env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("ERROR  ZeroDivisionError: division by zero\n")
    assert 'crash.py", line 2, in divide' in shown.stdout
    checked = _python3(["-m", "sentry_bootstrap", "check", "--all-environments"], project, env)
    assert checked.returncode == 0, checked.stderr
    assert "production" in checked.stdout
    explained = _python3(["-m", "sentry_bootstrap", "explain", "environment"], project, env)
    assert explained.returncode == 0 and "staging" in explained.stdout, explained.stderr


def test_doctor_and_test_reach_a_server_from_a_bundle_alone(bundle, project, tmp_path, sentry_server):
    """`doctor` passes and `test` delivers a real event to the server, from the bundle alone."""
    env = _bare(bundle, project, tmp_path / "state", {"SENTRY_DSN": sentry_server.dsn})
    doctor = _python3(["-m", "sentry_bootstrap", "doctor"], project, env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    sent = _python3(["-m", "sentry_bootstrap", "test"], project, env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert any(e.get("message") or e.get("logentry") for e in sentry_server.wait_for_events(1))


def test_without_a_bundle_a_command_says_what_is_missing_once(project, tmp_path):
    """The package alone on PYTHONPATH (a checkout, no dependencies): each command that validates
    the configuration exits 1 with one line naming what is missing, the interpreter and the fix."""
    env = _bare(HOOK_DIR, project, tmp_path / "state")
    for command in (["check"], ["events"], ["test"]):
        done = _python3(["-m", "sentry_bootstrap"] + command, project, env)
        assert (done.returncode, done.stdout) == (1, ""), done.stderr
        # PyYAML is named too when the system's is older than 6.0.1 (Debian 12 ships 6.0).
        assert re.fullmatch(
            r"sentry-bootstrap {}: no pydantic>=2\.6( and PyYAML>=6\.0\.1)? \(to validate sentry\.yaml\) in "
            r"this interpreter \({}\); install sentry-bootstrap into its environment, or put a bundle on "
            r"PYTHONPATH \(`sentry-bootstrap bundle DIR`\)\n".format(command[0], re.escape(SYSTEM_PYTHON)),
            done.stderr), done.stderr


def test_init_from_a_bundle_prints_next_steps_that_work_in_a_fresh_shell(bundle, tmp_path):
    """`init` run as `python3 -m sentry_bootstrap` from the bundle prints its next step with the
    interpreter and the bundle's PYTHONPATH, and that line, pasted into a bare shell, passes."""
    where = tmp_path / "fresh"
    where.mkdir()
    env = _bare(bundle, where, tmp_path / "state")
    done = _python3(["-m", "sentry_bootstrap", "init"], where, env)
    assert done.returncode == 0, done.stderr
    step = done.stdout.splitlines()[1]
    assert step == "next: PYTHONPATH={} {} -m sentry_bootstrap check --all-environments".format(bundle, SYSTEM_PYTHON)
    pasted = subprocess.run(["bash", "-c", step[len("next: "):]], cwd=str(where), env={"PATH": "/usr/bin:/bin"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert pasted.returncode == 0 and pasted.stdout.startswith("ok: sentry.yaml"), pasted.stderr
