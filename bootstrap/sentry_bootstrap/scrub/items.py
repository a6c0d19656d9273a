"""Every item type the SDK sends, scrubbed (docs/security.md, "Every item type").

`HANDLING` says where each item type the SDK can put in an envelope is scrubbed:
- `event`: the SDK's `event_scrubber` (or the global event processor under `data_collection`), before
  serialisation: errors, messages, transactions (their spans, and the gen-AI spans the SDK derives
  from them into `span` items) and cron check-ins all pass through `client._prepare_event`;
- `callback`: logs, metrics and streamed spans (`trace_lifecycle: stream`) through
  `before_send_log`, `before_send_metric` and `before_send_span` (`scrub_telemetry`), chained before
  the user's own callback;
- `envelope`: attachments (their file name, content type and kind; the content is the program's
  file, sent as it asked), sessions, profiles: here, as the transport receives the envelope
  (`scrub_envelope`);
- `counts`: client reports hold only numbers and reasons.
An item type not in the table is scrubbed here too: a JSON payload is walked like an event, other
bytes are scrubbed as text (up to `MAX_TEXT`), and an item that can't be is dropped: never sent raw.
The envelope header's dynamic sampling context keeps its `public_key` and ids; its transaction name
is scrubbed as text.
"""
import json

from sentry_bootstrap.scrub.text import MAX_TEXT, SUBSTITUTE
from sentry_bootstrap.scrub.walk import AnnotatedValue

__all__ = ["HANDLING", "scrub_telemetry", "scrub_envelope", "scrubbing_transport"]

EVENT, CALLBACK, ENVELOPE, COUNTS = "event", "callback", "envelope", "counts"
HANDLING = {
    "event": EVENT, "transaction": EVENT, "check_in": EVENT,
    "log": CALLBACK, "trace_metric": CALLBACK, "span": CALLBACK,
    "attachment": ENVELOPE, "session": ENVELOPE, "sessions": ENVELOPE, "profile": ENVELOPE,
    "profile_chunk": ENVELOPE,
    "client_report": COUNTS,
}
# Fields of logs, metrics and streamed spans that the SDK fills with ids, times and numbers.
_TELEMETRY_SKIP = frozenset(
    """trace_id span_id parent_span_id start_timestamp end_timestamp timestamp time_unix_nano
    severity_number severity_text type value unit is_segment status""".split()
)
# Item headers that are protocol, not data.
_HEADER_SKIP = frozenset("type length item_count content_type attachment_type".split())
# The dynamic sampling context's fields that are ids, numbers or the project's public key.
_DSC_KEEP = frozenset("trace_id public_key sample_rate sample_rand sampled release environment".split())


def scrub_telemetry(scrubber, item):
    """A log, metric or streamed span (a dict), scrubbed in place but for what it refers to;
    removed values become the text `[Filtered]` (attributes have no annotation). None (the item is
    dropped) if scrubbing fails, for logs and metrics; spans can't be dropped, so a span whose
    scrubbing fails loses its name and attributes instead."""
    if not isinstance(item, dict):
        return item
    try:
        holder = scrubber.scrub_part({k: v for k, v in item.items() if k not in _TELEMETRY_SKIP}, plain=True)
        body = holder.get("body")
        if isinstance(body, str) and "@" in body:  # a log's body is a message (see `BootstrapScrubber._scrub_message_text`)
            for rule in scrubber.message_rules:
                body = rule(body, [])
            holder["body"] = body
        for key, value in holder.items():
            item[key] = SUBSTITUTE if isinstance(value, AnnotatedValue) else value
    except Exception:
        if "name" in item and "span_id" in item:
            item["name"], item["attributes"] = SUBSTITUTE, {}
            return item
        return None
    return item


def scrub_envelope(scrubber, envelope):
    """`envelope` with every item not scrubbed upstream scrubbed (or dropped). Returns the
    envelope, or None when no item is left. The envelope is the SDK's, made for this send."""
    items = getattr(envelope, "items", None)
    if not isinstance(items, list):
        return envelope
    _scrub_dsc(scrubber, getattr(envelope, "headers", None))
    kept = []
    for item in items:
        how = HANDLING.get(_item_type(item))
        if how in (EVENT, CALLBACK, COUNTS):
            kept.append(item)
            continue
        try:
            if _scrub_item(scrubber, item):
                kept.append(item)
        except Exception:
            pass  # dropped: never sent raw
    if not kept:
        return None
    items[:] = kept
    return envelope


def _item_type(item):
    try:
        return item.headers.get("type")
    except Exception:
        return None


def _scrub_dsc(scrubber, headers):
    trace = headers.get("trace") if isinstance(headers, dict) else None
    if not isinstance(trace, dict):
        return
    new = dict(trace)
    for key, value in trace.items():
        if key not in _DSC_KEEP and isinstance(value, str):
            new[key] = scrubber.scrub_text(value)
    headers["trace"] = new


def _scrub_item(scrubber, item):
    """Scrub one item's headers and payload; False when it must be dropped."""
    headers = dict(item.headers)
    for key, value in item.headers.items():
        if key not in _HEADER_SKIP and isinstance(value, str):
            headers[key] = scrubber.scrub_text(value)
    item.headers = headers
    payload = item.payload
    if _item_type(item) == "attachment":
        return True  # the content is the program's own file, attached on purpose
    data = getattr(payload, "json", None)
    if data is None:
        raw = payload.get_bytes()
        if raw[:1] in (b"{", b"["):
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
        if data is None:
            if len(raw) > MAX_TEXT:
                return False
            text = raw.decode("utf-8", "replace")
            scrubbed = scrubber.scrub_text(text)
            if scrubbed != text:
                payload.bytes, payload.path, payload.json = scrubbed.encode("utf-8"), None, None
            return True
    scrubbed = scrubber.scrub_part(data, plain=True)
    if scrubbed is not data or getattr(payload, "json", None) is None:
        payload.json, payload.bytes, payload.path = scrubbed, None, None
    if _item_type(item) in ("session", "sessions"):
        _drop_filtered_address(scrubbed)
    return True


def _drop_filtered_address(session):
    """A session's `attrs.ip_address` removed by the rules goes (the server checks it is an IP)."""
    attrs = session.get("attrs") if isinstance(session, dict) else None
    if isinstance(attrs, dict) and attrs.get("ip_address") == SUBSTITUTE:
        session["attrs"] = {k: v for k, v in attrs.items() if k != "ip_address"}


def scrubbing_transport(transport, scrubber):
    """`transport` (a class the SDK instantiates, or an instance) whose `capture_envelope` scrubs
    every envelope first (`scrub_envelope`)."""
    if isinstance(transport, type):
        class ScrubbingTransport(transport):
            def capture_envelope(self, envelope):
                envelope = scrub_envelope(scrubber, envelope)
                if envelope is not None:
                    return super().capture_envelope(envelope)

        ScrubbingTransport.__name__ = ScrubbingTransport.__qualname__ = transport.__name__
        return ScrubbingTransport
    capture = transport.capture_envelope

    def capture_envelope(envelope):
        envelope = scrub_envelope(scrubber, envelope)
        if envelope is not None:
            return capture(envelope)

    transport.capture_envelope = capture_envelope
    return transport
