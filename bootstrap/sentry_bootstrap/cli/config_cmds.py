"""`check`, `explain`, `schema` and `init`: the configuration commands.

Output goes to stdout, problems to stderr. Exit codes: 0 fine, 1 a configuration error (or `init`
refusing to overwrite), 2 a usage error (an unknown KEY for `explain`). Secrets never appear: the
loader masks them in problems, and `explain` masks the DSN's key and every secret field's value.
"""
import argparse
import copy
import difflib
import json
import os
import sys

from sentry_bootstrap._mask import mask_dsn, mask_secret

STARTER_NAME = "sentry.yaml"


def add_arguments(parser, name):
    if name in ("check", "explain"):
        parser.add_argument("--env", metavar="NAME",
                            help="the active environment: its overlay, if the file has one, applies "
                                 "over the base keys (beats SENTRY_ENVIRONMENT and ENVIRONMENT)")
        parser.add_argument("--config", metavar="FILE",
                            help="the configuration file (beats SENTRY_CONFIG_FILE and ./sentry.yaml)")
    if name == "check":
        parser.add_argument("--all-environments", action="store_true",
                            help="validate the base keys with every overlay in the file")
        parser.add_argument("--strict", action="store_true",
                            help="refuse what strict mode refuses (an environment whose name is "
                                 "close to an overlay's), as SENTRY_BOOTSTRAP_STRICT=1 does")
    elif name == "explain":
        parser.epilog = ("A source ending '; null: the default' was reset by null; a value false "
                         "ending '; off: ...' is a feature switched off.")
        parser.add_argument("key", nargs="?", metavar="KEY",
                            help="only this dotted key and the keys below it")
        parser.add_argument("--json", action="store_true",
                            help='one JSON object: {"dotted.key": {"value": ..., "source": ...}}')
        parser.add_argument("--monitor-for", action="store_true",
                            help="instead: which `monitors:` entry the command after `--` would "
                                 "report to (`explain --monitor-for -- python manage.py "
                                 "clearsessions`); exit 1 when none")
        parser.add_argument("command_line", nargs="*", help=argparse.SUPPRESS)
    elif name == "init":
        parser.add_argument("--path", metavar="PATH", default=STARTER_NAME,
                            help="where to write it (a directory gets sentry.yaml inside); "
                                 "default ./sentry.yaml")
        parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args):
    return {"check": _check, "explain": _explain, "schema": _schema, "init": _init}[args.command](args)


# ---- check ---------------------------------------------------------------------------------------

def _check(args):
    from sentry_bootstrap.config.errors import ConfigError
    from sentry_bootstrap.config.loader import known_environments, load_config

    if not args.all_environments:
        try:
            resolved = load_config(env_name=args.env, config_file=args.config,
                                   strict=args.strict or None)
        except ConfigError as exc:
            _print_problems(exc.problems)
            return 1
        _print_warnings(resolved.warnings)
        print("ok: {} (environment {})".format(_file_text(resolved), resolved.environment))
        return 0

    try:
        names = known_environments(config_file=args.config)
    except ConfigError as exc:
        _print_problems(exc.problems)
        return 1
    # The environment chosen as usual first (it may have no overlay: then the base keys alone),
    # then every other overlay the file defines. A problem of the base keys shows in every run:
    # it is printed once.
    shown = set()
    done = set()
    failed = 0
    for env_name in [args.env] + names:
        if env_name in done:
            continue
        done.add(env_name)
        try:
            resolved = load_config(env_name=env_name, config_file=args.config,
                                   strict=args.strict or None)
        except ConfigError as exc:
            failed += 1
            new = [p for p in exc.problems if str(p) not in shown]
            count = len(exc.problems)
            summary = "{} problem{}".format(count, "" if count == 1 else "s")
            if count > len(new):
                summary += " ({} shown above)".format(count - len(new))
            print("error: environment {}: {}".format(env_name or "as chosen", summary),
                  file=sys.stderr)
            _print_problems(new)
            shown.update(str(p) for p in new)
            continue
        if env_name == args.env:
            _print_warnings(resolved.warnings)
        done.add(resolved.environment)
        print("ok: {} (environment {})".format(_file_text(resolved), resolved.environment))
    return 1 if failed else 0


