"""Reading envelope directories (the outbox, the spool) back: every item type we show, bounded.

An envelope file holds items; the ones shown are errors and messages (`event` items, an error when
it carries an exception), transactions, check-ins and logs (one `log` item holds many records, each
shown as its own row). Sessions, client reports, attachments and the rest are skipped.

A row is a summary dict (`ROW_KEYS`): `event_id` (the event's own id; a check-in's `check_in_id`;
for a log record, which has none, a stable id derived from the file name and the record's place),
`type` (`error|message|transaction|check-in|log`), `timestamp` (ISO UTC), `level`, `title`,
`environment`, `release`, `transaction`, `tags`, `file`, `issue`: the grouping key of errors and
messages (exception type and top in-app frame; the message template), and `culprit` (that frame as
`module in function`); the last two are None for the other types.

The files are hostile input: the directory is opened under the trust rule of every state path
(`_files.StateDir`: not a link, ours, not writable by others; UnsafeDirectory otherwise) and each
file, relative to it, is read and parsed by `transport/envelope_file.py` (no link followed, no
blocking, a regular file only, at most its READ_LIMIT bytes, every length and nesting checked); a
file that is gone, too large or malformed is skipped. Names sort by time, so
listing needs one `listdir` and no `stat`. A file that can never be read (refused by
`_files`, or not an envelope) is quarantined as the spool's drain does it: moved to the directory's
`corrupt/` and counted (`quarantined` tells how many are there), so that it is looked at once.
"""
import hashlib
import json
import os
import time

from sentry_bootstrap import _files
from sentry_bootstrap._files import StateDir
from sentry_bootstrap.transport import envelope_file

TYPES = ("error", "message", "transaction", "check-in", "log")
ROW_KEYS = ("event_id", "type", "timestamp", "level", "title", "environment", "release",
            "transaction", "tags", "file", "issue", "culprit")

# -- files ------------------------------------------------------------------------------------------

def _directory(path):
    """The directory `path` opened under the trust rule, or None when it is absent. Raises
    UnsafeDirectory when it can't be trusted."""
    try:
        return StateDir.open(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def list_names(path):
    """The envelope file names in the directory `path`, oldest first; none when it is absent.
    Raises UnsafeDirectory (an OSError) when the directory can't be trusted."""
    directory = _directory(path)
    if directory is None:
        return []
    try:
        return envelope_file.list_names(directory.listdir())
    except OSError:
        return []
    finally:
        directory.close()


# -- summaries --------------------------------------------------------------------------------------

def _text(value, limit=500):
    """A display string from any JSON value, cut at `limit` characters."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def exceptions(event):
    """The exception values of an event, as the SDK orders them: causes first, the raised one last."""
    exc = event.get("exception")
    values = exc.get("values") if isinstance(exc, dict) else exc
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def frames(exception):
    """The frames of one exception value, oldest call first."""
    trace = exception.get("stacktrace")
    found = trace.get("frames") if isinstance(trace, dict) else None
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def _message(event):
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        if logentry.get("formatted"):
            return logentry["formatted"]
        if logentry.get("message"):
            params = logentry.get("params")
            try:
                return logentry["message"] % tuple(params) if params else logentry["message"]
            except (TypeError, ValueError):
                return logentry["message"]
    message = event.get("message")
    if isinstance(message, dict):
        message = message.get("formatted") or message.get("message")
    return message


def title(event):
    """What an event is about: `Type: value` of the raised exception, the message, or the
    transaction name."""
    values = exceptions(event)
    if values:
        exc = values[-1]
        kind, value = _text(exc.get("type")) or "Error", _text(exc.get("value"))
        return "{}: {}".format(kind, value) if value else kind
    message = _message(event)
    if message:
        return _text(message)
    return _text(event.get("transaction")) or "<no title>"


def top_in_app_frame(event):
    """The innermost frame of the raised exception that belongs to the application (the innermost
    frame when none is marked in-app), or None."""
    values = exceptions(event)
    if not values:
        return None
    found = frames(values[-1])
    in_app = [f for f in found if f.get("in_app")]
    return (in_app or found or [None])[-1]


def culprit(frame):
    """`module in function` (or the file name) of a frame, as Sentry shows under a title."""
    if not frame:
        return None
    where = frame.get("module") or frame.get("filename") or frame.get("abs_path") or "?"
    return "{} in {}".format(_text(where, 200), _text(frame.get("function"), 200) or "?")


def issue_key(event):
    """The grouping of errors (exception type and top in-app frame) and messages (the template)."""
    values = exceptions(event)
    if values:
        return "{} @ {}".format(_text(values[-1].get("type")) or "Error",
                                culprit(top_in_app_frame(event)) or "-")
    logentry = event.get("logentry")
    template = logentry.get("message") if isinstance(logentry, dict) else None
    return "message: {}".format(_text(template) or title(event))


def iso_timestamp(value):
    """An ISO UTC timestamp from the SDK's float seconds or an ISO string (kept as it is)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(value)) + \
                ".{:06d}Z".format(int(round((value % 1) * 1e6)) % 1000000)
        except (OverflowError, ValueError, OSError):
            return None
    return value if isinstance(value, str) else None


def seconds(value):
    """Seconds since the epoch from the SDK's float or an ISO UTC string (spans use those), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str) or len(value) > 40:
        return None
    import datetime

    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp()


def tags(value):
    """Tags as a dict, from either form Sentry accepts (a mapping, or `[[key, value], ...]`)."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return {str(pair[0]): pair[1] for pair in value if isinstance(pair, (list, tuple)) and len(pair) == 2}
    return {}


def _row(kind, event_id, timestamp, level, text, payload, file, issue=None, where=None):
    return {
        "event_id": event_id, "type": kind, "timestamp": iso_timestamp(timestamp), "level": level,
        "title": text, "environment": _text(payload.get("environment")),
        "release": _text(payload.get("release")), "transaction": _text(payload.get("transaction")),
        "tags": tags(payload.get("tags")), "file": file, "issue": issue, "culprit": where,
    }


def summarize(event, file=None):
    """The row of one error or message event."""
    kind = "error" if exceptions(event) else "message"
    return _row(kind, event.get("event_id"), event.get("timestamp"), event.get("level") or "error",
                title(event), event, file, issue_key(event), culprit(top_in_app_frame(event)))


def _transaction_row(event, file):
    row = _row("transaction", event.get("event_id"), event.get("timestamp"), "info",
               _text(event.get("transaction")) or "<unnamed transaction>", event, file)
    start, end = seconds(event.get("start_timestamp")), seconds(event.get("timestamp"))
    if start is not None and end is not None:
        ms = (end - start) * 1000
        row["title"] += " ({:.{}f} ms)".format(ms, 0 if ms >= 10 else 1)
    return row


def _check_in_row(check_in, file):
    status = _text(check_in.get("status")) or "?"
    text = "{}: {}".format(_text(check_in.get("monitor_slug")) or "<monitor>", status)
    if isinstance(check_in.get("duration"), (int, float)):
        text += " ({:.2f} s)".format(check_in["duration"])
    return _row("check-in", check_in.get("check_in_id"), check_in.get("timestamp"),
                "error" if status == "error" else "info", text, check_in, file)


def _log_rows(logs, file, index):
    records = logs.get("items")
    rows = []
    for n, record in enumerate(records if isinstance(records, list) else []):
        if not isinstance(record, dict):
            continue
        attributes = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
        plain = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in attributes.items()}
        # A log record has no id of its own: one derived from where it is stays the same on every read.
        stable = hashlib.sha1("{}:{}:{}".format(os.path.basename(file or ""), index, n).encode()).hexdigest()[:32]
        row = _row("log", stable, record.get("timestamp"), _text(record.get("level")) or "info",
                   _text(record.get("body")) or "", {
                       "environment": plain.get("sentry.environment"),
                       "release": plain.get("sentry.release"),
                   }, file)
        row["record"] = n
        rows.append(row)
    return rows


