"""The sitecustomize hook in real child interpreters, sending through the real SDK transport to a
real HTTP server on 127.0.0.1."""
import json
import os
import subprocess
import sys

from tests.support.app import base_config
from tests.support.child import ROOT, run_python

HEAVY = ("sentry_sdk", "pydantic", "yaml")

CRASH = """\
import sys
print("line one")
sys.stdout.write("no newline at the end")
def charge(amount):
    return amount / 0
charge(10)
"""

SHOW_MODULES = """\
import json, sys
names = ("sentry_sdk", "pydantic", "yaml", "django", "flask", "fastapi", "celery", "sqlalchemy")
sys.stderr.write("MODULES=" + json.dumps([n for n in names if n in sys.modules]) + "\\n")
"""


def modules_of(result):
    line = [l for l in result.stderr.splitlines() if l.startswith("MODULES=")][-1]
    return set(json.loads(line[len("MODULES="):]))


def hook_lines(result):
    return [l for l in result.stderr.splitlines() if l.startswith("sentry-bootstrap:")]


def test_crashing_script_sends_event_with_overlay_release_and_tags(app, sentry_server):
    """A script that prints and raises keeps stdout and exit code, and its error arrives with the
    overlay's environment, the repository's git release and the static tags."""
    app.config(base_config(sentry_server.dsn))
    app.write("crash.py", CRASH)
    hooked = run_python(["crash.py"], cwd=str(app.path))
    plain = run_python(["crash.py"], cwd=str(app.path), hook=False)

    assert hooked.stdout == plain.stdout == "line one\nno newline at the end"
    assert hooked.returncode == plain.returncode == 1
    assert hook_lines(hooked) == []
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["type"] == "ZeroDivisionError"
    assert event["environment"] == "staging"
    assert event["release"] == app.sha
    assert event["tags"]["team"] == "payments" and event["tags"]["tier"] == "web"


def test_environment_variable_selects_the_overlay(app, sentry_server):
    """SENTRY_ENVIRONMENT picks the production overlay over the file's environment."""
    app.config(base_config(sentry_server.dsn))
    app.write("crash.py", CRASH)
    run_python(["crash.py"], cwd=str(app.path), env={"SENTRY_ENVIRONMENT": "production"})
    assert sentry_server.wait_for_events(1)[0]["environment"] == "production"


def test_broken_yaml_keeps_the_program_running(app):
    """A broken file: the program runs with its exit code, and stderr has one hook line."""
    app.config("version: 1\ndsn: [unclosed\n")
    app.write("ok.py", "print('fine')\nraise SystemExit(3)\n")
    result = run_python(["ok.py"], cwd=str(app.path))
    assert result.stdout == "fine\n"
    assert result.returncode == 3
    lines = hook_lines(result)
    assert len(lines) == 1 and "sentry.yaml" in lines[0], result.stderr


