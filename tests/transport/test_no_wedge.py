"""No file wedges the store: hostile envelope files in the spool and the outbox are quarantined
(moved to `corrupt/`, counted in `spool status`, shown by `events`), never retried, and every valid
envelope behind them is delivered to a real local server or shown."""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sentry_sdk.envelope import Envelope

from sentry_bootstrap.events import reader
from sentry_bootstrap.transport import outbox
from sentry_bootstrap.transport.durable import flush
from sentry_bootstrap.transport.spool import Spool, spool_dir
from tests.support.child import ROOT, code_env
from tests.support.sentry_server import SentryServer

# The two files of the report: a negative length looped forever with a growing list, and a header
# nested 100,000 deep raised RecursionError out of the drain.
NEGATIVE_LENGTH = (b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n'
                   b'{"type":"event","length":-31}\n{}\n')
DEEP_HEADER = b"[" * 100000 + b"]" * 100000 + b'\n{"type":"event","length":2}\n{}\n'
MUTANT_ID = "e" * 32


def _valid(event_id):
    env = Envelope(headers={"event_id": event_id})
    env.add_event({"event_id": event_id, "message": "valid %s" % event_id, "level": "error"})
    return env.serialize()


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sentry_bootstrap"] + list(args), cwd=ROOT,
                          env=code_env(), capture_output=True, text=True, timeout=120)


def test_the_reported_files_are_quarantined_and_what_follows_is_sent(sentry_server):
    """`spool flush` returns, sends the valid envelope behind both files, and `spool status`
    counts the two quarantined files."""
    spool = Spool(spool_dir(sentry_server.dsn))
    spool.write(NEGATIVE_LENGTH)
    spool.write(DEEP_HEADER)
    spool.write(_valid("a" * 32))
    proc = _cli("spool", "flush", "--dsn", sentry_server.dsn)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "sent 1 envelope(s); 0 remaining" in proc.stdout
    assert list(sentry_server.accepted) == ["a" * 32]
    status = _cli("spool", "status", "--dsn", sentry_server.dsn)
    assert "quarantined: 2 unreadable file(s)" in status.stdout, status.stdout
    assert json.loads(_cli("spool", "status", "--json", "--dsn", sentry_server.dsn).stdout)[
        "corrupt"] == 2


def test_a_hooked_process_drainer_passes_the_reported_files(sentry_server, tmp_path):
    """The background drainer of a process (what spun at 99% CPU, or died) sets both files aside
    and sends the envelope behind them."""
    from sentry_bootstrap.transport.durable import make_transport

    path = str(tmp_path / "spool")
    spool = Spool(path, fsync=False)
    for raw in (NEGATIVE_LENGTH, DEEP_HEADER, _valid("c" * 32)):
        spool.write(raw)
    transport = make_transport({"dsn": sentry_server.dsn}, {"path": path, "backoff": 0.1})
    try:
        sentry_server.wait_for_events(1)
    finally:
        transport.kill()
    assert list(sentry_server.accepted) == ["c" * 32]
    assert spool.quarantined() == 2 and spool.pending() == []


