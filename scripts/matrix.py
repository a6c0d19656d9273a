"""The version matrix: the suite on every Python, dependency set and sentry-sdk major that
sentry-bootstrap claims, each in its own virtualenv; `bash scripts/test` (and so CI) runs it after
the main suite.

    python3 scripts/matrix.py                 # every cell
    python3 scripts/matrix.py lowest py3.13   # some cells
    python3 scripts/matrix.py py3.9 -- -k outbox   # arguments after -- go to every cell's pytest
    python3 scripts/matrix.py --main          # what `bash scripts/test` runs: the main suite (e2e
                                              # included) on .venv, and every cell beside it
    python3 scripts/matrix.py --list          # the cells, what each runs, and its interpreter

Cells (CELLS below): Python 3.9, 3.10, 3.12 and 3.13 with the newest release of every dependency;
Python 3.9 with every direct dependency at the lowest version its range in pyproject.toml admits
(uv's `--resolution lowest-direct`); and `sdk3`, Python 3.11 with the newest sentry-sdk 3.x
pre-release and everything else newest. The main run is Python 3.11 with the newest 2.x.

What a cell runs: the whole suite (but e2e) where the time allows, otherwise CORE (activation,
config, transport, the smoke test of real processes and the SDK guards), so that the whole CI run
stays under 45 minutes on 2 cores; docs/compatibility.md gives each cell's tests, counts and time.

Interpreters are found under pyenv (`pyenv root`, `$PYENV_ROOT`, `~/.pyenv`: versions/3.X.*), then as
`python3.X` on PATH; never downloaded. A missing one is one line, and a failure when CI=true.
The virtualenvs are `.venv-<cell>` (gitignored), built with uv (installed from PyPI into
`.venv-tools`); logs go to `.matrix/<cell>.log`.

At most one cell's pytest runs at a time, beside the main run (the machine has 2 cores); the next
cell's virtualenv is built meanwhile. Each cell prints its pytest summary line as it ends, then a
table of every run's versions, counts and time. A run of every cell (no cell named, no pytest
arguments) writes docs/compatibility.md from what ran. The last line is the counts of every run
together, `N passed, N failed`, which CI reads; the exit status is non-zero when any run failed
(or, in CI, an interpreter is missing).
"""
import argparse
import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGS = os.path.join(REPO, ".matrix")
TOOLS = os.path.join(REPO, ".venv-tools")
COMPATIBILITY = os.path.join(REPO, "docs", "compatibility.md")
UV_REQUIREMENT = "uv>=0.13,<0.14"  # the uv this was tested with
CELL_TIMEOUT = 25 * 60  # one cell's suite; a hung server must not hang CI for 90 minutes

# The core of what sentry-bootstrap does in a program: the hook, configuration, activation (lazy
# start, integrations, real servers), delivery, the real-process smoke test and the SDK guards.
CORE = ["tests/activation", "tests/config", "tests/transport", "tests/smoke", "tests/test_hook.py",
        "tests/test_sdk_compat.py", "tests/test_architecture.py"]
# Besides CORE, what touches the SDK's API: helpers, decorators, middleware, diagnostics. (The
# scrubbing tests join once the scrubber covers 3.x's streamed spans, which no event processor sees.)
SDK_FACING = CORE + ["tests/test_api.py", "tests/test_decorators.py", "tests/middleware",
                     "tests/diagnostics", "tests/test_integrations_table.py"]
# Where even CORE doesn't fit the budget (measured under load: CORE takes about 10 minutes a cell):
# the hook's start, the lazy start, the real-process smoke test, the SDK guards and one delivery.
QUICK = ["tests/smoke", "tests/test_hook.py", "tests/test_sdk_compat.py", "tests/test_architecture.py",
         "tests/activation/test_lazy.py", "tests/config/test_model.py", "tests/transport/test_sentry_server.py"]
WHOLE = None  # the whole suite but the end-to-end tests


