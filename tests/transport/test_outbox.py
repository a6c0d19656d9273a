"""The local outbox: the real SDK writing through OutboxTransport in child interpreters, the bound and
its eviction counter across processes, and reading events back (parsing: tests/events/test_reader.py)."""
import json
import os
import stat
import textwrap

from sentry_bootstrap.events import reader
from sentry_bootstrap.transport import outbox
from tests.support.child import HOOK_DIR, run_python, spawn_python

# A child that sets up the real SDK with the outbox transport and no DSN, then runs BODY.
CHILD = textwrap.dedent("""\
    import sys
    sys.path.insert(0, {root!r})
    import sentry_sdk
    from sentry_bootstrap.transport.outbox import make_outbox_transport
    sentry_sdk.init(transport=make_outbox_transport({cfg!r}), environment="staging",
                    release="shop@1.2.3", default_integrations={defaults!r},
                    auto_enabling_integrations=False)
    sentry_sdk.set_tag("team", "payments")
    """)


def child_code(body, cfg, defaults=True):
    return CHILD.format(root=HOOK_DIR, cfg=cfg, defaults=defaults) + textwrap.dedent(body)


def envelope_bytes(*items, event_id="0" * 32):
    """A serialised envelope in the SDK's wire format, from (headers, payload bytes) pairs."""
    out = [json.dumps({"event_id": event_id}).encode()]
    for headers, payload in items:
        out.append(json.dumps(dict(headers, length=len(payload))).encode())
        out.append(payload)
    return b"\n".join(out) + b"\n"


def event_item(**event):
    return {"type": "event"}, json.dumps(event).encode()


def test_sdk_without_dsn_delivers_an_uncaught_exception_to_the_outbox(tmp_path):
    """With no DSN, sentry_sdk.init(transport=OutboxTransport) captures; the program keeps its output and exit code."""
    box = str(tmp_path / "box")
    proc = run_python(["-c", child_code("""
        assert sentry_sdk.get_client().is_active() and sentry_sdk.get_client().dsn is None
        def checkout(cart):
            return 100 / len(cart)
        print("charging")
        checkout([])
        """, {"path": box})], hook=False, cwd=str(tmp_path))
    assert proc.returncode == 1
    assert proc.stdout == "charging\n"
    assert "ZeroDivisionError" in proc.stderr
    events = reader.read_rows(box)
    assert len(events) == 1
    event = events[0]
    assert event["title"] == "ZeroDivisionError: division by zero"
    assert event["level"] == "error"
    assert event["environment"] == "staging"
    assert event["release"] == "shop@1.2.3"
    assert event["tags"] == {"team": "payments"}
    assert len(event["event_id"]) == 32 and event["timestamp"].endswith("Z")
    assert os.path.dirname(event["file"]) == box


def test_outbox_directory_is_private_and_created_only_on_first_write(isolated_environ):
    """The default outbox lives in the state dir, is not created by the transport, and is 0700 once written."""
    transport = outbox.make_outbox_transport({"path": None, "max_bytes": 1000})
    expected = os.path.join(str(isolated_environ), "sentry-bootstrap", "outbox")
    assert transport.path == expected == outbox.outbox_dir(None)
    assert not os.path.exists(expected)
    outbox.write_envelope(expected, envelope_bytes(event_item(message="x")))
    assert stat.S_IMODE(os.stat(expected).st_mode) == 0o700
    for name in os.listdir(expected):  # the envelope and the store's ledger
        assert stat.S_IMODE(os.stat(os.path.join(expected, name)).st_mode) == 0o600


def test_outbox_path_setting_expands_home(tmp_path):
    """`outbox.path` overrides the default; `~` is expanded and the result is absolute."""
    assert outbox.outbox_dir("~/boxes/a", {"XDG_STATE_HOME": "/ignored"}) == \
        os.path.join(os.path.expanduser("~"), "boxes", "a")
    assert outbox.outbox_dir(None, {"XDG_STATE_HOME": str(tmp_path)}) == \
        os.path.join(str(tmp_path), "sentry-bootstrap", "outbox")


