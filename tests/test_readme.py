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
    # PYTHONUNBUFFERED too: the demo itself must keep the program's lines in order in a pipe.
    for name in ("SENTRY_DSN", "XDG_STATE_HOME", "PYTHONPATH", "SENTRY_BOOTSTRAP_LOG", "PYTHONUNBUFFERED"):
        run_env.pop(name, None)
    return subprocess.run(["bash", os.path.join(ROOT, "scripts", "demo")], env=run_env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=180)


def _transcripts():
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo_transcript", os.path.join(ROOT, "scripts", "demo_transcript.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo():
    done = _demo()
    assert done.returncode == 0, done.stdout
    return done.stdout


def test_demo_commands_work_when_copied(tmp_path, demo):
    """The demo's `$` lines, pasted into a fresh shell with a bare PATH, print the same events."""
    commands = [line[2:] for line in demo.splitlines() if line.startswith("$ ")]
    assert commands[0].startswith("cd ") and "XDG_STATE_HOME" in commands[1]
    assert commands[-1].endswith("/sentry-bootstrap events show")  # the newest: no id to parse
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
    assert "\nERROR  ZeroDivisionError: division by zero\n  id           {}".format(listed[-1].split()[0]) in shell.stdout


def test_the_readme_transcript_is_a_fresh_demo_run(demo):
    """The README's transcript is what `bash scripts/demo` prints now (shortened as
    scripts/demo_transcript.py shortens it), apart from times, ids, durations and paths."""
    transcripts = _transcripts()
    shown = transcripts.readme_transcript(_readme())
    assert shown is not None, "README.md has no demo transcript markers"
    fresh = transcripts.excerpt(transcripts.normalized(demo, ROOT))
    assert transcripts.masked(shown).splitlines() == transcripts.masked(fresh).splitlines(), \
        "README.md's demo transcript is out of date: run `bash scripts/demo --readme`"


def test_the_transcript_check_sees_every_difference_but_times_ids_and_paths():
    """The comparison masks only times, ids, hashes, durations and paths: a changed word, number or
    line of output still differs."""
    transcripts = _transcripts()
    shown = transcripts.readme_transcript(_readme())
    masked = transcripts.masked(shown)
    assert transcripts.masked(shown.replace("2026-", "2031-").replace("/.venv/", "/venv2/")) == masked
    for before, after in (("total 17.00", "total 17.50"), ("sdk started on", "sdk began on"),
                          ("division by zero", "division by nil"), ("tier     dev", "tier     prod"),
                          ("dsn=outbox", "dsn=https")):
        assert before in shown, before
        assert transcripts.masked(shown.replace(before, after, 1)) != masked, before
    assert transcripts.masked(shown.replace("WARNING orders: order A-1003 has no items\n", "", 1)) != masked


def test_a_demo_rerun_installs_nothing_that_is_there(tmp_path):
    """scripts/setup (which every `scripts/demo` runs first) calls pip the first time, not on a
    re-run, and again once pyproject.toml changes. Run on a copy of the checkout whose .venv python
    records what it is asked to do."""
    import shutil

    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / "examples").mkdir()
    shutil.copy(os.path.join(ROOT, "scripts", "setup"), str(checkout / "scripts" / "setup"))
    shutil.copy(os.path.join(ROOT, "pyproject.toml"), str(checkout / "pyproject.toml"))
    for name in ("sentry.yaml", "examples/sentry.yaml"):
        (checkout / name).write_text("version: 1\n")
    calls = tmp_path / "calls"
    python = checkout / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\necho \"$*\" >> {}\n".format(calls))
    python.chmod(0o755)

    def setup():
        done = subprocess.run(["bash", str(checkout / "scripts" / "setup")], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        assert done.returncode == 0, done.stdout
        made = calls.read_text().splitlines() if calls.exists() else []
        if calls.exists():
            calls.unlink()
        return made

    assert "-m pip install --quiet -e ." in setup()
    assert setup() == []  # the re-run: nothing to install
    with open(str(checkout / "pyproject.toml"), "a") as handle:
        handle.write("\n# changed\n")
    assert "-m pip install --quiet -e ." in setup()


def test_the_tests_section_says_what_scripts_test_installs_and_runs():
    """The README's Tests section names each Debian package scripts/setup installs, bugsink, that it
    needs root or sudo and how long the suite takes; and it claims the version matrix is part of
    `scripts/test` only if scripts/test runs scripts/matrix.py."""
    lines = _readme().split("## Tests", 1)[1]
    section = " ".join(lines.split())
    with open(os.path.join(ROOT, "scripts", "setup")) as handle:
        setup = handle.read()
    debian = set(re.findall(r"missing\+=\((\S+)\)", setup)) | set(re.findall(r"for tool in ([^;]+);", setup)[0].split())
    for package in sorted(debian - {"openssl", "git", '"$tool"'}) + ["bugsink"]:
        assert "`{}`".format(package) in section or package in section, package
    assert "root or sudo" in section and re.search(r"about \d+ minutes on 2 cores", section)
    with open(os.path.join(ROOT, "scripts", "test")) as handle:
        runs_matrix = re.search(r"^[^#\n]*matrix\.py", handle.read(), re.M) is not None
    claims = re.search(r"^bash scripts/test [^\n]*matrix", lines, re.M) is not None
    assert claims == runs_matrix, "the README's Tests section and scripts/test disagree about the matrix"
