"""Which processes the hook instruments, and what their children inherit.

The hook decides this before importing anything heavy, so this module is standard library only and
reads nothing but the command line. It runs at every interpreter start, so it doesn't import `re`
or `fnmatch` either (a bare interpreter loads neither): `_glob` matches the common patterns itself.
"""
import os
import sys

# Interpreter options that take a value, as a separate word or glued on (`-Wignore`, `-X dev`).
_OPTIONS_WITH_VALUE = "WX"
_LONG_OPTIONS_WITH_VALUE = ("--check-hash-based-pycs",)
_SCRIPT_SUFFIXES = (".py", ".pyw", ".pyc", ".pyz", ".pyzw")
# python, python3.12, python3.13t, pythonw, py, pypy3: otherwise Python is embedded (uwsgi, a
# frozen application) and its command line is not the interpreter's.
_INTERPRETER_PREFIXES = ("python", "pypy", "py")


def _is_interpreter(name):
    """`^(?:python|pypy|py)[0-9.]*[a-z]?$`, case-insensitive."""
    low = name.lower()
    for prefix in _INTERPRETER_PREFIXES:
        if low.startswith(prefix):
            rest = low[len(prefix):]
            if rest and "a" <= rest[-1] <= "z":
                rest = rest[:-1]
            if all(c in "0123456789." for c in rest):
                return True
    return False


class ProcessInfo:
    """How this interpreter was started.

    - `program`: the name the process is known by: the script's file name (`app.py`, `manage.py`),
      the console script's (`gunicorn`, `celery`, `pip`), or, for `-m`, `-c`, stdin and the REPL,
      the interpreter's (`python3.11`). A trailing `.exe` is dropped.
    - `module`: the module of `python -m MODULE`, else None.
    - `console_script`: the script's name when it has no Python suffix (how console scripts and
      other installed commands look: `gunicorn`), else None.
    - `command`: the code of `python -c CODE`, else None.
    - `kind`: one of `script`, `module`, `command`, `stdin`, `interactive`, or `embedded` when the
      command line is not a Python interpreter's (uwsgi, a frozen program): then `program` and
      `console_script` are that executable's name (`uwsgi`).
    - `argv`: the full command line, interpreter first when it is known.
    - `script`: the script's path as written on the command line (kind `script`), else None.
    """

    __slots__ = ("program", "module", "console_script", "command", "kind", "argv", "script")

    def __init__(self, program, module=None, console_script=None, command=None, kind="script",
                 argv=(), script=None):
        self.script = script
        self.program = program
        self.module = module
        self.console_script = console_script
        self.command = command
        self.kind = kind
        self.argv = tuple(argv)

    @classmethod
    def current(cls):
        """This process, read from `sys.orig_argv` (3.10+), `/proc/self/cmdline`, or `sys.argv`.

        Works at `sitecustomize` time, when `sys.argv` of `python -m mod` is still `['-m', ...]`.
        """
        full = list(getattr(sys, "orig_argv", None) or _proc_cmdline() or [])
        if not full:
            # No interpreter command line (embedded interpreters, non-Linux 3.9): argv alone.
            full = [sys.executable or "python"] + list(getattr(sys, "argv", None) or [""])
        return cls.from_command_line(full)

    @classmethod
    def from_command_line(cls, argv):
        """Parse a full command line: the interpreter, its options, then script/-m/-c/- and args."""
        argv = [str(a) for a in argv]
        interpreter = _program_name(argv[0] if argv else "python")
        if not _is_interpreter(interpreter):
            return cls(interpreter, console_script=interpreter, kind="embedded", argv=argv)
        i = 1
        while i < len(argv):
            word = argv[i]
            if word == "-" or not word.startswith("-") or word == "--":
                break
            if word.startswith("--"):
                i += 2 if word in _LONG_OPTIONS_WITH_VALUE else 1
                continue
            for pos in range(1, len(word)):
                letter = word[pos]
                if letter in "cm":
                    value = word[pos + 1:] or (argv[i + 1] if i + 1 < len(argv) else "")
                    if letter == "m":
                        return cls(interpreter, module=value, kind="module", argv=argv)
                    return cls(interpreter, command=value, kind="command", argv=argv)
                if letter in _OPTIONS_WITH_VALUE:
                    if pos == len(word) - 1:
                        i += 1  # the value is the next word
                    break
            i += 1
        if i < len(argv) and argv[i] == "--":
            i += 1
        if i >= len(argv) or argv[i] == "":
            return cls(interpreter, kind="interactive", argv=argv)
        if argv[i] == "-":
            return cls(interpreter, kind="stdin", argv=argv)
        program = _program_name(argv[i])
        console = None if program.lower().endswith(_SCRIPT_SUFFIXES) else program
        return cls(program, console_script=console, kind="script", argv=argv, script=argv[i])

    def __repr__(self):
        return "ProcessInfo(program={!r}, module={!r}, console_script={!r}, kind={!r})".format(
            self.program, self.module, self.console_script, self.kind)


