"""`sentry-bootstrap doctor`: each step between this machine and Sentry's ingest, checked in order.

`iter_checks(...)` yields one `Result(check, status, detail, fix)` per check as it finishes, in this
order: config, dsn, dns, tcp, tls (https DSNs only), envelope, clock, hook. `status` is "ok", "warn"
or "fail"; `fix` is the concrete next step (empty when there is nothing to do). A check that needs an
earlier one (tcp needs dns, ...) is left out when that one failed; `hook` always runs. Every text
has the DSN's key, the token and proxy credentials masked.

The envelope check POSTs through the SDK's own `HttpTransport` (same URL, X-Sentry-Auth header,
proxy choice, CA bundle and client certificate as the hook) with a bounded timeout. It sends a
`client_report` item: the server authenticates it like any envelope, and no issue is created.
"""
import os
import socket
import ssl
import threading
import time
from collections import namedtuple

from sentry_bootstrap._mask import mask_dsn, mask_text

DEFAULT_TIMEOUT = 5.0
# Past this the server's and the local clock disagree enough to matter (events get misplaced).
CLOCK_SKEW_WARN = 60.0
# A certificate that expires sooner than this earns a warning.
CERT_EXPIRY_WARN_DAYS = 14
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
PTH_NAME = "sentry_bootstrap_hook.pth"
CLIENT_KEYS_HINT = "Sentry: Project Settings > Client Keys (DSN)"

OK, WARN, FAIL = "ok", "warn", "fail"
_CONNECTION_OPTIONS = ("http_proxy", "https_proxy", "proxy_headers", "ca_certs", "cert_file",
                       "key_file", "keep_alive", "socket_options")


class Result(namedtuple("Result", "check status detail fix")):
    """One check's verdict. `as_dict()` is the --json form."""

    def as_dict(self):
        return {"check": self.check, "status": self.status, "detail": self.detail, "fix": self.fix}


class _Context(object):
    """What the checks learn from each other."""

    def __init__(self, environ, timeout):
        self.environ = environ
        self.timeout = timeout
        self.resolved = None
        self.values = {}
        self.dsn = None
        self.parsed = None
        self.transport = None
        self.proxy = None  # the proxy URL the SDK would use, or None
        self.secrets = []
        self.response = None  # (status, headers, body, sent_at, received_at) of the envelope POST


def iter_checks(env_name=None, environ=None, cwd=None, timeout=DEFAULT_TIMEOUT):
    """Run the checks in order, yielding each `Result` as soon as it is known."""
    environ = os.environ if environ is None else environ
    ctx = _Context(environ, float(timeout))
    try:
        for step in (_check_config, _check_dsn, _check_dns, _check_tcp, _check_tls,
                     _check_envelope, _check_clock):
            result = step(ctx, env_name, cwd) if step is _check_config else step(ctx)
            if result is None:
                continue
            yield _masked(result, ctx.secrets)
            if result.status == FAIL or (step is _check_dsn and ctx.parsed is None):
                break
        yield _masked(_check_hook(ctx), ctx.secrets)
    finally:
        if ctx.transport is not None:
            _close_transport(ctx.transport)


def exit_code(results):
    """0 when nothing failed (warnings allowed), else 1."""
    return 1 if any(r.status == FAIL for r in results) else 0


def _masked(result, secrets):
    return Result(result.check, result.status, mask_text(result.detail, secrets),
                  mask_text(result.fix, secrets) if result.fix else "")


# -- config and DSN ---------------------------------------------------------------------------------

def _check_config(ctx, env_name, cwd):
    from sentry_bootstrap.config.errors import ConfigError
    from sentry_bootstrap.config.loader import load_config

    try:
        resolved = load_config(environ=ctx.environ, cwd=cwd, env_name=env_name)
    except ConfigError as error:
        problems = [str(p) for p in error.problems]
        fix = "correct the values named above (`sentry-bootstrap check` validates every environment)"
        if any(getattr(p, "path", None) == "dsn" for p in error.problems):
            fix = "copy the DSN again from {}{}".format(CLIENT_KEYS_HINT, "" if len(problems) == 1
                                                        else "; then " + fix)
        return Result("config", FAIL, "; ".join(problems), fix)
    ctx.resolved = resolved
    ctx.values = resolved.values
    token = resolved.get("diagnostics.endpoint.token")
    if token:
        ctx.secrets.append(token)
    detail = "{} (environment {}, release {})".format(
        resolved.config_file or "no config file: defaults and environment variables",
        resolved.environment, resolved.release or "none")
    if resolved.warnings:
        return Result("config", WARN, detail + "; " + "; ".join(str(w) for w in resolved.warnings),
                      "see the warnings above")
    return Result("config", OK, detail, "")


