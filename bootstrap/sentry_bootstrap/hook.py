"""The hook's entry point: `start()` runs once per interpreter, from sitecustomize or a .pth file.

Guarantees, whatever the configuration or the machine:
- at most once per process;
- never raises into the host program and never writes to stdout; a problem is one stderr line
  that starts with `sentry-bootstrap:`, and the program runs on uninstrumented;
- strict mode (SENTRY_BOOTSTRAP_STRICT=1 or `strict: true`) turns any failure to start (a
  configuration error, a callable that can't be imported, an internal error) into exit 78;
- switched off (SENTRY_BOOTSTRAP_DISABLED=1, `enabled: false`, an excluded process) it imports none of
  sentry_sdk, pydantic and yaml: the checks below run on the standard library and the config cache;
- switched on, with a warm cache, it imports nothing a bare interpreter doesn't load besides its own
  start-up modules: the SDK starts when the process first needs it (`activation.lazy`), or at once
  when an option needs it from the first instruction (`lazy.eager_reason`);
- it starts no subprocess (the SDK is kept from asking `git` for a release).
"""
import os
import sys
import time

from sentry_bootstrap import _env, _log

EXIT_CONFIG = 78  # EX_CONFIG from sysexits.h: what deploy tools expect for a bad configuration

_state = {"done": False, "report": None}


def start():
    """Instrument this process if the configuration says so. Safe to call any number of times."""
    if _state["done"]:
        return
    _state["done"] = True
    try:
        _state["report"] = _start(os.environ)
    except _StrictExit as stop:
        _log.report("error", stop.message)
        _exit_now(EXIT_CONFIG)
    except ImportError as exc:
        # The hook is on PYTHONPATH for an interpreter whose environment lacks its dependencies:
        # one line with the fix, which deps adds once whoever raised (deps.missing_line).
        from sentry_bootstrap import deps

        _not_active(deps.missing_line(exc))
    except Exception as exc:
        _not_active("internal error {}: {}".format(type(exc).__name__, exc))


def _not_active(reason):
    """Any failure to start, reported; in strict mode it is a refusal to start too (exit 78): a CI or
    deploy check must not pass a process that runs uninstrumented, whatever the cause."""
    try:
        strict = _state.get("strict") or _env.flag(os.environ, _env.STRICT)
    except Exception:
        strict = False
    if strict:
        _log.report("error", "refusing to start (strict mode): " + reason)
        _exit_now(EXIT_CONFIG)
    _log.report("error", "not active: " + reason)


def last_report():
    """What activation did in this process: None before the SDK started (lazy start), or when the
    hook was off."""
    return _state["report"]