def test_strict_mode_refuses_to_start_with_exit_78(app):
    """SENTRY_BOOTSTRAP_STRICT=1 with a bad file exits 78 before the program runs."""
    app.config("version: 1\nsample_rate: lots\n")
    app.write("ok.py", "print('should not run')\n")
    result = run_python(["ok.py"], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_STRICT": "1"})
    assert result.returncode == 78
    assert result.stdout == ""
    assert "sample_rate" in result.stderr and "strict" in result.stderr


def test_strict_key_in_file_refuses_to_start(app):
    """`strict: true` in the file has the same effect as the variable."""
    app.config("version: 1\nstrict: true\nsample_rate: lots\n")
    app.write("ok.py", "print('should not run')\n")
    assert run_python(["ok.py"], cwd=str(app.path)).returncode == 78


def test_disabled_by_variable_imports_nothing_heavy(app, sentry_server):
    """SENTRY_BOOTSTRAP_DISABLED=1: none of sentry_sdk, pydantic, yaml is imported."""
    app.config(base_config(sentry_server.dsn))
    app.write("show.py", SHOW_MODULES)
    result = run_python(["show.py"], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_DISABLED": "1"})
    assert modules_of(result).isdisjoint(HEAVY)


def test_disabled_in_file_imports_nothing_heavy(app):
    """`enabled: false`: none of sentry_sdk, pydantic, yaml is imported."""
    app.config("version: 1\nenabled: false\ndsn: http://k@127.0.0.1:9/1\n")
    app.write("show.py", SHOW_MODULES)
    assert modules_of(run_python(["show.py"], cwd=str(app.path))).isdisjoint(HEAVY)


def imported_by_importtime(result):
    """Top-level module names `-X importtime` saw imported, hook included."""
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_excluded_process_imports_nothing_heavy(app, sentry_server):
    """`python -m venv` is excluded by default: the hook imports none of the heavy modules."""
    app.config(base_config(sentry_server.dsn))
    result = run_python(["-X", "importtime", "-m", "venv", "--help"], cwd=str(app.path))
    assert result.returncode == 0
    seen = imported_by_importtime(result)
    assert "sentry_bootstrap" in seen  # the hook did run
    assert seen.isdisjoint(HEAVY)


def test_excluded_by_config_rule_imports_nothing_heavy_with_a_warm_cache(app, sentry_server):
    """A `processes.exclude` rule: after the first start has cached the config, nothing heavy."""
    app.config(base_config(sentry_server.dsn, "processes:\n  exclude: ['show.py']\n"))
    app.write("show.py", SHOW_MODULES)
    run_python(["show.py"], cwd=str(app.path))
    assert modules_of(run_python(["show.py"], cwd=str(app.path))).isdisjoint(HEAVY)


def test_plain_script_imports_no_framework(app, sentry_server):
    """With Django, Flask, FastAPI, Celery and SQLAlchemy installed, a plain script imports none,
    even with the SDK started at interpreter start."""
    app.config(base_config(sentry_server.dsn, "sdk_start: eager\n"))
    app.write("show.py", SHOW_MODULES)
    result = run_python(["show.py"], cwd=str(app.path))
    imported = modules_of(result)
    assert "sentry_sdk" in imported
    assert imported.isdisjoint({"django", "flask", "fastapi", "celery", "sqlalchemy"})


def test_script_importing_flask_gets_the_flask_integration(app, sentry_server):
    """The Flask integration is set up when the script imports flask, not before."""
    app.config(base_config(sentry_server.dsn))
    app.write("flaskapp.py", """\
        import sentry_sdk
        before = sentry_sdk.get_client().get_integration("flask")
        import flask
        after = sentry_sdk.get_client().get_integration("flask")
        print(before is None, after is not None)
    """)
    result = run_python(["flaskapp.py"], cwd=str(app.path))
    assert result.stdout.strip() == "True True", result.stderr


def test_startup_report_at_info(app, sentry_server):
    """SENTRY_BOOTSTRAP_LOG=info prints one line with environment, release and its source, the
    masked DSN, the integrations with reasons, the config file and the time taken (after the line
    saying why the SDK started at once)."""
    app.config(base_config(sentry_server.dsn, "integrations:\n  disabled: [sqlalchemy]\n"
                           "sdk_start: eager\n"))
    app.write("ok.py", "pass\n")
    result = run_python(["ok.py"], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "info"})
    lines = hook_lines(result)
    assert len(lines) == 2, result.stderr
    assert lines[0] == "sentry-bootstrap: sdk starts at once: sdk_start: eager"
    line = lines[1]
    assert "environment=staging" in line
    assert "release={} (git (HEAD at".format(app.sha) in line
    assert "dsn=http://***@127.0.0.1:{}/1".format(sentry_server.port) in line
    assert "public@" not in line
    assert "enabled=[argv,atexit,dedupe,excepthook,logging,modules,stdlib,threading (default)]" in line
    assert "flask (on import of flask)" in line and "django (on import of django)" in line
    assert "sqlalchemy (disabled in config)" in line
    assert "config={}".format(app.path / "sentry.yaml") in line
    assert "took=" in line and line.rstrip().endswith("ms")


def test_startup_report_at_debug_gives_every_source(app, sentry_server):
    """SENTRY_BOOTSTRAP_LOG=debug adds where each value came from, when the SDK starts."""
    app.config(base_config(sentry_server.dsn))
    app.write("ok.py", "import sentry_sdk\n")
    result = run_python(["ok.py"], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "debug"})
    assert any(l.startswith("sentry-bootstrap: dsn from sentry.yaml") or
               ("dsn from" in l and "sentry.yaml:2" in l) for l in hook_lines(result)), result.stderr


def test_users_own_sitecustomize_still_runs(app, tmp_path, sentry_server):
    """A sitecustomize shadowed by the hook's still runs."""
    app.config(base_config(sentry_server.dsn))
    user_dir = tmp_path / "usersite"
    user_dir.mkdir()
    (user_dir / "sitecustomize.py").write_text("import os\nos.environ['USER_SITECUSTOMIZE'] = 'ran'\n")
    app.write("ok.py", "import os\nprint(os.environ.get('USER_SITECUSTOMIZE'))\n")
    result = run_python(["ok.py"], cwd=str(app.path), env={"PYTHONPATH": str(user_dir)})
    assert result.stdout == "ran\n", result.stderr


