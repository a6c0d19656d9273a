"""`sentry-bootstrap doctor` against the real test server in each answer mode, a closed port, a
server that never answers, a self-signed TLS server and broken configurations."""
import json
import os
import time

import pytest

from sentry_bootstrap.cli import main
from sentry_bootstrap.diagnostics import doctor
from tests.support.keyed_server import KEY
from tests.support.child import ROOT, run_python
from tests.support.redis_server import free_port
from tests.support.sentry_server import SentryServer, self_signed_certificate


@pytest.fixture
def run_doctor(tmp_path, monkeypatch, capsys):
    """`run_doctor(*flags, dsn=..., yaml=None) -> (exit code, {check: result dict}, text)`.

    Runs in this process from an empty directory (no sentry.yaml); every run is made twice, as
    text and as --json, and both outputs are returned together so that key checks cover both."""
    monkeypatch.chdir(tmp_path)

    def run(*flags, dsn=None, yaml=None, json_too=True):
        if dsn is not None:
            monkeypatch.setenv("SENTRY_DSN", dsn)
        if yaml is not None:
            (tmp_path / "sentry.yaml").write_text(yaml)
        code = main(["doctor"] + list(flags))
        text = capsys.readouterr()
        if not json_too:
            return code, {}, text.out + text.err
        json_code = main(["doctor", "--json"] + list(flags))
        raw = capsys.readouterr()
        assert json_code == code
        results = {r["check"]: r for r in json.loads(raw.out)}
        return code, results, text.out + text.err + raw.out + raw.err

    return run


def _no_key(output):
    assert KEY not in output
    assert "doctorkey" not in output


def test_accepted_envelope_passes_every_check(server, run_doctor):
    """Against a server answering 200 every network check is ok, exit 0, and the key is masked."""
    code, results, output = run_doctor(dsn=server.dsn)
    assert code == 0, output
    for check in ("config", "dsn", "dns", "tcp", "envelope", "clock"):
        assert results[check]["status"] == "ok", results[check]
    assert "HTTP 200: accepted" in results["envelope"]["detail"]
    assert "http://***@127.0.0.1:{}/1".format(server.port) in results["dsn"]["detail"]
    assert "all checks passed" in output
    assert all(set(r) == {"check", "status", "detail", "fix"} for r in results.values())
    _no_key(output)


def test_envelope_is_a_real_authenticated_client_report(server, run_doctor):
    """The probe is POSTed to the envelope endpoint with the SDK's X-Sentry-Auth header and
    carries only a client report, so it creates no issue."""
    run_doctor(dsn=server.dsn)
    request = server.requests[0]
    assert request.path == "/api/1/envelope/"
    assert "sentry_key={}".format(KEY) in request.headers["x-sentry-auth"]
    assert [item.type for item in request.envelope.items] == ["client_report"]
    assert server.events == []


def test_wrong_key_401_fails_with_client_keys_fix(server, run_doctor):
    """A 401 is a wrong key or project: fail, exit 1, the fix points at Client Keys."""
    server.set_mode("status_401")
    code, results, output = run_doctor(dsn=server.dsn)
    assert code == 1
    envelope = results["envelope"]
    assert envelope["status"] == "fail"
    assert "HTTP 401" in envelope["detail"] and "key was refused" in envelope["detail"]
    assert "Client Keys" in envelope["fix"]
    assert "clock" not in results
    _no_key(output)


def test_rate_limited_429_shows_retry_after(server, run_doctor):
    """A 429 is reported as rate-limited with the server's Retry-After value."""
    server.set_mode("status_429", retry_after=37)
    code, results, output = run_doctor(dsn=server.dsn)
    assert code == 1
    envelope = results["envelope"]
    assert envelope["status"] == "fail"
    assert "rate-limited, Retry-After 37" in envelope["detail"]
    assert "quota" in envelope["fix"] and "37" in envelope["fix"]
    _no_key(output)


