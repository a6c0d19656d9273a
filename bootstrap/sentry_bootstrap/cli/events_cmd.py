"""`sentry-bootstrap events`: what was captured in the local outbox (used when no DSN is set).

`events` lists every item type (error, message, transaction, check-in, log), one line each that
starts with the item's short id, as `git log --oneline` does; `events show [ID]` renders one item
for a terminal (the newest without an ID; a unique prefix of an id is enough; `--json`: the raw
payload); `events serve` starts the local web viewer (events/viewer.py). Reading and rendering live in `sentry_bootstrap.events`.
"""
import json
import os
import sys
import time

from sentry_bootstrap.events import reader
from sentry_bootstrap.transport import outbox

# How often --follow looks for new files: fast enough to feel live, cheap (one listdir).
FOLLOW_INTERVAL = 0.25
JSON_KEYS = ("event_id", "type", "timestamp", "level", "title", "environment", "release",
             "transaction", "tags", "file")
# The id shown on each line: as many hex digits as Sentry's own short event ids; `show` takes any
# unique prefix, and names the candidates when one matches several.
SHORT_ID = 8
# The port Sentry SDKs send to with `spotlight: true` (sentry_sdk.spotlight.DEFAULT_SPOTLIGHT_URL).
DEFAULT_PORT = 8969


def add_arguments(parser, name=None):
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line: " + ", ".join(JSON_KEYS))
    parser.add_argument("--limit", type=_positive_int, metavar="N", help="only the N newest items")
    parser.add_argument("--type", action="append", choices=reader.TYPES, dest="types",
                        metavar="TYPE", help="only items of this type (repeatable): "
                                             + ", ".join(reader.TYPES))
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--follow", "-f", action="store_true",
                      help="keep printing new events until interrupted (Ctrl-C)")
    mode.add_argument("--clear", action="store_true", help="remove every event from the outbox")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="one item in full: exception chain with frames and source "
                                           "lines, breadcrumbs, tags, contexts, user, request",
                              description="Show one item of the outbox in full.")
    show.add_argument("id", nargs="?", help="the item's id, as `events` lists it (a unique prefix is "
                                            "enough; default: the newest item)")
    show.add_argument("--json", action="store_true", help="the raw payload as JSON")
    serve = actions.add_parser("serve", help="a local web viewer on 127.0.0.1, also a Spotlight sidecar",
                               description="Serve a live web view of the outbox on 127.0.0.1. It also "
                                           "accepts envelopes on POST /stream, as Spotlight does, so "
                                           "`spotlight: true` sends to it on the default port.")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT,
                       help="the port on 127.0.0.1 (default {}, Spotlight's; 0 picks a free one)".format(DEFAULT_PORT))
    serve.add_argument("--open", action="store_true", help="open the page in a browser")


