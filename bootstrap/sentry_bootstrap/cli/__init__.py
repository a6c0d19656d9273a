"""The `sentry-bootstrap` command: one table of subcommands, each in its own module.

Each command module defines `add_arguments(parser)` and `run(args) -> int` (the exit code). Modules
are imported only when their command runs, so `sentry-bootstrap hook-path` stays instant.
"""
import argparse
import sys

# name -> (module in sentry_bootstrap.cli, one-line help). Group commands (spool) parse their own sub-actions.
COMMANDS = {
    "run": ("run_cmd", "run CMD with the hook on PYTHONPATH: sentry-bootstrap run [--monitor SLUG] -- CMD [ARGS...]"),
    "hook-path": ("run_cmd", "print the directory to put first on PYTHONPATH"),
    "install-pth": ("run_cmd", "cover every interpreter of this environment with a .pth file"),
    "uninstall-pth": ("run_cmd", "remove the .pth file written by install-pth"),
    "bundle": ("bundle_cmd", "write a self-contained hook directory for any interpreter"),
    "bake": ("bake_cmd", "write the validated configuration into the image: containers start warm"),
    "init": ("config_cmds", "write an annotated starter sentry.yaml"),
    "check": ("config_cmds", "validate the configuration (exit 1 on an error)"),
    "explain": ("config_cmds", "show each effective value and where it came from"),
    "schema": ("config_cmds", "print the JSON Schema of sentry.yaml"),
    "events": ("events_cmd", "show the events in the local outbox"),
    "spool": ("spool_cmd", "status | flush | clear of the durable delivery spool"),
    "doctor": ("doctor_cmd", "check DSN, DNS, TCP, TLS and a real envelope, with fixes"),
    "test": ("test_cmd", "send a test event and show the server's answer"),
}

# Commands that never read the configuration (nor need pydantic or yaml).
NO_CONFIG = frozenset({"hook-path", "install-pth", "uninstall-pth", "bundle"})


def invocation():
    """This command as it was started, in a form that works when typed again: `sentry-bootstrap`
    when that is what PATH finds, else the script's full path (`/app/.venv/bin/sentry-bootstrap`);
    for `python -m sentry_bootstrap`, the interpreter's full path, with the PYTHONPATH entry that
    made the package importable (a bundle, a checkout). What the commands print as next steps."""
    import os
    import shlex
    import shutil

    script = sys.argv[0] if sys.argv else ""
    if os.path.basename(script) in ("__main__.py", "-c", "-m", ""):
        command = "{} -m sentry_bootstrap".format(shlex.quote(sys.executable))
        package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        entries = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if package_parent in entries:
            command = "PYTHONPATH={} {}".format(shlex.quote(package_parent), command)
        return command
    found = shutil.which(os.path.basename(script))
    if found and os.path.realpath(found) == os.path.realpath(script):
        return os.path.basename(script)
    return shlex.quote(os.path.abspath(script))


def _command_module(name):
    # Plain imports, not importlib strings, so that the import graph (tests/test_architecture.py)
    # sees every edge.
    module = COMMANDS[name][0]
    if module == "run_cmd":
        from sentry_bootstrap.cli import run_cmd as found
    elif module == "bundle_cmd":
        from sentry_bootstrap.cli import bundle_cmd as found
    elif module == "bake_cmd":
        from sentry_bootstrap.cli import bake_cmd as found
    elif module == "config_cmds":
        from sentry_bootstrap.cli import config_cmds as found
    elif module == "events_cmd":
        from sentry_bootstrap.cli import events_cmd as found
    elif module == "spool_cmd":
        from sentry_bootstrap.cli import spool_cmd as found
    elif module == "doctor_cmd":
        from sentry_bootstrap.cli import doctor_cmd as found
    else:
        from sentry_bootstrap.cli import test_cmd as found
    return found


def build_parser(argv):
    parser = argparse.ArgumentParser(
        prog="sentry-bootstrap",
        description="Zero-code Sentry instrumentation driven by sentry.yaml.",
        epilog="Exit codes: 0 fine, 1 the check failed or something waits, 2 a usage error.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # Only the named command's module is imported; the others get a bare parser for --help.
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (_module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == wanted:
            _command_module(name).add_arguments(p, name)
    return parser


def main(argv=None):
    """Run one command; its exit code (0 fine, 1 the check failed or something waits, 2 a usage
    error). A reader that stops early (`doctor --json | head`) ends the command quietly."""
    argv = sys.argv[1:] if argv is None else list(argv)
    from sentry_bootstrap._paths import UnsafeDirectory

    try:
        parser = build_parser(argv)
        try:
            args = parser.parse_args(argv)
        except SystemExit as done:  # --help (0) or a usage error (2): flush here, as below
            sys.stdout.flush()
            return done.code
        from sentry_bootstrap import deps

        # From a bundle alone (`PYTHONPATH=BUNDLE python -m sentry_bootstrap ...`), the bundle's
        # pydantic and yaml are lent to this process, as the hook lends them to validation; the
        # commands that read no configuration skip even the look.
        if args.command not in NO_CONFIG:
            deps.lend_to_commands()
        try:
            code = _command_module(args.command).run(args) or 0
        except ImportError as exc:
            line = deps.command_needs(exc)
            if line is None:
                raise
            sys.stderr.write("sentry-bootstrap {}: {}\n".format(args.command, line))
            return 1
        sys.stdout.flush()  # a closed pipe shows here, where it can still be handled
        return code
    except KeyboardInterrupt:
        return 130
    except UnsafeDirectory as exc:  # a state directory another user could tamper with
        sys.stderr.write("sentry-bootstrap: refused: {}\n".format(exc))
        return 1
    except BrokenPipeError:
        return _closed_pipe()


def _closed_pipe():
    # The reader went away: nothing more can be written, and the interpreter's own flush at exit
    # would raise again. Point stdout at /dev/null and end like `head`'s writers do (SIGPIPE's 141).
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 141