def test_server_error_500_is_a_server_problem(server, run_doctor):
    """A 5xx is reported as a server problem, with retry/spool advice."""
    server.set_mode("status_500")
    code, results, output = run_doctor(dsn=server.dsn)
    assert code == 1
    assert results["envelope"]["status"] == "fail"
    assert "HTTP 500: server problem" in results["envelope"]["detail"]
    assert "try again later" in results["envelope"]["fix"]
    _no_key(output)


def test_closed_port_fails_tcp_and_names_proxy_settings(run_doctor, monkeypatch):
    """A closed port fails the TCP check; the fix suggests firewall/proxy and names the proxy
    variables and config keys found, never their values."""
    port = free_port()
    monkeypatch.setenv("HTTPS_PROXY", "http://proxyuser:proxypass99@proxy.example.invalid:3128")
    monkeypatch.setenv("no_proxy", "internal.example.invalid")
    yaml = "version: 1\nhttps_proxy: http://cfguser:cfgpass99@proxy2.example.invalid:3128\n"
    code, results, output = run_doctor(dsn="http://{}@127.0.0.1:{}/1".format(KEY, port), yaml=yaml)
    assert code == 1
    tcp = results["tcp"]
    assert tcp["status"] == "fail"
    assert "127.0.0.1:{}".format(port) in tcp["detail"] and "refused" in tcp["detail"]
    assert "firewall" in tcp["fix"]
    assert "HTTPS_PROXY" in tcp["fix"] and "no_proxy" in tcp["fix"]
    assert "config https_proxy" in tcp["fix"]
    assert "envelope" not in results
    assert "proxypass99" not in output and "cfgpass99" not in output
    _no_key(output)


def test_server_that_never_answers_is_bounded_by_the_timeout(server, run_doctor):
    """A server that accepts the request and never answers fails the envelope check within the
    default timeout: the whole run takes less than 10 s."""
    server.set_mode("hang")
    started = time.monotonic()
    code, _results, output = run_doctor(dsn=server.dsn, json_too=False)
    elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed
    assert code == 1
    [line] = [line for line in output.splitlines() if line.split()[:2] == ["fail", "envelope"]]
    assert "no answer came within 5s" in line
    assert "proxy or firewall" in output
    _no_key(output)


def test_invalid_dsn_fails_config_with_client_keys_fix(run_doctor):
    """An invalid DSN fails the configuration check; the fix says where to copy it from; the key
    it carries is masked."""
    code, results, output = run_doctor(dsn="http//{}@127.0.0.1/1".format(KEY))
    assert code == 1
    config = results["config"]
    assert config["status"] == "fail"
    assert "dsn: must be a DSN" in config["detail"]
    assert "Client Keys" in config["fix"]
    assert list(results) == ["config", "hook"]
    _no_key(output)


def test_no_dsn_warns_about_the_outbox_and_passes(run_doctor, isolated_environ):
    """With no DSN the events go to the local outbox: a warning (not a failure), exit 0."""
    code, results, output = run_doctor()
    assert code == 0
    dsn = results["dsn"]
    assert dsn["status"] == "warn"
    assert os.path.join(str(isolated_environ), "sentry-bootstrap", "outbox") in dsn["detail"]
    assert "SENTRY_DSN" in dsn["fix"]
    assert "dns" not in results


def test_overlay_chosen_with_env_flag(server, run_doctor):
    """--env selects the overlay whose DSN is checked."""
    yaml = ("version: 1\nenvironments:\n  production:\n    dsn: {}\n  staging: {{}}\n".format(
        server.dsn))
    code, results, output = run_doctor("--env", "production", yaml=yaml)
    assert code == 0, output
    assert "environment production" in results["config"]["detail"]
    assert results["envelope"]["status"] == "ok"
    _no_key(output)