def test_users_own_sitecustomize_package_and_the_entry_after_it_still_run(app, tmp_path, sentry_server):
    """The shadowed sitecustomize is found by a few stats per path entry: a package of that name is
    found too, and the first one after the hook's wins, as site would pick it."""
    app.config(base_config(sentry_server.dsn))
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "sitecustomize").mkdir(parents=True)
    (first / "sitecustomize" / "__init__.py").write_text("import os\nos.environ['USER_SC'] = 'package'\n")
    second.mkdir()
    (second / "sitecustomize.py").write_text("import os\nos.environ['USER_SC'] = 'second'\n")
    app.write("ok.py", "import os\nprint(os.environ.get('USER_SC'))\n")
    result = run_python(["ok.py"], cwd=str(app.path),
                        env={"PYTHONPATH": os.pathsep.join([str(tmp_path / "missing"), str(first), str(second)])})
    assert result.stdout == "package\n", result.stderr


def test_application_init_wins_and_nothing_is_sent_twice(app, sentry_server):
    """An application calling sentry_sdk.init itself: one event, not two, and one warning."""
    app.config(base_config(sentry_server.dsn))
    app.write("own_init.py", """\
        import sentry_sdk
        sentry_sdk.init(dsn="{dsn}", environment="app-chosen")
        sentry_sdk.capture_message("from the app")
        sentry_sdk.flush()
    """.format(dsn=sentry_server.dsn))
    result = run_python(["own_init.py"], cwd=str(app.path))
    assert result.returncode == 0, result.stderr
    # The child has exited: whatever it sent was answered, and the server records a request before it
    # answers, so nothing else can arrive.
    events = sentry_server.events
    assert len(events) == 1
    assert events[0]["environment"] == "app-chosen"
    warnings = [l for l in hook_lines(result) if "sentry_sdk.init itself" in l]
    assert len(warnings) == 1


def test_no_dsn_writes_to_the_outbox_and_events_lists_it(app):
    """Without a DSN the event lands in the local outbox, and `events --json` shows it."""
    app.config("version: 1\nenvironment: demo\n")
    app.write("crash.py", CRASH)
    result = run_python(["crash.py"], cwd=str(app.path))
    assert result.returncode == 1
    listed = run_python(["-m", "sentry_bootstrap", "events", "--json"], cwd=str(app.path))
    assert listed.returncode == 0, listed.stderr
    events = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(events) == 1
    assert events[0]["title"].startswith("ZeroDivisionError")
    assert events[0]["environment"] == "demo"
    assert events[0]["release"] == app.sha


def test_warm_cache_start_imports_neither_pydantic_nor_yaml(app, sentry_server):
    """The first start validates and caches, leaving neither pydantic nor yaml imported behind it;
    every later start doesn't import them at all, even with the SDK started at interpreter start."""
    app.config(base_config(sentry_server.dsn, "sdk_start: eager\n"))
    app.write("show.py", SHOW_MODULES)
    cold_run = run_python(["-X", "importtime", "show.py"], cwd=str(app.path))
    warm_run = run_python(["-X", "importtime", "show.py"], cwd=str(app.path))
    assert {"pydantic", "yaml"} <= imported_by_importtime(cold_run)  # the first start did validate
    assert modules_of(cold_run).isdisjoint({"pydantic", "yaml"})  # and left nothing behind
    assert "sentry_sdk" in modules_of(warm_run)
    assert imported_by_importtime(warm_run).isdisjoint({"pydantic", "yaml"})


def test_edited_file_is_read_again(app, sentry_server):
    """After an edit the cache is not used: the new value applies at the next start."""
    app.config(base_config(sentry_server.dsn))
    app.write("crash.py", CRASH)
    run_python(["crash.py"], cwd=str(app.path))
    app.config(base_config(sentry_server.dsn).replace("environment: staging", "environment: production"))
    run_python(["crash.py"], cwd=str(app.path))
    events = sentry_server.wait_for_events(2)
    assert [e["environment"] for e in events] == ["staging", "production"]


def test_before_send_from_a_module_path_is_applied(app, sentry_server):
    """`before_send: hooks_mod:mark` imports the function and the SDK runs it on every event."""
    app.config(base_config(sentry_server.dsn, "before_send: hooks_mod:mark\n"))
    app.write("hooks_mod.py", "def mark(event, hint):\n    event.setdefault('tags', {})['marked'] = 'yes'\n"
                              "    return event\n")
    app.write("crash.py", CRASH)
    run_python(["crash.py"], cwd=str(app.path))
    assert sentry_server.wait_for_events(1)[0]["tags"]["marked"] == "yes"


