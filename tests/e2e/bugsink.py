"""A real bugsink server on 127.0.0.1 for the end-to-end tests.

bugsink runs from its own virtualenv (`scripts/install-bugsink` makes `.venv-bugsink`; the
`BUGSINK_VENV` variable points elsewhere), served by the gunicorn bugsink ships, with SQLite and eager
task processing: when an SDK's `flush()` returns, the event is stored and can be read back over
bugsink's API. The database is migrated once into a template directory; each instance starts from a
copy of the template's two SQLite files.

    server = Bugsink(workdir, template_dir=cache_dir)
    server.start()
    project_id, dsn = server.create_project("django-app")
    ...                                   # run the app with SENTRY_DSN=dsn
    event = server.get_event(project_id, event_id)
    server.stop()
"""
import atexit
import ctypes
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BUGSINK_VERSION = "2.6.2"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_VARIABLE = "BUGSINK_VENV"
# Bump when what the template holds changes, so that a cached template from before is rebuilt.
TEMPLATE_FORMAT = 1
DB_FILES = ("db.sqlite3", "snappea.sqlite3")
# A login for looking at a test instance in a browser while debugging.
ADMIN_EMAIL = "admin@example.invalid"
ADMIN_PASSWORD = "admin"
TEAM_NAME = "e2e"

# Only what bugsink needs of the caller's environment. In particular no PYTHONPATH (the hook under
# test must not load into bugsink), no SENTRY_* and no proxy settings.
_INHERITED = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE")

_CONFIG = '''\
# Written by tests/e2e/bugsink.py for one test instance.
from bugsink.settings.default import *  # noqa

SECRET_KEY = "e2e-only-not-secret-{secret}"
TIME_ZONE = "UTC"
DATABASES["default"]["NAME"] = {db!r}
DATABASES["snappea"]["NAME"] = {snappea_db!r}
EMAIL_BACKEND = "bugsink.email_backends.QuietConsoleEmailBackend"

# Eager tasks: an envelope is digested inside the request that delivered it, so the event is stored
# by the time the SDK's flush returns. No snappea process is needed.
SNAPPEA = {{
    "TASK_ALWAYS_EAGER": True,
    "WAKEUP_CALLS_DIR": {wakeup_dir!r},
}}

_UNLIMITED = 10 ** 9
BUGSINK = {{
    "BASE_URL": {base_url!r},  # DSNs are built from this, so the port is fixed before this is written
    "PHONEHOME": False,
    "INGEST_STORE_BASE_DIR": {ingest_dir!r},
    # Local single-user use, as bugsink's own "local" template configures it.
    "SINGLE_USER": True,
    "SINGLE_TEAM": True,
    # The suite is not testing bugsink's quotas; a long run must never be throttled.
    "MAX_EVENTS_PER_PROJECT_PER_5_MINUTES": _UNLIMITED,
    "MAX_EVENTS_PER_PROJECT_PER_HOUR": _UNLIMITED,
    "MAX_EVENTS_PER_PROJECT_PER_MONTH": _UNLIMITED,
    "MAX_EVENTS_PER_5_MINUTES": _UNLIMITED,
    "MAX_EVENTS_PER_HOUR": _UNLIMITED,
    "MAX_EVENTS_PER_MONTH": _UNLIMITED,
}}
'''

# The WSGI entry point, loaded once by gunicorn's master (--preload) and inherited by the forked
# workers. It also imports what bugsink otherwise imports lazily on its first envelope (the URL conf,
# the user-agent parser used when digesting): 1-3 s that would land on the first event of each worker,
# after every start and restart.
_WSGI = '''\
from bugsink.wsgi import application  # noqa: F401
import bugsink.urls  # noqa: F401
from user_agents import parse

parse("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
'''

# Run by `bugsink-manage shell` when the template is built; prints the team's id as its last line.
_SETUP_SCRIPT = '''\
from django.contrib.auth import get_user_model
from teams.models import Team
get_user_model().objects.create_superuser(username={email!r}, email={email!r}, password={password!r})
print(Team.objects.create(name={team!r}).id)
'''


class BugsinkError(RuntimeError):
    """bugsink is not installed, did not start, or answered its API unexpectedly."""