class _StrictExit(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _start(environ):
    started = time.perf_counter()
    if _env.flag(environ, _env.DISABLED):
        return None
    from sentry_bootstrap import processes

    info = processes.ProcessInfo.current()
    reason = processes.always_excluded(info)
    if reason:
        _log.report("debug", "off: " + reason)
        return None

    from sentry_bootstrap.config.discovery import discover, quick_look

    discovered = discover(environ, os.getcwd())  # once per start: the loader is handed the result
    config_file = discovered[0] if not discovered[2] else (
        environ.get(_env.CONFIG_FILE) or environ.get(_env.RESOLVED_CONFIG))
    look = quick_look(config_file, environ)
    _state["strict"] = look.strict  # consulted if starting fails in any way
    if look.switched_off:
        return None

    resolved = _resolve(environ, config_file, discovered, look)
    if resolved is None:
        return None
    for warning in resolved.warnings[:SHOWN_WARNINGS]:  # e.g. did-you-mean for a misspelt variable
        _log.report("error", "warning: " + warning)
    if len(resolved.warnings) > SHOWN_WARNINGS:
        _log.report("error", "warning: and {} more (`sentry-bootstrap check` lists them all)".format(
            len(resolved.warnings) - SHOWN_WARNINGS))
    values = resolved.values
    _state["strict"] = bool(values.get("strict"))
    if not values.get("enabled", True):
        return None
    proc = values["processes"]
    included, reason = processes.decide(info, proc["include"], proc["exclude"])
    if not included:
        _log.report("debug", "off: " + reason)
        return None

    # Hand-offs to child processes: whether or not the SDK ever starts here.
    resolved.export_release(environ)
    from sentry_bootstrap._paths import hook_dir

    for directory in _hook_dirs(hook_dir()):
        processes.apply_child_policy(proc["children"], directory, environ)
    if "uwsgi" in sys.modules or info.program in ("uwsgi", "pyuwsgi"):
        from sentry_bootstrap.activation import import_hooks

        import_hooks.warn_uwsgi()  # at start: uWSGI's flags matter before the SDK's first thread

    from sentry_bootstrap.activation import lazy

    monitor = _monitor(info, values, environ)
    why = lazy.eager_reason(values, strict=_env.flag(environ, _env.STRICT),
                            plan=resolved.start_plan)
    if monitor is not None:
        # The check-in goes out from the first instruction, and the run's end is watched.
        why = why or "monitor {} reports this run ({})".format(monitor[1]["slug"], monitor[2])
    if why:
        _log.report("info", "sdk starts at once: " + why)
        report = _activate(resolved, environ, started)
        if report is not None and monitor is not None:
            from sentry_bootstrap.activation import cron

            cron.start(monitor[1], values, environ, started)
        return report
    lazy.arm(values, lambda reason: _activate_later(resolved, environ, started), started,
             plan=resolved.start_plan)
    if _log.enabled("info"):
        _log.report("info", _armed_line(resolved))
    return None


def _monitor(info, values, environ):
    """`(index, entry, why)` of the `monitors:` entry this process reports to, or None: no entry
    matches, or a process above this one reports that monitor already (`run --monitor`, a matched
    parent). Nothing is imported when the configuration has no monitors."""
    entries = values.get("monitors")
    if not entries:
        return None
    from sentry_bootstrap import monitors

    found = monitors.monitor_for(info, entries)
    if found is not None and found[1].get("slug") in monitors.ancestors(environ):
        _log.report("debug", "monitor {}: reported by a parent process".format(found[1]["slug"]))
        return None
    return found


def _activate(resolved, environ, started, at_start=True):
    from sentry_bootstrap import deps

    problem = deps.sdk_problem()  # the program's own sentry_sdk, or the bundle's, in a range we support
    if problem:
        if at_start:
            _not_active(problem)  # strict mode: exit 78
        else:  # too late to refuse the start: the program is running
            _log.report("error", "not active: " + problem)
        return None
    from sentry_bootstrap.activation.activate import activate
    from sentry_bootstrap.config.errors import ConfigError
    from sentry_bootstrap.diagnostics import register_with_notes

    try:
        return activate(resolved, started=started, extras=register_with_notes)
    except ConfigError as error:  # e.g. a `module:function` that can't be imported
        _config_error(error, environ, resolved.values)
        return None


def _activate_later(resolved, environ, started):
    """The SDK's start when the process first needs it (see activation.lazy)."""
    try:
        _state["report"] = _activate(resolved, environ, started, at_start=False)
    except _StrictExit as stop:  # too late to refuse the start: the program is running
        _log.report("error", stop.message)


def _armed_line(resolved):
    """The start-up report of a lazy start: what the SDK will be given, known before it starts."""
    from sentry_bootstrap._mask import mask_dsn

    dsn = resolved.values.get("dsn")
    return " ".join([
        "active (sdk starts on first need):",
        "environment={}".format(resolved.environment),
        "release={} ({})".format(resolved.release, resolved.release_source) if resolved.release
        else "release=none",
        "dsn={}".format(mask_dsn(dsn) if dsn else "outbox"),
        "config={}".format(resolved.config_file or "none"),
    ])


def _hook_dirs(packaged):
    """Both places a sitecustomize of ours may be on PYTHONPATH: the hook directory, and a
    checkout's top level (whose sitecustomize.py runs the one in `bootstrap/`)."""
    checkout = os.path.dirname(packaged)
    return [packaged, checkout] if os.path.isfile(os.path.join(checkout, "sitecustomize.py")) \
        else [packaged]


# Problems named on the hook's one line; `sentry-bootstrap check` lists them all.
SHOWN_PROBLEMS = 5
# Warnings (misspelt SENTRY_* variables, ...) given a line each; the rest are counted.
SHOWN_WARNINGS = 5


def _config_error(error, environ, values=None, look=None):
    """One stderr line for a configuration error, or in strict mode the refusal to start. The line
    names the first SHOWN_PROBLEMS problems and counts the rest (4,000 unknown keys made it 200 KB)."""
    problems = error.problems
    message = "not active: configuration error: " + "; ".join(
        str(p) for p in problems[:SHOWN_PROBLEMS])
    if len(problems) > SHOWN_PROBLEMS:
        message += "; and {} more (`sentry-bootstrap check` lists them all)".format(
            len(problems) - SHOWN_PROBLEMS)
    if _env.flag(environ, _env.STRICT) or bool(values and values.get("strict")) or \
            bool(look and look.strict):
        raise _StrictExit(message.replace("not active", "refusing to start (strict mode)", 1))
    _log.report("error", message)


def _resolve(environ, config_file, discovered, look):
    """The validated configuration, from the cache when it is warm. `discovered` is
    `config.discovery.discover`'s answer, handed to the loader so that it doesn't look again."""
    from sentry_bootstrap.config import cache

    from sentry_bootstrap.processes import entry_script

    script = entry_script()
    start_dir = os.path.dirname(config_file) if config_file else (
        os.path.dirname(script) if script else os.getcwd())
    resolved = None
    if not discovered[2]:  # a discovery problem is the loader's to report, never a cache hit
        if environ.get(_env.RESOLVED_CONFIG) is not None:  # below `sentry-bootstrap run`: its hand-off
            resolved = cache.lookup(config_file, environ, start_dir, handoff=True)
        if resolved is None:
            resolved = cache.lookup(config_file, environ, start_dir)
    # A stored ConfigError (the only exception lookup returns): these inputs were found wrong
    # before, so no validation. Tested as an Exception so that a warm start imports no error type.
    if isinstance(resolved, Exception):
        _config_error(resolved, environ, look=look)
        return None
    if resolved is not None:
        return resolved
    # A cache miss: what validation and the cache's write import (pydantic, yaml, ~90 modules of
    # the standard library and of the config layer) is released afterwards, so that the process
    # goes on as after a warm start (deps.release_imports).
    loaded = set(sys.modules)
    try:
        return _validate(environ, config_file, start_dir, script, discovered, look)
    finally:
        from sentry_bootstrap import deps

        deps.release_imports(loaded)


def _validate(environ, config_file, start_dir, script, discovered, look):
    from sentry_bootstrap import deps
    from sentry_bootstrap.config import cache
    from sentry_bootstrap.config.errors import ConfigError

    try:
        # pydantic and yaml are imported for the validation alone, and the program's own copies of
        # them win (see deps.config_imports).
        with deps.config_imports():
            from sentry_bootstrap.config.loader import load_config

            resolved = load_config(environ=environ, entry_script=script, discovered=discovered)
    except ConfigError as error:
        if not discovered[2]:  # a discovery problem (a missing file) is never cached
            cache.store_error(config_file, environ, start_dir, error)
        _config_error(error, environ, look=look)
        return None
    try:
        cache.store(config_file, environ, start_dir, resolved)
    except Exception as exc:
        _log.report("debug", "config cache not written: {}".format(exc))
    return resolved


def _exit_now(code):
    # sys.exit() inside sitecustomize is a fatal error of the site module (exit 1 and a traceback),
    # so leave the way a refusing program would: flush what was written, then _exit.
    for stream in (sys.stderr, sys.stdout):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)
