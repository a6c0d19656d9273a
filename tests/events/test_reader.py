"""events.reader: every item type the real SDK writes (error, message, transaction, check-in, log),
titles and issue keys, corrupt and hostile files skipped, bounded reads, finding one item by id."""
import json
import os

import pytest

from sentry_bootstrap.events import reader
from sentry_bootstrap.transport import envelope_file, outbox


def envelope_bytes(*items, event_id="0" * 32):
    """A serialised envelope in the SDK's wire format, from (headers, payload bytes) pairs."""
    out = [json.dumps({"event_id": event_id}).encode()]
    for headers, payload in items:
        out.append(json.dumps(dict(headers, length=len(payload))).encode())
        out.append(payload)
    return b"\n".join(out) + b"\n"


def event_item(**event):
    return {"type": "event"}, json.dumps(event).encode()


def test_every_item_type_the_sdk_writes_is_a_row(every_type_box):
    """A transaction, a check-in, a log record, a message and an error from the real SDK are each one row, oldest first."""
    rows = reader.read_rows(every_type_box)
    assert [r["type"] for r in rows] == ["transaction", "check-in", "message", "error", "log"]
    by_type = {r["type"]: r for r in rows}
    assert by_type["transaction"]["title"].startswith("checkout (")
    assert by_type["check-in"]["title"] == "nightly-import: ok (1.50 s)"
    assert by_type["log"]["title"] == "stock low for SKU-1"
    assert by_type["message"]["title"] == "cart abandoned"
    assert by_type["error"]["title"] == "ValueError: cannot price an empty order"
    assert by_type["error"]["issue"] == "ValueError @ __main__ in checkout"
    for row in rows:
        assert set(row) >= set(reader.ROW_KEYS)
        assert (row["environment"], row["release"]) == ("qa", "shop@2.0.0")
        assert row["event_id"] and row["timestamp"].endswith("Z")


def test_types_filter_and_limit(every_type_box):
    """`types` keeps only those item types; `limit` keeps the newest rows, newest last."""
    assert [r["type"] for r in reader.read_rows(every_type_box, types=["log", "check-in"])] == ["check-in", "log"]
    assert [r["type"] for r in reader.read_rows(every_type_box, limit=2)] == ["error", "log"]


def test_find_by_id_or_unique_prefix(every_type_box):
    """An item is found by its full id or a unique prefix, with its raw payload; an unknown id finds nothing."""
    for row in reader.read_rows(every_type_box):
        found_row, payload = reader.find(every_type_box, row["event_id"][:12])
        assert found_row["event_id"] == row["event_id"] and isinstance(payload, dict)
    assert reader.find(every_type_box, "f" * 32) is None


def test_a_prefix_matching_several_items_is_an_error(tmp_path):
    """A prefix shared by two items raises LookupError naming them rather than picking one."""
    box = str(tmp_path)
    outbox.write_envelope(box, envelope_bytes(event_item(event_id="ab" + "1" * 30, message="one")))
    outbox.write_envelope(box, envelope_bytes(event_item(event_id="ab" + "2" * 30, message="two")))
    with pytest.raises(LookupError, match="2 items start with 'ab'"):
        reader.find(box, "ab")


def test_corrupt_and_unshown_items_are_skipped(tmp_path):
    """Garbage, truncated envelopes, sessions and client reports are skipped; transactions are listed."""
    box = str(tmp_path)
    outbox.write_envelope(box, b"this is not an envelope\n")
    outbox.write_envelope(box, envelope_bytes(event_item(message="whole"))[:-20])
    outbox.write_envelope(box, envelope_bytes(({"type": "sessions"}, b'{"aggregates": []}'),
                                              ({"type": "client_report"}, b"{}")))
    outbox.write_envelope(box, envelope_bytes(({"type": "transaction"},
                                               json.dumps({"transaction": "/cart"}).encode())))
    outbox.write_envelope(box, envelope_bytes(event_item(message="kept", event_id="a" * 32)))
    with open(os.path.join(box, "00000000000000000001-1-0.envelope"), "wb") as f:
        f.write(b"\xff\xfe\x00")
    rows = reader.read_rows(box)
    assert [(r["type"], r["title"]) for r in rows] == [("transaction", "/cart"), ("message", "kept")]


