"""`sentry-bootstrap test [--env NAME] [--message TEXT] [--exception]`: send a test event for real.

Prints each event id and the server's answer (with a DSN) or the outbox file written (without).
Exit codes, as for every command: 0 every request was answered 2xx (or the outbox was written);
1 otherwise, or a configuration error; 2 a usage error.
"""
import sys


def add_arguments(parser, name=None):
    parser.add_argument("--env", dest="env_name", help="the environment overlay to use")
    parser.add_argument("--message", help="send a message event with this text (the default when "
                                          "--exception is not given)")
    parser.add_argument("--exception", action="store_true",
                        help="send an exception event (a deliberate SentryBootstrapTestError)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for delivery (default %(default)s)")


def run(args):
    from sentry_bootstrap._mask import mask_text
    from sentry_bootstrap.config.errors import ConfigError
    from sentry_bootstrap.config.loader import load_config
    from sentry_bootstrap.diagnostics.sample_event import send_test_events

    try:
        resolved = load_config(env_name=args.env_name)
    except ConfigError as error:
        for problem in error.problems:
            sys.stderr.write("sentry-bootstrap: {}\n".format(problem))
        return 1  # the configuration failed its check: not a usage error
    try:
        delivery = send_test_events(resolved, message=args.message, exception=args.exception,
                                    timeout=args.timeout)
    except (ImportError, ValueError) as exc:  # a `module:function` option that can't be loaded
        sys.stderr.write("sentry-bootstrap: cannot build the Sentry client: {}\n".format(
            mask_text(exc, [resolved.get("diagnostics.endpoint.token")])))
        return 1
    secrets = [resolved.get("diagnostics.endpoint.token")]
    print("environment {}, release {}, to {}".format(
        resolved.environment, resolved.release or "none", delivery.destination))
    for kind, event_id in delivery.sent:
        print("sent {} event {}".format(kind, event_id))
    if resolved.get("dsn"):
        for status, text in delivery.answers:
            print(mask_text("server answered {}{}".format(
                "HTTP {}".format(status) if status is not None else "nothing",
                ": " + text if text else ""), secrets))
        if not delivery.answers:
            print("no answer from the server within {:g}s".format(args.timeout))
        if not delivery.accepted:
            print("not accepted: the envelope is kept in the spool {} and retried later "
                  "(`sentry-bootstrap spool flush`); `sentry-bootstrap doctor` says why".format(
                      delivery.spool_dir))
            return 1
        return 0
    for path in delivery.files:
        print("written to the outbox: {}".format(path))
    print("no DSN is configured: `sentry-bootstrap events` shows the outbox")
    return 0 if delivery.accepted else 1
