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
    env = child_environment(os.environ, resolved, bundle)
    if args.env_name:
        env[_env.ENVIRONMENT] = args.env_name
    if resolved is not None:
        # CMD's interpreter may be another Python, without pydantic: it finds what was validated
        # here instead of validating again (see cache.store_handoff).
        from sentry_bootstrap.config import cache

        cache.store_handoff(resolved.config_file, env, resolved)
    try:
        os.execvpe(cmd[0], cmd, env)
    except OSError as exc:
        sys.stderr.write("sentry-bootstrap run: cannot run {!r}: {}\n".format(cmd[0], exc.strerror))
        return 127


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
