"""The framework-neutral policy: defaults, the PII rules and the trusted-proxy rule for the IP."""
import pytest

from sentry_bootstrap.middleware.common import ContextPolicy, client_ip, pii_allowed


def test_defaults_without_pii():
    """An empty section gives id only (no PII), the X-Request-ID header and no header tags."""
    policy = ContextPolicy.from_config({}, send_default_pii=False)

    assert policy.user_fields == ("id",)
    assert policy.request_id_header == "x-request-id"
    assert policy.header_tags == ()
    assert policy.send_pii is False


def test_defaults_with_pii_and_nulls():
    """With PII allowed the defaults are id, username, email; null keys take the defaults."""
    policy = ContextPolicy.from_config(
        {"user_fields": None, "request_id_header": None, "header_tags": None}, True)

    assert policy.user_fields == ("id", "username", "email")
    assert policy.request_id_header == "x-request-id"


def test_user_fields_filtered_by_pii():
    """Without PII every field except id is dropped; ip_address is never a user field."""
    cfg = {"user_fields": ["email", "id", "first_name", "ip_address", "id"]}

    assert ContextPolicy.from_config(cfg, False).user_fields == ("id",)
    assert ContextPolicy.from_config(cfg, True).user_fields == ("email", "id", "first_name")
    assert ContextPolicy.from_config({"user_fields": []}, True).user_fields == ()


def test_request_id_header_can_be_switched_off():
    """An empty request_id_header turns the request id tag off."""
    assert ContextPolicy.from_config({"request_id_header": ""}, True).request_id_header is None


def test_header_tags_refuse_credentials_and_gate_addresses(capsys):
    """Credential headers never become tags (with one warning line on stderr); address headers
    only with PII; names are matched case-insensitively."""
    cfg = {"header_tags": {"X-Tenant-ID": "tenant", "Authorization": "auth",
                           "X-Forwarded-For": "forwarded"}}

    assert ContextPolicy.from_config(cfg, False).header_tags == (("x-tenant-id", "tenant"),)
    assert ContextPolicy.from_config(cfg, True).header_tags == (
        ("x-tenant-id", "tenant"), ("x-forwarded-for", "forwarded"))
    err = capsys.readouterr().err
    assert "'Authorization' holds credentials" in err
    assert err.startswith("sentry-bootstrap: ")


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("81.2.69.160", None, "81.2.69.160"),                       # direct client
    ("81.2.69.160", "1.2.3.4", "81.2.69.160"),                  # public peer: header ignored
    ("127.0.0.1", "1.2.3.4", "1.2.3.4"),                        # local proxy: header trusted
    ("10.0.0.5", "1.2.3.4, 5.6.7.8, 10.0.0.2", "5.6.7.8"),      # rightmost non-internal hop
    ("10.0.0.5", "10.1.1.1, 192.168.0.9", "10.1.1.1"),          # all internal: leftmost
    ("10.0.0.5", "garbage, ", "10.0.0.5"),                      # nothing usable: the peer
    ("::1", "2001:4860:4860::8888", "2001:4860:4860::8888"),    # IPv6
    ("testclient", "1.2.3.4", None),                            # peer is not an address
    (None, "1.2.3.4", None),
])
def test_client_ip(peer, forwarded, expected):
    """X-Forwarded-For counts only behind a loopback/private peer, read from the right."""
    assert client_ip(peer, forwarded) == expected


def test_pii_allowed_follows_data_collection():
    """data_collection.user_info, when the user set it, wins over send_default_pii."""
    assert pii_allowed({"send_default_pii": True}) is True
    assert pii_allowed({"send_default_pii": None}) is False
    assert pii_allowed({"send_default_pii": True,
                        "data_collection": {"provided_by_user": True, "user_info": False}}) is False
    assert pii_allowed({"send_default_pii": False,
                        "data_collection": {"provided_by_user": False, "user_info": True}}) is False
