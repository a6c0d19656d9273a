"""`sentry-bootstrap events`: the events captured in the local outbox (used when no DSN is set)."""
import json
import sys
import time

from sentry_bootstrap.transport import outbox

# How often --follow looks for new files: fast enough to feel live, cheap (one listdir).
FOLLOW_INTERVAL = 0.25
JSON_KEYS = ("event_id", "timestamp", "level", "title", "environment", "release", "transaction",
             "tags", "file")


def add_arguments(parser, name=None):
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line: event_id, timestamp, level, title, "
                             "environment, release, transaction, tags, file")
    parser.add_argument("--limit", type=_positive_int, metavar="N", help="only the N newest events")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--follow", "-f", action="store_true",
                      help="keep printing new events until interrupted (Ctrl-C)")
    mode.add_argument("--clear", action="store_true", help="remove every event from the outbox")


def _positive_int(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number, not {!r}".format(text))
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _outbox_path():
    """The outbox directory from the configuration (file, overlay, environment)."""
    from sentry_bootstrap.config.loader import load_config

    resolved = load_config()
    section = resolved.get("outbox") or {}
    return outbox.outbox_dir(section.get("path"))


def _local_time(timestamp):
    """`2024-05-01 12:00:03` in local time from the event's ISO UTC timestamp; the text as-is if odd."""
    if not isinstance(timestamp, str):
        return "-" if timestamp is None else str(timestamp)
    import datetime

    text = timestamp.rstrip("Z")
    try:
        stamp = datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return timestamp
    stamp = stamp.replace(tzinfo=datetime.timezone.utc).astimezone()
    return stamp.strftime("%Y-%m-%d %H:%M:%S")


def format_line(event):
    """One readable line: time, level, title, then environment, release and transaction."""
    title = " ".join(str(event["title"]).split())  # multi-line messages stay on one line
    details = ["{}={}".format(key, event[key]) for key in ("environment", "release", "transaction")
               if event.get(key)]
    line = "{}  {:<7}  {}".format(_local_time(event["timestamp"]), str(event["level"]).upper(), title)
    if details:
        line += "  [" + " ".join(details) + "]"
    return line


def _emit(events, as_json):
    for event in events:
        if as_json:
            print(json.dumps({k: event.get(k) for k in JSON_KEYS}, sort_keys=False, default=str))
        else:
            print(format_line(event))
    sys.stdout.flush()


def _count(n, noun):
    return "{} {}{}".format(n, noun, "" if n == 1 else "s")


def _empty_hint(path):
    print("No events in the outbox ({}).".format(path))
    print("Run a program with the hook and no DSN, for example:")
    print("  PYTHONPATH=\"$(sentry-bootstrap hook-path)\" python app.py")
    print("then run `sentry-bootstrap events` again.")


def _follow(path, as_json, shown_names):
    seen = set(shown_names)
    try:
        while True:
            time.sleep(FOLLOW_INTERVAL)
            names = outbox.envelope_names(path)
            new = [n for n in names if n not in seen]
            if new:
                _emit(outbox.read_events(path, names=new), as_json)
                seen.update(new)
            seen.intersection_update(names)  # forget evicted files so the set stays bounded
    except KeyboardInterrupt:
        return 0


def run(args):
    from sentry_bootstrap.config.errors import ConfigError

    try:
        path = _outbox_path()
    except ConfigError as exc:
        sys.stderr.write("sentry-bootstrap events: configuration error:\n{}\n".format(exc))
        return 1

    if args.clear:
        removed = outbox.clear(path)
        print("Removed {} from {}.".format(_count(removed, "envelope"), path))
        return 0

    names = outbox.envelope_names(path)
    events = outbox.read_events(path, limit=args.limit, names=names)
    _emit(events, args.json)
    if not args.json:
        if not events and not args.follow:
            _empty_hint(path)
        elif events:
            newest = "the newest " if args.limit and len(events) == args.limit else ""
            print("{}{} in {}".format(newest, _count(len(events), "event"), path))
        evicted = outbox.evicted_count(path)
        if evicted:
            print("({} older envelope{} evicted to keep the outbox within outbox.max_bytes)".format(
                evicted, " was" if evicted == 1 else "s were"))
        if args.follow:
            print("Waiting for new events in {} (Ctrl-C to stop)...".format(path))
            sys.stdout.flush()
    if args.follow:
        return _follow(path, args.json, names)
    return 0