def test_bound_holds_after_1000_events_from_two_processes(tmp_path):
    """Two processes writing 1,000 events in all keep the outbox within max_bytes; the counter adds up."""
    box = str(tmp_path / "box")
    max_bytes = 64 * 1024
    body = """
        for i in range(500):
            sentry_sdk.capture_message("event %d" % i)
        """
    code = child_code(body, {"path": box, "max_bytes": max_bytes}, defaults=False)
    procs = [spawn_python(["-c", code], hook=False, cwd=str(tmp_path)) for _ in range(2)]
    for proc in procs:
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    names = outbox.envelope_names(box)
    total = sum(os.path.getsize(os.path.join(box, n)) for n in names)
    assert 0 < total <= max_bytes
    assert outbox.evicted_count(box) == 1000 - len(names)
    assert len(reader.read_rows(box)) == len(names)
    assert not [n for n in os.listdir(box) if n.startswith(outbox.TMP_PREFIX)]


def test_clear_removes_envelopes_and_resets_the_counter(tmp_path):
    """clear() empties the outbox and its eviction counter."""
    box = str(tmp_path)
    for i in range(3):
        outbox.write_envelope(box, envelope_bytes(event_item(message="m%d" % i)))
    assert outbox.enforce_bound(box, 1) == 3
    assert outbox.evicted_count(box) == 3
    outbox.write_envelope(box, envelope_bytes(event_item(message="new")))
    assert outbox.clear(box) == 1
    assert reader.read_rows(box) == [] and outbox.evicted_count(box) == 0


def test_unwritable_outbox_never_raises_into_the_program(tmp_path):
    """When the outbox can't be written, the program runs on; failures are counted and reported once."""
    blocker = tmp_path / "file"
    blocker.write_text("a regular file where the outbox directory should be")
    proc = run_python(["-c", child_code("""
        for _ in range(3):
            sentry_sdk.capture_message("lost")
        print("failures", sentry_sdk.get_client().transport.failures)
        """, {"path": str(blocker / "box")})], hook=False, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "failures 3\n"
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("sentry-bootstrap:")]
    assert len(lines) == 1 and "cannot write to the outbox" in lines[0]


def test_reading_the_outbox_does_not_import_the_sdk(tmp_path):
    """Importing the outbox module and reading events leaves sentry_sdk unimported (the CLI stays fast)."""
    proc = run_python(["-c", textwrap.dedent("""\
        import sys
        sys.path.insert(0, {root!r})
        from sentry_bootstrap.transport import outbox
        from sentry_bootstrap.events import reader
        reader.read_rows({box!r})
        print("sentry_sdk" in sys.modules)
        """).format(root=HOOK_DIR, box=str(tmp_path))], hook=False)
    assert proc.stdout == "False\n", proc.stderr


def test_child_forked_while_the_ledger_is_locked_holds_no_copy_of_the_lock(tmp_path):
    """A process forked while its parent holds the ledger lock drops its copy: once the parent lets go,
    the lock is free for the child (a copy kept would hold it for the child's whole life)."""
    proc = run_python(["-c", textwrap.dedent("""\
        import fcntl, os, sys
        sys.path.insert(0, {root!r})
        from sentry_bootstrap.transport import outbox, store
        box = {box!r}
        outbox.write_envelope(box, b"{{}}\\n")
        from sentry_bootstrap._files import StateDir
        ledger = store._Ledger(StateDir.open(box))  # as if a writer thread held it at fork time
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.read(ready_r, 1)  # the parent has let go
            fd = os.open(os.path.join(box, store.STATE_FILE), os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os._exit(3)
            fcntl.flock(fd, fcntl.LOCK_UN)
            outbox.write_envelope(box, b"{{}}\\n", 10 ** 6)
            os._exit(0)
        ledger.close()
        os.write(ready_w, b"x")
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), len(outbox.envelope_names(box)))
        """).format(root=HOOK_DIR, box=str(tmp_path))], hook=False)
    assert proc.stdout == "0 2\n", proc.stderr