def _file_text(resolved):
    if not resolved.config_file:
        return "no configuration file (defaults and environment variables)"
    return _display(resolved.config_file)


def _display(path):
    from sentry_bootstrap.config.discovery import display

    return display(path, os.getcwd())


def _print_problems(problems):
    for problem in problems:
        print(str(problem), file=sys.stderr)


def _print_warnings(warnings):
    for line in warnings:
        print("warning: " + line, file=sys.stderr)


# ---- explain -------------------------------------------------------------------------------------

def _explain(args):
    from sentry_bootstrap.config.errors import ConfigError
    from sentry_bootstrap.config.loader import load_config
    from sentry_bootstrap.config.model import is_secret
    from sentry_bootstrap.config.reference import describe

    if args.command_line and not args.monitor_for:
        print("error: one KEY at most (a command line goes after `--monitor-for --`)",
              file=sys.stderr)
        return 2
    try:
        resolved = load_config(env_name=args.env, config_file=args.config)
    except ConfigError as exc:
        _print_problems(exc.problems)
        return 1
    _print_warnings(resolved.warnings)
    if args.monitor_for:
        return _explain_monitor(resolved, ([args.key] if args.key else []) + args.command_line,
                                args.json)
    key = (args.key or "").strip(".")
    entries = explain_entries(resolved, is_secret, expand=key)
    if args.key:
        chosen = {p: e for p, e in entries.items() if p == key or p.startswith(key + ".")}
        if not chosen:
            names = sorted(set(_prefixes(entries)))
            near = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
            hint = " (did you mean {!r}?)".format(near[0]) if near else ""
            print("error: unknown key {!r}{}".format(key, hint), file=sys.stderr)
            return 2
        entries = chosen
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    if args.key:  # the key's description, from its model field
        description = describe(key)
        if description:
            print("# " + description)
    width = max(len(p) for p in entries)
    for path, entry in entries.items():
        print("{} = {}  ({})".format(path.ljust(width), json.dumps(entry["value"]),
                                     entry["source"]))
    return 0


def _explain_monitor(resolved, command, as_json):
    """Which `monitors:` entry a process started with `command` reports to. A command that doesn't
    start with a Python interpreter is taken as run by one (a script with a shebang, a console
    script), as its interpreter's command line then reads."""
    from sentry_bootstrap import monitors
    from sentry_bootstrap.processes import ProcessInfo, _is_interpreter, _program_name, decide

    if not command:
        print("error: no command after `--monitor-for --`", file=sys.stderr)
        return 2
    if not _is_interpreter(_program_name(command[0])):
        command = ["python"] + list(command)
    info = ProcessInfo.from_command_line(command)
    entries = resolved.values.get("monitors") or []
    found = monitors.monitor_for(info, entries)
    rules = resolved.section("processes")
    included, why_not = decide(info, rules["include"], rules["exclude"])
    if not included or not resolved.values.get("enabled", True):
        found = None  # the hook stays off in that process: nothing reports from it
    answer = {"monitor": None, "entry": None, "matched_by": None, "source": None,
              "monitor_config": None, "reported_by_parent": False,
              "process": {"program": info.program, "module": info.module,
                          "console_script": info.console_script, "script": info.script}}
    if found is not None:
        index, entry, why = found
        answer.update(monitor=entry["slug"], entry="monitors.{}".format(index), matched_by=why,
                      source=resolved.source("monitors.{}".format(index)),
                      monitor_config=monitors.monitor_config(entry),
                      reported_by_parent=entry["slug"] in monitors.ancestors(os.environ))
    if as_json:
        print(json.dumps(answer, indent=2))
        return 0 if found else 1
    if not included or not resolved.values.get("enabled", True):
        print("no monitor: the hook is off in this process ({})".format(
            why_not if not included else "enabled: false"))
        print("any command can still report: sentry-bootstrap run --monitor SLUG -- CMD")
        return 1
    if found is None:
        print("no monitor: none of the {} `monitors:` entries matches {}".format(
            len(entries), ", ".join("{}={}".format(k, v) for k, v in answer["process"].items() if v)))
        print("any command can still report: sentry-bootstrap run --monitor SLUG -- CMD")
        return 1
    print("monitor: {} ({}, matched by {}; {})".format(answer["monitor"], answer["entry"],
                                                       answer["matched_by"], answer["source"]))
    config = answer["monitor_config"]
    print("monitor_config: {}".format(json.dumps(config) if config else
                                       "none (no schedule: the monitor must exist in Sentry)"))
    if answer["reported_by_parent"]:
        print("check-ins: none from this process: a parent reports {} ({})".format(
            answer["monitor"], monitors.ANCESTORS))
    else:
        print("check-ins: in_progress at start, then ok or error with the duration at exit "
              "(the SDK starts at once in this process)")
    return 0


