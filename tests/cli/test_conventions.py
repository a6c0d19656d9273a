"""CLI conventions shared by every command: no traceback on a closed pipe, problems in file order,
accurate help texts, exit codes (0 fine, 1 failed or waiting, 2 usage error)."""
import os
import subprocess
import sys

import pytest

from tests.cli.helpers import cli, write_config
from tests.support.child import ROOT, child_env

COMMANDS = [["schema"], ["explain"], ["explain", "--json"], ["check"], ["events"],
            ["events", "--json"], ["doctor", "--json"], ["doctor"], ["hook-path"], ["spool", "status"],
            ["init", "--path", "new.yaml"], ["--help"], ["explain", "--help"]]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_closed_pipe_ends_quietly(tmp_path, argv):
    """Every command writing into a pipe whose reader has gone (`doctor --json | head`) ends
    without a traceback or a message on stderr."""
    write_config(tmp_path, "version: 1\n")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        proc = subprocess.run([sys.executable, "-m", "sentry_bootstrap"] + argv, cwd=str(tmp_path),
                              env=child_env({"PYTHONPATH": ROOT}, hook=False), stdout=write_end,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1, 141), proc.stderr


def test_problems_are_listed_in_file_order(tmp_path):
    """Problems found in different passes (a placeholder, then validation) come out by line."""
    write_config(tmp_path, """\
        version: 1
        sample_rate: lots
        dist: "${MISSING:?set MISSING}"
        max_breadcrumbs: -1
        server_name: "${ALSO_MISSING:?set ALSO_MISSING}"
        """)
    proc = cli("check", cwd=tmp_path)
    assert proc.returncode == 1
    lines = [int(l.split(":")[1]) for l in proc.stderr.splitlines()]
    assert lines == [2, 3, 4, 5], proc.stderr


def test_explain_help_describes_env_as_the_active_environment(tmp_path):
    """`explain --help` says what --env does: choose the environment, whose overlay applies if any."""
    proc = cli("explain", "--help", cwd=tmp_path)
    text = " ".join(proc.stdout.split())
    assert proc.returncode == 0
    assert "--env NAME the active environment: its overlay, if the file has one, applies" in text
    assert "validate" not in text


def test_usage_error_exits_2(tmp_path):
    """An unknown command or flag is a usage error: exit 2, for every command."""
    assert cli("no-such-command", cwd=tmp_path).returncode == 2
    assert cli("check", "--no-such-flag", cwd=tmp_path).returncode == 2
    assert cli("explain", "no.such.key", cwd=tmp_path).returncode == 2


def test_configuration_errors_exit_1_in_every_command(tmp_path):
    """A broken configuration is a failed check (exit 1) for check, explain, test and spool, never
    the usage-error code 2."""
    write_config(tmp_path, "version: 1\nsample_rate: lots\n")
    for argv in (["check"], ["explain"], ["test"], ["spool", "status"]):
        proc = cli(*argv, cwd=tmp_path)
        assert proc.returncode == 1, (argv, proc.stderr)
        assert "sample_rate" in proc.stderr