class CellSpec(object):
    def __init__(self, name, version, resolution, tests, sdk=None, why="", env=None, preview=False):
        self.name = name
        self.env = dict(env or {})  # variables for the cell's pytest run
        self.preview = preview  # run only when named, not in the full matrix
        self.version = version  # Python X.Y
        self.resolution = resolution  # uv --resolution
        self.tests = tests  # pytest paths, or WHOLE
        self.sdk = sdk  # a sentry-sdk requirement overriding pyproject.toml's, or None
        self.why = why


# Order: the run order (the cells most likely to fail first).
CELLS = [
    # The hook refuses sentry-sdk 3 outside its range unless the preview switch is on.
    CellSpec("sdk3", "3.11", "highest", SDK_FACING, sdk="sentry-sdk>=3.0.0b1,<4",
             why="sentry-sdk 3.x pre-release: every test that touches the SDK",
             env={"SENTRY_BOOTSTRAP_SDK3_PREVIEW": "1"}, preview=True),
    CellSpec("lowest", "3.9", "lowest-direct", CORE, why="every direct dependency at its floor"),
    CellSpec("py3.13", "3.13", "highest", CORE, why="newest Python"),
    CellSpec("py3.9", "3.9", "highest", QUICK, why="oldest Python"),
    CellSpec("py3.10", "3.10", "highest", QUICK, why=""),
    CellSpec("py3.12", "3.12", "highest", QUICK, why=""),
]
SHOWN = ["sentry-sdk", "pydantic", "pyyaml", "wrapt", "django", "flask", "celery", "fastapi", "gunicorn"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_print_lock = threading.Lock()


def say(line):
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


# --- interpreters ---------------------------------------------------------------------------------

def _pyenv_roots():
    roots = []
    if shutil.which("pyenv"):
        try:
            out = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 universal_newlines=True, timeout=30).stdout.strip()
            if out:
                roots.append(out)
        except (OSError, subprocess.SubprocessError):
            pass
    roots += [os.environ.get("PYENV_ROOT", ""), os.path.expanduser("~/.pyenv")]
    return [r for r in dict.fromkeys(roots) if r and os.path.isdir(r)]


def _reports(python, version):
    """True when `python` runs and is `version` (a pyenv shim for a version not selected fails)."""
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return out == version


def find_python(version):
    """The newest patch release of Python `version` ('3.9') on this machine, or None."""
    def patch(path):
        match = re.search(r"/versions/\d+\.\d+\.(\d+)/", path)
        return int(match.group(1)) if match else -1

    for root in _pyenv_roots():
        pattern = os.path.join(root, "versions", version + ".*", "bin", "python" + version)
        for candidate in sorted(glob.glob(pattern), key=patch, reverse=True):
            if _reports(candidate, version):
                return candidate
    on_path = shutil.which("python" + version)
    if on_path and _reports(on_path, version):
        return on_path
    return None


# --- virtualenvs ----------------------------------------------------------------------------------

def _run(argv, log, **kwargs):
    """Run `argv`, its output appended to the open file `log`; raise on a non-zero exit."""
    log.write("$ " + " ".join(argv) + "\n")
    log.flush()
    result = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, **kwargs)
    if result.returncode:
        raise RuntimeError("{} exited {}".format(os.path.basename(argv[0]), result.returncode))


def uv_env():
    env = dict(os.environ)
    env["UV_PYTHON_DOWNLOADS"] = "never"  # only the machine's interpreters
    env["UV_NO_PROGRESS"] = "1"
    return env


def install_uv(log):
    uv = os.path.join(TOOLS, "bin", "uv")
    if not os.path.exists(uv):
        if not os.path.exists(os.path.join(TOOLS, "bin", "python")):
            _run([sys.executable, "-m", "venv", TOOLS], log)
        _run([os.path.join(TOOLS, "bin", "python"), "-m", "pip", "install", "--quiet", UV_REQUIREMENT], log)
    return uv


