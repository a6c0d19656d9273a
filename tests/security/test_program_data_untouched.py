"""Scrubbing never writes to the program's objects: a program under the hook that sends several
events sees its `sys.argv`, the dicts it gave to `set_context`/`set_extra`/`set_user`, its
breadcrumbs and its local variables unchanged, while the server still gets them scrubbed."""
import json
import os

from tests.support.child import run_python

PROGRAM = """\
import copy, json, logging, sys
import sentry_sdk

ctx = {"db_password": "ctx-secret-4242", "token": "ghp_%(gh)s", "nested": {"api_key": "k-123456789"},
       "tuple": ("Bearer abcdefghijklmnop", 1)}
extra = {"password": "extra-secret-777", "note": "login password=note-secret-99",
         "items": ["xoxb-1234567890-abcdefghijkl"]}
user = {"id": "7", "email": "bob@example.invalid", "password": "user-secret-31"}
sentry_sdk.set_context("db", ctx)
sentry_sdk.set_extra("payload", extra)
sentry_sdk.set_user(user)
sentry_sdk.add_breadcrumb(message="auth with token=crumb-secret-55", data={"secret": "crumb-data-66"})
log_password = "logged-" + "secret-44"
before = copy.deepcopy([sys.argv, ctx, extra, user])

def fail(config):
    secret = "local-secret-88"
    raise RuntimeError("boom with api_key=" + config["key"])

for i in range(3):
    try:
        fail({"key": "raised-secret-12", "password": "local-pw-000000"})
    except RuntimeError:
        sentry_sdk.capture_exception()
    logging.getLogger("app").error("event %%d with password=%%s", i, log_password)
    sentry_sdk.capture_message("plain message %%d" %% i)
sentry_sdk.flush(10)
after = [sys.argv, ctx, extra, user]
print(json.dumps({"same": after == before, "argv": sys.argv[1:], "ctx": repr(ctx), "extra": repr(extra),
                  "user": repr(user)}))
"""

SECRETS = ["secret123", "tokval-998877", "ctx-secret-4242", "k-123456789", "abcdefghijklmnop",
           "extra-secret-777", "note-secret-99", "user-secret-31", "crumb-secret-55", "crumb-data-66",
           "local-secret-88", "raised-secret-12", "local-pw-000000", "logged-secret-44"]


def test_program_objects_are_unchanged_after_events(tmp_path, sentry_server):
    """argv, set_context/set_extra/set_user dicts compare equal before and after 9 events; the
    server's copies are scrubbed."""
    gh = "A" * 36
    (tmp_path / "sentry.yaml").write_text(
        "version: 1\ndsn: {}\nintegrations:\n  auto: false\n".format(sentry_server.dsn))
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    (tmp_path / "z.py").write_text(PROGRAM % {"gh": gh})
    result = run_python(["z.py", "--db-password=secret123", "--token", "tokval-998877", "-v"],
                        cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["argv"] == ["--db-password=secret123", "--token", "tokval-998877", "-v"]
    assert "Filtered" not in report["ctx"] + report["extra"] + report["user"]
    assert "AnnotatedValue" not in report["ctx"] + report["extra"] + report["user"]
    assert report["same"] is True
    sentry_server.wait_for_events(9, timeout=15)
    bodies = b"".join(r.body or b"" for r in sentry_server.requests).decode("utf-8", "replace")
    assert [s for s in SECRETS + ["ghp_" + gh] if s in bodies] == []
    assert "[Filtered]" in bodies and "[Filtered]]" not in bodies
    assert len(sentry_server.events) == 9
