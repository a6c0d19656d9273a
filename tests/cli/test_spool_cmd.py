"""`sentry-bootstrap spool status | flush | clear` in a real child process."""
import json
import subprocess
import sys

from sentry_bootstrap.transport.spool import Spool, spool_dir
from tests.support.child import ROOT, code_env

RAW = b'{"event_id":"%s"}\n{"type":"event","length":2}\n{}\n'


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sentry_bootstrap", "spool"] + list(args), cwd=ROOT,
                          env=code_env(), capture_output=True, text=True, timeout=60)


def _fill(dsn, n):
    s = Spool(spool_dir(dsn))
    for i in range(n):
        s.write(RAW % (b"%032x" % i))


def test_flush_sends_everything_with_progress(sentry_server):
    """flush sends every spooled envelope as stored, shows progress for many files, exits 0."""
    _fill(sentry_server.dsn, 25)
    proc = _cli("flush", "--dsn", sentry_server.dsn)
    assert proc.returncode == 0, proc.stderr
    assert "sent 25 envelope(s); 0 remaining" in proc.stdout
    assert "sending 25/25" in proc.stderr
    assert sorted(sentry_server.accepted) == ["%032x" % i for i in range(25)]


def test_flush_exits_1_when_the_server_fails(sentry_server):
    """flush against a failing server keeps the files and exits 1."""
    _fill(sentry_server.dsn, 3)
    sentry_server.set_mode(503)
    proc = _cli("flush", "--dsn", sentry_server.dsn)
    assert proc.returncode == 1
    assert "3 remaining" in proc.stdout
    assert Spool(spool_dir(sentry_server.dsn)).status()["files"] == 3


def test_status_json_masks_the_key_and_clear_empties(sentry_server):
    """status --json shows the count and a masked DSN; clear removes the files."""
    _fill(sentry_server.dsn, 2)
    status = json.loads(_cli("status", "--json", "--dsn", sentry_server.dsn).stdout)
    assert status["files"] == 2 and "public" not in status["dsn"]
    proc = _cli("clear", "--dsn", sentry_server.dsn)
    assert proc.returncode == 0 and "removed 2" in proc.stdout
    assert "waiting:    0 envelope(s)" in _cli("status", "--dsn", sentry_server.dsn).stdout


def test_no_dsn_is_not_a_usage_error():
    """Without a DSN there is no spool: a one-line explanation and exit 0 (nothing waits); exit 2
    stays for usage errors."""
    proc = _cli("status")
    assert (proc.returncode, proc.stderr) == (0, "") and "no DSN" in proc.stdout
    assert json.loads(_cli("status", "--json").stdout) == {"dsn": None, "files": 0}
    assert _cli("status", "--bogus").returncode == 2


def test_untrusted_spool_directory_is_refused_with_the_fix(tmp_path):
    """`spool status` on a group/world-writable directory exits 1 with one line naming the chmod."""
    directory = tmp_path / "spool"
    directory.mkdir()
    directory.chmod(0o777)
    proc = _cli("status", "--dsn", "http://k@127.0.0.1:9/1", "--path", str(directory))
    assert proc.returncode == 1
    assert proc.stderr.strip() == "sentry-bootstrap: refused: %s is writable by group and others " \
        "(mode 777); `chmod 700 %s`" % (directory, directory)


def test_status_exits_1_while_envelopes_wait(sentry_server):
    """status: exit 1 while envelopes wait in the spool, 0 once it is empty."""
    _fill(sentry_server.dsn, 1)
    assert _cli("status", "--dsn", sentry_server.dsn).returncode == 1
    assert _cli("flush", "--dsn", sentry_server.dsn).returncode == 0
    assert _cli("status", "--dsn", sentry_server.dsn).returncode == 0
