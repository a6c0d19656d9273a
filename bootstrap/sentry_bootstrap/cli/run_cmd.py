"""`run`, `hook-path`, `install-pth`, `uninstall-pth`: the ways to switch the hook on."""
import os
import sys
import sysconfig

from sentry_bootstrap import _env
from sentry_bootstrap._paths import hook_dir

PTH_NAME = "sentry_bootstrap_hook.pth"


def add_arguments(parser, name):
    if name == "run":
        parser.add_argument("--env", dest="env_name", help="the environment overlay to use")
        parser.add_argument("--bundle", metavar="DIR",
                            help="a directory written by `sentry-bootstrap bundle` to use as the hook "
                                 "(default: $SENTRY_BOOTSTRAP_BUNDLE; needed when CMD runs another Python "
                                 "than this command's, whose packages don't fit it)")
        monitor = parser.add_argument_group(
            "cron monitor", "report CMD's run as check-ins (in_progress, then ok or error with the "
            "duration); `run` stays CMD's parent and exits with its code (128+N when signal N "
            "killed it). Defaults come from the `monitors:` entry with the same slug")
        monitor.add_argument("--monitor", metavar="SLUG", help="the monitor's slug")
        monitor.add_argument("--schedule", metavar="CRON",
                             help="crontab ('0 3 * * *', '@daily') or interval ('every 30 minutes'):"
                                  " creates or updates the monitor on the server")
        monitor.add_argument("--timezone", metavar="TZ", help="time zone of the crontab")
        for flag, what in (("--checkin-margin", "minutes a run may start late"),
                           ("--max-runtime", "minutes a run may take"),
                           ("--failure-issue-threshold", "failed runs in a row before an issue"),
                           ("--recovery-threshold", "good runs in a row before it resolves")):
            monitor.add_argument(flag, type=int, metavar="N", help=what)
        parser.add_argument("cmd", nargs="+", metavar="CMD",
                            help="the command and its arguments, after `--`")
    elif name in ("install-pth", "uninstall-pth"):
        parser.add_argument("--site-packages", help="where to write (default: this environment's purelib)")


def run(args):
    return {
        "run": run_command,
        "hook-path": print_hook_path,
        "install-pth": install_pth,
        "uninstall-pth": uninstall_pth,
    }[args.command](args)


def print_hook_path(args):
    print(hook_dir())
    return 0


def child_environment(environ, resolved=None, bundle=None):
    """The environment for CMD: the hook first on PYTHONPATH, and what was resolved here exported
    so that every Python process below skips discovery and the release lookup."""
    env = dict(environ)
    hook = bundle or hook_dir()
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != hook]
    env["PYTHONPATH"] = os.pathsep.join([hook] + paths)
    if bundle:
        env.pop(_env.DEPS, None)  # the bundle carries its own
    else:
        # CMD's interpreter may lack our package or its dependencies: the hook's fallback finder
        # takes them from this environment, wherever CMD's has none of its own.
        env[_env.DEPS] = os.pathsep.join(_dependency_dirs())
    if resolved is not None:
        # The file found here (or "" for none) holds for the whole process tree, wherever a child
        # starts, and children skip discovery.
        env[_env.RESOLVED_CONFIG] = resolved.config_file or ""
        resolved.export_release(env)
    return env


