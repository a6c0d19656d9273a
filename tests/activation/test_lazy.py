"""The lazy start in real child interpreters: nothing heavy at interpreter start, and the SDK starts
on first need with the same result as an eager start, sending to a real HTTP server on 127.0.0.1."""
import json
import os
import subprocess
import sys
import textwrap

from tests.support.app import base_config
from tests.support.child import child_env, run_python, spawn_python
from tests.support.collecting import SDK3

# What the hook may add to a bare interpreter's modules at start (warm config cache): the start-up
# module and what it needs to read the cache and watch imports, nothing else.
HOOK_MODULES = {
    "sitecustomize",
    "sentry_bootstrap",
    "sentry_bootstrap._env",
    "sentry_bootstrap._files",
    "sentry_bootstrap._log",
    "sentry_bootstrap._paths",
    "sentry_bootstrap.activation",
    "sentry_bootstrap.activation.lazy",
    "sentry_bootstrap.activation.watcher",
    "sentry_bootstrap.config",
    "sentry_bootstrap.config.cache",
    "sentry_bootstrap.config.discovery",
    "sentry_bootstrap.config.resolved",
    "sentry_bootstrap.hook",
    "sentry_bootstrap.processes",
    "sentry_bootstrap.release",
}
# The built-in sha-256 module the cache key needs (not hashlib, which loads OpenSSL).
SHA_MODULE = "_sha2" if sys.version_info >= (3, 12) else "_sha256"
NEVER_AT_START = ("sentry_sdk", "urllib3", "ssl", "http.client", "httpcore", "anyio", "asyncio",
                  "importlib.metadata", "pydantic", "yaml", "wrapt", "re", "json", "fnmatch",
                  "logging", "threading")

SHOW_MODULES = "import sys; sys.stderr.write('MODULES=' + repr(sorted(sys.modules)) + '\\n')"


def modules_of(result):
    line = [l for l in result.stderr.splitlines() if l.startswith("MODULES=")][-1]
    return set(eval(line[len("MODULES="):]))


def hook_lines(result):
    return [l for l in result.stderr.splitlines() if l.startswith("sentry-bootstrap:")]


def test_start_adds_exactly_the_start_up_modules(app, sentry_server):
    """With a DSN and a warm cache, the hook adds exactly its start-up modules to a bare start."""
    app.config(base_config(sentry_server.dsn))
    run_python(["-c", "pass"], cwd=str(app.path))  # warms the config cache
    hooked = run_python(["-c", SHOW_MODULES], cwd=str(app.path))
    bare = run_python(["-c", SHOW_MODULES], cwd=str(app.path), hook=False)
    added = modules_of(hooked) - modules_of(bare)
    assert added - {SHA_MODULE} == HOOK_MODULES, hooked.stderr
    assert not [name for name in NEVER_AT_START if name in modules_of(hooked) - modules_of(bare)]
    assert "sentry_sdk" not in modules_of(hooked)
    assert sentry_server.envelopes == []  # nothing needed the SDK: no session, nothing sent


def test_a_cold_start_leaves_what_a_warm_start_does(app, sentry_server):
    """A cache miss validates with pydantic and yaml, then releases every module it imported: the
    process goes on with the same modules as after a warm start, and the program's own imports of
    them (threading, json, pydantic, yaml) work afresh."""
    app.config(base_config(sentry_server.dsn))
    program = SHOW_MODULES + "; " + (
        "import threading, json, yaml, pydantic; t = threading.Thread(target=print, args=('t',)); "
        "t.start(); t.join(); print(json.dumps(yaml.safe_load('a: 1')), pydantic.VERSION[:2])")
    cache = os.path.join(os.environ["XDG_STATE_HOME"], "sentry-bootstrap", "cache")
    assert not os.path.isdir(cache) or not os.listdir(cache)  # so the first run is a miss
    cold = run_python(["-c", program], cwd=str(app.path))
    assert os.listdir(cache), cold.stderr  # it stored the entry the second run reads
    warm = run_python(["-c", program], cwd=str(app.path))
    assert cold.returncode == 0, cold.stderr
    assert cold.stdout == warm.stdout == 't\n{"a": 1} 2.\n'
    assert modules_of(cold) == modules_of(warm)
    assert not {"pydantic", "yaml", "threading", "sentry_bootstrap.config.loader"} & modules_of(cold)


def test_never_started_is_reported_at_exit_in_debug(app, sentry_server):
    """At debug level a process that never needed the SDK says so at exit."""
    app.config(base_config(sentry_server.dsn))
    result = run_python(["-c", "pass"], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "debug"})
    assert any("sdk never started: nothing needed it" in l for l in hook_lines(result)), result.stderr