# Tools that must never report, always excluded before the user's rules: name -> patterns.
DEFAULT_EXCLUDES = (
    ("pip", ("pip", "pip3", "pip3.*", "module:pip", "module:pip.*", "__pip-runner__.py")),
    ("setup.py", ("setup.py", "argv:*import setuptools*")),
    ("build backend hook", ("_in_process.py",)),  # pyproject-hooks / pep517 run backends here
    ("hatchling", ("hatchling", "hatch", "module:hatchling", "module:hatchling.*")),
    ("flit", ("flit", "module:flit", "module:flit.*", "module:flit_core", "module:flit_core.*")),
    ("poetry", ("poetry", "module:poetry", "module:poetry.*")),
    ("pdm", ("pdm", "module:pdm", "module:pdm.*")),
    ("build", ("pyproject-build", "module:build")),
    ("wheel", ("wheel", "module:wheel")),
    ("ensurepip", ("module:ensurepip", "module:ensurepip.*")),
    ("venv", ("module:venv", "virtualenv", "module:virtualenv")),
    ("sentry-bootstrap", ("sentry-bootstrap", "module:sentry_bootstrap", "module:sentry_bootstrap.*")),
)

# Test runners: a test run is not production traffic (its logging.error calls would become events,
# every run a session), so they are excluded by default too; unlike the tools above, a
# `processes.include` pattern that matches brings one back.
TEST_RUNNERS = (
    ("pytest", ("pytest", "py.test", "module:pytest")),
    ("unittest", ("module:unittest", "module:unittest.*")),
    ("tox", ("tox", "module:tox")),
    ("nox", ("nox", "module:nox")),
)

_FIELDS = ("program", "module", "script", "argv")


def entry_script():
    """The program's script as an absolute path, or None for `-c`, `-m`, stdin and the REPL."""
    script = sys.argv[0] if getattr(sys, "argv", None) else ""
    if not script or script in ("-c", "-m") or not os.path.exists(script):
        return None
    return os.path.abspath(script)


def matches(info, pattern):
    """Whether one pattern matches the process.

    A pattern is an fnmatch glob (case-sensitive). Bare, it is tried against the program name, the
    `-m` module and the console script. A prefix restricts it to one of them: `program:`,
    `module:`, `script:` (the console script), or `argv:` (the whole command line joined with
    spaces, interpreter first: `argv:*manage.py migrate*`).
    """
    field, sep, glob = pattern.partition(":")
    if not sep or field not in _FIELDS:
        field, glob = None, pattern
    if field == "argv":
        return _glob(" ".join(info.argv), glob)
    if field is None:
        candidates = (info.program, info.module, info.console_script)
    else:
        candidates = (info.program if field == "program" else
                      info.module if field == "module" else info.console_script,)
    for value in candidates:
        if value and _glob(value, glob):
            return True
    return False


def _glob(value, pattern):
    """`fnmatch.fnmatchcase(value, pattern)`. Patterns with only `*` and `?` (every default rule)
    are matched here, in O(len(value) * len(pattern)) at worst; a `[...]` class goes to fnmatch."""
    if "*" not in pattern and "?" not in pattern and "[" not in pattern:
        return value == pattern
    if "[" in pattern:
        import fnmatch

        return fnmatch.fnmatchcase(value, pattern)
    if "?" not in pattern:
        return _glob_stars(value, pattern)
    i = j = 0
    star, mark = -1, 0
    while i < len(value):
        if j < len(pattern) and pattern[j] != "*" and (pattern[j] == "?" or pattern[j] == value[i]):
            i += 1
            j += 1
        elif j < len(pattern) and pattern[j] == "*":
            star, mark = j, i
            j += 1
        elif star != -1:
            j = star + 1
            mark += 1
            i = mark
        else:
            return False
    while j < len(pattern) and pattern[j] == "*":
        j += 1
    return j == len(pattern)


