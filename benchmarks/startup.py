"""Start-up cost of the hook, side by side with a hand-written `sentry_sdk.init()`, in one run.

    python benchmarks/startup.py [--runs 20] [--venv DIR] [--no-bundle]

It builds (once) a "fat" virtual environment with django, flask, fastapi, celery, sqlalchemy, redis
and httpx installed next to sentry-bootstrap (a normal, non-editable install), then runs each variant
`--runs` times, interleaved, and reports the median wall time and peak RSS of each, with the ratios
and the targets as PASS/FAIL:

    (a) python -c pass
    (b) the hook switched off (SENTRY_BOOTSTRAP_DISABLED=1)
    (c) the hook on, with a DSN to a local server (warm config cache, as every start after the first)
    (d) a hand-written sitecustomize calling sentry_sdk.init(dsn=...) with the SDK's defaults
    (e) the SDK floor: sentry_sdk.init(dsn=..., auto_enabling_integrations=False)
    (f) a program that imports Flask, under the hook (the SDK starts on that import)
    (g) the same program with a hand-written init first:
        sentry_sdk.init(dsn=..., auto_enabling_integrations=False, integrations=[FlaskIntegration()])
    (h) the hook on from the checkout (PYTHONPATH=<repo>), the fat venv's interpreter
    (i) the hook on from a read-only bundle built by `sentry-bootstrap bundle` (this interpreter's
        target only), with PYTHONDONTWRITEBYTECODE=1: what a container that mounts the bundle runs
    (j) python -c pass with PYTHONDONTWRITEBYTECODE=1, the bare start (i) is held against

Each variant is timed by its wall clock and by its CPU time (user + sys of the child, from wait4).
The modules each hook variant leaves loaded are counted against a bare start: ours, and the standard
library's (or anything else's) that a bare start doesn't load.

Then, cold SDK (lazy start), the time from an uncaught exception being raised to its event
reaching the local server, against the same with `sdk_start: eager` (the SDK already running).

Wall time is measured around each child process; peak RSS comes from os.wait4's rusage of that child.
Only the standard library is used.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAT_PACKAGES = ["django", "flask", "fastapi", "celery", "sqlalchemy", "redis", "httpx"]


ARRIVALS = []  # time.time() of each envelope the local server received


class _Accept(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ARRIVALS.append(time.time())
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def build_fat_venv(path):
    python = os.path.join(path, "bin", "python")
    marker = os.path.join(path, ".sentry-bootstrap-bench")
    if not os.path.exists(marker):
        subprocess.check_call([sys.executable, "-m", "venv", path])
        subprocess.check_call([python, "-m", "pip", "install", "--quiet"] + FAT_PACKAGES)
    # Always reinstall the checkout, so the numbers are for the code as it is now.
    subprocess.check_call([python, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
                           REPO])
    subprocess.check_call([python, "-m", "pip", "install", "--quiet", REPO])
    open(marker, "w").close()
    return python


def run_once(argv, env, cwd):
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    if proc.returncode != 0 or "sentry-bootstrap:" in err:
        raise SystemExit("variant failed: {}\n{}".format(" ".join(argv), err))
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss  # KiB on Linux


MODULES = "import sys; print(' '.join(sorted(sys.modules)))"


def loaded_modules(python, env, cwd):
    out = subprocess.run([python, "-c", MODULES], env=env, cwd=cwd, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, universal_newlines=True, check=True).stdout
    return set(out.split())


def build_bundle(python, work):
    """A bundle for this interpreter alone, made read-only as a container would mount it."""
    bundle = os.path.join(work, "bundle")
    version = subprocess.check_output([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                      universal_newlines=True).strip()
    subprocess.check_call([os.path.join(os.path.dirname(python), "sentry-bootstrap"), "bundle", bundle,
                           "--python", version, "--platform", os.uname().machine],
                          stdout=subprocess.DEVNULL)
    for root, dirs, files in os.walk(bundle):
        for name in files:
            os.chmod(os.path.join(root, name), 0o444)
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o555)
    return bundle


def variants(python, dsn, work, bundle=None):
    base = {"PATH": os.environ.get("PATH", ""), "HOME": work, "XDG_STATE_HOME": os.path.join(work, "state")}
    hook = subprocess.check_output([os.path.join(os.path.dirname(python), "sentry-bootstrap"), "hook-path"],
                                   env=base).decode().strip()
    hand = os.path.join(work, "hand")
    floor = os.path.join(work, "floor")
    for directory, extra in ((hand, ""), (floor, ", auto_enabling_integrations=False")):
        os.makedirs(directory)
        with open(os.path.join(directory, "sitecustomize.py"), "w") as handle:
            handle.write("import sentry_sdk\nsentry_sdk.init(dsn={!r}{})\n".format(dsn, extra))
    app = os.path.join(work, "app")
    os.makedirs(app)
    with open(os.path.join(app, "sentry.yaml"), "w") as handle:
        handle.write("version: 1\ndsn: {!r}\n".format(dsn))
    os.chmod(os.path.join(app, "sentry.yaml"), 0o600)
    cmd = [python, "-c", "pass"]
    flask_hand = ("import sentry_sdk\nfrom sentry_sdk.integrations.flask import FlaskIntegration\n"
                  "sentry_sdk.init(dsn={!r}, auto_enabling_integrations=False, "
                  "integrations=[FlaskIntegration()])\nimport flask\n".format(dsn))
    return [
        ("a", "python -c pass", cmd, dict(base), app),
        ("b", "hook off", cmd, dict(base, PYTHONPATH=hook, SENTRY_BOOTSTRAP_DISABLED="1"), app),
        ("c", "hook on (DSN)", cmd, dict(base, PYTHONPATH=hook), app),
        ("d", "hand-written init", cmd, dict(base, PYTHONPATH=hand), app),
        ("e", "SDK floor", cmd, dict(base, PYTHONPATH=floor), app),
        ("f", "import flask, hook on", [python, "-c", "import flask"], dict(base, PYTHONPATH=hook), app),
        ("g", "import flask, hand-written FlaskIntegration init", [python, "-c", flask_hand],
         dict(base), app),
        ("h", "hook on (DSN), checkout", cmd, dict(base, PYTHONPATH=REPO), app),
    ] + ([
        ("i", "hook on (DSN), read-only bundle, no bytecode writes", cmd,
         dict(base, PYTHONPATH=bundle, PYTHONDONTWRITEBYTECODE="1"), app),
        ("j", "python -c pass, no bytecode writes", cmd, dict(base, PYTHONDONTWRITEBYTECODE="1"), app),
    ] if bundle else [])


CRASH = "import sys, time\nsys.stderr.write('T0=%r\\n' % time.time())\nraise RuntimeError('bench')\n"


def exception_to_event(python, env, cwd, runs):
    """Median ms from `raise` in a child to its event arriving at the local server."""
    delays = []
    for _ in range(runs):
        before = len(ARRIVALS)
        proc = subprocess.run([python, "-c", CRASH], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        line = [l for l in proc.stderr.splitlines() if l.startswith("T0=")]
        if proc.returncode != 1 or not line or len(ARRIVALS) <= before:
            raise SystemExit("crash variant failed:\n" + proc.stderr)
        delays.append((ARRIVALS[before] - float(line[0][3:])) * 1000.0)
    return statistics.median(delays)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--venv", default=os.path.join(tempfile.gettempdir(), "sentry-bootstrap-fat-venv"))
    parser.add_argument("--no-bundle", action="store_true", help="skip the read-only bundle variant")
    args = parser.parse_args(argv)

    python = build_fat_venv(args.venv)
    server = local_server()
    dsn = "http://benchkey@127.0.0.1:{}/1".format(server.server_address[1])
    work = tempfile.mkdtemp(prefix="sb-bench-")
    try:
        bundle = None if args.no_bundle else build_bundle(python, work)
        table = variants(python, dsn, work, bundle)
        for _key, _name, cmd, env, cwd in table:  # warm-up: page cache, pyc files, config cache
            run_once(cmd, env, cwd)
        bare = loaded_modules(python, table[0][3], table[0][4])
        added = {}
        for key, _name, _cmd, env, cwd in table:
            if key in ("c", "h", "i"):
                extra = loaded_modules(python, env, cwd) - bare
                ours = {m for m in extra if m.split(".")[0] in ("sentry_bootstrap", "sitecustomize")}
                added[key] = (len(ours), len(extra - ours), sorted(extra - ours))
        times = {key: [] for key, *_ in table}
        cpu = {key: [] for key, *_ in table}
        rss = {key: [] for key, *_ in table}
        for _ in range(args.runs):
            for key, _name, cmd, env, cwd in table:  # interleaved, so drift hits every variant alike
                elapsed, used, peak = run_once(cmd, env, cwd)
                times[key].append(elapsed)
                cpu[key].append(used)
                rss[key].append(peak)
        hook_env = table[2][3]
        app = table[2][4]
        crash_lazy = exception_to_event(python, hook_env, app, max(3, args.runs // 4))
        eager_app = os.path.join(work, "eager")
        os.makedirs(eager_app)
        with open(os.path.join(eager_app, "sentry.yaml"), "w") as handle:
            handle.write("version: 1\ndsn: {!r}\nsdk_start: eager\n".format(dsn))
        os.chmod(os.path.join(eager_app, "sentry.yaml"), 0o600)
        crash_eager = exception_to_event(python, hook_env, eager_app, max(3, args.runs // 4))
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    med = {key: statistics.median(values) * 1000.0 for key, values in times.items()}
    mcpu = {key: statistics.median(values) * 1000.0 for key, values in cpu.items()}
    mem = {key: statistics.median(values) / 1024.0 for key, values in rss.items()}
    print("runs per variant: {} (interleaved), fat venv: {}".format(args.runs, args.venv))
    print("| variant | median wall ms | median CPU ms | peak RSS MiB |")
    print("| --- | ---: | ---: | ---: |")
    for key, name, *_ in table:
        print("| ({}) {} | {:.1f} | {:.1f} | {:.1f} |".format(key, name, med[key], mcpu[key], mem[key]))
    print()
    print("| variant | our modules | other modules a bare start doesn't load |")
    print("| --- | ---: | --- |")
    for key, (ours, others, names) in sorted(added.items()):
        print("| ({}) | {} | {} {} |".format(key, ours, others, " ".join(names[:20])))
    print()
    print("uncaught exception -> event at the server, median ms: {:.1f} with a cold SDK (lazy start), "
          "{:.1f} with the SDK started at interpreter start (sdk_start: eager)".format(crash_lazy, crash_eager))
    checks = [
        ("(c) <= 1.15 x (a), wall", med["c"] / med["a"], 1.15),
        ("(c) <= 1.15 x (a), CPU", mcpu["c"] / mcpu["a"], 1.15),
        ("(b) <= 1.03 x (a), wall", med["b"] / med["a"], 1.03),
        ("(b) <= 1.03 x (a), CPU", mcpu["b"] / mcpu["a"], 1.03),
        ("(f) <= 1.0 x (g)", med["f"] / med["g"], 1.0),
        ("(c) <= 0.5 x (d)", med["c"] / med["d"], 0.5),
        ("(c) <= 1.10 x (e)", med["c"] / med["e"], 1.10),
        ("peak RSS (c) <= (d)", mem["c"] / mem["d"], 1.0),
    ]
    if "i" in med:
        checks.append(("(i) <= 1.15 x (j), wall", med["i"] / med["j"], 1.15))
        checks.append(("(i) <= 1.15 x (j), CPU", mcpu["i"] / mcpu["j"], 1.15))
    print()
    print("| target | ratio | result |")
    print("| --- | ---: | --- |")
    failed = False
    for label, ratio, limit in checks:
        ok = ratio <= limit
        failed = failed or not ok
        print("| {} | {:.2f} | {} |".format(label, ratio, "PASS" if ok else "FAIL"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