def _positive_int(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number, not {!r}".format(text))
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _port(text):
    import argparse

    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError("must be a port number from 0 to 65535, not {!r}".format(text))
    return int(text)


def _outbox_path(resolved):
    """The outbox directory from the configuration (file, overlay, environment)."""
    return outbox.outbox_dir(resolved.section("outbox")["path"])


def _serve_settings(resolved):
    """(the spool directory when a DSN is configured else None, outbox.max_bytes) for the viewer."""
    max_bytes = resolved.section("outbox")["max_bytes"]
    if not resolved.get("dsn"):
        return None, max_bytes
    from sentry_bootstrap.transport import durable

    return durable.spool_status(resolved.get("dsn"), resolved.section("spool"))["path"], max_bytes


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


def short_id(event):
    """The first SHORT_ID hex digits of an item's id (`events show` takes them), or `-` for none."""
    from sentry_bootstrap.events.render import clean

    return clean(str(event.get("event_id") or "-").replace("-", "")[:SHORT_ID]).lower() or "-"


def format_line(event):
    """One readable line: short id, time, type, level, title, then environment, release and
    transaction."""
    from sentry_bootstrap.events.render import clean

    title = " ".join(clean(event["title"], 1000).split())  # multi-line messages stay on one line
    details = ["{}={}".format(key, clean(event[key])) for key in ("environment", "release", "transaction")
               if event.get(key)]
    line = "{:<{}}  {}  {:<11}  {:<7}  {}".format(short_id(event), SHORT_ID, _local_time(event["timestamp"]), event.get("type") or "-",
                                          clean(event["level"], 7).upper(), title)
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
    from sentry_bootstrap.cli import invocation

    command = invocation()  # as this command was run, so that the lines work when copied
    print("No events in the outbox ({}).".format(path))
    print("Run a program with the hook and no DSN, for example:")
    print("  PYTHONPATH=\"$({} hook-path)\" python app.py".format(command))
    print("then run `{} events` again.".format(command))


def _follow(path, as_json, shown_names, types):
    seen = set(shown_names)
    try:
        while True:
            time.sleep(FOLLOW_INTERVAL)
            names = outbox.envelope_names(path)
            new = [n for n in names if n not in seen]
            if new:
                _emit(reader.read_rows(path, names=new, types=types), as_json)
                seen.update(new)
            seen.intersection_update(names)  # forget evicted files so the set stays bounded
    except KeyboardInterrupt:
        return 0


def run(args):
    from sentry_bootstrap.config.errors import ConfigError
    from sentry_bootstrap.config.loader import load_config

    try:
        resolved = load_config()
        path = _outbox_path(resolved)
    except ConfigError as exc:
        sys.stderr.write("sentry-bootstrap events: configuration error:\n{}\n".format(exc))
        return 1

    if args.action == "show":
        return _show(path, args)
    if args.action == "serve":
        from sentry_bootstrap.events import viewer

        spool_path, max_bytes = _serve_settings(resolved)
        return viewer.serve(path, port=args.port, open_browser=args.open, spool_path=spool_path,
                            max_bytes=max_bytes)
    if args.clear:
        removed = outbox.clear(path)
        print("Removed {} from {}.".format(_count(removed, "envelope"), path))
        return 0

    names = outbox.envelope_names(path)
    events = reader.read_rows(path, limit=args.limit, names=names, types=args.types)
    _emit(events, args.json)
    if not args.json:
        if not events and not args.follow:
            _empty_hint(path)
        elif events:
            newest = "the newest " if args.limit and len(events) == args.limit else ""
            kinds = " ({})".format(", ".join(args.types)) if args.types else ""
            print("{}{}{} in {}".format(newest, _count(len(events), "item"), kinds, path))
        bad = reader.quarantined(path)
        if bad:
            print("({} unreadable envelope file{} set aside in {}, never shown)".format(
                bad, " was" if bad == 1 else "s were", os.path.join(path, "corrupt")))
        evicted = outbox.evicted_count(path)
        if evicted:
            print("({} older envelope{} evicted to keep the outbox within outbox.max_bytes)".format(
                evicted, " was" if evicted == 1 else "s were"))
        if args.follow:
            print("Waiting for new events in {} (Ctrl-C to stop)...".format(path))
            sys.stdout.flush()
    if args.follow:
        return _follow(path, args.json, names, args.types)
    return 0


def _newest(path):
    """(row, payload) of the newest item in the outbox, or None when it holds none."""
    # Names sort by time: the newest first; a file that can't be read (gone, malformed) is skipped.
    for name in sorted(reader.list_names(path), reverse=True):
        found = reader.read_file(path, name)
        if found:
            return found[-1]
    return None


def _show(path, args):
    from sentry_bootstrap.events import render

    if args.id is None:  # the newest item, as `git show` shows HEAD
        found = _newest(path)
        if found is None:
            _empty_hint(path)
            return 1
    elif not args.id.strip():
        sys.stderr.write("sentry-bootstrap events show: give the id of an item (see `sentry-bootstrap events`)\n")
        return 2
    else:
        try:
            found = reader.find(path, args.id)
        except LookupError as exc:
            sys.stderr.write("sentry-bootstrap events show: {}; give more of the id\n".format(exc))
            return 2
    if found is None:
        sys.stderr.write("sentry-bootstrap events show: no item {!r} in {}\n".format(args.id, path))
        return 1
    row, payload = found
    if args.json:
        print(json.dumps(payload, indent=2, sort_keys=True, default=str))
    else:
        sys.stdout.write(render.render(row, payload))
    return 0