def bugsink_venv(environ=None):
    """The virtualenv holding the pinned bugsink: `$BUGSINK_VENV`, else `<repo>/.venv-bugsink`.
    Raises BugsinkError, naming `scripts/install-bugsink`, when it is missing or holds another version."""
    environ = os.environ if environ is None else environ
    venv = environ.get(VENV_VARIABLE) or os.path.join(REPO, ".venv-bugsink")
    hint = "run scripts/install-bugsink (or set %s to a virtualenv with bugsink==%s)" % (
        VENV_VARIABLE, BUGSINK_VERSION)
    for tool in ("python", "gunicorn", "bugsink-manage"):
        if not os.access(os.path.join(venv, "bin", tool), os.X_OK):
            raise BugsinkError("bugsink is not installed in %s (no bin/%s): %s" % (venv, tool, hint))
    found = _installed_version(venv)
    if found != BUGSINK_VERSION:
        raise BugsinkError("%s holds bugsink %s, the tests need %s: %s" % (venv, found, BUGSINK_VERSION, hint))
    return venv


def _installed_version(venv):
    # Read from the dist-info directory name: starting the venv's interpreter costs ~50 ms per check.
    lib = os.path.join(venv, "lib")
    for python_dir in sorted(os.listdir(lib)) if os.path.isdir(lib) else ():
        site = os.path.join(lib, python_dir, "site-packages")
        for name in os.listdir(site) if os.path.isdir(site) else ():
            if name.startswith("bugsink-") and name.endswith(".dist-info"):
                return name[len("bugsink-"):-len(".dist-info")]
    return None


def free_port():
    """A port on 127.0.0.1 that is free now. Chosen below the kernel's ephemeral range, so that the
    client side of some other connection cannot take it while a restarted server is down."""
    for _ in range(50):
        port = random.randint(20000, 32000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(directory, base_url):
    """Write `bugsink_conf.py` and the WSGI module for an instance whose files all live in `directory`."""
    directory = os.path.abspath(str(directory))
    text = _CONFIG.format(
        secret=os.path.basename(directory),
        db=os.path.join(directory, DB_FILES[0]),
        snappea_db=os.path.join(directory, DB_FILES[1]),
        wakeup_dir=os.path.join(directory, "snappea-wakeup"),
        ingest_dir=os.path.join(directory, "ingest"),
        base_url=base_url,
    )
    with open(os.path.join(directory, "bugsink_conf.py"), "w") as f:
        f.write(text)
    with open(os.path.join(directory, "bugsink_e2e_wsgi.py"), "w") as f:
        f.write(_WSGI)


def server_environ(directory):
    """The environment every bugsink process runs with: `bugsink_conf` from `directory`, nothing else."""
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="bugsink_conf",
        PYTHONPATH=str(directory),
        PYTHONNOUSERSITE="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _die_with_parent():
    # Runs in the child before exec: if the test run is killed outright (no teardown), the kernel
    # sends the server SIGTERM instead of leaving it listening. Linux only; elsewhere a no-op.
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass


def _manage(venv, directory, *args):
    """Run `bugsink-manage ARGS` in `directory`; its stdout. Raises BugsinkError with the output on failure."""
    result = subprocess.run(
        [os.path.join(venv, "bin", "bugsink-manage")] + list(args),
        cwd=str(directory), env=server_environ(directory), timeout=300,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
    )
    if result.returncode != 0:
        raise BugsinkError("bugsink-manage %s failed (%d):\n%s" % (" ".join(args), result.returncode, result.stdout))
    return result.stdout


def _checkpoint(path):
    # bugsink keeps its databases in WAL mode; fold the log back in so the file alone is complete.
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)


def ensure_template(template_dir, venv):
    """Migrate a fresh bugsink database into `template_dir` unless a complete one for this bugsink
    version is already there. Returns the template's facts: {"token", "team_id", "seconds"}.
    Safe when two test runs race: each builds aside and the first rename wins."""
    template_dir = os.path.abspath(str(template_dir))
    marker = os.path.join(template_dir, "template.json")
    facts = _read_template(marker)
    if facts is not None:
        return facts

    began = time.monotonic()
    building = "%s.building-%d" % (template_dir, os.getpid())
    shutil.rmtree(building, ignore_errors=True)
    os.makedirs(building)
    try:
        facts = _build_template(building, venv)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    facts["seconds"] = round(time.monotonic() - began, 2)
    with open(os.path.join(building, "template.json"), "w") as f:
        json.dump(facts, f)

    if os.path.isdir(template_dir):
        shutil.rmtree(template_dir, ignore_errors=True)  # stale: another version or format
    os.makedirs(os.path.dirname(template_dir), exist_ok=True)
    try:
        os.rename(building, template_dir)
    except OSError:
        shutil.rmtree(building, ignore_errors=True)
        facts = _read_template(marker)
        if facts is None:
            raise
    return facts