def explain_entries(resolved, is_secret, expand=""):
    """Leaf dotted path -> {"value", "source"} for every effective value, secrets masked.

    Mappings are walked down to their leaves (an empty mapping is a leaf); lists are values. The
    options of an integration without a model of its own (`integrations.openai`, ...) are shown
    when set, and all of them (each with the SDK's default when unset) when `expand` names it.
    A key reset by `null` says so in its source (`...; null: the default`), a key switched off by
    `false` says what off means.
    """
    from sentry_bootstrap.config import model

    out = {}
    values = copy.deepcopy(resolved.values)
    section = values["integrations"]
    for name in model.UNMODELLED_INTEGRATIONS:
        path = "integrations." + name
        if expand == path or expand.startswith(path + "."):
            options = dict.fromkeys(model.options_model(name).model_fields)
            options.update(section.get(name) or {})
            section[name] = options
        elif section.get(name) is None:
            section.pop(name, None)

    def walk(node, parts):
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, parts + [str(key)])
            return
        path = ".".join(parts)
        out[path] = {"value": _masked(path, node, is_secret), "source": resolved.source(path)}

    walk(values, [])
    for path, meaning in model.OFF_KEYS.items():
        if path in out and out[path]["value"] is False:
            out[path]["source"] += "; off: " + meaning
    if "environment" in out and resolved.sources.get("environments"):
        # Which overlay, if any, applied: said where the environment's own source is.
        out["environment"]["source"] += "; " + resolved.sources["environments"]
    return out


def _masked(path, value, is_secret):
    if value is None or not is_secret(path):
        return value
    if path == "dsn":
        return mask_dsn(value)
    return mask_secret(value)


def _prefixes(entries):
    for path in entries:
        parts = path.split(".")
        for i in range(1, len(parts) + 1):
            yield ".".join(parts[:i])


# ---- schema --------------------------------------------------------------------------------------

def _schema(args):
    from sentry_bootstrap.config.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


# ---- init ----------------------------------------------------------------------------------------

def _init(args):
    from sentry_bootstrap.cli.starter import STARTER

    path = args.path
    if os.path.isdir(path):
        path = os.path.join(path, STARTER_NAME)
    shown = _display(os.path.abspath(path))
    try:
        write_private(path, STARTER, overwrite=args.force)
    except FileExistsError:
        print("error: {} already exists; not overwritten (use --force to replace it)".format(shown),
              file=sys.stderr)
        return 1
    except OSError as exc:
        print("error: can't write {}: {}".format(shown, exc.strerror or exc), file=sys.stderr)
        return 1
    import shlex

    from sentry_bootstrap.cli import invocation

    # Next steps as this very command was run (`.venv/bin/sentry-bootstrap`, `python -m ...`), so
    # they work when copied; a file other than ./sentry.yaml is named, since check looks there.
    command = invocation()
    config = "" if os.path.abspath(path) == os.path.abspath(STARTER_NAME) else " --config " + shlex.quote(shown)
    print("wrote {} (mode 0600)".format(shown))
    print("next: {} check --all-environments{}".format(command, config))
    print("editor completion: {} schema > {}".format(command, shlex.quote(
        os.path.join(os.path.dirname(shown), "sentry.schema.json"))))
    return 0


def write_private(path, text, overwrite=False):
    """Write `text` to `path` with mode 0600. Without `overwrite`, an existing file raises
    FileExistsError (checked atomically); with it, the old file is replaced atomically."""
    data = text.encode("utf-8")
    if not overwrite:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return
    temporary = "{}.{}.tmp".format(path, os.getpid())
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
