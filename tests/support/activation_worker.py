"""A child that activates many configurations, each in a fresh fork of itself.

`python activation_worker.py CONFIGS.json` reads a JSON list of configuration mappings. For each it
forks; the fork writes the mapping as `sentry.yaml` in a new directory, loads it as `check` does, and
when it is accepted activates it for real (the SDK's client, the bootstrap's transport, hooks),
captures a message and closes the client. The parent prints one JSON line per configuration:
`{"index", "outcome": "accepted"|"rejected"|"failed", "detail"}`. Forking keeps each activation's
process-wide state (the SDK's client, import hooks, the app-init guard) out of the next one, at the
cost of a fork rather than an interpreter start.
"""
import json
import os
import subprocess
import sys
import tempfile
import traceback

# Started without the hook: the package is imported from the hook directory, not run by it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bootstrap"))

import sentry_sdk  # noqa: F401  (loaded once, before the forks)

from sentry_bootstrap.activation.activate import activate
from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.loader import load_config

# What every activation imports, loaded once here so that each fork only activates.
import sentry_sdk.integrations.argv  # noqa: E402,F401
import sentry_sdk.integrations.atexit  # noqa: E402,F401
import sentry_sdk.integrations.dedupe  # noqa: E402,F401
import sentry_sdk.integrations.excepthook  # noqa: E402,F401
import sentry_sdk.integrations.logging  # noqa: E402,F401
import sentry_sdk.integrations.modules  # noqa: E402,F401
import sentry_sdk.integrations.stdlib  # noqa: E402,F401
import sentry_sdk.integrations.threading  # noqa: E402,F401
import sentry_bootstrap.scrub  # noqa: E402,F401
import sentry_bootstrap.transport.durable  # noqa: E402,F401
import sentry_bootstrap.transport.outbox  # noqa: E402,F401


def run_one(config, directory):
    path = os.path.join(directory, "sentry.yaml")
    with open(path, "w") as handle:
        json.dump(config, handle)  # JSON is YAML
    os.chmod(path, 0o600)
    environ = {"XDG_STATE_HOME": os.path.join(directory, "state")}
    try:
        resolved = load_config(environ=environ, cwd=directory)
    except ConfigError as error:
        return "rejected", str(error)
    try:
        activate(resolved)
        sentry_sdk.capture_message("agreement")
        sentry_sdk.get_client().close(timeout=0)  # activation is the point, not delivery
        # What the hook (and `run`) hand to child processes: the program must still start them.
        child_environ = dict(os.environ, SENTRY_ENVIRONMENT=resolved.environment)
        resolved.export_release(child_environ)
        subprocess.run(["true"], env=child_environ, check=True)
    except Exception:
        return "failed", traceback.format_exc()
    return "accepted", ""


def main(configs_path):
    with open(configs_path) as handle:
        configs = json.load(handle)
    for index, config in enumerate(configs):
        directory = tempfile.mkdtemp(dir=os.path.dirname(configs_path))
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                outcome, detail = run_one(config, directory)
            except BaseException:
                outcome, detail = "failed", traceback.format_exc()
            os.write(write, json.dumps({"outcome": outcome, "detail": detail}).encode())
            os._exit(0)
        os.close(write)
        chunks = []
        while True:
            chunk = os.read(read, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(read)
        os.waitpid(pid, 0)
        answer = json.loads(b"".join(chunks) or b'{"outcome": "failed", "detail": "no answer"}')
        answer["index"] = index
        sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