def _no_constant(name):
    # NaN and Infinity are not JSON: kept, they would make the viewer's answers unparseable.
    return None


# One decoder for every payload (json.loads with an option builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def rows_in(data, file=None):
    """(row, payload) of every shown item in one serialised envelope, in file order. The payload is
    the item's JSON (for a log row, its own record). Raises ValueError on a malformed envelope."""
    found = []
    for index, (headers, payload) in enumerate(envelope_file.parse(data).items):
        kind = headers.get("type")
        if kind not in ("event", "transaction", "check_in", "log"):
            continue
        body = envelope_file.decode_json(payload, _DECODER)
        if not isinstance(body, dict):
            continue
        if kind == "event":
            found.append((summarize(body, file), body))
        elif kind == "transaction":
            found.append((_transaction_row(body, file), body))
        elif kind == "check_in":
            found.append((_check_in_row(body, file), body))
        else:
            for row in _log_rows(body, file, index):
                found.append((row, body["items"][row["record"]]))
    return found


def read_file(path, name):
    """(row, payload) of each shown item of the envelope file `name` in `path`; [] when the file is
    gone (evicted, sent), not a regular file, too large or not an envelope."""
    filename = os.path.join(path, name)
    try:
        directory = _directory(path)
    except OSError:  # not to be trusted (list_names said so)
        return []
    if directory is None:
        return []
    try:
        return rows_in(envelope_file.read(name, directory=directory), filename)
    except (_files.FileRefused, envelope_file.MalformedEnvelope):
        _quarantine(path, filename)
        return []
    except (OSError, ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):
        return []  # gone meanwhile, or an item whose JSON isn't shaped as the SDK writes it
    finally:
        directory.close()


def _quarantine(path, filename):
    from sentry_bootstrap.transport import store

    store.EnvelopeStore(path, 0).set_aside(filename)  # never raises


def quarantined(path):
    """How many unreadable files the directory `path` holds set aside (in `corrupt/`)."""
    from sentry_bootstrap.transport import store

    try:
        return store.EnvelopeStore(path, 0).quarantined() if path else 0
    except OSError:  # an untrusted directory
        return 0


def read_rows(path, limit=None, names=None, types=None):
    """The rows in the directory `path`, oldest first (newest last): at most `limit` of the newest,
    only the `types` given (None: all of TYPES). `names` restricts the read to those file names."""
    names = list_names(path) if names is None else envelope_file.list_names(names)
    found = []
    # From the newest back, so that `limit` costs only the files it shows.
    for name in reversed(names):
        rows = [row for row, _payload in read_file(path, name) if types is None or row["type"] in types]
        found.extend(reversed(rows))
        if limit is not None and len(found) >= limit:
            found = found[:limit]
            break
    found.reverse()
    return found


def find(path, wanted, names=None):
    """(row, payload) of the item whose id is `wanted` or starts with it, newest first; None when
    none matches. Raises LookupError naming the candidates when a prefix matches several."""
    wanted = wanted.strip().lower()
    matches = []
    for name in reversed(list_names(path) if names is None else names):
        for row, payload in read_file(path, name):
            event_id = str(row.get("event_id") or "").lower().replace("-", "")
            if event_id == wanted.replace("-", ""):
                return row, payload
            if wanted and event_id.startswith(wanted.replace("-", "")):
                matches.append((row, payload))
    if len(matches) > 1:
        raise LookupError("{} items start with {!r}: {}".format(
            len(matches), wanted, ", ".join(m[0]["event_id"] for m in matches[:5])))
    return matches[0] if matches else None