def test_the_reported_files_are_quarantined_and_shown_by_events(tmp_path):
    """`events` lists the valid envelope behind the two files and says two were set aside."""
    box = tmp_path / "box"
    for raw in (NEGATIVE_LENGTH, DEEP_HEADER, _valid("b" * 32)):
        outbox.write_envelope(str(box), raw)
    config = tmp_path / "sentry.yaml"
    config.write_text("version: 1\noutbox:\n  path: %s\n" % box)
    os.chmod(str(config), 0o644)
    proc = subprocess.run([sys.executable, "-m", "sentry_bootstrap", "events", "--json"],
                          cwd=str(tmp_path), env=dict(code_env(), PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["event_id"] for line in proc.stdout.splitlines()] == ["b" * 32]
    text = subprocess.run([sys.executable, "-m", "sentry_bootstrap", "events"],
                          cwd=str(tmp_path), env=dict(code_env(), PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=120).stdout
    assert "2 unreadable envelope files were set aside in %s" % (box / "corrupt") in text, text
    assert outbox.envelope_names(str(box)) and len(os.listdir(str(box / "corrupt"))) == 2


# -- the property test ------------------------------------------------------------------------------

_BASE = _valid(MUTANT_ID)
_LENGTHS = st.one_of(st.integers(-10 ** 6, 10 ** 6).map(str),
                     st.sampled_from(["-31", "0", "1.5", "true", "null", '"2"', "1e400", "-0",
                                      "9" * 5000, "[]", "{}"]))


def _replace_length(text):
    return re.sub(rb'"length":\d+', b'"length":' + text.encode(), _BASE, count=1)


def _flip(args):
    at, byte = args
    at %= len(_BASE)
    return _BASE[:at] + bytes([byte]) + _BASE[at + 1:]


def _nest(args):
    depth, where = args
    line = b"[" * depth + b"]" * depth
    return line + b"\n" + _BASE.split(b"\n", 1)[1] if where else \
        _BASE.replace(b'{"type":"event"', b'{"x":' + line + b',"type":"event"', 1)


HOSTILE = st.one_of(
    st.binary(max_size=400),
    st.integers(0, len(_BASE) - 1).map(lambda cut: _BASE[:cut]),
    _LENGTHS.map(_replace_length),
    st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)).map(_flip),
    st.tuples(st.sampled_from([65, 1000, 100000]), st.booleans()).map(_nest),
    st.binary(max_size=200).map(lambda junk: _BASE + junk),
)
# True: a valid envelope (its id is its place); bytes: a hostile file.
ENTRIES = st.lists(st.one_of(st.just(True), HOSTILE), min_size=1, max_size=8)
# Nothing held here comes near this: the flush that looped grew 700 MB.
MEMORY_BOUND = 48 * 1024 * 1024


def _run_bounded(fn):
    """fn() in a thread with its peak memory traced; fails when it doesn't end (a wedge)."""
    out = {}

    def run():
        out["value"] = fn()

    tracemalloc.start()
    try:
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(120)  # a hang detector, not a speed check: a healthy run takes well under 1 s
        assert not thread.is_alive(), "wedged"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, peak
    return out["value"]


def test_random_and_mutated_envelopes_never_wedge_the_spool_or_the_outbox(tmp_path):
    """Whatever is written into the spool and the outbox, the flush and the listing end in bounded
    memory, every valid envelope arrives at the server (and is listed by the outbox reader), nothing
    stays behind in the spool, and what could not be parsed is quarantined."""
    server = SentryServer().start()
    try:
        @settings(max_examples=30, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(entries=ENTRIES)
        def check(entries):
            server.clear()
            work = tempfile.mkdtemp(dir=str(tmp_path))
            spool_path, box = os.path.join(work, "spool"), os.path.join(work, "box")
            spool = Spool(spool_path, fsync=False)
            valid_ids = []
            for n, entry in enumerate(entries):
                if entry is True:
                    valid_ids.append("%032x" % (n + 1))
                    raw = _valid(valid_ids[-1])
                else:
                    raw = entry
                spool.write(raw)
                outbox.write_envelope(box, raw)

            result = _run_bounded(lambda: flush(server.dsn, {"path": spool_path, "timeout": 5,
                                                             "fsync": False}))
            assert result["status"] == "empty" and result["remaining"] == 0, result
            assert set(valid_ids) <= set(server.accepted), (valid_ids, server.accepted)
            assert spool.pending() == []

            rows = _run_bounded(lambda: reader.read_rows(box))
            assert set(valid_ids) <= {row["event_id"] for row in rows}
            # What stays listed parses; the rest is set aside, once.
            for name in outbox.envelope_names(box):
                assert reader.read_file(box, name) is not None
            assert len(outbox.envelope_names(box)) + reader.quarantined(box) == len(entries)

        check()
    finally:
        server.stop()
