"""The envelope file module: one name format, one order, one read limit and one parser, checked
against what the SDK writes and against hostile bytes (every length and nesting bounded)."""
import os

import pytest
from sentry_sdk.envelope import Envelope, Item, PayloadRef

from sentry_bootstrap.transport import envelope_file
from sentry_bootstrap.transport.envelope_file import MalformedEnvelope, parse

RAW = b'{"event_id":"e"}\n{"type":"event","length":2}\n{}\n'


def _sdk_envelope():
    env = Envelope(headers={"event_id": "a" * 32, "trace": {"trace_id": "b" * 32}})
    env.add_event({"event_id": "a" * 32, "message": "m\nwith a newline"})
    env.add_item(Item(PayloadRef(bytes=b"\x00\xffbinary\n\n"), type="attachment", filename="a.bin"))
    env.add_item(Item(PayloadRef(json={"status": "ok"}), type="check_in"))
    return env.serialize()


def test_parses_what_the_sdk_writes():
    """Every item the SDK serialises comes back with its headers and exact payload bytes."""
    raw = _sdk_envelope()
    parsed = parse(raw)
    ours = Envelope.deserialize(raw)
    assert parsed.headers == ours.headers
    assert parsed.types() == ["event", "attachment", "check_in"]
    assert [p for _h, p in parsed.items] == [item.get_bytes() for item in ours.items]
    assert envelope_file.categories(raw) == ["error", "attachment", "monitor"]


def test_item_without_length_runs_to_the_end_of_its_line():
    """An item header with no length takes its payload up to the next newline."""
    parsed = parse(b'{}\n{"type":"event"}\n{"a":1}\n{"type":"session"}\n{}')
    assert parsed.items == [({"type": "event"}, b'{"a":1}'), ({"type": "session"}, b"{}")]


@pytest.mark.parametrize("raw, why", [
    (b"", "no items"),
    (b'{"a":1}\n', "no items"),
    (b"garbage", "not JSON"),
    (b"[1]\n{}\n", "not an object"),
    (RAW[:30], "not JSON"),
    (b'{}\n{"type":"event","length":99}\n{}', "only 2 follow"),
    # The 81-byte file that looped forever: a negative length read the same header again and again.
    (b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"event","length":-31}\n{}\n',
     "length -31"),
    (b'{}\n{"type":"event","length":1.5}\nx\n', "length 1.5"),
    (b'{}\n{"type":"event","length":true}\nx\n', "length True"),
    (b'{}\n{"type":"event","length":"2"}\nxx\n', "length '2'"),
    (b'{}\n{"type":"event","length":1e400}\nx\n', "length inf"),
    (b'{}\n{"type":"event","length":' + b"9" * 5000 + b"}\nx\n", "not JSON"),
    (b"[" * 100000 + b"]" * 100000 + b"\n{}\n{}\n", "more than"),
    (b'{"a":' + b"[" * 30000 + b"]" * 30000 + b"}\n{}\n{}\n", "nests deeper"),
    (b'{}\n{"type":"event","x":' + b"[" * 1000 + b"]" * 1000 + b"}\n{}\n", "nests deeper"),
    (b"\xff\xfe\n{}\n{}\n", "not JSON"),
])
def test_hostile_envelopes_are_refused_with_a_reason(raw, why):
    """Truncations, bad lengths (negative, fractional, not numbers, huge), deep nesting and bad
    encodings raise MalformedEnvelope (never a loop, a RecursionError or an IndexError)."""
    with pytest.raises(MalformedEnvelope, match=why):
        parse(raw)
    assert envelope_file.categories(raw) == ["error"]


def test_brackets_inside_strings_do_not_count_as_nesting():
    """A header whose strings hold many brackets (a transaction name, say) is not refused."""
    name = "[" * 500 + "{" * 500
    raw = b'{"transaction":"%s","q":"\\"[["}\n{"type":"event","length":2}\n{}\n' % name.encode()
    assert parse(raw).headers["transaction"] == name
    assert envelope_file.nesting_depth(b'{"a":[{"b":"]]]["}]}') == 3


def test_decode_json_refuses_a_payload_nested_past_the_recursion_limit():
    """A payload nested 100,000 deep is a MalformedEnvelope, not a RecursionError."""
    with pytest.raises(MalformedEnvelope):
        envelope_file.decode_json(b"[" * 100000 + b"]" * 100000)
    assert envelope_file.decode_json(b'{"a":[1]}') == {"a": [1]}


def test_names_are_built_and_parsed_in_one_place():
    """file_name and parse_name round-trip; claims, temporary files and odd names are not envelopes."""
    name = envelope_file.file_name(123, 45, "abcd", 6, 789)
    assert envelope_file.parse_name(name) == (123, 789)
    assert name == sorted([name, envelope_file.file_name(124, 1, "zz", 0, 1)])[0]
    for other in (name + ".claimed-1-ab", ".tmp-1-ab-2", "x.envelope", "1-2-3.envelope",
                  "9" * 30 + "-1-a-1-1.envelope", "store.state"):
        assert envelope_file.parse_name(other) is None, other


def test_listing_is_oldest_first_and_skips_other_files(tmp_path):
    """list_names takes only unclaimed `*.envelope` names, oldest first; an absent directory has none."""
    for stamp in (3, 1, 2):
        (tmp_path / envelope_file.file_name(stamp, 1, "t", 0, 1)).write_bytes(b"x")
    (tmp_path / "store.state").write_bytes(b"")
    (tmp_path / (envelope_file.file_name(0, 1, "t", 0, 1) + ".claimed-1-t")).write_bytes(b"")
    names = envelope_file.list_names(str(tmp_path))
    assert [envelope_file.parse_name(n)[0] for n in names] == [1, 2, 3]
    assert envelope_file.list_names(str(tmp_path / "absent")) == []


def test_read_goes_through_files_with_one_limit(tmp_path):
    """read refuses a link and a file past the limit with `_files.FileRefused`."""
    from sentry_bootstrap import _files

    target = tmp_path / "t.envelope"
    target.write_bytes(RAW)
    os.symlink(str(target), str(tmp_path / "link.envelope"))
    assert envelope_file.read(str(target)) == RAW
    with pytest.raises(_files.FileRefused, match="symbolic link"):
        envelope_file.read(str(tmp_path / "link.envelope"))
    with pytest.raises(_files.FileRefused, match="limit"):
        envelope_file.read(str(target), limit=len(RAW) - 1)