def _dependency_dirs():
    """Where this interpreter finds our package and sentry_sdk (an installed or a checkout layout)."""
    import importlib.util

    dirs = []
    for name in ("sentry_bootstrap", "sentry_sdk"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            directory = os.path.dirname(os.path.dirname(spec.origin))
            if directory not in dirs:
                dirs.append(directory)
    return dirs


def run_command(args):
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        sys.stderr.write("sentry-bootstrap run: nothing to run; usage: sentry-bootstrap run -- CMD [ARGS...]\n")
        return 2
    resolved = None
    if not _env.flag(os.environ, _env.DISABLED):
        from sentry_bootstrap.config.errors import ConfigError
        from sentry_bootstrap.config.loader import load_config

        try:
            resolved = load_config(env_name=args.env_name)
        except ConfigError as error:
            for problem in error.problems:
                sys.stderr.write("sentry-bootstrap: {}\n".format(problem))
            if _env.flag(os.environ, _env.STRICT):
                return 78
            # Not strict: the program still runs; its own hook reports the problem once more.
    bundle = args.bundle or os.environ.get(_env.BUNDLE)
    if bundle:
        bundle = os.path.abspath(bundle)
        if not os.path.isfile(os.path.join(bundle, "sitecustomize.py")):
            sys.stderr.write("sentry-bootstrap run: {} is not a bundle (no sitecustomize.py); write one "
                             "with `sentry-bootstrap bundle DIR`\n".format(bundle))
            return 2
    monitor = None
    if args.monitor:
        monitor = _monitor_entry(args, resolved)
        if isinstance(monitor, int):
            return monitor
    env = child_environment(os.environ, resolved, bundle)
    if args.env_name:
        env[_env.ENVIRONMENT] = args.env_name
    if resolved is not None:
        # CMD's interpreter may be another Python, without pydantic: it finds what was validated
        # here instead of validating again (see cache.store_handoff).
        from sentry_bootstrap.config import cache

        cache.store_handoff(resolved.config_file, env, resolved)
    switched_off = resolved is not None and not resolved.values.get("enabled", True)
    if monitor is not None and resolved is not None and not switched_off:
        return _run_monitored(cmd, env, resolved, monitor)
    if monitor is not None:
        sys.stderr.write("sentry-bootstrap run: {}; running {!r} without check-ins\n".format(
            "enabled: false" if switched_off else "no configuration to send them with", cmd[0]))
    try:
        os.execvpe(cmd[0], cmd, env)
    except OSError as exc:
        sys.stderr.write("sentry-bootstrap run: cannot run {!r}: {}\n".format(cmd[0], exc.strerror))
        return 127


_MONITOR_OPTIONS = ("schedule", "timezone", "checkin_margin", "max_runtime",
                    "failure_issue_threshold", "recovery_threshold")
# Signals passed on to CMD (SIGINT only when no terminal delivered it to CMD already).
_FORWARDED = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGINT")


def _monitor_entry(args, resolved):
    """The monitor's options: the `monitors:` entry with this slug, then the flags; or the exit
    code of a usage error."""
    from sentry_bootstrap import monitors

    problem = monitors.slug_problem(args.monitor)
    if problem:
        sys.stderr.write("sentry-bootstrap run: --monitor {!r}: {}\n".format(args.monitor, problem))
        return 2
    entry = {"slug": args.monitor}
    for configured in ((resolved.values.get("monitors") or []) if resolved is not None else []):
        if configured.get("slug") == args.monitor:
            entry.update({k: configured.get(k) for k in _MONITOR_OPTIONS})
            break
    for key in _MONITOR_OPTIONS:
        if getattr(args, key) is not None:
            entry[key] = getattr(args, key)
    try:
        monitors.monitor_config(entry)
    except ValueError as exc:
        sys.stderr.write("sentry-bootstrap run: --schedule {!r}: {}\n".format(entry["schedule"], exc))
        return 2
    for key in _MONITOR_OPTIONS[2:]:
        if entry.get(key) is not None and entry[key] < 1:
            sys.stderr.write("sentry-bootstrap run: --{}: must be at least 1\n".format(
                key.replace("_", "-")))
            return 2
    return entry


def _run_monitored(cmd, env, resolved, entry):
    """Report CMD's run from here, its parent: `in_progress`, then `ok` (exit 0) or `error` (an
    exit code, a signal, a command that can't start) with the duration. Returns CMD's exit code,
    128+N when signal N killed it, as a shell says it."""
    import signal
    import subprocess
    import time

    from sentry_sdk.crons import capture_checkin

    from sentry_bootstrap import _log, monitors
    from sentry_bootstrap.activation import cron

    slug, config = entry["slug"], monitors.monitor_config(entry)
    timeout = resolved.values.get("shutdown_timeout")
    timeout = 2.0 if timeout is None else float(timeout)
    try:
        cron.init_reporting_client(resolved)
        env.update(cron.trace_environment())  # CMD's own events continue this trace
    except Exception as exc:  # CMD runs whatever happens here
        sys.stderr.write("sentry-bootstrap run: no check-ins for {}: {}: {}\n".format(
            slug, type(exc).__name__, exc))
        capture_checkin = _no_check_in
    monitors.add_ancestor(env, slug)  # CMD doesn't report this monitor again
    started = time.monotonic()
    check_in_id = capture_checkin(monitor_slug=slug, status="in_progress", monitor_config=config)
    child = {"proc": None, "pending": []}

    def forward(signum, frame):
        if child["proc"] is None:
            child["pending"].append(signum)
        else:
            try:
                child["proc"].send_signal(signum)
            except OSError:
                pass

    previous = {}
    for name in _FORWARDED:
        signum = getattr(signal, name, None)
        if signum is not None:
            # Ctrl-C at a terminal reaches CMD (same process group) directly: `run` lets it pass
            # and waits for CMD's answer instead of delivering it twice. A handler, not SIG_IGN,
            # which CMD would inherit.
            terminal = name == "SIGINT" and _terminal_delivers_sigint()
            previous[signum] = signal.signal(signum, _let_pass if terminal else forward)
    try:
        try:
            child["proc"] = subprocess.Popen(cmd, env=env)
        except OSError as exc:
            sys.stderr.write("sentry-bootstrap run: cannot run {!r}: {}\n".format(
                cmd[0], exc.strerror))
            code, how = (126 if isinstance(exc, PermissionError) else 127), "could not start"
        else:
            for signum in child["pending"]:
                forward(signum, None)
            returncode = child["proc"].wait()
            code = returncode if returncode >= 0 else 128 - returncode
            how = ("killed by {}".format(_signal_name(-returncode)) if returncode < 0
                   else "exit code {}".format(returncode))
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    status = "ok" if code == 0 else "error"
    capture_checkin(monitor_slug=slug, check_in_id=check_in_id, status=status,
                    duration=time.monotonic() - started, monitor_config=config)
    _log.report("info", "monitor {}: {} ({})".format(slug, status, how))
    try:
        cron.close_client(timeout)
    except Exception:
        pass
    return code


def _no_check_in(**kwargs):
    return None


def _let_pass(signum, frame):
    pass


def _terminal_delivers_sigint():
    """True when `run` is in its terminal's foreground process group: Ctrl-C reaches CMD (same
    group) directly, and forwarding it would deliver it twice."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    return False


def _signal_name(signum):
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return "signal {}".format(signum)


def _site_packages(args):
    return args.site_packages or sysconfig.get_paths()["purelib"]


def pth_lines():
    """The .pth body: one `import` line (those run during site initialisation, also under
    `python -I`) that starts the hook. Where the package is not installed in this environment (a
    checkout), its directory is on sys.path only while the package is imported: a lasting entry
    would make our `sitecustomize` importable there too."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.path.realpath(here) in {os.path.realpath(p) for p in sysconfig.get_paths().values()}:
        return "import sentry_bootstrap.hook as _sb; _sb.start()\n"
    return ("import sys; sys.path.append({0!r}); import sentry_bootstrap.hook as _sb; "
            "sys.path.remove({0!r}); _sb.start()\n").format(here)


def install_pth(args):
    target = os.path.join(_site_packages(args), PTH_NAME)
    with open(target, "w") as handle:
        handle.write(pth_lines())
    print("wrote {}: every interpreter of this environment now starts the hook".format(target))
    return 0


def uninstall_pth(args):
    target = os.path.join(_site_packages(args), PTH_NAME)
    try:
        os.remove(target)
    except FileNotFoundError:
        print("nothing to remove: {} does not exist".format(target))
        return 0
    print("removed {}".format(target))
    return 0
