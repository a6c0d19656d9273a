"""Forked children under the hook: a child never sends what its parent had queued, and a
multiprocessing child's crash is reported as unhandled with a mechanism of its own."""
import json
import os

from tests.support.child import ROOT, run_python

FORKS = """\
import json, multiprocessing, os, sys
import sentry_sdk

def child_work(i):
    sentry_sdk.capture_message("mp child %d" % i)

if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    parent = []
    for i in range(50):
        # A burst just before each fork: the worker queue still holds some of it when we fork.
        parent += [sentry_sdk.capture_message("parent %d.%d" % (i, k)) for k in range(4)]
        if i % 2:
            p = ctx.Process(target=child_work, args=(i,))
            p.start()
            p.join()
        else:
            pid = os.fork()
            if pid == 0:
                sentry_sdk.capture_message("fork child %d" % i)
                sentry_sdk.flush(5)
                os._exit(0)
            os.waitpid(pid, 0)
    sentry_sdk.flush(10)
    print(json.dumps(parent))
"""

CRASH = """\
import multiprocessing

def crash():
    raise RuntimeError("the child crashed")

if __name__ == "__main__":
    p = multiprocessing.get_context("fork").Process(target=crash)
    p.start()
    p.join()
    print(p.exitcode)
"""


def _program(tmp_path, sentry_server, source):
    (tmp_path / "sentry.yaml").write_text(
        "version: 1\ndsn: {}\nintegrations:\n  auto: false\n".format(sentry_server.dsn))
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    (tmp_path / "prog.py").write_text(source)
    return run_python(["prog.py"], cwd=str(tmp_path), timeout=60)


def test_fifty_forks_send_no_duplicate(tmp_path, sentry_server):
    """50 forks (multiprocessing and os.fork) right after bursts: every event arrives exactly once."""
    result = _program(tmp_path, sentry_server, FORKS)
    assert result.returncode == 0, result.stderr
    parent_ids = json.loads(result.stdout.strip().splitlines()[-1])
    sentry_server.wait_for_events(200 + 50, timeout=20)
    assert sentry_server.duplicates() == []
    accepted = sentry_server.accepted
    assert [i for i in parent_ids if accepted.get(i) != 1] == []
    messages = sorted(e.get("message") or (e.get("logentry") or {}).get("message")
                      for e in sentry_server.events)
    children = [m for m in messages if "child" in m]
    assert len(children) == 50 and len(set(children)) == 50
    assert len(messages) == 250


def test_multiprocessing_crash_is_unhandled(tmp_path, sentry_server):
    """An exception that kills a multiprocessing child is `handled: false`, mechanism multiprocessing."""
    result = _program(tmp_path, sentry_server, CRASH)
    assert result.returncode == 0 and result.stdout.strip() == "1", result.stderr
    sentry_server.wait_for_events(1, timeout=10)
    (event,) = sentry_server.events
    (value,) = event["exception"]["values"]
    assert value["type"] == "RuntimeError"
    assert value["mechanism"]["type"] == "multiprocessing"
    assert value["mechanism"]["handled"] is False
