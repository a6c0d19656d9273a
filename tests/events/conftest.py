"""Fixtures for the events package: an outbox filled by the real SDK, the viewer as a real
`sentry-bootstrap events serve` process, and a real headless Chromium driven by Selenium."""
import os
import queue
import shutil
import tempfile
import textwrap
import threading

import pytest

from tests.support.child import HOOK_DIR, run_python, spawn_python

EVENTS_CLI = "import sys; sys.path.insert(0, {!r}); from sentry_bootstrap.cli import main; " \
             "sys.exit(main(['events'] + sys.argv[1:]))".format(HOOK_DIR)
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900")


def default_box(state):
    """The outbox a child with the hook and no DSN writes to, under the test's private state dir."""
    return os.path.join(str(state), "sentry-bootstrap", "outbox")


def events(*args, cwd, env=None, timeout=30):
    """`sentry-bootstrap events ARGS` in a child interpreter."""
    return run_python(["-c", EVENTS_CLI] + list(args), hook=False, cwd=str(cwd), env=env, timeout=timeout)


class Viewer(object):
    """A running `events serve --port 0` child and its URL."""

    def __init__(self, cwd, env=None, extra=()):
        self.proc = spawn_python(["-c", EVENTS_CLI, "serve", "--port", "0"] + list(extra), hook=False,
                                 cwd=str(cwd), env=env)
        self.lines = lines = queue.Queue()  # the viewer's stdout, line by line
        threading.Thread(target=lambda: [lines.put(line) for line in self.proc.stdout], daemon=True).start()
        first = lines.get(timeout=30)
        assert " at http://127.0.0.1:" in first, first
        self.url = first.split(" at ", 1)[1].strip()
        self.port = int(self.url.rstrip("/").rsplit(":", 1)[1])

    def stop(self):
        self.proc.terminate()
        self.proc.communicate(timeout=10)


@pytest.fixture
def viewer(tmp_path):
    """Start the viewer on the test's default outbox: `viewer()` returns a `Viewer`; stopped at the end."""
    started = []

    def start(env=None, extra=()):
        started.append(Viewer(tmp_path, env, extra))
        return started[-1]

    yield start
    for one in started:
        one.stop()


@pytest.fixture(scope="session")
def chrome():
    """A real headless Chromium through Selenium, with the Debian chromedriver and nothing downloaded
    (Selenium Manager is offline and never asked: the driver's path is given)."""
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="events-chrome-")
    options = webdriver.ChromeOptions()
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument("--user-data-dir=" + profile)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


PRODUCER = textwrap.dedent("""\
    import sys
    sys.path.insert(0, {root!r})
    import sentry_sdk
    from sentry_sdk.crons import capture_checkin
    from sentry_bootstrap.transport.outbox import make_outbox_transport

    def add_request(event, hint):
        event["request"] = {{"method": "POST", "url": "http://127.0.0.1/cart", "query_string": "step=pay"}}
        return event

    sentry_sdk.init(transport=make_outbox_transport({{"path": sys.argv[1]}}), environment="qa",
                    release="shop@2.0.0", traces_sample_rate=1.0, enable_logs=True,
                    auto_enabling_integrations=False, before_send=add_request)
    sentry_sdk.set_tag("region", "eu")
    sentry_sdk.set_user({{"id": "42", "username": "ada"}})
    sentry_sdk.set_context("cart", {{"items": 3}})
    sentry_sdk.add_breadcrumb(category="cart", message="added SKU-1", level="info")
    with sentry_sdk.start_transaction(name="checkout", op="task"):
        with sentry_sdk.start_span(op="db.query", name="SELECT price FROM sku"):
            pass
    capture_checkin(monitor_slug="nightly-import", status="ok", duration=1.5)
    sentry_sdk.logger.warning("stock low for {{sku}}", sku="SKU-1")
    sentry_sdk.capture_message("cart abandoned")

    def price(order):
        return order["total"] / order["items"]

    def checkout(order):
        try:
            return price(order)
        except ZeroDivisionError as exc:
            raise ValueError("cannot price an empty order") from exc

    checkout({{"total": 10, "items": 0}})
    """)


@pytest.fixture(scope="session")
def every_type_box(tmp_path_factory):
    """An outbox filled once by the real SDK in a child: a transaction with a span, a check-in, a
    log record, a message and an uncaught chained error (ZeroDivisionError, then ValueError)."""
    where = tmp_path_factory.mktemp("every-type")
    script = where / "shop.py"
    script.write_text(PRODUCER.format(root=HOOK_DIR))
    box = str(where / "outbox")
    proc = run_python([str(script), box], hook=False, cwd=str(where))
    assert proc.returncode == 1 and "ValueError" in proc.stderr, proc.stderr
    return box