def test_links_fifos_and_oversized_files_are_not_read(tmp_path):
    """An envelope name that is a symbolic link or a fifo is skipped without blocking; a file past the bound is refused."""
    box = tmp_path / "box"
    box.mkdir()
    secret = tmp_path / "secret"
    secret.write_bytes(envelope_bytes(event_item(message="read through a link")))
    os.symlink(str(secret), str(box / "00000000000000000001-1-0-1.envelope"))
    os.mkfifo(str(box / "00000000000000000002-1-0-1.envelope"))
    assert reader.read_rows(str(box)) == []
    with pytest.raises(OSError, match="more than the limit of 10 bytes"):
        envelope_file.read(str(secret), limit=10)


def test_titles_follow_exception_then_logentry_then_message():
    """The title is the raised exception's `Type: value`, else the formatted log message, else the message."""
    chained = {"exception": {"values": [{"type": "KeyError", "value": "'sku'"},
                                        {"type": "OrderError", "value": "cannot price order"}]}}
    assert reader.summarize(chained)["title"] == "OrderError: cannot price order"
    assert reader.summarize({"exception": {"values": [{"type": "SystemExit"}]}})["title"] == "SystemExit"
    assert reader.summarize({"logentry": {"message": "paid %s", "params": ["A-1"]}})["title"] == "paid A-1"
    assert reader.summarize({"message": "plain"})["title"] == "plain"
    summary = reader.summarize({"timestamp": 0.5, "tags": [["a", "1"]]})
    assert summary["timestamp"] == "1970-01-01T00:00:00.500000Z"
    assert summary["tags"] == {"a": "1"} and summary["level"] == "error"


def test_issue_key_is_exception_type_and_top_in_app_frame():
    """Errors group by exception type and innermost in-app frame (not by message); messages by their template."""
    def error(value, function):
        return {"exception": {"values": [{"type": "KeyError", "value": value, "stacktrace": {"frames": [
            {"module": "shop.cart", "function": function, "in_app": True},
            {"module": "dict_lib", "function": "get", "in_app": False}]}}]}}
    assert reader.issue_key(error("'a'", "total")) == reader.issue_key(error("'b'", "total"))
    assert reader.issue_key(error("'a'", "total")) == "KeyError @ shop.cart in total"
    assert reader.issue_key(error("'a'", "total")) != reader.issue_key(error("'a'", "tax"))
    assert reader.issue_key({"logentry": {"message": "paid %s", "params": ["A-1"]}}) == "message: paid %s"


def test_limit_costs_only_the_files_it_shows(tmp_path):
    """read_rows(limit=N) returns the N newest rows, newest last."""
    for i in range(5):
        outbox.write_envelope(str(tmp_path), envelope_bytes(event_item(message="m%d" % i)))
    assert [e["title"] for e in reader.read_rows(str(tmp_path), limit=2)] == ["m3", "m4"]
    assert len(reader.read_rows(str(tmp_path))) == 5


def test_nan_and_infinity_in_a_payload_become_null(tmp_path):
    """Non-JSON constants (NaN, Infinity) read as None, so what the viewer sends on is valid JSON."""
    payload = b'{"event_id": "%s", "message": "m", "extra": {"ratio": NaN, "top": -Infinity}}' % (b"c" * 32)
    outbox.write_envelope(str(tmp_path), b"{}\n" + json.dumps({"type": "event", "length": len(payload)}).encode()
                          + b"\n" + payload + b"\n")
    _row, event = reader.find(str(tmp_path), "c" * 32)
    assert event["extra"] == {"ratio": None, "top": None}
    json.dumps(event, allow_nan=False)
