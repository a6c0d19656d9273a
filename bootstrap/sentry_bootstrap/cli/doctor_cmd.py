"""`sentry-bootstrap doctor [--env NAME] [--json] [--timeout S]`: the path to Sentry, step by step.

Exit codes: 0 when every check passes (warnings allowed), 1 when any check fails.
"""
import json
import sys

from sentry_bootstrap.diagnostics import doctor

_WIDTH = 9  # the longest check name, "envelope", plus one


def add_arguments(parser, name=None):
    parser.add_argument("--env", dest="env_name", help="the environment overlay to check")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {check, status, detail, fix}")
    parser.add_argument("--timeout", type=float, default=doctor.DEFAULT_TIMEOUT,
                        help="seconds each network step may take (default %(default)s)")


def run(args):
    results = []
    for result in doctor.iter_checks(env_name=args.env_name, timeout=args.timeout):
        results.append(result)
        if not args.json:
            print("{:<5} {:<{w}} {}".format(result.status, result.check, result.detail, w=_WIDTH))
            if result.fix:
                print("{:<5} {:<{w}} fix: {}".format("", "", result.fix, w=_WIDTH))
            sys.stdout.flush()
    code = doctor.exit_code(results)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        failed = sum(1 for r in results if r.status == doctor.FAIL)
        warned = sum(1 for r in results if r.status == doctor.WARN)
        if failed:
            print("{} check{} failed".format(failed, "" if failed == 1 else "s"))
        else:
            print("all checks passed" + (" ({} warning{})".format(warned, "" if warned == 1 else "s")
                                          if warned else ""))
    return code