def _glob_stars(value, pattern):
    """`_glob` for a pattern whose only wildcard is `*` (every default rule): its literal pieces
    found left to right with str methods, so that a long command line (`argv:*import setuptools*`
    against a `-c` program) costs no Python-level loop over its characters at every start."""
    pieces = pattern.split("*")
    first, last = pieces[0], pieces[-1]
    if len(value) < len(first) + len(last) or not value.startswith(first) or \
            not value.endswith(last):
        return False
    at, end = len(first), len(value) - len(last)
    for piece in pieces[1:-1]:
        if piece:
            found = value.find(piece, at, end)
            if found < 0:
                return False
            at = found + len(piece)
    return True


def decide(info, include=(), exclude=()):
    """Whether to instrument this process, and why: `(included, reason)`.

    In order: the default excludes (`DEFAULT_EXCLUDES`, always applied), then `exclude`, then
    `include` (empty means every process not excluded, test runners (`TEST_RUNNERS`) aside: only
    an include pattern that matches one brings it in). Patterns follow `matches`. The reason
    names the rule, e.g. `excluded by default rule 'pip'`, `excluded by processes.exclude
    'celery'`, `not matched by processes.include`, `included by processes.include 'gunicorn'`.
    """
    reason = always_excluded(info)
    if reason:
        return False, reason
    for pattern in exclude or ():
        if matches(info, pattern):
            return False, "excluded by processes.exclude {!r}".format(pattern)
    runner = next((name for name, patterns in TEST_RUNNERS
                   if any(matches(info, p) for p in patterns)), None)
    for pattern in include or ():
        if matches(info, pattern):
            return True, "included by processes.include {!r}".format(pattern)
    if runner:
        return False, "excluded by default rule {!r} (a test runner; processes.include brings " \
                      "it back)".format(runner)
    if not include:
        return True, "included (no processes.include rules)"
    return False, "not matched by processes.include"


def always_excluded(info):
    """The reason when a default rule that nothing overrides (`DEFAULT_EXCLUDES`) matches, else
    None. The hook asks this before it reads the configuration."""
    for name, patterns in DEFAULT_EXCLUDES:
        if any(matches(info, p) for p in patterns):
            return "excluded by default rule {!r}".format(name)
    return None


CHILD_POLICIES = ("inherit", "none")


def apply_child_policy(policy, hook_dir, environ):
    """Set what child processes get, by editing `environ` (a mutable mapping) in place.

    `inherit` leaves PYTHONPATH alone, so children run the hook too. `none` removes every
    PYTHONPATH entry that is `hook_dir` (compared as real paths) and drops the variable when
    nothing is left. Raises ValueError for another policy.
    """
    if policy == "inherit":
        return
    if policy != "none":
        raise ValueError("processes.children must be one of {}, not {!r}".format(
            ", ".join(CHILD_POLICIES), policy))
    current = environ.get("PYTHONPATH")
    if not current:
        return
    target = _same_path_key(hook_dir)
    kept = [entry for entry in current.split(os.pathsep) if _same_path_key(entry) != target]
    if kept:
        environ["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        del environ["PYTHONPATH"]


def _same_path_key(path):
    # An empty entry means the current directory to Python; it is never the hook directory.
    return os.path.normcase(os.path.realpath(path)) if path else ""


def _program_name(path):
    name = os.path.basename(path.rstrip("/\\")) or path
    return name[:-4] if name.lower().endswith(".exe") else name


def _proc_cmdline():
    # Python 3.9 has no sys.orig_argv; Linux keeps the real command line here.
    try:
        with open("/proc/self/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    words = raw.split(b"\0")
    if words and words[-1] == b"":
        words.pop()
    return [os.fsdecode(w) for w in words] or None