FLASK_APP = """\
import sys
from flask import Flask
assert "sentry_sdk" in sys.modules  # set up during `import flask`, before any use of it
app = Flask(__name__)

@app.route("/boom")
def boom():
    raise RuntimeError("boom from flask")

print(app.test_client().get("/boom").status_code)
"""


def test_sdk_starts_on_import_of_an_integrated_framework(app, sentry_server):
    """Importing Flask starts the SDK with the Flask integration set up before the app is used,
    and the start-up report says when and why."""
    app.config(base_config(sentry_server.dsn))
    app.write("web.py", FLASK_APP)
    result = run_python(["web.py"], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "info"})
    assert result.stdout == "500\n", result.stderr
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["value"] == "boom from flask"
    assert event["transaction"] == ("/boom" if SDK3 else "boom")  # the Flask integration named it (3.x: by route)
    assert "flask" in event["sdk"]["integrations"]
    lines = hook_lines(result)
    assert any(l.startswith("sentry-bootstrap: sdk started on import of flask after ") and
               l.endswith(" ms") for l in lines), lines


def test_program_importing_sentry_sdk_gets_the_hooks_client(app, sentry_server):
    """A program that imports sentry_sdk itself and captures a message gets it sent, configured by
    the hook (environment, release, tags)."""
    app.config(base_config(sentry_server.dsn))
    result = run_python(["-c", "import sentry_sdk; sentry_sdk.capture_message('hello lazy')"],
                        cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "info"})
    event = sentry_server.wait_for_events(1)[0]
    assert event["message"] == "hello lazy"
    assert event["environment"] == "staging" and event["release"] == app.sha
    assert event["tags"]["tier"] == "web"
    assert any("sdk started on import of sentry_sdk" in l for l in hook_lines(result))


CRASH = """\
import logging
logging.basicConfig(level=logging.INFO)
logging.getLogger("billing").info("loading invoices")
logging.getLogger("billing").warning("invoice 7 is late")

def charge(amount):
    return amount / 0

charge(10)
"""


def _event_shape(event):
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    return {
        "exception": [(v["type"], v["value"], v["mechanism"]) for v in event["exception"]["values"]],
        "frames": [(f.get("filename"), f.get("function"), f.get("lineno"), f.get("context_line"))
                   for f in frames],
        "environment": event["environment"],
        "release": event["release"],
        "tags": event["tags"],
        "level": event["level"],
        "breadcrumbs": [(b.get("category"), b.get("level"), b.get("message"))
                        for b in event["breadcrumbs"]["values"]],
    }


def test_uncaught_exception_gives_the_same_event_as_an_eager_start(app, sentry_server, tmp_path):
    """An uncaught exception in a plain script starts the SDK and gives the event an eager start
    gives: mechanism handled:false, frames, environment, release, tags, and the logging
    breadcrumbs recorded before the start."""
    app.write("crash.py", CRASH)
    shapes = []
    for mode in ("lazy", "eager"):
        app.config(base_config(sentry_server.dsn, "sdk_start: {}\n".format(mode)))
        result = run_python(["crash.py"], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "info"})
        assert result.returncode == 1
        event = sentry_server.wait_for_events(len(shapes) + 1)[-1]
        shapes.append(_event_shape(event))
        if mode == "lazy":
            assert any("sdk started on uncaught ZeroDivisionError" in l for l in hook_lines(result))
        else:
            assert any("sdk starts at once: sdk_start: eager" in l for l in hook_lines(result))
    lazy, eager = shapes
    assert lazy == eager
    assert lazy["exception"][-1][2]["handled"] is False
    assert lazy["breadcrumbs"] == [("billing", "info", "loading invoices"),
                                   ("billing", "warning", "invoice 7 is late")]
    assert lazy["release"] == app.sha and lazy["tags"]["team"] == "payments"


LOG_ERROR = """\
import logging
log = logging.getLogger("jobs")
for n in range(10):
    log.warning("step %d", n)
log.error("job failed")
"""


def test_log_record_at_event_level_starts_the_sdk_with_bounded_breadcrumbs(app, sentry_server):
    """A log record at the event level starts the SDK and becomes an event carrying the records
    before it as breadcrumbs, at most max_breadcrumbs of them."""
    app.config(base_config(sentry_server.dsn, "max_breadcrumbs: 3\n"))
    app.write("job.py", LOG_ERROR)
    result = run_python(["job.py"], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "info"})
    assert result.returncode == 0, result.stderr
    event = sentry_server.wait_for_events(1)[0]
    assert event["logentry"]["message"] == "job failed"
    assert [b["message"] for b in event["breadcrumbs"]["values"]] == ["step 7", "step 8", "step 9"]
    assert any("sdk started on log record at ERROR from logger 'jobs'" in l
               for l in hook_lines(result)), result.stderr