def _check_dsn(ctx):
    dsn = ctx.values.get("dsn")
    if not dsn:
        from sentry_bootstrap.transport.outbox import outbox_dir

        where = outbox_dir(ctx.values["outbox"]["path"], ctx.environ)
        return Result("dsn", WARN,
                      "no DSN: events go to the local outbox {} (`sentry-bootstrap events` shows "
                      "them)".format(where),
                      "to send events to Sentry, set dsn in sentry.yaml or SENTRY_DSN "
                      "(from {})".format(CLIENT_KEYS_HINT))
    ctx.dsn = dsn
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        parsed = Dsn(dsn)
    except BadDsn as exc:
        ctx.secrets.extend(_userinfo_parts(dsn))
        return Result("dsn", FAIL, "{} does not parse: {}".format(mask_dsn(dsn), exc),
                      "copy the DSN again from {}".format(CLIENT_KEYS_HINT))
    ctx.secrets.extend(s for s in (parsed.public_key, parsed.secret_key) if s)
    if parsed.scheme not in ("http", "https"):
        return Result("dsn", FAIL, "{}: scheme {!r}".format(mask_dsn(dsn), parsed.scheme),
                      "a DSN starts with https:// (or http:// for a local server)")
    ctx.parsed = parsed
    ctx.transport, ctx.proxy = _make_transport(ctx.values, dsn, ctx.timeout)
    if ctx.proxy:
        ctx.secrets.extend(_userinfo_parts(ctx.proxy))
    detail = "{} (host {}, port {}, project {})".format(
        mask_dsn(dsn), parsed.host, parsed.port, parsed.project_id)
    if parsed.secret_key:
        return Result("dsn", WARN, detail + "; it carries a secret key, which the SDK no longer needs",
                      "drop the ':<secret>' part after the public key")
    return Result("dsn", OK, detail, "")


def _userinfo_parts(url):
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(url))
        return [p for p in (parts.username, parts.password) if p]
    except ValueError:
        return []


def _make_transport(values, dsn, timeout):
    """The SDK's HttpTransport with the hook's options and a bounded timeout; the proxy it chose."""
    from sentry_sdk.consts import DEFAULT_OPTIONS
    from sentry_bootstrap.sdk_compat import http_transport_base

    options = dict(DEFAULT_OPTIONS)
    # Only what shapes the connection; callable options (before_send, ...) are not imported here.
    options.update({key: values[key] for key in _CONNECTION_OPTIONS
                    if values.get(key) is not None and key in DEFAULT_OPTIONS})
    options["dsn"] = dsn
    cls = type("DoctorTransport", (http_transport_base(),), {"TIMEOUT": timeout})
    transport = cls(options)
    proxy = getattr(transport.pool(), "proxy", None)
    return transport, (str(proxy) if proxy is not None else None)


def _close_transport(transport):
    try:
        transport.pool().clear()
    except Exception:
        pass


# -- the network path -------------------------------------------------------------------------------

def _target(ctx):
    """(host, port, what) that this machine connects to: the proxy when the SDK uses one."""
    if ctx.proxy:
        from urllib.parse import urlsplit

        parts = urlsplit(ctx.proxy)
        port = parts.port or (443 if parts.scheme == "https" else 1080 if parts.scheme.startswith(
            "socks") else 80)
        return parts.hostname, port, "proxy {}".format(mask_dsn(ctx.proxy))
    return ctx.parsed.host, int(ctx.parsed.port), "{}:{}".format(ctx.parsed.host, ctx.parsed.port)


def _with_timeout(func, timeout):
    """Run `func()` in a daemon thread; (result, exception, timed_out)."""
    box = {}

    def run():
        try:
            box["result"] = func()
        except Exception as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name="sentry-bootstrap.doctor", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return None, None, True
    return box.get("result"), box.get("error"), False


