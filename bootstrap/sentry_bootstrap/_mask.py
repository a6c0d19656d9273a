"""Masking of secrets for every output: errors, logs, `explain`, `doctor`, the startup report."""
import re

_DSN_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^@/\s]+)@")


def mask_dsn(dsn):
    """`https://abc123@host/1` -> `https://***@host/1`. The host and project stay readable."""
    if not dsn:
        return dsn
    return _DSN_USERINFO.sub(lambda m: m.group("scheme") + "***@", str(dsn))


def mask_secret(value):
    """A secret value as it may be shown: never any of its characters."""
    return None if value is None else "***"


def mask_text(text, secrets=()):
    """Replace every occurrence of each secret, and every URL's credentials, in free text."""
    text = mask_dsn(str(text))
    for secret in secrets:
        if secret and len(str(secret)) >= 4:
            text = text.replace(str(secret), "***")
    return text