THREAD_CRASH = """\
import threading

def work():
    raise KeyError("lost in a thread")

t = threading.Thread(target=work, name="worker-1")
t.start()
t.join()
"""


def test_exception_in_a_thread_starts_the_sdk(app, sentry_server):
    """An exception that reaches threading.excepthook starts the SDK and is captured like the
    SDK's threading integration does (mechanism threading, handled false)."""
    app.config(base_config(sentry_server.dsn))
    app.write("threads.py", THREAD_CRASH)
    result = run_python(["threads.py"], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "info"})
    assert "KeyError" in result.stderr  # the original threading.excepthook still prints it
    event = sentry_server.wait_for_events(1)[0]
    value = event["exception"]["values"][-1]
    assert value["type"] == "KeyError"
    assert {k: value["mechanism"][k] for k in ("type", "handled")} == {"type": "threading", "handled": False}
    assert any("sdk started on uncaught KeyError in thread worker-1" in l for l in hook_lines(result))


def test_instrument_target_starts_the_sdk_before_it_runs(app, sentry_server):
    """An `instrument:` target's module starts the SDK when imported, so the target is wrapped
    before it runs and its error is captured with the service tag."""
    app.config(base_config(sentry_server.dsn, """\
        instrument:
          - target: "jobs:run"
            capture_errors: {service: nightly, reraise: false}
        """))
    app.write("jobs.py", "def run():\n    raise ValueError('job broke')\n")
    result = run_python(["-c", "import jobs; jobs.run(); print('after')"], cwd=str(app.path),
                        env={"SENTRY_BOOTSTRAP_LOG": "info"})
    assert result.stdout == "after\n", result.stderr
    event = sentry_server.wait_for_events(1)[0]
    assert event["exception"]["values"][-1]["value"] == "job broke"
    assert event["tags"]["service"] == "nightly"
    assert any("sdk started on import of jobs" in l for l in hook_lines(result))


def test_helper_starts_the_sdk(app, sentry_server):
    """The hook's own helpers start the SDK when the program uses them."""
    app.config(base_config(sentry_server.dsn))
    run_python(["-c", "import sentry_bootstrap; sentry_bootstrap.capture_message('from helper')"],
               cwd=str(app.path))
    assert sentry_server.wait_for_events(1)[0]["message"] == "from helper"


def test_profiling_starts_the_sdk_at_once_and_says_why(app, sentry_server):
    """An option that needs the SDK from the first instruction (profiling) makes the start eager,
    and the start-up report says why."""
    app.config(base_config(sentry_server.dsn, "traces_sample_rate: 1.0\nprofile_session_sample_rate: 1.0\n"))
    result = run_python(["-c", "import sys; print('sentry_sdk' in sys.modules)"], cwd=str(app.path),
                        env={"SENTRY_BOOTSTRAP_LOG": "info"})
    assert result.stdout == "True\n"
    assert any("sdk starts at once: profile_session_sample_rate needs the profiler" in l
               for l in hook_lines(result)), result.stderr


def test_spooled_envelopes_are_sent_without_a_start_in_the_program(app, sentry_server):
    """Envelopes waiting in the spool are sent by a process that never needs the SDK itself, from
    a background thread (lazy.SPOOL_DELAY seconds after start), not during the program's start-up."""
    app.config(base_config(sentry_server.dsn))
    sentry_server.set_mode(500)
    run_python(["-c", "import sentry_sdk; sentry_sdk.capture_message('spooled')"], cwd=str(app.path))
    assert sentry_server.events == []
    sentry_server.set_mode("ok")
    # The program runs until told to stop, however long the background send takes on a busy machine.
    program = "import sys; print('sentry_sdk' in sys.modules, flush=True); sys.stdin.readline()"
    child = spawn_python(["-c", program], cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "info"},
                         stdin=subprocess.PIPE)
    try:
        assert child.stdout.readline() == "False\n"  # the program's start-up ran without the SDK
        assert sentry_server.wait_for_events(1, timeout=60)[0]["message"] == "spooled"
    finally:
        _out, err = child.communicate("\n", timeout=60)
    assert any("sdk started on envelopes waiting in the spool" in l for l in err.splitlines()), err


FAKE_GIT = """\
#!/bin/sh
echo called > "{marker}"
echo 0123456789abcdef0123456789abcdef01234567
"""


