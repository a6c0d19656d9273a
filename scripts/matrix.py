"""The version matrix: the suite (all but the end-to-end tests, smoke test included) on every Python
and dependency set sentry-bootstrap claims, each in its own virtualenv.

    python3 scripts/matrix.py                 # every cell
    python3 scripts/matrix.py lowest py3.13   # some cells
    python3 scripts/matrix.py py3.9 -- -k outbox   # arguments after -- go to every pytest run
    python3 scripts/matrix.py --main          # what `scripts/test` runs with no arguments: the main
                                              # suite (e2e included) on the default interpreter too

Cells (CELLS below): Python 3.9, 3.10, 3.12 and 3.13 with the newest release of every dependency,
and Python 3.9 with every direct dependency at the lowest version its range in pyproject.toml
admits (uv's `--resolution lowest-direct`). The default interpreter (3.11) is the main run's.

Interpreters are found under pyenv (`pyenv root`, `$PYENV_ROOT`, `~/.pyenv`: versions/3.X.*), then as
`python3.X` on PATH; never downloaded. A missing one is one line, and a failure when CI=true.
The virtualenvs are `.venv-<cell>` (gitignored), built with uv (installed from PyPI into
`.venv-tools`); logs go to `.matrix/<cell>.log`.

The machine has 2 cores: at most two pytest runs at once (the main run counts as one), venvs built
while the main run's setup and suite run. Each cell prints its pytest summary line as it ends, then a
table of every cell's versions and counts; with --main the last line is the main run's own pytest
summary. The exit status is non-zero when any run failed (or, in CI, an interpreter is missing).
"""
import argparse
import glob
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
UV_REQUIREMENT = "uv>=0.13,<0.14"  # the uv this was tested with
SLOTS = 2  # pytest runs at once: the machine's cores
CELL_TIMEOUT = 25 * 60  # one cell's suite; a hung server must not hang CI for 90 minutes

# name, Python version, uv resolution
CELLS = [
    ("lowest", "3.9", "lowest-direct"),
    ("py3.9", "3.9", "highest"),
    ("py3.13", "3.13", "highest"),
    ("py3.10", "3.10", "highest"),
    ("py3.12", "3.12", "highest"),
]
SHOWN = ["sentry-sdk", "pydantic", "pyyaml", "wrapt", "django", "flask", "celery", "fastapi"]
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


def build_venv(uv, name, version, python, resolution, log):
    """`.venv-<name>` on `python`: the test extra's and the package's dependencies at `resolution`
    (upgraded or downgraded to it on every build), then the checkout itself, editable."""
    venv = os.path.join(REPO, ".venv-" + name)
    venv_python = os.path.join(venv, "bin", "python")
    env = uv_env()
    if not (_reports(venv_python, version) and os.path.exists(os.path.join(venv, "bin", "pip"))):
        # --seed: pip in the venv, as `python -m venv` gives (a test runs the venv's pip script).
        _run([uv, "venv", "--quiet", "--clear", "--seed", "--python", python, venv], log, env=env)
    _run([uv, "pip", "install", "--quiet", "--python", venv_python, "--resolution", resolution,
          "--upgrade", "-r", "pyproject.toml", "--extra", "test"], log, env=env)
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
    import json

    try:
        out = subprocess.run([python, "-c", code] + SHOWN, stdout=subprocess.PIPE,
                             universal_newlines=True, timeout=60).stdout
        return json.loads(out)
    except Exception:
        return {}


# --- runs -----------------------------------------------------------------------------------------

class Cell(object):
    def __init__(self, name, version, resolution):
        self.name = name
        self.version = version
        self.resolution = resolution
        self.python = None  # the interpreter found
        self.venv_python = None
        self.status = "pending"  # pending | missing | build-failed | passed | failed
        self.summary = ""
        self.seconds = 0.0
        self.versions = {}
        self.log_path = os.path.join(LOGS, name + ".log")

    @property
    def label(self):
        return "newest" if self.resolution == "highest" else self.resolution


def summary_line(text):
    """pytest's closing line ('466 passed, 2 skipped in 120.01s'), from a run's output."""
    for line in reversed(text.splitlines()):
        line = line.strip().strip("=").strip()
        if re.search(r"\b(passed|failed|error|errors|no tests ran|skipped|deselected)\b.* in [\d.]+s", line):
            return line
    return "no pytest summary (see the log)"


def pytest_argv(python, basetemp, extra):
    return [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", basetemp,
            "--ignore=tests/e2e"] + list(extra)


