"""`sentry-bootstrap events show ID` on items the real SDK wrote: the exception chain with frames,
source lines and locals, breadcrumbs, tags, contexts, user and request; spans of a transaction;
`--json` gives the raw payload; hostile strings can't drive the terminal."""
import json
import shutil

from sentry_bootstrap.events import reader, render
from sentry_bootstrap.transport import outbox
from tests.events.conftest import default_box, events


def _id(box, kind):
    return reader.read_rows(box, types=[kind])[-1]["event_id"]


def test_show_renders_an_error_with_its_chain_frames_source_and_context(tmp_path, isolated_environ, every_type_box):
    """`events show` prints the chained exceptions with frames and source lines, then breadcrumbs, tags, contexts, user, request."""
    box = shutil.copytree(every_type_box, default_box(isolated_environ))
    proc = events("show", _id(box, "error")[:10], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("ERROR  ValueError: cannot price an empty order\n")
    assert "culprit      __main__ in checkout" in out
    first, second = out.index("ZeroDivisionError: division by zero"), out.index("ValueError: cannot price an empty order\n\n")
    assert first < second  # the cause first, as Python prints it
    assert 'shop.py", line 26, in price' in out
    assert '>    26 |     return order["total"] / order["items"]' in out  # the source line, marked
    assert 'order  {"items": "0", "total": "10"}' in out  # the frame's locals, as the SDK serialised them
    for section in ("Breadcrumbs", "Tags", "User", "Request", "Contexts"):
        assert "\n{}\n{}\n".format(section, "-" * len(section)) in out
    assert "cart              added SKU-1" in out
    assert "region  eu" in out and "username  ada" in out and "method        POST" in out
    assert "  cart\n    items  3" in out


def test_show_json_is_the_raw_event(tmp_path, isolated_environ, every_type_box):
    """`events show ID --json` prints the event exactly as the SDK wrote it."""
    box = shutil.copytree(every_type_box, default_box(isolated_environ))
    event_id = _id(box, "error")
    proc = events("show", event_id, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == reader.find(box, event_id)[1]


def test_show_lists_the_spans_of_a_transaction_and_the_fields_of_other_types(tmp_path, isolated_environ, every_type_box):
    """A transaction shows its spans with offset and duration; a check-in and a log record show their fields."""
    box = shutil.copytree(every_type_box, default_box(isolated_environ))
    out = events("show", _id(box, "transaction"), cwd=tmp_path).stdout
    assert out.startswith("TRANSACTION  checkout (")
    assert "db.query" in out and "SELECT price FROM sku" in out and " ms " in out
    out = events("show", _id(box, "check-in"), cwd=tmp_path).stdout
    assert "monitor_slug  nightly-import" in out and "status        ok" in out
    out = events("show", _id(box, "log"), cwd=tmp_path).stdout
    assert out.startswith("LOG  stock low for SKU-1") and "sku" in out


def test_show_unknown_or_ambiguous_id(tmp_path, isolated_environ, every_type_box):
    """An id that matches nothing exits 1; an empty id, or a prefix matching several, exits 2 saying why."""
    box = shutil.copytree(every_type_box, default_box(isolated_environ))
    proc = events("show", "f" * 32, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (1, "") and "no item" in proc.stderr
    assert events("show", " ", cwd=tmp_path).returncode == 2
    # The box's ids are random: plant two under a prefix none of them has, so exactly two match.
    taken = {str(row["event_id"]).replace("-", "")[:2] for row in reader.read_rows(box)}
    prefix = next("{:02x}".format(n) for n in range(256) if "{:02x}".format(n) not in taken)
    for n in (1, 2):
        payload = json.dumps({"event_id": prefix + "{}".format(n) * 30, "message": "m"}).encode()
        outbox.write_envelope(box, b"{}\n" + json.dumps({"type": "event", "length": len(payload)}).encode()
                              + b"\n" + payload + b"\n")
    proc = events("show", prefix, cwd=tmp_path)
    assert proc.returncode == 2 and "2 items start with '{}'".format(prefix) in proc.stderr


def test_terminal_escapes_in_an_event_are_neutralised():
    """Control characters in event strings (an ANSI escape that would clear the screen) are replaced before printing."""
    event = {"event_id": "e" * 32, "exception": {"values": [{"type": "Boom\x1b[2J", "value": "x\x07y"}]},
             "tags": {"t\x1b]0;owned\x07": "v"}}
    out = render.render(reader.summarize(event), event)
    assert "\x1b" not in out and "\x07" not in out
    assert "Boom?[2J: x?y" in out