def test_no_release_found_starts_no_git_process(app, sentry_server, tmp_path):
    """With no release resolvable from the config's directory, the SDK does not run `git` (a fake
    git first on PATH leaves no marker), and the start-up line and the event agree: no release."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "sentry.yaml").write_text("version: 1\ndsn: \"{}\"\n".format(sentry_server.dsn))
    os.chmod(str(conf / "sentry.yaml"), 0o600)
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    marker = tmp_path / "git-was-run"
    (bin_dir / "git").write_text(FAKE_GIT.format(marker=marker))
    os.chmod(str(bin_dir / "git"), 0o755)
    script = conf / "crash.py"
    script.write_text("raise RuntimeError('no release here')\n")
    for mode in ("lazy", "eager"):
        (conf / "sentry.yaml").write_text("version: 1\ndsn: \"{}\"\nsdk_start: {}\n".format(
            sentry_server.dsn, mode))
        result = run_python([str(script)], cwd=str(app.path), env={
            "SENTRY_CONFIG_FILE": str(conf / "sentry.yaml"), "SENTRY_BOOTSTRAP_LOG": "info",
            "PATH": str(bin_dir) + os.pathsep + os.environ.get("PATH", "")})
        assert any("release=none" in l for l in hook_lines(result)), result.stderr
    events = sentry_server.wait_for_events(2)
    assert not marker.exists()
    assert ["release" in event for event in events] == [False, False]


GEVENT_FIRST = """\
from gevent import monkey; monkey.patch_all()
import ssl, urllib.request
"""


def test_gevent_patch_all_as_first_line_prints_nothing(app, sentry_server):
    """`monkey.patch_all()` as a program's first line prints no warning under the hook: nothing
    it patches (ssl, threading...) was imported by the hook."""
    app.config(base_config(sentry_server.dsn))
    app.write("green.py", GEVENT_FIRST)
    result = run_python(["-W", "always", "green.py"], cwd=str(app.path))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


PYTEST_PROJECT = {
    "pytest.ini": "[pytest]\nfilterwarnings =\n    error\n",
    "test_things.py": textwrap.dedent("""\
        import logging

        def test_adds():
            logging.getLogger("app").error("logged by a test")
            assert 1 + 1 == 2
        """),
}


def _pytest_outcome(result):
    lines = [l for l in result.stdout.splitlines() if l.strip()]
    summary = lines[-1].rpartition(" in ")[0] if lines else ""
    return result.returncode, summary


def test_pytest_with_warnings_as_errors_runs_as_without_the_hook(app, sentry_server):
    """pytest with `filterwarnings = error` (anyio and httpcore installed, so anyio's plugin loads)
    runs exactly as without the hook: excluded by default, and included by processes.include,
    where the lazy start keeps anyio unimported until the SDK is needed."""
    import anyio  # noqa: F401  (the plugin whose early import pytest refuses)
    import httpcore  # noqa: F401

    for name, text in PYTEST_PROJECT.items():
        app.write(name, text)
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_things.py"]
    plain = run_python(args, cwd=str(app.path), hook=False)
    assert _pytest_outcome(plain) == (0, "1 passed"), plain.stdout

    app.config(base_config(sentry_server.dsn))
    excluded = run_python(args, cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "debug"})
    assert _pytest_outcome(excluded) == _pytest_outcome(plain), excluded.stdout + excluded.stderr
    assert any("excluded by default rule 'pytest'" in l for l in hook_lines(excluded))

    app.config(base_config(sentry_server.dsn, "processes:\n  include: [pytest]\n"))
    included = run_python(args, cwd=str(app.path), env={"SENTRY_BOOTSTRAP_LOG": "info"})
    assert _pytest_outcome(included) == _pytest_outcome(plain), included.stdout + included.stderr
    # (The start-up report of the SDK's start is in the test's output, which pytest captures.)
    assert sentry_server.wait_for_events(1)[0]["logentry"]["message"] == "logged by a test"


GEVENT_APP = """\
from flask import Flask
app = Flask(__name__)

@app.route("/")
def index():
    return "ok"

@app.route("/boom")
def boom():
    raise RuntimeError("boom under gevent")
"""


def test_gunicorn_gevent_flask_app_reports_its_errors(app, sentry_server):
    """A Flask app served by `gunicorn -k gevent` reports a request's error through the hook."""
    from tests.activation.test_servers import get_status, stop, wait_http
    from tests.support.gunicorn import gunicorn
    from tests.support.redis_server import free_port

    app.config(base_config(sentry_server.dsn))
    app.write("green_app.py", GEVENT_APP)
    port = free_port()
    server = subprocess.Popen(
        gunicorn("-k", "gevent", "--workers", "1", "--bind", "127.0.0.1:{}".format(port), "green_app:app"),
        cwd=str(app.path), env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True)
    try:
        wait_http("http://127.0.0.1:{}/".format(port))
        assert get_status("http://127.0.0.1:{}/boom".format(port)) == 500
        event = sentry_server.wait_for_events(1, timeout=20)[0]
    finally:
        _out, err = stop(server)
    assert event["exception"]["values"][-1]["value"] == "boom under gevent"
    assert event["transaction"] == ("/boom" if SDK3 else "boom")  # 3.x names it by route
    assert "MonkeyPatchWarning" not in err, err
