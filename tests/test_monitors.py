"""`monitors.py`: slugs, schedules (crontab and interval) and which monitor a command line gets;
and the `monitors:` key through the real loader (located errors, overlays, SENTRY_MONITORS)."""
import time

import pytest

from sentry_bootstrap import monitors
from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.loader import load_config
from sentry_bootstrap.processes import ProcessInfo


@pytest.mark.parametrize("text, expected", [
    ("0 3 * * *", {"type": "crontab", "value": "0 3 * * *"}),
    ("*/15  9-17 * jan-jun MON-FRI", {"type": "crontab", "value": "*/15 9-17 * jan-jun mon-fri"}),
    ("5,35 0-23/2 1,15 * 0-7", {"type": "crontab", "value": "5,35 0-23/2 1,15 * 0-7"}),
    ("@daily", {"type": "crontab", "value": "0 0 * * *"}),
    ("@hourly", {"type": "crontab", "value": "0 * * * *"}),
    ("every 30 minutes", {"type": "interval", "value": 30, "unit": "minute"}),
    ("every hour", {"type": "interval", "value": 1, "unit": "hour"}),
    ("every 2 days", {"type": "interval", "value": 2, "unit": "day"}),
])
def test_schedules_become_the_check_in_schedule(text, expected):
    """Crontabs, their nicknames and intervals become Sentry's `monitor_config.schedule`."""
    assert monitors.parse_schedule(text) == expected


@pytest.mark.parametrize("text, says", [
    ("0 25 * * *", "field 2 (hour) '25': 25 is out of range 0-23"),
    ("0 3 * *", "5 fields"),
    ("61 * * * *", "field 1 (minute)"),
    ("0 0 0 * *", "field 3 (day of month) '0': 0 is out of range 1-31"),
    ("0 0 * foo *", "'foo' is not a number or a name"),
    ("0 0 * * */0", "the step after '/'"),
    ("0 5-1 * * *", "goes backwards"),
    ("@daly", "unknown '@daly'"),
    ("every 0 hours", "an interval is"),
    ("every 3 fortnights", "an interval is"),
    ("", "empty schedule"),
    ("* " * 200, "at most 200 characters"),
])
def test_bad_schedules_say_which_field(text, says):
    """A wrong crontab names the field, its value and the allowed range."""
    with pytest.raises(ValueError) as err:
        monitors.parse_schedule(text)
    assert says in str(err.value)


def test_slug_rules_follow_sentry():
    """Lower-case letters, digits, '-' and '_', at most 50, not only digits; a fix is suggested."""
    assert monitors.slug_problem("nightly-backup_2") is None
    assert "try 'nightly-backup'" in monitors.slug_problem("Nightly Backup")
    assert "only digits" in monitors.slug_problem("123")
    assert "50" in monitors.slug_problem("a" * 51)


def info(*argv):
    return ProcessInfo.from_command_line(list(argv))


ENTRIES = [
    {"slug": "backup", "script": "jobs/backup.py"},
    {"slug": "import", "module": "feeds.*"},
    {"slug": "reports", "console_script": "send-reports"},
    {"slug": "clear", "argv": "manage.py clearsessions"},
]


@pytest.mark.parametrize("argv, slug", [
    (("python3", "/srv/app/jobs/backup.py", "--full"), "backup"),
    (("python3", "-u", "jobs/backup.py"), "backup"),
    (("python3", "/srv/app/other/backup.py"), None),  # the pattern has two components
    (("python3", "-m", "feeds.importer"), "import"),
    (("python3", "/venv/bin/send-reports", "--daily"), "reports"),
    (("python3", "/srv/app/manage.py", "clearsessions", "-v", "2"), "clear"),
    (("python3", "manage.py", "migrate"), None),
    (("python3", "-c", "pass"), None),
])
def test_monitor_for_a_command_line(argv, slug, tmp_path, monkeypatch):
    """Script by trailing path, module and console script by glob, argv by consecutive words."""
    monkeypatch.chdir(str(tmp_path))
    found = monitors.monitor_for(info(*argv), ENTRIES)
    assert (found[1]["slug"] if found else None) == slug


def test_first_matching_entry_wins_and_says_why():
    """Entries are tried in order; the answer names the matcher."""
    entries = [{"slug": "a", "argv": "manage.py *"}, {"slug": "b", "argv": "manage.py clearsessions"}]
    index, entry, why = monitors.monitor_for(info("python", "manage.py", "clearsessions"), entries)
    assert (index, entry["slug"], why) == (0, "a", "argv 'manage.py *'")


