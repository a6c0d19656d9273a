"""`sentry-bootstrap init`: an annotated 0600 starter that passes check, never overwritten by accident."""
import os
import stat

from tests.cli.helpers import cli


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_init_writes_a_private_starter_that_passes_check(tmp_path):
    """init writes ./sentry.yaml with mode 0600 and the schema modeline first; check passes on it."""
    proc = cli("init", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    target = tmp_path / "sentry.yaml"
    assert proc.stdout.splitlines()[0] == "wrote sentry.yaml (mode 0600)"
    assert mode(target) == 0o600
    text = target.read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=./sentry.schema.json"
    assert "sentry-bootstrap schema > sentry.schema.json" in text
    check = cli("check", "--all-environments", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout == ("ok: sentry.yaml (environment development)\n"
                            "ok: sentry.yaml (environment production)\n")
    assert check.stderr == ""


def test_init_refuses_to_overwrite_without_force(tmp_path):
    """An existing file is left untouched and init exits 1 with a message naming --force."""
    target = tmp_path / "sentry.yaml"
    target.write_text("version: 1  # mine\n")
    proc = cli("init", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == ("error: sentry.yaml already exists; not overwritten "
                           "(use --force to replace it)\n")
    assert target.read_text() == "version: 1  # mine\n"


def test_init_force_replaces_the_file_with_mode_0600(tmp_path):
    """--force replaces an existing (world-readable) file with the starter, mode 0600."""
    target = tmp_path / "sentry.yaml"
    target.write_text("version: 1  # mine\n")
    os.chmod(str(target), 0o644)
    proc = cli("init", "--force", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "# mine" not in target.read_text()
    assert mode(target) == 0o600
    assert sorted(os.listdir(str(tmp_path))) == ["sentry.yaml"]  # no temporary file left behind


def test_init_path_option_accepts_a_file_or_a_directory(tmp_path):
    """--path names the file to write, or a directory that gets sentry.yaml inside."""
    (tmp_path / "conf").mkdir()
    assert cli("init", "--path", "conf", cwd=tmp_path).returncode == 0
    assert (tmp_path / "conf" / "sentry.yaml").is_file()
    assert cli("init", "--path", "other.yaml", cwd=tmp_path).returncode == 0
    assert mode(tmp_path / "other.yaml") == 0o600
    proc = cli("check", "--config", "other.yaml", cwd=tmp_path)
    assert proc.stdout == "ok: other.yaml (environment development)\n", proc.stderr


def _next_steps(out):
    return [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith(("next: ", "editor completion: "))]


def test_next_steps_work_as_printed_from_a_venv_that_is_not_on_path(tmp_path):
    """Run as `.venv/bin/sentry-bootstrap init` with the venv not on PATH (the README's way), the
    printed next steps name that command by its full path, and pasted into a bare shell they work."""
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(sys.executable), "sentry-bootstrap")
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run([script, "init"], cwd=str(tmp_path), env=bare, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert done.returncode == 0, done.stderr
    steps = _next_steps(done.stdout)
    assert steps == ["{} check --all-environments".format(script),
                     "{} schema > sentry.schema.json".format(script)]
    for step in steps:
        pasted = subprocess.run(["bash", "-c", step], cwd=str(tmp_path), env=bare, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        assert pasted.returncode == 0, (step, pasted.stderr)
    assert (tmp_path / "sentry.schema.json").stat().st_size > 1000


def test_next_steps_of_a_module_run_name_the_interpreter_and_another_file(tmp_path):
    """`python -m sentry_bootstrap init --path conf/app.yaml`: the next step is the same interpreter
    with `-m sentry_bootstrap`, and names the file, since `check` looks for ./sentry.yaml."""
    import subprocess
    import sys

    (tmp_path / "conf").mkdir()
    proc = cli("init", "--path", "conf/app.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    step = _next_steps(proc.stdout)[0]
    assert step == "{} -m sentry_bootstrap check --all-environments --config conf/app.yaml".format(sys.executable)
    pasted = subprocess.run(["bash", "-c", step], cwd=str(tmp_path), env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert pasted.returncode == 0 and "ok: conf/app.yaml" in pasted.stdout, pasted.stderr