def build_venv(uv, spec, python, log):
    """`.venv-<name>` on `python`: the test extra's and the package's dependencies at the cell's
    resolution (upgraded or downgraded to it on every build), the cell's sentry-sdk override, then
    the checkout itself, editable."""
    venv = os.path.join(REPO, ".venv-" + spec.name)
    venv_python = os.path.join(venv, "bin", "python")
    env = uv_env()
    if not (_reports(venv_python, spec.version) and os.path.exists(os.path.join(venv, "bin", "pip"))):
        # --seed: pip in the venv, as `python -m venv` gives (a test runs the venv's pip script).
        _run([uv, "venv", "--quiet", "--clear", "--seed", "--python", python, venv], log, env=env)
    argv = [uv, "pip", "install", "--quiet", "--python", venv_python, "--resolution", spec.resolution,
            "--upgrade", "-r", "pyproject.toml", "--extra", "test"]
    if spec.sdk:
        # The override replaces pyproject.toml's sentry-sdk range; `explicit` admits a pre-release
        # for the packages whose requirement names one (sentry-sdk here), and for no other.
        overrides = os.path.join(LOGS, spec.name + ".overrides.txt")
        with open(overrides, "w") as handle:
            handle.write(spec.sdk + "\n")
        argv += ["--override", overrides, "--prerelease", "explicit"]
    _run(argv, log, env=env)
    # The package with the resolver's defaults (its build backend is not under test), and
    # `editables`, which hatchling's editable wheel needs but uv, reading the static metadata in
    # pyproject.toml, does not know about.
    _run([uv, "pip", "install", "--quiet", "--python", venv_python, "--no-deps", "--reinstall-package",
          "sentry-bootstrap", "-e", ".", "editables"], log, env=env)
    return venv_python


def versions(python):
    """{distribution: version} for SHOWN, and 'python': its version, read from `python`'s environment."""
    code = ("import importlib.metadata as m, json, platform, sys\n"
            "out = {'python': platform.python_version()}\n"
            "for name in sys.argv[1:]:\n"
            "    try: out[name] = m.version(name)\n"
            "    except Exception: out[name] = '-'\n"
            "print(json.dumps(out))\n")
    try:
        out = subprocess.run([python, "-c", code] + SHOWN, stdout=subprocess.PIPE,
                             universal_newlines=True, timeout=60).stdout
        return json.loads(out)
    except Exception:
        return {}


# --- runs -----------------------------------------------------------------------------------------

def summary_line(text):
    """pytest's closing line ('466 passed, 2 skipped in 120.01s'), from a run's output."""
    for line in reversed(text.splitlines()):
        line = line.strip().strip("=").strip()
        if re.search(r"\b(passed|failed|error|errors|no tests ran|skipped|deselected)\b.* in [\d.]+s", line):
            return line
    return "no pytest summary (see the log)"


def counts(summary):
    """{'passed': n, 'failed': n, 'skipped': n, 'error': n, ...} from a pytest summary line."""
    out = {}
    for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)",
                                   summary):
        out["error" if word.startswith("error") else word] = int(number)
    return out


class Cell(object):
    def __init__(self, spec):
        self.spec = spec
        self.name = spec.name
        self.python = None  # the interpreter found
        self.venv_python = None
        self.status = "pending"  # pending | missing | build-failed | passed | failed
        self.summary = ""
        self.seconds = 0.0  # its pytest run
        self.build_seconds = 0.0
        self.versions = {}
        self.log_path = os.path.join(LOGS, spec.name + ".log")
        self.built = threading.Event()

    @property
    def label(self):
        return "newest" if self.spec.resolution == "highest" else self.spec.resolution