def _check_dns(ctx):
    host, port, what = _target(ctx)
    started = time.monotonic()
    infos, error, timed_out = _with_timeout(
        lambda: socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM), ctx.timeout)
    elapsed = (time.monotonic() - started) * 1000
    fix = ("check the host name in the DSN and this machine's DNS resolver (/etc/resolv.conf); "
           "{}".format(_proxy_hint(ctx)))
    if timed_out:
        return Result("dns", FAIL, "{} did not resolve within {:g}s".format(what, ctx.timeout), fix)
    if error is not None:
        return Result("dns", FAIL, "{} does not resolve: {}".format(what, error), fix)
    addresses = sorted({info[4][0] for info in infos})
    ctx.addresses = [info[4] for info in infos]
    return Result("dns", OK, "{} -> {} ({:.0f} ms){}".format(
        host, ", ".join(addresses[:4]), elapsed, " (the proxy)" if ctx.proxy else ""), "")


def _proxy_settings(ctx):
    """Names (never values) of the proxy settings in effect: variables in any case, config keys."""
    found = sorted(name for name in ctx.environ
                   if name.upper() in PROXY_VARIABLES and ctx.environ.get(name))
    for key in ("https_proxy", "http_proxy"):
        if ctx.values.get(key):
            found.append("config {}".format(key))
    return found


def _proxy_hint(ctx):
    found = _proxy_settings(ctx)
    if found:
        return "proxy settings found: {}".format(", ".join(found))
    return ("no proxy settings found (HTTPS_PROXY, HTTP_PROXY, NO_PROXY in any case, or "
            "https_proxy/http_proxy in sentry.yaml)")


def _check_tcp(ctx):
    host, port, what = _target(ctx)
    fix = ("a firewall or a missing proxy blocks outbound connections to {}: allow it, or set "
           "https_proxy in sentry.yaml if traffic must go through a proxy; {}".format(
               what, _proxy_hint(ctx)))
    last = None
    for address in getattr(ctx, "addresses", [(host, port)])[:4]:
        started = time.monotonic()
        try:
            sock = socket.create_connection(address[:2], timeout=ctx.timeout)
        except socket.timeout:
            last = "no answer within {:g}s".format(ctx.timeout)
            continue
        except OSError as exc:
            last = exc.strerror or str(exc)
            if isinstance(exc, ConnectionRefusedError):
                last += " (nothing listens there, or a firewall rejects the connection)"
            continue
        sock.close()
        return Result("tcp", OK, "connected to {} ({}) in {:.0f} ms".format(
            what, address[0], (time.monotonic() - started) * 1000), "")
    return Result("tcp", FAIL, "cannot connect to {}: {}".format(what, last), fix)


def ca_bundle(values, environ=None):
    """(path, where it came from) of the CA bundle the SDK verifies against, in the SDK's order:
    the `ca_certs` option, SSL_CERT_FILE, REQUESTS_CA_BUNDLE, certifi."""
    environ = os.environ if environ is None else environ
    if values.get("ca_certs"):
        return values["ca_certs"], "config ca_certs"
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        if environ.get(name):
            return environ[name], "env " + name
    try:
        import certifi

        return certifi.where(), "certifi"
    except ImportError:
        paths = ssl.get_default_verify_paths()
        return paths.cafile or paths.capath, "the system default"


