"""Masking of secrets for every output: errors, logs, `explain`, `doctor`, the startup report.

Everything here runs in time linear in its input, whatever the input: the hook masks values it
was handed by the environment (a 100 KB malformed variable must not cost seconds), so no pattern
may rescan a run of characters from each of its positions.
"""
import re

# Credentials sit between `://` and the first `@` before the host's `/`. The match starts at the
# literal `://`, not at the scheme: a scheme pattern (`[a-zA-Z][a-zA-Z0-9+.-]*://`) is retried from
# every letter of a long run of letters, which is quadratic. Masking without looking at the scheme
# also covers a URL whose scheme is glued to other text (`1https://key@host`).
_DSN_USERINFO = re.compile(r"://[^@/\s]+@")
QUOTE_LIMIT = 200  # characters of a value an error line quotes


def mask_dsn(dsn):
    """`https://abc123@host/1` -> `https://***@host/1`. The host and project stay readable."""
    if not dsn:
        return dsn
    return _DSN_USERINFO.sub("://***@", str(dsn))


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


def quote(value, limit=QUOTE_LIMIT):
    """`repr(value)` for an error line, cut to its first `limit` characters with an ellipsis and the
    full length: `'aaaa…' (100000 characters)`. A line must stay a line, whatever was set."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return "{!r} ({} characters)".format(text[:limit] + "\u2026", len(text))
