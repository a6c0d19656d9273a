"""The envelope file: the one place that knows how an envelope is named, listed, read and parsed
on disk. The store (`store.py`, under the outbox and the spool), the drain (`durable.py`) and the
events reader (`events/reader.py`) all go through it.

Names: `<time_ns>-<pid>-<token>-<counter>-<size>.envelope` (`file_name` builds one, `parse_name`
reads one back). The time comes first, zero-padded, so names sort oldest first; `list_names` gives
them in that one order. The size in the name keeps the store's bound without a `stat`.

Reading: `read` opens through `_files` (never a link, never blocking on a fifo, a regular file only)
and reads at most READ_LIMIT bytes.

Parsing: `parse` is the one parser of the SDK's wire format
(`<envelope header JSON>\\n` then, per item, `<item header JSON>\\n<payload>\\n`). The file is
hostile input, so every number and every nesting read from it is checked before it is used: header
lines are at most HEADER_LIMIT bytes and nest at most MAX_DEPTH deep; an item `length` must be an
integer from 0 to what is left of the file, and its payload is followed by a newline (or the
end of the file); each step moves forward, so a parse ends after at most
one pass over the file and holds at most the file's bytes once more. Anything else raises
`MalformedEnvelope` (a ValueError) naming the byte offset: a file that fails is set aside by its
owner (the store quarantines it), never retried. Payloads are not decoded here; `decode_json` does
it for the readers that show them (a nesting past the recursion limit is refused, not raised).

Standard library only; nothing here imports `sentry_sdk`.
"""
import json
import os

from sentry_bootstrap import _files

__all__ = ["SUFFIX", "READ_LIMIT", "HEADER_LIMIT", "MAX_DEPTH", "MalformedEnvelope", "Envelope",
           "file_name", "parse_name", "is_envelope_name", "list_names", "read", "parse",
           "item_types", "categories", "decode_json"]

SUFFIX = ".envelope"
# No envelope file is written or read past this size (the SDK's own limit for one envelope sent is
# 20 MiB compressed; uncompressed files are larger).
READ_LIMIT = 64 * 1024 * 1024
# An envelope or item header is a small JSON object (ids, the trace context, type, length).
HEADER_LIMIT = 64 * 1024
# Deepest nesting of arrays and objects accepted in a header (the SDK writes 3 at most).
MAX_DEPTH = 64

# Item type -> client-report data category, as sentry_sdk.envelope.Item.data_category maps it.
_CATEGORIES = {
    "session": "session", "sessions": "session", "attachment": "attachment",
    "transaction": "transaction", "span": "span", "event": "error", "log": "log_item",
    "trace_metric": "trace_metric", "client_report": "internal", "profile": "profile",
    "profile_chunk": "profile_chunk", "check_in": "monitor",
}


class MalformedEnvelope(ValueError):
    """The bytes are not an envelope this parser accepts; the message says where and why."""


class Envelope(object):
    """A parsed envelope: `headers` (a dict) and `items`, a list of (item headers dict, payload
    bytes) in file order."""

    __slots__ = ("headers", "items")

    def __init__(self, headers, items):
        self.headers, self.items = headers, items

    def types(self):
        return [headers.get("type") for headers, _payload in self.items]


# -- names ------------------------------------------------------------------------------------------

def file_name(time_ns, pid, token, counter, size):
    """The name of a new envelope file: sorts by `time_ns`, unique per (pid, token, counter)."""
    return "%020d-%d-%s-%d-%d%s" % (time_ns, pid, token, counter, size, SUFFIX)


def parse_name(name):
    """(time_ns, size) of a name `file_name` made, else None (claims, temporary files, others)."""
    if not name.endswith(SUFFIX) or name.startswith("."):
        return None
    parts = name[:-len(SUFFIX)].split("-")
    if len(parts) != 5 or not (parts[0].isdigit() and parts[4].isdigit()) or \
            len(parts[0]) > 20 or len(parts[4]) > 20:
        return None
    return int(parts[0]), int(parts[4])


def is_envelope_name(name):
    """True for any unclaimed `*.envelope` name (also ones not in our naming, e.g. copied in)."""
    return name.endswith(SUFFIX) and not name.startswith(".")


def list_names(names_or_directory):
    """The envelope file names among `names_or_directory` (a directory path, or names already
    listed), oldest first: the one order every caller uses. An absent directory has none."""
    names = names_or_directory
    if isinstance(names, str):
        try:
            names = os.listdir(names)
        except OSError:
            return []
    return sorted(n for n in names if is_envelope_name(n))