def test_hook_status_through_pythonpath_pth_or_neither(tmp_path):
    """The hook check finds our sitecustomize on PYTHONPATH or the .pth in site-packages, and
    otherwise warns with the three ways to switch it on."""
    site = tmp_path / "site"
    site.mkdir()
    status, detail, fix = doctor.hook_status({"PYTHONPATH": ROOT}, site_dirs=[str(site)])
    assert status == "ok" and ROOT in detail
    status, detail, fix = doctor.hook_status({}, site_dirs=[str(site)])
    assert status == "warn"
    assert "install-pth" in fix and "sentry-bootstrap run" in fix and "PYTHONPATH" in fix
    (site / doctor.PTH_NAME).write_text("import sentry_bootstrap.hook\n")
    status, detail, fix = doctor.hook_status({}, site_dirs=[str(site)])
    assert status == "ok" and doctor.PTH_NAME in detail
    status, detail, fix = doctor.hook_status({"SENTRY_BOOTSTRAP_DISABLED": "1"},
                                             site_dirs=[str(site)])
    assert status == "warn" and "SENTRY_BOOTSTRAP_DISABLED" in fix


def test_clock_skew_is_read_from_the_date_header():
    """The skew compares the middle of the request with the server's Date second."""
    from email.utils import formatdate

    now = time.time()
    assert abs(doctor.clock_skew(formatdate(now - 120, usegmt=True), now, now) - 120) < 2
    assert doctor.clock_skew("not a date", now, now) is None


# -- TLS -------------------------------------------------------------------------------------------

@pytest.fixture
def tls_server(tmp_path):
    """(port, cert path) of the test Sentry server over HTTPS on 127.0.0.1, with a self-signed
    5-day certificate."""
    cert, key = self_signed_certificate(tmp_path, days=5)
    with SentryServer(public_key=KEY, tls=(cert, key)) as srv:
        yield srv.port, cert


def test_self_signed_certificate_fails_tls_and_names_the_bundle(tls_server, run_doctor,
                                                              monkeypatch):
    """A certificate that doesn't verify fails the TLS check; the fix names the CA bundle in use
    (certifi's, as the SDK picks it) and says to set ca_certs."""
    import certifi

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    port, _cert = tls_server
    code, results, output = run_doctor(dsn="https://{}@127.0.0.1:{}/1".format(KEY, port))
    assert code == 1
    tls = results["tls"]
    assert tls["status"] == "fail"
    assert "certificate verification failed" in tls["detail"]
    assert certifi.where() in tls["fix"] and "ca_certs" in tls["fix"]
    _no_key(output)


def test_ssl_cert_file_is_the_bundle_the_sdk_uses(monkeypatch):
    """SSL_CERT_FILE (then REQUESTS_CA_BUNDLE) wins over certifi, and ca_certs over both, as in the
    SDK's HttpTransport."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/mine.pem")
    assert doctor.ca_bundle({}) == ("/etc/ssl/mine.pem", "env SSL_CERT_FILE")
    assert doctor.ca_bundle({"ca_certs": "/x.pem"}) == ("/x.pem", "config ca_certs")


def test_configured_ca_certs_verify_and_a_near_expiry_warns(tls_server, run_doctor):
    """With ca_certs naming the server's CA the handshake verifies, the envelope goes through
    over TLS, and a certificate expiring within two weeks is a warning (exit 0)."""
    port, cert = tls_server
    yaml = "version: 1\nca_certs: {}\n".format(cert)
    code, results, output = run_doctor(dsn="https://{}@127.0.0.1:{}/1".format(KEY, port), yaml=yaml)
    assert code == 0, output
    tls = results["tls"]
    assert tls["status"] == "warn"
    assert "verified for 127.0.0.1" in tls["detail"] and "config ca_certs" in tls["detail"]
    assert "renewed" in tls["fix"]
    assert results["envelope"]["status"] == "ok"
    _no_key(output)


def test_command_line_exit_code_and_text(server, tmp_path):
    """The real `python -m sentry_bootstrap doctor` prints one line per check and exits 1 on a failure."""
    server.set_mode("status_403")
    result = run_python(["-m", "sentry_bootstrap", "doctor", "--timeout", "3"],
                        env={"SENTRY_DSN": server.dsn}, cwd=str(tmp_path))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:5]] == ["ok", "ok", "ok", "ok", "fail"]
    assert lines[4].split()[1] == "envelope"
    assert lines[5].strip().startswith("fix: ")
    assert lines[-1] == "1 check failed"
    _no_key(result.stdout + result.stderr)

