"""The README a newcomer reads: short, its YAML examples valid, its sample output real, and the
demo's echoed commands work when copied into a fresh shell (issue 15, point 6)."""
import os
import re
import subprocess

import pytest

from tests.cli.helpers import cli, write_config
from tests.support.child import ROOT

README = os.path.join(ROOT, "README.md")


def _readme():
    with open(README, encoding="utf-8") as handle:
        return handle.read()


def _yaml_blocks():
    return re.findall(r"```yaml\n(.*?)```", _readme(), re.S)


def test_readme_is_under_15_kb_and_links_the_reference():
    """The README stays short: under 15 KB, with the key reference in docs/ and linked."""
    assert len(_readme().encode("utf-8")) < 15 * 1024
    assert "(docs/configuration.md)" in _readme()
    assert os.path.isfile(os.path.join(ROOT, "docs", "configuration.md"))
    assert "config-reference:start" not in _readme()


@pytest.mark.parametrize("index", range(len(_yaml_blocks())))
def test_yaml_examples_pass_check_all_environments(tmp_path, index):
    """Each YAML example of the README, as written, passes `check --all-environments`."""
    write_config(tmp_path, _yaml_blocks()[index])
    proc = cli("check", "--all-environments", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def _demo(env=None):
    run_env = dict(os.environ, SENTRY_BOOTSTRAP_DEMO_NO_SETUP="1", **(env or {}))
    for name in ("SENTRY_DSN", "XDG_STATE_HOME", "PYTHONPATH", "SENTRY_BOOTSTRAP_LOG"):
        run_env.pop(name, None)
    return subprocess.run(["bash", os.path.join(ROOT, "scripts", "demo")], env=run_env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=180)


def test_demo_commands_work_when_copied_and_the_readme_shows_real_output(tmp_path):
    """The demo's `$` lines, pasted into a fresh shell with a bare PATH, print the same events; the
    README's transcript has the program's real lines and start-up line (paths aside)."""
    demo = _demo()
    assert demo.returncode == 0, demo.stdout
    commands = [line[2:] for line in demo.stdout.splitlines() if line.startswith("$ ")]
    assert commands[0].startswith("cd ") and "XDG_STATE_HOME" in commands[1]
    shell = subprocess.run(["bash", "-c", "set -e\n" + "\n".join(commands[:2]) + "\n" +
                            commands[2] + " || true\n" + "\n".join(commands[3:])],
                           env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=120)
    assert shell.returncode == 0, shell.stdout
    # The same outbox as the demo's: its event, and the one the copied command added.
    listed = [l for l in shell.stdout.splitlines() if "ZeroDivisionError: division by zero  [" in l]
    assert len(listed) == 2, shell.stdout
    assert "2 items in {}/.state/sentry-bootstrap/outbox".format(ROOT) in shell.stdout

    readme = _readme().replace("~/sentry-bootstrap", ROOT)
    for line in demo.stdout.splitlines():
        if line.startswith(("order A-", "WARNING orders", "$ ")):
            # `events show ID` names the event the demo just captured: any id will do.
            shown = re.sub(r"events show [0-9a-f]{8}$", "events show ", line)
            assert shown in re.sub(r"events show [0-9a-f]{8}\b", "events show ", readme), line
        if line.startswith("sentry-bootstrap: active:"):
            shape = re.sub(r"release=\w+|took=[\d.]+ms", "", line)
            shown = [l for l in readme.splitlines() if l.startswith("sentry-bootstrap: active:")]
            assert [re.sub(r"release=\w+|took=[\d.]+ms", "", l) for l in shown] == [shape]
