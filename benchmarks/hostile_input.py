"""How long hostile input costs: special files, oversized configurations, pathological strings.

    .venv/bin/python benchmarks/hostile_input.py

Each case runs the real code path once (a child interpreter with the hook, `check` as a command,
or the masking/scrubbing functions in process) and is reported in seconds against its bound
(PASS/FAIL, exit status 1 on a FAIL): a special or huge file or an oversized configuration is
answered in about the time of an interpreter start, and a 1 MB pathological string is masked or
scrubbed in well under a second.
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bootstrap"))

CHILD_BOUND = 3.0  # seconds: an interpreter start on a loaded 2-core machine, not a hang
STRING_BOUND = 1.0


def child(args, env, cwd, hook=True):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    environ.update(env, XDG_STATE_HOME=os.path.join(cwd, "state"))
    environ["PYTHONPATH"] = ROOT if hook else os.path.join(ROOT, "bootstrap")
    started = time.perf_counter()
    subprocess.run([sys.executable] + args, env=environ, cwd=cwd, timeout=600,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def files(directory):
    os.mkfifo(os.path.join(directory, "fifo"))
    with open(os.path.join(directory, "big"), "wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    configs = {
        "50 MB file": "version: 1\n" + "# pad\n" * (9 * 1024 * 1024),
        "1M keys": "version: 1\ntags:\n" + "".join("  k%d: v\n" % i for i in range(1000000)),
        "60k keys (1 MiB)": "version: 1\ntags:\n" + "".join("  k%d: v\n" % i for i in range(60000)),
        "50k nested maps": "version: 1\ntags: " + "{a: " * 50000 + "1" + "}" * 50000 + "\n",
    }
    for name, text in configs.items():
        sub = os.path.join(directory, name.replace(" ", "_"))
        os.mkdir(sub)
        with open(os.path.join(sub, "sentry.yaml"), "w") as handle:
            handle.write(text)
        os.chmod(os.path.join(sub, "sentry.yaml"), 0o600)
    return configs


def main():
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        configs = files(directory)
        baseline = child(["-c", "pass"], {}, directory)
        rows.append(("hook start, no configuration (baseline)", baseline, None))
        for variable in ("SENTRY_CONFIG_FILE", "SENTRY_DSN_FILE"):
            for target in ("fifo", "/dev/zero", "/dev/urandom", "big"):
                path = target if target.startswith("/") else os.path.join(directory, target)
                rows.append(("hook start, {}={}".format(variable, target),
                             child(["-c", "pass"], {variable: path}, directory), CHILD_BOUND))
        rows.append(("hook start, SENTRY_SAMPLE_RATE of 100 KB",
                     child(["-c", "pass"], {"SENTRY_SAMPLE_RATE": "9" + "a" * 100000}, directory),
                     CHILD_BOUND))
        for name in configs:
            sub = os.path.join(directory, name.replace(" ", "_"))
            rows.append(("check, " + name, child(["-m", "sentry_bootstrap", "check"], {}, sub,
                                                 hook=False), CHILD_BOUND))

    from sentry_bootstrap._mask import mask_dsn
    from sentry_bootstrap.scrub import make_scrubber, normalise_key

    scrubber = make_scrubber({})
    mb = 1 << 20
    for name, text in (("'x://' + 'a' * 1M", "x://" + "a" * mb), ("'a' * 1M", "a" * mb),
                       ("':/' * 512K", ":/" * (mb // 2)), ("'A' * 1M", "A" * mb),
                       ("'1 ' * 512K", "1 " * (mb // 2))):
        for label, function in (("mask_dsn", mask_dsn), ("scrub_text", scrubber.scrub_text),
                                ("normalise_key", normalise_key)):
            started = time.perf_counter()
            function(text)
            rows.append(("{} {}".format(label, name), time.perf_counter() - started, STRING_BOUND))

    failed = False
    for label, seconds, bound in rows:
        verdict = "" if bound is None else ("PASS" if seconds < bound else "FAIL")
        failed = failed or verdict == "FAIL"
        print("{:<55} {:>7.3f} s  {}".format(label, seconds, verdict))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