def pytest_argv(python, basetemp, tests, extra):
    paths = list(tests) if tests else ["--ignore=tests/e2e"]
    return [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", basetemp] + paths + list(extra)


def run_cell(cell, pytest_extra):
    start = time.monotonic()
    # Outside the checkout: tests that look for "no git repository" walk up from their tmp_path.
    basetemp = tempfile.mkdtemp(prefix="sentry-bootstrap-matrix-{}-".format(cell.name))
    env = dict(os.environ)
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = os.path.join(basetemp, "hypothesis")
    env.update(cell.spec.env)
    with open(cell.log_path, "a") as log:
        log.write("\n$ pytest ({}, Python {})\n".format(cell.name, cell.spec.version))
        log.flush()
        process = subprocess.Popen(pytest_argv(cell.venv_python, os.path.join(basetemp, "t"),
                                               cell.spec.tests, pytest_extra),
                                   cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            code = process.wait(timeout=CELL_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
            code = "timeout"
    shutil.rmtree(basetemp, ignore_errors=True)
    cell.seconds = time.monotonic() - start
    with open(cell.log_path, errors="replace") as f:
        text = f.read()
    cell.summary = summary_line(text) if code != "timeout" else "timed out after %d s" % CELL_TIMEOUT
    cell.status = "passed" if code == 0 else "failed"
    say("matrix {} (Python {}, {}): {}".format(cell.name, cell.spec.version, cell.label, cell.summary))
    if code != 0:
        failures = text[text.rfind("short test summary info"):] if "short test summary info" in text else text[-3000:]
        for line in failures.splitlines()[-40:]:
            say("matrix {}: {}".format(cell.name, line))


def build_cells(cells, uv_holder):
    """Build each cell's virtualenv in turn (one at a time), marking each as built."""
    for cell in cells:
        try:
            with open(cell.log_path, "w") as log:
                cell.python = find_python(cell.spec.version)
                if cell.python is None:
                    cell.status = "missing"
                    cell.summary = "Python {} not found (pyenv versions/{}.*, python{} on PATH)".format(
                        cell.spec.version, cell.spec.version, cell.spec.version)
                    say("matrix {}: {}{}".format(cell.name, cell.summary, ": FAIL (CI)" if IN_CI else ": not run"))
                    continue
                if uv_holder.get("uv") is None:
                    cell.status, cell.summary = "build-failed", "uv could not be installed (see .matrix/tools.log)"
                    continue
                started = time.monotonic()
                try:
                    cell.venv_python = build_venv(uv_holder["uv"], cell.spec, cell.python, log)
                except Exception as exc:
                    cell.status, cell.summary = "build-failed", "venv build failed: {} (see {})".format(
                        exc, os.path.relpath(cell.log_path, REPO))
                    say("matrix {}: {}".format(cell.name, cell.summary))
                    continue
                finally:
                    cell.build_seconds = time.monotonic() - started
            cell.versions = versions(cell.venv_python)
        finally:
            cell.built.set()


def run_cells(cells, pytest_extra):
    """The cells' pytest runs, one at a time, each as soon as its virtualenv is built."""
    for cell in cells:
        cell.built.wait()
        if cell.status == "pending":
            run_cell(cell, pytest_extra)


def install_tools():
    try:
        with open(os.path.join(LOGS, "tools.log"), "w") as log:
            return install_uv(log)
    except Exception as exc:
        say("matrix: installing {} failed: {} (see .matrix/tools.log)".format(UV_REQUIREMENT, exc))
        return None


class MainRun(object):
    """`scripts/setup test`, then the main suite on .venv, streamed to stdout."""

    def __init__(self, args):
        self.args = list(args)
        self.code = None
        self.last = ""
        self.seconds = 0.0
        self.versions = {}

    def __call__(self):
        started = time.monotonic()
        try:
            setup = subprocess.run(["bash", os.path.join(REPO, "scripts", "setup"), "test"], cwd=REPO)
            if setup.returncode:
                self.code, self.last = setup.returncode, "scripts/setup test failed"
                return
            started = time.monotonic()
            python = os.path.join(REPO, ".venv", "bin", "python")
            process = subprocess.Popen([python, "-m", "pytest"] + self.args, cwd=REPO,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       universal_newlines=True, errors="replace")
            for line in process.stdout:
                say(line.rstrip("\n"))
                if line.strip():
                    self.last = line.rstrip("\n")
            self.code = process.wait()
            self.versions = versions(python)
        finally:
            self.seconds = time.monotonic() - started


def table(rows):
    header = ["cell", "python", "dependencies"] + SHOWN + ["result"]
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    return ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip() for row in [header] + rows]


def _minutes(seconds):
    return "{}:{:02d}".format(int(seconds) // 60, int(seconds) % 60)


def _tests_text(tests):
    if tests is WHOLE:
        return "whole suite but e2e"
    if tests == SDK_FACING:
        return "core + SDK-facing"
    if tests == CORE:
        return "core"
    if tests == QUICK:
        return "quick"
    return " ".join(tests)


def write_compatibility(main, cells, total_seconds):
    """docs/compatibility.md from this run: each run's versions, tests, counts and time."""
    today = datetime.date.today().isoformat()
    lines = [
        "# Tested versions",
        "",
        "Written by `python3 scripts/matrix.py{}` on {} (`--main`: what `SENTRY_BOOTSTRAP_MATRIX=1 bash "
        "scripts/test` runs); do not edit by hand.".format(" --main" if main is not None else "", today),
        "Each row is one virtualenv (`.venv`, `.venv-<cell>`) and what ran in it. The whole run took "
        "{} (wall clock, 2 cores; the main run and one cell at a time side by side).".format(
            _minutes(total_seconds)),
        "",
        "| run | Python | dependencies | tests | result | time | " + " | ".join(SHOWN[:1] + SHOWN[1:]) + " |",
        "| --- | --- | --- | --- | --- | --- | " + " | ".join("---" for _ in SHOWN) + " |",
    ]
    if main is not None:
        lines.append("| main (+ e2e) | {} | newest (`scripts/setup test`) | whole suite | {} | {} | {} |".format(
            main.versions.get("python", "-"), _result(main.last), _minutes(main.seconds),
            " | ".join(main.versions.get(n, "-") for n in SHOWN)))
    else:
        lines.append("| main (+ e2e) | 3.11 | newest (`scripts/setup test`) | whole suite | not in this run "
                     "(`python3 scripts/matrix.py` without --main) | - | " + " | ".join("-" for _ in SHOWN) + " |")
    for cell in cells:
        deps = {"highest": "newest", "lowest-direct": "lowest direct (`uv --resolution lowest-direct`)"}.get(
            cell.spec.resolution, cell.spec.resolution)
        if cell.spec.sdk:
            deps += ", `{}` (pre-releases admitted)".format(cell.spec.sdk)
        lines.append("| {} | {} | {} | {} | {} | {} | {} |".format(
            cell.name, cell.versions.get("python", cell.spec.version), deps, _tests_text(cell.spec.tests),
            _result(cell.summary), _minutes(cell.seconds) if cell.seconds else "-",
            " | ".join(cell.versions.get(n, "-") for n in SHOWN)))
    lines += [
        "",
        "Tests: *core* is `{}`; *quick* is `{}`; *core + SDK-facing* adds `{}` to core. The whole "
        "suite runs in the main run; each cell runs the part that fits the 45-minute budget of a CI "
        "run on 2 cores (`CELLS` in `scripts/matrix.py`). The `sdk3` cell (sentry-sdk 3 pre-release, "
        "with SENTRY_BOOTSTRAP_SDK3_PREVIEW on) runs only when named: `python3 scripts/matrix.py sdk3`.".format(
            " ".join(CORE), " ".join(QUICK), " ".join(t for t in SDK_FACING if t not in CORE)),
        "",
        "\"Newest\" is resolved again on every run (the newest release that supports that Python), so "
        "the versions are those of the run recorded here. Python 3.14: see the README, \"Tests\".",
        "",
    ]
    with open(COMPATIBILITY, "w") as handle:
        handle.write("\n".join(lines))


def _result(summary):
    found = counts(summary or "")
    if not found:
        return summary or "-"
    return ", ".join("{} {}".format(n, w) for w, n in found.items())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cells", nargs="*", help="cells to run (default: all): " +
                        ", ".join(c.name for c in CELLS))
    parser.add_argument("--main", action="store_true",
                        help="also set up .venv and run the main suite (e2e included) on it")
    parser.add_argument("--list", action="store_true", help="list the cells and exit")
    argv = list(sys.argv[1:] if argv is None else argv)
    pytest_extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    known = {c.name: c for c in CELLS}
    if args.list:
        for spec in CELLS:
            say("{:8} Python {:5} {:14} {:18} {}".format(spec.name, spec.version, spec.resolution,
                                                        _tests_text(spec.tests), find_python(spec.version) or "missing"))
        return 0
    unknown = [c for c in args.cells if c not in known]
    if unknown:
        parser.error("unknown cell(s) {}; known: {}".format(", ".join(unknown), ", ".join(known)))
    cells = [Cell(known[name]) for name in (args.cells or [c.name for c in CELLS if not c.preview])]
    os.makedirs(LOGS, exist_ok=True)
    started = time.monotonic()

    uv_holder = {"uv": install_tools()}
    threads = [threading.Thread(target=build_cells, args=(cells, uv_holder)),
               threading.Thread(target=run_cells, args=(cells, pytest_extra))]
    for thread in threads:
        thread.start()
    main_run = None
    if args.main:
        main_run = MainRun(["-q"] + pytest_extra)
        main_run()
    for thread in threads:
        thread.join()
    total = time.monotonic() - started

    rows = []
    if main_run is not None:
        rows.append(["main (+e2e)", main_run.versions.get("python", "-"), "scripts/setup"] +
                    [main_run.versions.get(n, "-") for n in SHOWN] +
                    [main_run.last.strip().strip("=").strip()])
    for cell in cells:
        rows.append([cell.name, cell.versions.get("python", cell.spec.version), cell.label] +
                    [cell.versions.get(n, "-") for n in SHOWN] +
                    ["{} ({}, venv {})".format(cell.summary, _minutes(cell.seconds), _minutes(cell.build_seconds))])
    say("")
    say("matrix: {} runs in {}".format(len(rows), _minutes(total)))
    for line in table(rows):
        say(line)
    if not args.cells and not pytest_extra:
        write_compatibility(main_run, cells, total)
        say("matrix: wrote docs/compatibility.md")
    failed = [c.name for c in cells if c.status in ("failed", "build-failed") or
              (c.status == "missing" and IN_CI)]
    status = 1 if failed else 0
    if failed:
        say("matrix: FAILED: " + ", ".join(failed))
    passed = sum(counts(c.summary).get("passed", 0) for c in cells)
    failures = sum(counts(c.summary).get("failed", 0) + counts(c.summary).get("error", 0) for c in cells)
    failures += sum(1 for c in cells if c.status in ("build-failed", "missing") and (IN_CI or c.status != "missing"))
    if main_run is not None:
        status = status or main_run.code or 0
        main_counts = counts(main_run.last)
        passed += main_counts.get("passed", 0)
        failures += main_counts.get("failed", 0) + main_counts.get("error", 0)
        if main_run.code and not main_counts.get("failed") and not main_counts.get("error"):
            failures += 1  # setup failed, or pytest ended without a summary
    if status and not failures:
        failures = 1
    say("{} passed, {} failed".format(passed, failures))  # CI reads this line: every run together
    return status


if __name__ == "__main__":
    sys.exit(main())