def _build_template(building, venv):
    write_config(building, "http://127.0.0.1:9")  # no server runs here; the URL is never used
    _manage(venv, building, "migrate", "--no-input", "-v", "0")
    _manage(venv, building, "migrate", "--database", "snappea", "--no-input", "-v", "0")
    setup = _SETUP_SCRIPT.format(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, team=TEAM_NAME)
    team_id = _manage(venv, building, "shell", "-v", "0", "-c", setup).split()[-1]
    token = _manage(venv, building, "create_auth_token").split()[-1]
    for name in DB_FILES:
        _checkpoint(os.path.join(building, name))
    return {"bugsink": BUGSINK_VERSION, "format": TEMPLATE_FORMAT, "token": token, "team_id": team_id}


def _read_template(marker):
    try:
        with open(marker) as f:
            facts = json.load(f)
    except (OSError, ValueError):
        return None
    if facts.get("bugsink") != BUGSINK_VERSION or facts.get("format") != TEMPLATE_FORMAT:
        return None
    if not all(os.path.exists(os.path.join(os.path.dirname(marker), name)) for name in DB_FILES):
        return None
    return facts


class Bugsink:
    """One bugsink instance: its own directory, port, databases and ingest store.

    `start()` picks the port (once, kept across restarts), writes the config, copies the template
    databases (first start only) and returns when bugsink answers. `stop()` and `restart()` keep
    the port and the databases, so projects, DSNs and stored events survive them.
    """

    def __init__(self, workdir, template_dir=None, venv=None, workers=2, ready_timeout=30.0):
        self.workdir = os.path.abspath(str(workdir))
        self.template_dir = os.path.abspath(str(template_dir or os.path.join(self.workdir, "template")))
        self.venv = venv or bugsink_venv()
        self.workers = workers
        self.ready_timeout = ready_timeout
        self.port = None
        self.token = None
        self.team_id = None
        self.log_path = os.path.join(self.workdir, "server.log")
        self.timings = {}  # "template" (seconds to migrate, 0.0 when cached), "start" (seconds to ready)
        self._process = None
        self._projects = {}  # name -> (id, dsn)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def base_url(self):
        """`http://127.0.0.1:<port>`, the address DSNs point at. None before the first start."""
        return None if self.port is None else "http://127.0.0.1:%d" % self.port

    @property
    def running(self):
        return self._process is not None and self._process.poll() is None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self):
        """Start serving and wait until bugsink answers; raises BugsinkError with the server log
        when it does not within `ready_timeout` seconds."""
        if self.running:
            return self
        began = time.monotonic()
        if self.port is None:
            self._prepare()
        log = open(self.log_path, "a")
        try:
            self._process = subprocess.Popen(
                [
                    os.path.join(self.venv, "bin", "gunicorn"),
                    "--bind", "127.0.0.1:%d" % self.port,
                    "--workers", str(self.workers),
                    "--graceful-timeout", "5",
                    "--preload",
                    # gunicorn's default control socket is one path per user; parallel instances would collide.
                    "--no-control-socket",
                    "--access-logfile", "-",
                    # With the request time, so that a slow digest shows in the log.
                    "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(L)ss',
                    "bugsink_e2e_wsgi:application",
                ],
                cwd=self.workdir, env=server_environ(self.workdir),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        finally:
            log.close()
        atexit.register(self.stop)
        self._wait_ready()
        self.timings["start"] = round(time.monotonic() - began, 2)
        return self

    def stop(self):
        """Stop serving (SIGTERM, then SIGKILL after 10 s). Safe to call when not running."""
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self):
        """stop() then start(): same port, same databases."""
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _prepare(self):
        os.makedirs(self.workdir, exist_ok=True)
        began = time.monotonic()
        cached = os.path.exists(os.path.join(self.template_dir, "template.json"))
        facts = ensure_template(self.template_dir, self.venv)
        self.timings["template"] = 0.0 if cached else round(time.monotonic() - began, 2)
        self.token, self.team_id = facts["token"], facts["team_id"]
        for name in DB_FILES:
            shutil.copyfile(os.path.join(self.template_dir, name), os.path.join(self.workdir, name))
        self.port = free_port()
        write_config(self.workdir, self.base_url)

    def _wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise BugsinkError("bugsink exited with %s while starting:\n%s" % (code, self.log_tail()))
            try:
                with self._opener.open(self.base_url + "/health/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise BugsinkError("bugsink did not answer on %s within %.0f s:\n%s" % (
                    self.base_url, self.ready_timeout, self.log_tail()))
            time.sleep(0.05)

    def log_tail(self, lines=40):
        """The last lines of the server's log (gunicorn, access log, bugsink's own logging)."""
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log at %s)" % self.log_path

    # -- API ------------------------------------------------------------------------------------

    def api(self, method, path, params=None, body=None):
        """Call bugsink's API (`path` below `/api/canonical/0/`) with the token: (status, parsed JSON or None)."""
        url = "%s/api/canonical/0/%s" % (self.base_url, path.lstrip("/"))
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": "Bearer %s" % self.token, "Content-Type": "application/json",
            "Accept": "application/json",
        })
        try:
            with self._opener.open(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    def _api_ok(self, method, path, params=None, body=None):
        status, payload = self.api(method, path, params, body)
        if status not in (200, 201):
            raise BugsinkError("%s %s %s -> %s: %r" % (method, path, params or "", status, payload))
        return payload

    def create_project(self, name):
        """Create the project `name` (or find it, if it exists already): (project_id, dsn)."""
        if name not in self._projects:
            for project in self._pages("projects/", {}):
                if project["name"] == name:
                    break
            else:
                created = self._api_ok("POST", "projects/", body={"name": name, "team": self.team_id})
                project = self._api_ok("GET", "projects/%s/" % created["id"])
            self._projects[name] = (int(project["id"]), project["dsn"])
        return self._projects[name]

    def dsn(self, project):
        """The DSN of a project, by name or id (a name not seen before is created)."""
        if isinstance(project, int):
            return self._api_ok("GET", "projects/%d/" % project)["dsn"]
        return self.create_project(project)[1]

    def get_event_record(self, project_id, event_id, timeout=10.0):
        """bugsink's whole record of one event ({"id", "issue", "event_id", "ingested_at", ...,
        "data", "stacktrace_md"}), polled until it is stored. Raises BugsinkError after `timeout` s."""
        params = {"project": project_id, "event_id": str(event_id).replace("-", "")}
        deadline = time.monotonic() + timeout
        while True:
            status, payload = self.api("GET", "events/lookup/", params)
            if status == 200:
                return payload
            if status != 404:
                raise BugsinkError("event lookup %r -> %s: %r" % (params, status, payload))
            if time.monotonic() > deadline:
                raise BugsinkError("event %s not stored in project %s within %.0f s; server log:\n%s" % (
                    event_id, project_id, timeout, self.log_tail()))
            time.sleep(0.1)

    def get_event(self, project_id, event_id, timeout=10.0):
        """The event as bugsink stored it: the SDK's event payload (`environment`, `release`,
        `tags`, `exception`, `request`, `user`, ...), polled until present."""
        return self.get_event_record(project_id, event_id, timeout)["data"]

    def events(self, project_id):
        """Every event stored in a project now, oldest first, each as get_event returns it."""
        records = []
        for issue in self._pages("issues/", {"project": project_id}):
            records.extend(self._pages("events/", {"issue": issue["id"], "order": "asc"}))
        records.sort(key=lambda record: record["ingested_at"])
        return [self._api_ok("GET", "events/%s/" % record["id"])["data"] for record in records]

    def wait_for_events(self, project_id, count, timeout=10.0):
        """events(project_id) once at least `count` are stored; BugsinkError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(project_id)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise BugsinkError("project %s holds %d events, expected %d within %.0f s" % (
                    project_id, len(found), count, timeout))
            time.sleep(0.2)

    def _pages(self, path, params):
        payload = self._api_ok("GET", path, params)
        while True:
            for item in payload["results"]:
                yield item
            if not payload.get("next"):
                return
            query = urllib.parse.urlsplit(payload["next"]).query
            payload = self._api_ok("GET", path, dict(urllib.parse.parse_qsl(query)))
