"""`sentry-bootstrap spool status | flush | clear`: the durable delivery spool of the configured DSN.

Exit codes, as for every command: 0 fine (also: no DSN, so no spool and nothing to do); 1 something
waits (`status` with envelopes in the spool, `flush` that left some) or the configuration has an
error; 2 a usage error (argparse's).
"""
import json
import sys

from sentry_bootstrap import _mask

# Above this many files, `flush` shows its progress on stderr.
PROGRESS_FROM = 20


def add_arguments(parser, name=None):
    parser.add_argument("action", choices=("status", "flush", "clear"),
                        help="status: what is waiting (exit 1 if anything is); flush: send it "
                             "now (exit 1 if anything remains); clear: delete it")
    parser.add_argument("--dsn", help="the DSN whose spool to use (default: from the configuration)")
    parser.add_argument("--path", help="the spool directory (default: spool.path, else the "
                                       "per-user state directory)")
    parser.add_argument("--json", action="store_true", help="status as one JSON object")


def _settings(args):
    """(dsn, spool section, extra SDK options) from the flags, else from the configuration."""
    dsn, section, options = args.dsn, {}, {}
    try:
        from sentry_bootstrap.config.loader import load_config
    except ModuleNotFoundError as exc:
        if exc.name != "sentry_bootstrap.config.loader":
            raise
        load_config = None
    if load_config is not None:
        from sentry_bootstrap.config.errors import ConfigError

        try:
            resolved = load_config()
        except ConfigError:
            if not args.dsn:
                raise
            resolved = None  # the flags say enough
    if load_config is not None and resolved is not None:
        section = dict(resolved.section("spool"))  # a copy: --path may change it
        dsn = dsn or resolved.get("dsn")
        for key in ("http_proxy", "https_proxy", "ca_certs", "cert_file", "key_file"):
            if resolved.get(key) is not None:
                options[key] = resolved.get(key)
    if args.path:
        section["path"] = args.path
    return dsn, section, options


def _size(n):
    if n < 1024:
        return "%d B" % n
    if n < 1024 * 1024:
        return "%.1f KiB" % (n / 1024.0)
    return "%.1f MiB" % (n / 1048576.0)


def _show_progress(done, count):
    sys.stderr.write("\rsending %d/%d" % (done, count))
    sys.stderr.flush()


def run(args):
    from sentry_bootstrap.config.errors import ConfigError

    try:
        dsn, section, options = _settings(args)
    except ConfigError as exc:
        sys.stderr.write("sentry-bootstrap: %s\n" % exc)
        return 1
    if not dsn:
        # Not a usage error: nothing is waiting because nothing is spooled without a DSN.
        if args.action == "status" and args.json:
            print(json.dumps({"dsn": None, "files": 0}, sort_keys=True))
        else:
            print("no DSN configured, so there is no spool (events go to the local outbox: "
                  "see `sentry-bootstrap events`)")
        return 0
    from sentry_bootstrap.transport import durable

    if args.action == "status":
        status = durable.spool_status(dsn, section)
        status["dsn"] = _mask.mask_dsn(dsn)
        waiting = 1 if status["files"] else 0  # "something waits"
        if args.json:
            print(json.dumps(status, sort_keys=True))
            return waiting
        print("dsn:        %s" % status["dsn"])
        print("spool:      %s" % status["path"])
        print("waiting:    %d envelope(s), %s (bound %s, %ds)" % (
            status["files"], _size(status["bytes"]), _size(status["max_bytes"]), status["max_age"]))
        if status["oldest_age"] is not None:
            print("oldest:     %ds ago" % status["oldest_age"])
        if status["claimed"]:
            print("sending:    %d (claimed by running processes)" % status["claimed"])
        if status["corrupt"]:
            print("quarantined: %d unreadable file(s) set aside in corrupt/, never sent"
                  % status["corrupt"])
        dropped = status["dropped"]
        total = sum(dropped.values())
        print("dropped:    %d%s" % (total, "" if not total else " (%s; %d not yet reported)" % (
            ", ".join("%s %d" % (k, v) for k, v in sorted(dropped.items())), status["unreported"])))
        return waiting

    if args.action == "clear":
        removed = durable.clear(dsn, section)
        print("removed %d envelope(s) from %s" % (removed, durable.spool_status(dsn, section)["path"]))
        return 0

    total = durable.spool_status(dsn, section)["files"]
    progress = _show_progress if total >= PROGRESS_FROM else None
    result = durable.flush(dsn, section, options=options, progress=progress)
    if progress is not None:
        sys.stderr.write("\n")
    print("sent %d envelope(s); %d remaining" % (result["sent"], result["remaining"]))
    if result["remaining"]:
        print("the server did not accept everything; run `sentry-bootstrap doctor` to see why")
        return 1
    return 0