def test_unimportable_callable_is_a_located_config_error(app):
    """A `module:function` that can't be imported: one line naming where it was set when the SDK
    starts; strict mode checks it at interpreter start and exits 78."""
    app.config("version: 1\ndsn: http://k@127.0.0.1:9/1\nbefore_send: no_such_module:scrub\n")
    app.write("ok.py", "import sentry_sdk\nprint('ran')\n")
    result = run_python(["ok.py"], cwd=str(app.path))
    assert result.stdout == "ran\n" and result.returncode == 0
    lines = hook_lines(result)
    assert len(lines) == 1, result.stderr
    assert "sentry.yaml:3:1: before_send: can't import 'no_such_module:scrub'" in lines[0]
    strict = run_python(["ok.py"], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_STRICT": "1"})
    assert strict.returncode == 78 and strict.stdout == ""


def test_interpreter_without_the_dependencies_runs_on_with_one_line(app, tmp_path):
    """The hook on PYTHONPATH of a bare venv (no sentry_sdk, pydantic, yaml): one clear line."""
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    app.config("version: 1\n")
    app.write("ok.py", "print('still runs')\nraise SystemExit(4)\n")
    result = subprocess.run([str(venv / "bin" / "python"), "ok.py"], cwd=str(app.path),
                            env={"PATH": os.environ["PATH"], "PYTHONPATH": ROOT,
                                 "XDG_STATE_HOME": str(tmp_path / "state")},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert result.stdout == "still runs\n" and result.returncode == 4
    lines = hook_lines(result)
    assert len(lines) == 1 and "install sentry-bootstrap into its environment" in lines[0]


def test_misspelt_variable_gets_a_did_you_mean_warning(app, sentry_server):
    """An unknown SENTRY_* name close to a real one: one warning line naming the right one."""
    app.config(base_config(sentry_server.dsn))
    app.write("ok.py", "print('ok')\n")
    result = run_python(["ok.py"], cwd=str(app.path), env={"SENTRY_TRACES_SAMPEL_RATE": "0.5"})
    assert result.stdout == "ok\n"
    assert hook_lines(result) == [
        "sentry-bootstrap: warning: env SENTRY_TRACES_SAMPEL_RATE: unknown variable, ignored "
        "(did you mean 'SENTRY_TRACES_SAMPLE_RATE'?)"]


def test_bad_configuration_is_cached_as_an_error_with_a_capped_line(app):
    """4,000 unknown keys: the first start validates and stores the error, the next one neither
    imports pydantic nor yaml; both say the same one line, naming 5 problems and counting the rest
    (the line was 200 KB), and the program runs on."""
    app.config("version: 1\n" + "".join("unknown_key_{}: 1\n".format(i) for i in range(4000)))
    app.write("show.py", SHOW_MODULES + "print('ran')\n")
    cold_run = run_python(["-X", "importtime", "show.py"], cwd=str(app.path))
    warm_run = run_python(["-X", "importtime", "show.py"], cwd=str(app.path))
    assert cold_run.stdout == warm_run.stdout == "ran\n"
    assert {"pydantic", "yaml"} <= imported_by_importtime(cold_run)
    assert imported_by_importtime(warm_run).isdisjoint({"pydantic", "yaml"}), warm_run.stderr[-3000:]
    lines = hook_lines(cold_run)
    assert len(lines) == 1 and lines == hook_lines(warm_run), (lines, hook_lines(warm_run))
    assert lines[0].count("unknown key") == 5 and "and 3995 more" in lines[0]
    assert len(lines[0]) < 2000 and "sentry.yaml:2:1: unknown_key_0: unknown key" in lines[0]


def test_corrected_configuration_is_not_answered_by_the_stored_error(app, sentry_server):
    """A stored error answers only while its inputs are the same: after the file is fixed, or only
    made trustworthy again (`chmod go-w`, which leaves its content alone), the hook validates
    afresh."""
    app.write("ok.py", "print('fine')\n")
    env = {"SENTRY_BOOTSTRAP_LOG": "info"}

    def lines():
        return hook_lines(run_python(["ok.py"], cwd=str(app.path), env=env))

    app.config(base_config(sentry_server.dsn, "sample_rate: lots\n"))
    assert "sample_rate" in " ".join(lines()) and "sample_rate" in " ".join(lines())
    app.config(base_config(sentry_server.dsn, "sample_rate: 0.5\n"))
    assert any("active" in line for line in lines())

    os.chmod(str(app.path / "sentry.yaml"), 0o660)
    assert "writable by its group" in " ".join(lines()) and "writable by its group" in " ".join(lines())
    os.chmod(str(app.path / "sentry.yaml"), 0o600)
    found = lines()
    assert not any("error" in line for line in found) and any("active" in l for l in found), found


def test_warnings_are_capped_with_a_count(app, sentry_server):
    """Twelve unknown SENTRY_* variables: five warning lines, then one line counting the rest."""
    app.config(base_config(sentry_server.dsn))
    app.write("ok.py", "print('ok')\n")
    env = {"SENTRY_NO_SUCH__KEY_{}".format(i): "1" for i in range(12)}
    result = run_python(["ok.py"], cwd=str(app.path), env=env)
    lines = hook_lines(result)
    assert result.stdout == "ok\n" and len(lines) == 6, lines
    assert lines[-1] == ("sentry-bootstrap: warning: and 7 more (`sentry-bootstrap check` lists "
                         "them all)")
