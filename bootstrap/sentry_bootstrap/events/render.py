"""One captured item rendered for a terminal (`sentry-bootstrap events show ID`).

An error reads like a Python traceback: each exception of the chain (causes first), its frames with
the source lines the SDK captured around each and the frame's (already scrubbed) local variables;
then breadcrumbs, tags, contexts, user and request. A transaction lists its spans with offsets and
durations; a check-in and a log record show their fields.

Every string comes from an event, which is hostile input: control characters (terminal escape
sequences included) are replaced before anything is printed, and long values are cut.
"""
import json
import re

from sentry_bootstrap.events import reader

# C0 and C1 controls except tab and newline: an event must not drive the terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
VALUE_LIMIT = 300


def clean(value, limit=VALUE_LIMIT):
    """A printable, bounded, single-purpose string from any JSON value."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    text = _CONTROL.sub("?", text)
    return text if len(text) <= limit else text[:limit] + "…"


def _section(lines, name):
    lines.append("")
    lines.append(name)
    lines.append("-" * len(name))


def _pairs(lines, mapping, indent="  "):
    if not isinstance(mapping, dict):
        return
    width = min(max([len(clean(k, 40)) for k in mapping] or [0]), 40)
    for key in sorted(mapping, key=str):
        lines.append("{}{:<{}}  {}".format(indent, clean(key, 40), width, clean(mapping[key])))


def shown_locals(frame):
    """A frame's local variables as shown, in the terminal and in the viewer (static/viewer.js does the
    same): for a module-level frame, whose locals the SDK takes from the module's globals, without
    the interpreter's own names (`__builtins__`, `__doc__`, `__name__`, ...), which every module has
    and which say nothing about this error. What was sent is not changed."""
    variables = frame.get("vars")
    if not isinstance(variables, dict):
        return {}
    if frame.get("function") != "<module>":
        return variables
    return {k: v for k, v in variables.items()
            if not (isinstance(k, str) and len(k) > 4 and k.startswith("__") and k.endswith("__"))}


def _frame_lines(frame):
    lines = ['  File "{}", line {}, in {}{}'.format(
        clean(frame.get("abs_path") or frame.get("filename") or "?"), clean(frame.get("lineno") or "?"),
        clean(frame.get("function") or "?"), "" if frame.get("in_app") else "  (library)")]
    lineno = frame.get("lineno") if isinstance(frame.get("lineno"), int) else None
    pre = frame.get("pre_context") if isinstance(frame.get("pre_context"), list) else []
    post = frame.get("post_context") if isinstance(frame.get("post_context"), list) else []
    if frame.get("context_line") is not None:
        # Source context only for application frames: library frames stay one line, as in Sentry.
        shown = [(-len(pre) + i, text) for i, text in enumerate(pre)] + [(0, frame.get("context_line"))] + \
            [(i + 1, text) for i, text in enumerate(post)]
        if not frame.get("in_app"):
            shown = [(0, frame.get("context_line"))]
        for offset, text in shown:
            number = "" if lineno is None else "{:>5}".format(lineno + offset)
            lines.append("   {} {} | {}".format(">" if offset == 0 else " ", number, clean(text, 200).rstrip()))
    variables = shown_locals(frame)
    if frame.get("in_app") and variables:
        lines.append("      locals:")
        _pairs(lines, variables, indent="        ")
    return lines


def _exception_lines(event):
    lines = []
    values = reader.exceptions(event)
    for n, exc in enumerate(values):
        if n:
            source = (exc.get("mechanism") or {}).get("source") if isinstance(exc.get("mechanism"), dict) else None
            lines.append("")
            lines.append("The above exception was the direct cause of the following exception:"
                         if source == "__cause__" else
                         "During handling of the above exception, another exception occurred:"
                         if source == "__context__" else "The above exception led to the following one:")
            lines.append("")
        found = reader.frames(exc)
        if found:
            lines.append("Traceback (most recent call last):")
            for frame in found:
                lines.extend(_frame_lines(frame))
        head = clean(exc.get("type") or "Error")
        if exc.get("module") and exc.get("module") != "builtins":
            head = "{}.{}".format(clean(exc.get("module")), head)
        lines.append("{}: {}".format(head, clean(exc.get("value"), 1000)) if exc.get("value") else head)
    return lines


def _breadcrumb_lines(event):
    crumbs = event.get("breadcrumbs")
    crumbs = crumbs.get("values") if isinstance(crumbs, dict) else crumbs
    lines = []
    for crumb in crumbs if isinstance(crumbs, list) else []:
        if not isinstance(crumb, dict):
            continue
        stamp = reader.iso_timestamp(crumb.get("timestamp")) or ""
        text = crumb.get("message")
        if not text and isinstance(crumb.get("data"), dict):
            text = " ".join("{}={}".format(k, clean(v, 80)) for k, v in sorted(crumb["data"].items()))
        lines.append("  {:<24}  {:<7}  {:<16}  {}".format(
            clean(stamp[:23], 24), clean(crumb.get("level") or "info", 7),
            clean(crumb.get("category") or crumb.get("type") or "", 16), clean(text)))
    return lines


def _span_lines(event):
    start = reader.seconds(event.get("start_timestamp"))
    spans = []
    for span in event.get("spans") if isinstance(event.get("spans"), list) else []:
        if isinstance(span, dict):
            begin, end = reader.seconds(span.get("start_timestamp")), reader.seconds(span.get("timestamp"))
            if begin is not None and end is not None:
                spans.append((begin, end, span))
    if start is None:
        return []
    return ["  +{:>8.1f} ms  {:>8.1f} ms  {:<20}  {}".format(
        (begin - start) * 1000, (end - begin) * 1000, clean(span.get("op") or "", 20),
        clean(span.get("description")))
        for begin, end, span in sorted(spans, key=lambda found: found[0])]


def render(row, payload):
    """The text for one item: `row` is its summary (reader.ROW_KEYS), `payload` its JSON."""
    lines = ["{}  {}".format(clean(row.get("type")).upper(), clean(row.get("title"), 1000))]
    # `logger`: which logger sent a message or an error logged with its exception (the SDK's
    # logging integration sets it; Sentry shows it beside the level).
    meta = {"id": row.get("event_id"), "time": row.get("timestamp"), "level": row.get("level"),
            "logger": payload.get("logger") if row.get("type") in ("error", "message") else None,
            "environment": row.get("environment"), "release": row.get("release"),
            "transaction": row.get("transaction"), "file": row.get("file")}
    for key, value in meta.items():  # in this order, not sorted
        if value:
            lines.append("  {:<11}  {}".format(key, clean(value)))
    kind = row.get("type")
    if kind in ("error", "message"):
        where = reader.culprit(reader.top_in_app_frame(payload))
        if where:
            lines.append("  {:<11}  {}".format("culprit", clean(where)))
        if reader.exceptions(payload):
            _section(lines, "Exception")
            lines.extend(_exception_lines(payload))
    if kind == "transaction":
        trace = (payload.get("contexts") or {}).get("trace") if isinstance(payload.get("contexts"), dict) else None
        if isinstance(trace, dict):
            lines.append("  {:<11}  {}".format("op", clean(trace.get("op"))))
        _section(lines, "Spans")
        lines.extend(_span_lines(payload) or ["  (none)"])
    if kind == "check-in":
        _section(lines, "Check-in")
        _pairs(lines, {k: v for k, v in payload.items() if k not in ("environment", "release")})
    if kind == "log":
        _section(lines, "Attributes")
        attrs = payload.get("attributes") if isinstance(payload.get("attributes"), dict) else {}
        _pairs(lines, {k: (v.get("value") if isinstance(v, dict) else v) for k, v in attrs.items()})
    if kind in ("error", "message", "transaction"):
        crumbs = _breadcrumb_lines(payload)
        if crumbs:
            _section(lines, "Breadcrumbs")
            lines.extend(crumbs)
        for name, value in (("Tags", reader.tags(payload.get("tags"))), ("User", payload.get("user")),
                            ("Request", payload.get("request"))):
            if isinstance(value, dict) and value:
                _section(lines, name)
                _pairs(lines, value)
        contexts = payload.get("contexts")
        if isinstance(contexts, dict) and contexts:
            _section(lines, "Contexts")
            for name in sorted(contexts, key=str):
                lines.append("  " + clean(name, 60))
                if isinstance(contexts[name], dict):
                    _pairs(lines, contexts[name], indent="    ")
    return "\n".join(lines) + "\n"