def test_ancestors_list_is_kept_in_the_environment():
    """A reported slug is added once to the variable children read."""
    env = {}
    monitors.add_ancestor(env, "a")
    monitors.add_ancestor(env, "b")
    monitors.add_ancestor(env, "a")
    assert monitors.ancestors(env) == ["a", "b"]


def test_monitor_config_carries_every_option():
    """Schedule, time zone, margins and thresholds go into the check-in's monitor_config."""
    entry = {"slug": "x", "schedule": "every 2 hours", "timezone": "Europe/Paris",
             "checkin_margin": 5, "max_runtime": 30, "failure_issue_threshold": 2,
             "recovery_threshold": 3}
    assert monitors.monitor_config(entry) == {
        "schedule": {"type": "interval", "value": 2, "unit": "hour"}, "timezone": "Europe/Paris",
        "checkin_margin": 5, "max_runtime": 30, "failure_issue_threshold": 2,
        "recovery_threshold": 3}
    assert monitors.monitor_config({"slug": "x"}) is None


def _load(tmp_path, text, env=None, env_name=None):
    path = tmp_path / "sentry.yaml"
    path.write_text(text)
    return load_config(config_file=str(path), environ=dict(env or {}), env_name=env_name)


def test_check_reports_monitor_problems_with_their_place(tmp_path):
    """Bad slugs, crontabs, time zones and a missing matcher are located errors, all at once."""
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "version: 1\nmonitors:\n"
                        "  - slug: Nightly Backup\n    script: backup.py\n"
                        "  - slug: b\n    script: b.py\n    schedule: '0 25 * * *'\n"
                        "  - slug: c\n    argv: x\n    timezone: Europe/Pariss\n"
                        "  - slug: d\n    schedule: '@daily'\n")
    lines = [str(p).replace(str(tmp_path) + "/", "") for p in err.value.problems]
    assert any(l.endswith and ("sentry.yaml:" + "3:11: monitors.0.slug: only lower-case") for l in lines), lines
    assert any(l.endswith and ("sentry.yaml:" + "7:15: monitors.1.schedule: field 2 (hour)") for l in lines)
    assert any("monitors.2.timezone: unknown time zone 'Europe/Pariss'" in l and
               "Europe/Paris'?" in l for l in lines), lines
    assert any(l.endswith and ("sentry.yaml:" + "11:5: monitors.3: set exactly one of script") for l in lines)


def test_overlays_and_variables_set_monitors(tmp_path):
    """An overlay replaces the list; SENTRY_MONITORS (JSON) wins over both."""
    text = ("version: 1\nmonitors:\n  - {slug: base, script: a.py}\n"
            "environments:\n  production:\n    monitors:\n      - {slug: prod, script: a.py}\n")
    assert [m["slug"] for m in _load(tmp_path, text).values["monitors"]] == ["base"]
    assert [m["slug"] for m in _load(tmp_path, text, env_name="production").values["monitors"]] \
        == ["prod"]
    resolved = _load(tmp_path, text, env={"SENTRY_MONITORS": '[{"slug": "env", "argv": "x y"}]'})
    assert [m["slug"] for m in resolved.values["monitors"]] == ["env"]


def test_hostile_schedules_and_command_lines_cost_bounded_work():
    """A 1 MB schedule is refused on its length; a long command line against star-heavy argv
    patterns looks at a bounded part of it (a hang bound, not a speed target)."""
    with pytest.raises(ValueError):
        monitors.parse_schedule("* " * (1 << 19))
    argv = ["python3", "x.py"] + ["a" * 100000] * 1000
    entries = [{"slug": "h", "argv": " ".join(["*a*a*a*a*a*a*b"] * 8)}] * 20
    started = time.perf_counter()
    assert monitors.monitor_for(info(*argv), entries) is None
    assert time.perf_counter() - started < 15.0


def test_the_crons_page_example_is_valid(tmp_path):
    """The YAML example of docs/crons.md loads, in its base keys and its staging overlay."""
    import os
    import re

    page = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                        "crons.md")
    with open(page, encoding="utf-8") as handle:
        example = re.search(r"```yaml\n(.*?)```", handle.read(), re.S).group(1)
    assert [m["slug"] for m in _load(tmp_path, example).values["monitors"]] == [
        "clear-sessions", "nightly-backup", "feed-import", "reports"]
    assert _load(tmp_path, example, env_name="staging").values["monitors"] == []
