"""Deploying the end-to-end applications of `tests/e2e/apps/` as a user would: each in its own
directory with its own git repository and a sentry.yaml pointing at a bugsink project, started by
its usual command with only the hook on PYTHONPATH.

    app = deploy("django_shop", tmp_path / "shop", dsn)
    with Server([gunicorn, "shop.wsgi:application", ...], app, port) as server:
        ...
    event = find_event(bugsink, project_id, lambda e: e["tags"].get("request_id") == rid)
    assert_deployed(event, app, {"app": "shop"})
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.support.child import child_env
from tests.support.git import make_git_repo

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.join(HERE, "apps")
BIN = os.path.dirname(sys.executable)
# Every app's sentry.yaml holds this where the DSN goes; its `staging` overlay carries the DSN.
DSN_PLACEHOLDER = "__DSN__"
ENVIRONMENT = "staging"


class DeployedApp(object):
    """An application checked out at `path` (its own git repository, commit `sha`)."""

    def __init__(self, name, path, sha):
        self.name = name
        self.path = str(path)
        self.sha = sha

    def env(self, extra=None):
        """The environment the app runs with: the hook on, the `staging` overlay chosen."""
        values = {"SENTRY_ENVIRONMENT": ENVIRONMENT}
        values.update(extra or {})
        return child_env(values, hook=True)

    def file(self, relative):
        return os.path.join(self.path, relative)


def _sources(name):
    root = os.path.join(APPS, name)
    files = {}
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = [d for d in subdirs if d != "__pycache__"]
        for filename in names:
            if filename.endswith(".pyc"):
                continue
            full = os.path.join(directory, filename)
            with open(full) as f:
                files[os.path.relpath(full, root)] = f.read()
    return files


def deploy(name, dest, dsn):
    """Copy `apps/<name>` to `dest`, put `dsn` into its sentry.yaml and commit it all to a new git
    repository there. The app's release is that commit's sha."""
    files = _sources(name)
    assert DSN_PLACEHOLDER in files["sentry.yaml"], name
    files["sentry.yaml"] = files["sentry.yaml"].replace(DSN_PLACEHOLDER, dsn)
    sha = make_git_repo(dest, files)
    return DeployedApp(name, os.path.realpath(str(dest)), sha)


# -- processes ----------------------------------------------------------------------------------

class Server(object):
    """A long-running app process (gunicorn, uvicorn, celery) started in the app's directory.

    Output goes to a log file (a pipe could fill up and block the server); `log()` reads it.
    `wait_http(path)` polls until the server answers. Leaving the `with` block stops it with
    SIGTERM (SIGKILL after 20 s)."""

    def __init__(self, argv, app, extra_env=None, name="server"):
        self.argv = list(argv)
        self.app = app
        self.env = app.env(extra_env)
        self.log_path = os.path.join(os.path.dirname(app.path), "%s-%s.log" % (
            os.path.basename(app.path), name))
        self.process = None
        self.port = None

    def start(self):
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=self.app.path, env=self.env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)
        return self

    def stop(self):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_for_log(self, text, timeout=30.0):
        """Wait until `text` appears in the log (e.g. a worker's ready line)."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            self._check_alive()
            if time.monotonic() > deadline:
                raise AssertionError("%r not in the log within %.0f s:\n%s" % (text, timeout, self.log()))
            time.sleep(0.1)

    def wait_http(self, url, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                status, _headers, _body = http(url, timeout=2)
                if status < 500:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("no answer from %s within %.0f s:\n%s" % (url, timeout, self.log()))
            time.sleep(0.1)

    def _check_alive(self):
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError("%s exited with %s:\n%s" % (self.argv[0], self.process.returncode, self.log()))


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER_NO_REDIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def http(url, data=None, headers=None, method=None, timeout=30.0):
    """One request to 127.0.0.1, no proxy, no redirect followed: (status, headers, body text).
    `data` may be bytes, or a dict (sent form-encoded)."""
    if isinstance(data, dict):
        data = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}), method=method)
    try:
        with _OPENER_NO_REDIRECT.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode("utf-8", "replace")


# -- events -------------------------------------------------------------------------------------

def find_events(bugsink, project_id, predicate, count=1, timeout=20.0):
    """The stored events of the project for which `predicate(event)` is true, once there are at
    least `count` of them; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = [event for event in bugsink.events(project_id) if predicate(event)]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("project %s: %d matching events stored within %.0f s, expected %d" % (
                project_id, len(found), timeout, count))
        time.sleep(0.2)


def find_event(bugsink, project_id, predicate, timeout=20.0):
    """The one stored event matching `predicate` (see find_events)."""
    found = find_events(bugsink, project_id, predicate, 1, timeout)
    assert len(found) == 1, "expected one matching event, got %d" % len(found)
    return found[0]


def with_tag(name, value):
    return lambda event: dict(event.get("tags") or {}).get(name) == value


def exception_of(event):
    """The raised exception (the last of the chain) as stored: {"type", "value", "stacktrace"}."""
    return event["exception"]["values"][-1]


def app_frames(event, app):
    """The frames of the raised exception that lie in the app's own files."""
    frames = exception_of(event)["stacktrace"]["frames"]
    prefix = app.path + os.sep
    return [f for f in frames if os.path.realpath(f.get("abs_path") or "").startswith(prefix)]


def assert_deployed(event, app, tags):
    """What every stored event of a deployed app carries: the overlay's environment, the app's git
    sha as release, the static tags (base and overlay merged) and its own frames marked in-app
    while library frames are not."""
    assert event["environment"] == ENVIRONMENT
    assert event["release"] == app.sha
    stored_tags = dict(event.get("tags") or {})
    assert {k: stored_tags.get(k) for k in tags} == tags, stored_tags
    frames = exception_of(event)["stacktrace"]["frames"]
    own = app_frames(event, app)
    assert own, [f.get("abs_path") for f in frames]
    assert all(f.get("in_app") is True for f in own), [(f["abs_path"], f.get("in_app")) for f in own]
    library = [f for f in frames if "site-packages" in (f.get("abs_path") or "")]
    assert all(f.get("in_app") is not True for f in library), [f["abs_path"] for f in library]


def assert_no_secrets(event, secrets):
    """None of the secret strings appears anywhere in the stored event."""
    text = json.dumps(event)
    leaked = [s for s in secrets if s in text]
    assert not leaked, "secrets stored in the event: %r" % leaked


def assert_hook_quiet(log):
    """The hook reported no problem: no `sentry-bootstrap:` line in the app's output other than the
    exit-time notice of events still being sent (the SDK's own lines, said in our voice)."""
    lines = [line for line in log.splitlines() if "sentry-bootstrap:" in line and
             "pending event(s) before exit" not in line]
    assert not lines, "\n".join(lines)
