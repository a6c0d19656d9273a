"""`explain --monitor-for -- CMD`: which `monitors:` entry a command line would report to."""
import json

from tests.cli.helpers import cli, write_config

CONFIG = """\
    version: 1
    monitors:
      - slug: clear-sessions
        argv: manage.py clearsessions
        schedule: "0 3 * * *"
        timezone: Europe/Paris
      - slug: backup
        script: jobs/backup.py
    """


def test_matching_command_names_the_entry_its_source_and_monitor_config(tmp_path):
    """The first matching entry, why it matched, where it was set and what the check-ins carry."""
    write_config(tmp_path, CONFIG)
    result = cli("explain", "--monitor-for", "--", "python3", "manage.py", "clearsessions",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("monitor: clear-sessions (monitors.0, matched by argv "
                        "'manage.py clearsessions'; sentry.yaml:3:5)")
    assert json.loads(lines[1].split(": ", 1)[1]) == {
        "schedule": {"type": "crontab", "value": "0 3 * * *"}, "timezone": "Europe/Paris"}


def test_a_script_without_interpreter_is_read_as_python_runs_it(tmp_path):
    """`./jobs/backup.py` (a shebang) is matched as `python ./jobs/backup.py`; --json form."""
    write_config(tmp_path, CONFIG)
    result = cli("explain", "--json", "--monitor-for", "--", "./jobs/backup.py", "--full",
                 cwd=tmp_path)
    answer = json.loads(result.stdout)
    assert (result.returncode, answer["monitor"], answer["matched_by"]) == \
        (0, "backup", "script 'jobs/backup.py'")
    assert answer["monitor_config"] is None


def test_no_match_and_excluded_processes_exit_1(tmp_path):
    """No entry matches, or the hook is off for that program (a test runner): exit 1 with why."""
    write_config(tmp_path, CONFIG)
    result = cli("explain", "--monitor-for", "--", "python", "manage.py", "migrate", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("no monitor: none of the 2 `monitors:` entries matches")
    result = cli("explain", "--monitor-for", "--", "pytest", "manage.py", "clearsessions",
                 cwd=tmp_path)
    assert result.returncode == 1 and "excluded by default rule 'pytest'" in result.stdout


def test_a_command_line_needs_monitor_for(tmp_path):
    """Words after KEY without --monitor-for are a usage error."""
    write_config(tmp_path, CONFIG)
    assert cli("explain", "dsn", "extra", cwd=tmp_path).returncode == 2