# -- reading ----------------------------------------------------------------------------------------

def read(path, limit=READ_LIMIT, directory=None):
    """The bytes of the envelope file at `path` (a name in `directory`, a `_files.StateDir`, when
    given): a regular file, never through a link, never blocking, at most `limit` bytes. Raises
    OSError (`_files.FileRefused` for a refusal)."""
    if directory is not None:
        return directory.read(path, limit)[0]
    return _files.read_bounded(path, limit, nofollow=True)


# -- parsing ----------------------------------------------------------------------------------------

# Everything but brackets, quotes and backslashes, deleted before the depth scan.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"\\')


def nesting_depth(data, stop=None):
    """How deep arrays and objects nest in the JSON text `data` (bytes), not counting brackets
    inside strings; stops counting once past `stop`. Linear, and cheap when there are few
    brackets."""
    if data.count(b"[") + data.count(b"{") <= (stop if stop is not None else -1):
        return 0  # cannot nest deeper than its brackets
    depth = deepest = 0
    in_string = escaped = False
    for byte in data.translate(None, _NOT_STRUCTURE):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 92:  # backslash
                escaped = True
            elif byte == 34:  # quote
                in_string = False
        elif byte == 34:
            in_string = True
        elif byte in (91, 123):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop is not None and deepest > stop:
                    return deepest
        elif byte in (93, 125):  # ] }
            depth -= 1
    return deepest


def _header(line, offset, what):
    if len(line) > HEADER_LIMIT:
        raise MalformedEnvelope("{} at byte {} is {} bytes, more than {}".format(
            what, offset, len(line), HEADER_LIMIT))
    if nesting_depth(line, MAX_DEPTH) > MAX_DEPTH:
        raise MalformedEnvelope("{} at byte {} nests deeper than {}".format(what, offset, MAX_DEPTH))
    try:
        value = json.loads(line.decode("utf-8")) if line.strip() else {}
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedEnvelope("{} at byte {} is not JSON: {}".format(what, offset, exc))
    if not isinstance(value, dict):
        raise MalformedEnvelope("{} at byte {} is not an object".format(what, offset))
    return value


def _line_end(raw, pos):
    end = raw.find(b"\n", pos)
    return len(raw) if end < 0 else end


def parse(raw):
    """The `Envelope` in the bytes `raw`. Raises MalformedEnvelope (see the module docstring);
    an envelope with no item is malformed too."""
    end = _line_end(raw, 0)
    headers = _header(raw[:end], 0, "the envelope header")
    items = []
    pos = end + 1
    size = len(raw)
    while pos < size:
        end = _line_end(raw, pos)
        line = raw[pos:end]
        start, pos = pos, end + 1
        if not line.strip():
            continue
        item = _header(line, start, "the item header")
        length = item.get("length")
        if length is None:  # the payload runs to the end of the line
            end = _line_end(raw, pos)
            payload = raw[pos:end]
            pos = end + 1
        else:
            if type(length) is not int or length < 0:
                raise MalformedEnvelope("the item header at byte {} has length {!r}, not a byte "
                                        "count".format(start, length))
            if length > size - min(pos, size):
                raise MalformedEnvelope("the item at byte {} says {} bytes; only {} follow".format(
                    start, length, max(size - pos, 0)))
            payload = raw[pos:pos + length]
            pos += length
            if raw[pos:pos + 1] not in (b"", b"\n"):
                raise MalformedEnvelope("the item at byte {} is not followed by a newline after its "
                                        "{} bytes".format(start, length))
            pos += 1
        items.append((item, payload))
    if not items:
        raise MalformedEnvelope("the envelope has no items")
    return Envelope(headers, items)


def item_types(raw):
    """The item types of a serialized envelope, in order; raises MalformedEnvelope."""
    return parse(raw).types()


def categories(raw):
    """The client-report data category of each item (["error"] when `raw` can't be parsed)."""
    try:
        return [category(t) for t in item_types(raw)]
    except MalformedEnvelope:
        return ["error"]


def category(item_type):
    """The client-report data category of one item type."""
    return _CATEGORIES.get(item_type, "default")


def decode_json(payload, decoder=None):
    """A payload's JSON value (`decoder`: a `json.JSONDecoder`, default the standard one); a value
    nesting deeper than the interpreter's recursion limit is refused, never a RecursionError.
    Raises MalformedEnvelope."""
    try:
        text = payload.decode("utf-8")
        return (decoder or _DECODER).decode(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedEnvelope("a payload is not JSON: {}".format(exc))


_DECODER = json.JSONDecoder()