def _check_tls(ctx):
    if ctx.parsed.scheme != "https":
        return None
    bundle, source = ca_bundle(ctx.values, ctx.environ)
    if ctx.proxy:
        return Result("tls", OK, "checked with the envelope, through {} (CA bundle {}: {})".format(
            mask_dsn(ctx.proxy), source, bundle), "")
    host, port = ctx.parsed.host, int(ctx.parsed.port)
    fix = ("the certificate of {} does not verify against {} ({}): if a proxy or an internal CA "
           "signs it, set ca_certs in sentry.yaml (or SSL_CERT_FILE) to that CA's bundle".format(
               host, bundle, source))
    try:
        context = ssl.create_default_context(cafile=bundle if bundle and os.path.isfile(bundle) else None,
                                             capath=bundle if bundle and os.path.isdir(bundle) else None)
        if ctx.values.get("cert_file"):
            context.load_cert_chain(ctx.values["cert_file"], ctx.values.get("key_file"))
        with socket.create_connection((host, port), timeout=ctx.timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                cert = tls.getpeercert()
                version = tls.version()
    except ssl.SSLCertVerificationError as exc:
        return Result("tls", FAIL, "certificate verification failed: {}".format(
            exc.verify_message or exc), fix)
    except (ssl.SSLError, OSError) as exc:
        return Result("tls", FAIL, "TLS handshake with {}:{} failed: {}".format(host, port, exc),
                      "check that port {} of {} speaks TLS (the DSN scheme is https); {}".format(
                          port, host, _proxy_hint(ctx)))
    expires = ssl.cert_time_to_seconds(cert["notAfter"]) if cert.get("notAfter") else None
    days = (expires - time.time()) / 86400 if expires else None
    detail = "{} verified for {} (CA bundle {}: {}){}".format(
        version, host, source, bundle,
        ", certificate expires in {:.0f} days".format(days) if days is not None else "")
    if days is not None and days < CERT_EXPIRY_WARN_DAYS:
        return Result("tls", WARN, detail, "the server's certificate must be renewed soon")
    return Result("tls", OK, detail, "")


# -- a real envelope --------------------------------------------------------------------------------

def _probe_envelope():
    from sentry_sdk.envelope import Envelope, Item, PayloadRef
    from sentry_sdk.utils import format_timestamp
    from datetime import datetime, timezone

    item = Item(PayloadRef(json={"timestamp": time.time(), "discarded_events": []}),
                type="client_report")
    return Envelope(headers={"sent_at": format_timestamp(datetime.now(timezone.utc))}, items=[item])


def _check_envelope(ctx):
    from sentry_sdk.consts import EndpointType

    transport = ctx.transport
    url = mask_dsn(transport.envelope_url())
    body = _probe_envelope().serialize()
    headers = {"Content-Type": "application/x-sentry-envelope"}
    sent_at = time.time()
    response, error, timed_out = _with_timeout(
        lambda: transport.post_envelope(body, headers), ctx.timeout + 1)
    if timed_out or (error is not None and _is_timeout(error)):
        return Result("envelope", FAIL,
                      "POST {}: the connection was accepted but no answer came within {:g}s".format(
                          url, ctx.timeout),
                      "something between here and the server (a proxy or firewall that swallows "
                      "traffic, a load balancer) or the server itself hangs; {}".format(
                          _proxy_hint(ctx)))
    if error is not None:
        return _request_error(ctx, url, error)
    try:
        status = response.status
        answer = response.headers
        text = (response.data or b"")[:300].decode("utf-8", "replace").strip()
    finally:
        response.close()
    ctx.response = (status, answer, sent_at, time.time())
    return _interpret(status, answer, text, url)


def _is_timeout(error):
    import urllib3.exceptions as exc

    seen = error
    while seen is not None:
        if isinstance(seen, (exc.TimeoutError, socket.timeout)):
            return True
        seen = getattr(seen, "reason", None)
    return False


def _request_error(ctx, url, error):
    reason = getattr(error, "reason", None) or error
    if isinstance(reason, ssl.SSLError) or "SSL" in type(reason).__name__:
        bundle, source = ca_bundle(ctx.values, ctx.environ)
        return Result("envelope", FAIL, "POST {}: TLS failed: {}".format(url, reason),
                      "set ca_certs in sentry.yaml to the CA bundle that signs the server's (or the "
                      "proxy's) certificate; in use now: {} ({})".format(bundle, source))
    return Result("envelope", FAIL, "POST {}: {}: {}".format(url, type(reason).__name__, reason),
                  "the connection failed while sending; {}".format(_proxy_hint(ctx)))


def _interpret(status, headers, text, url):
    said = " (server said: {})".format(text) if text else ""
    where = "POST {}: HTTP {}".format(url, status)
    if 200 <= status < 300:
        return Result("envelope", OK, "{}: accepted".format(where), "")
    if status in (401, 403):
        return Result("envelope", FAIL, "{}: the key was refused{}".format(where, said),
                      "the DSN's key is wrong, disabled or belongs to another project: copy the DSN "
                      "again from {} and check the key is enabled".format(CLIENT_KEYS_HINT))
    if status == 413:
        return Result("envelope", FAIL, "{}: too large{}".format(where, said),
                      "a proxy or the server limits request bodies below Sentry's envelope size; "
                      "raise that limit (e.g. nginx client_max_body_size 20m)")
    if status == 429:
        retry = headers.get("Retry-After") or "not given"
        limits = headers.get("X-Sentry-Rate-Limits")
        return Result("envelope", FAIL, "{}: rate-limited, Retry-After {}{}{}".format(
            where, retry, "; X-Sentry-Rate-Limits {}".format(limits) if limits else "", said),
            "the project or organisation is over its quota or spike protection: events are kept "
            "in the spool and retried after {} s; lower sample_rate or raise the quota".format(retry))
    if status >= 500:
        return Result("envelope", FAIL, "{}: server problem{}".format(where, said),
                      "the ingest server (or a proxy in front of it) failed; try again later, or "
                      "check the self-hosted server's logs; events are kept in the spool meanwhile")
    if 300 <= status < 400:
        return Result("envelope", FAIL, "{}: redirected to {}".format(where, headers.get("Location")),
                      "the SDK does not follow redirects: put the final host in the DSN")
    return Result("envelope", FAIL, "{}: refused{}".format(where, said),
                  "the host does not look like a Sentry ingest endpoint for this DSN: check the host, "
                  "any path prefix and the project id against {}".format(CLIENT_KEYS_HINT))


def clock_skew(date_header, sent_at, received_at):
    """Seconds the local clock is ahead (+) or behind (-) the server's `Date`, or None when the
    header can't be read. The server's second is taken as the middle of the request."""
    from email.utils import parsedate_to_datetime

    try:
        server = parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return (sent_at + received_at) / 2.0 - (server + 0.5)


def _check_clock(ctx):
    if ctx.response is None:
        return None
    status, headers, sent_at, received_at = ctx.response
    date = headers.get("Date")
    if not date:
        return Result("clock", WARN, "the server's answer had no Date header, so the clock could not "
                      "be compared", "")
    skew = clock_skew(date, sent_at, received_at)
    if skew is None:
        return Result("clock", WARN, "unreadable Date header {!r}".format(date), "")
    detail = "local clock {:+d} s against the server's Date {}".format(int(round(skew)), date)
    if abs(skew) > CLOCK_SKEW_WARN:
        return Result("clock", WARN, detail + " ({} by more than {:g} s)".format(
            "ahead" if skew > 0 else "behind", CLOCK_SKEW_WARN),
            "synchronise this machine's clock (NTP: `timedatectl set-ntp true`, chrony); events "
            "with skewed timestamps land in the wrong place in time")
    return Result("clock", OK, detail, "")


# -- the hook ---------------------------------------------------------------------------------------

def _is_our_sitecustomize(path):
    from sentry_bootstrap._paths import is_our_sitecustomize

    return is_our_sitecustomize(path)


def _site_dirs():
    import site
    import sysconfig

    dirs = list(getattr(site, "getsitepackages", lambda: [])())
    try:
        dirs.append(site.getusersitepackages())
    except Exception:
        pass
    dirs.extend(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    seen, result = set(), []
    for d in dirs:
        if d and d not in seen:
            seen.add(d)
            result.append(d)
    return result


def hook_status(environ=None, site_dirs=None):
    """How the hook reaches this interpreter: (status, detail, fix) without the config part."""
    from sentry_bootstrap import _env
    from sentry_bootstrap._paths import hook_dir

    environ = os.environ if environ is None else environ
    ways, shadowed = [], None
    for entry in [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p]:
        candidate = os.path.join(entry, "sitecustomize.py")
        if os.path.isfile(candidate):
            if _is_our_sitecustomize(candidate):
                ways.append("PYTHONPATH entry {}".format(entry))
                break
            shadowed = candidate
            break
    for d in site_dirs if site_dirs is not None else _site_dirs():
        pth = os.path.join(d, PTH_NAME)
        if os.path.isfile(pth):
            ways.append(pth)
    fix_on = ("export PYTHONPATH={}{}$PYTHONPATH, or run `sentry-bootstrap install-pth` for this "
              "environment, or start programs with `sentry-bootstrap run -- CMD`".format(
                  hook_dir(), os.pathsep))
    if not ways:
        if shadowed:
            return WARN, "another sitecustomize comes first on PYTHONPATH: {}".format(shadowed), \
                "put the hook directory before it: " + fix_on
        return WARN, "not active for {}: no PYTHONPATH entry with the hook and no {}".format(
            _interpreter(), PTH_NAME), fix_on
    if _env.flag(environ, _env.DISABLED):
        return WARN, "reachable ({}) but switched off by {}".format("; ".join(ways), _env.DISABLED), \
            "unset {}".format(_env.DISABLED)
    return OK, "active for {} through {}".format(_interpreter(), "; ".join(ways)), ""


def _interpreter():
    import sys

    return sys.executable or "this interpreter"


def _check_hook(ctx):
    status, detail, fix = hook_status(ctx.environ)
    if status == OK and ctx.resolved is not None and ctx.values.get("enabled") is False:
        return Result("hook", WARN, detail + ", but the configuration says enabled: false",
                      "set enabled: true (or remove it) in {}".format(
                          ctx.resolved.config_file or "the configuration"))
    return Result("hook", status, detail, fix)