def run_cell(cell, slots, pytest_extra):
    start = time.monotonic()
    # Outside the checkout: tests that look for "no git repository" walk up from their tmp_path.
    basetemp = tempfile.mkdtemp(prefix="sentry-bootstrap-matrix-{}-".format(cell.name))
    env = dict(os.environ)
    env["HYPOTHESIS_STORAGE_DIRECTORY"] = os.path.join(basetemp, "hypothesis")
    with slots:
        with open(cell.log_path, "a") as log:
            log.write("\n$ pytest ({}, Python {})\n".format(cell.name, cell.version))
            log.flush()
            process = subprocess.Popen(pytest_argv(cell.venv_python, os.path.join(basetemp, "t"), pytest_extra),
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
    say("matrix {} (Python {}, {}): {}".format(cell.name, cell.version, cell.label, cell.summary))
    if code != 0:
        failures = text[text.rfind("short test summary info"):] if "short test summary info" in text else text[-3000:]
        for line in failures.splitlines()[-40:]:
            say("matrix {}: {}".format(cell.name, line))


def prepare_and_run(cell, uv_ready, build_slots, slots, pytest_extra):
    with open(cell.log_path, "w") as log:
        cell.python = find_python(cell.version)
        if cell.python is None:
            cell.status = "missing"
            cell.summary = "Python {} not found (pyenv versions/{}.*, python{} on PATH)".format(
                cell.version, cell.version, cell.version)
            say("matrix {}: {}{}".format(cell.name, cell.summary, ": FAIL (CI)" if IN_CI else ": not run"))
            return
        uv_ready.wait()
        if uv_ready.uv is None:
            cell.status, cell.summary = "build-failed", "uv could not be installed (see .matrix/tools.log)"
            return
        try:
            with build_slots:
                cell.venv_python = build_venv(uv_ready.uv, cell.name, cell.version, cell.python,
                                              cell.resolution, log)
        except Exception as exc:
            cell.status, cell.summary = "build-failed", "venv build failed: {} (see {})".format(
                exc, os.path.relpath(cell.log_path, REPO))
            say("matrix {}: {}".format(cell.name, cell.summary))
            return
    cell.versions = versions(cell.venv_python)
    run_cell(cell, slots, pytest_extra)


class _UvReady(threading.Event):
    uv = None


def install_tools(uv_ready):
    try:
        with open(os.path.join(LOGS, "tools.log"), "w") as log:
            uv_ready.uv = install_uv(log)
    except Exception as exc:
        say("matrix: installing {} failed: {} (see .matrix/tools.log)".format(UV_REQUIREMENT, exc))
    finally:
        uv_ready.set()


def run_main(slots, main_args):
    """`scripts/setup test`, then the main suite on .venv, streamed to stdout. Returns (exit code,
    closing line, versions)."""
    try:
        setup = subprocess.run(["bash", os.path.join(REPO, "scripts", "setup"), "test"], cwd=REPO)
        if setup.returncode:
            return setup.returncode, "scripts/setup test failed", {}
        python = os.path.join(REPO, ".venv", "bin", "python")
        process = subprocess.Popen([python, "-m", "pytest"] + list(main_args), cwd=REPO,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   universal_newlines=True, errors="replace")
        last = ""
        for line in process.stdout:
            say(line.rstrip("\n"))
            if line.strip():
                last = line.rstrip("\n")
        return process.wait(), last, versions(python)
    finally:
        slots.release()  # the slot main() took for this run


def table(rows):
    header = ["cell", "python", "dependencies"] + SHOWN + ["result"]
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip() for row in [header] + rows]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cells", nargs="*", help="cells to run (default: all): " +
                        ", ".join(c[0] for c in CELLS))
    parser.add_argument("--main", action="store_true",
                        help="also set up .venv and run the main suite (e2e included) on it")
    argv = list(sys.argv[1:] if argv is None else argv)
    pytest_extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    known = {c[0]: c for c in CELLS}
    unknown = [c for c in args.cells if c not in known]
    if unknown:
        parser.error("unknown cell(s) {}; known: {}".format(", ".join(unknown), ", ".join(known)))
    cells = [Cell(*known[name]) for name in (args.cells or [c[0] for c in CELLS])]
    os.makedirs(LOGS, exist_ok=True)
    started = time.monotonic()

    slots = threading.BoundedSemaphore(SLOTS)
    build_slots = threading.BoundedSemaphore(2)
    main_result = None
    if args.main:
        slots.acquire()  # the main run's slot, taken before any cell can start
    uv_ready = _UvReady()
    threads = [threading.Thread(target=install_tools, args=(uv_ready,))]
    threads += [threading.Thread(target=prepare_and_run, args=(c, uv_ready, build_slots, slots, pytest_extra))
                for c in cells]
    for thread in threads:
        thread.start()
    if args.main:
        main_result = run_main(slots, ["-q"] + pytest_extra)
    for thread in threads:
        thread.join()

    rows = []
    if main_result is not None:
        code, last, main_versions = main_result
        rows.append(["main (+e2e)", main_versions.get("python", "-"), "scripts/setup"] + [main_versions.get(n, "-") for n in SHOWN] +
                    [last.strip().strip("=").strip()])
    for cell in cells:
        rows.append([cell.name, cell.versions.get("python", cell.version), cell.label] + [cell.versions.get(n, "-") for n in SHOWN] +
                    [cell.summary])
    say("")
    say("matrix: {} cells in {:.0f} s".format(len(cells) + (1 if args.main else 0), time.monotonic() - started))
    for line in table(rows):
        say(line)
    failed = [c.name for c in cells if c.status in ("failed", "build-failed") or
              (c.status == "missing" and IN_CI)]
    if failed:
        say("matrix: FAILED: " + ", ".join(failed))
    status = 1 if failed else 0
    if main_result is not None:
        code, last, _ = main_result
        status = status or code
        say(last)  # the main run's own pytest closing line stays the last line
    return status


if __name__ == "__main__":
    sys.exit(main())
