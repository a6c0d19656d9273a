"""The built-in rules under Relay's names (relay-pii `builtin.rs`, `regexes.rs`): `scrub.rules`.

`DEFAULT` is what Sentry's server-side data scrubbing does by default (`@common:filter`, with
`@bearer` apart); `OPT_IN` are Relay's other rules, off unless named in `scrub.rules`. Each rule is a
function `rule(text, found) -> text` (see `text.py`); `@password` is the key rules (`keys.py`) with
`key=value` in text, and, for the strings of an event, the whole value when it names a secret the way
Relay's `@password` does (`password_value`). Every expression here is linear: no nested quantifier,
every repetition bounded.
"""
import re

from sentry_bootstrap.scrub import cards
from sentry_bootstrap.scrub.text import SUBSTITUTE, bearer_tokens, filter_group, pem_keys, url_passwords

__all__ = ["DEFAULT", "OPT_IN", "NAMES", "TEXT_RULES", "MESSAGE_RULES", "password_value", "user_passwords"]

DEFAULT = ("@creditcard", "@iban", "@pemkey", "@urlauth", "@userpath", "@password", "@usssn", "@bearer")
OPT_IN = ("@email", "@ip", "@mac", "@imei", "@uuid")
NAMES = DEFAULT + OPT_IN

_COUNTRIES = (
    "AT|AD|AE|AL|AZ|BA|BE|BG|BH|BR|BY|CH|CR|CY|CZ|DE|DK|DO|EE|EG|ES|FI|FO|FR|GB|GE|GI|GL|GR|GT|HR|HU|IE|"
    "IL|IQ|IS|IT|JO|KW|KZ|LB|LC|LI|LT|LU|LV|LY|MC|MD|ME|MK|MR|MT|MU|NL|NO|PK|PL|PS|PT|QA|RO|RU|RS|SA|SC|"
    "SE|SI|SK|SM|ST|SV|TL|TN|TR|UA|VA|VG|XK|DZ|AO|BJ|BF|BI|CV|CM|CF|TD|KM|CG|CI|DJ|GQ|GA|GW|HN|IR|MG|ML|"
    "MA|MZ|NI|NE|SN|TG"
)
# Relay's form (11-29 characters after the check digits), and the printed form in groups of four.
# The country is checked apart (an alternation of 100 codes is tried at every word in `re`).
_IBAN = re.compile(r"\b([A-Z]{2})[0-9]{2}(?:[A-Za-z0-9]{11,29}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,3})?)\b")
_COUNTRY_SET = frozenset(_COUNTRIES.split("|"))
_US_SSN = re.compile(r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b")
# A home directory at the start of a path: `/home/<user>`, `/Users/<user>`, `C:\Users\<user>`.
_USER_PATH = re.compile(
    r"(?:(?<![^\s'\"(=:\[,])|\b[A-Za-z]:)[\\/](?i:home|users|documents and settings)[\\/]"
    r"([^/\\\r\n\x00\s'\"]{1,128})")
# `user:password@host` without a scheme (the host a name with a dot, `localhost` or an address).
_USER_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9._%+\-/:])([A-Za-z0-9._%+\-]{1,64}:)([^\s:@/'\"]{1,128})@"
    r"(?=[A-Za-z0-9\-]{1,63}\.[A-Za-z0-9]|localhost\b|\[?[0-9a-fA-F:]{2,}\]?)")
# `PASSWORD '...'` and `IDENTIFIED BY '...'` in SQL.
_SQL_PASSWORD = re.compile(r"(?i)\b((?:password|identified by)[ \t]+)('[^'\r\n]{0,256}'|\"[^\"\r\n]{0,256}\")")
_EMAIL = re.compile(r"(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]{1,64}@"
                    r"[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}\b")
_IPV4 = re.compile(r"\b(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\b")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::?[0-9A-Fa-f]{1,4}|:)(?![0-9A-Fa-f:])")
_MAC = re.compile(r"\b(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\b")
_IMEI = re.compile(r"\b[0-9]{2}-?[0-9]{6}-?[0-9]{6}-?[0-9]{1,2}\b")
_UUID = re.compile(r"(?i)\b[a-z0-9]{8}-?[a-z0-9]{4}-?[a-z0-9]{4}-?[a-z0-9]{4}-?[a-z0-9]{12}\b")
# Relay's `@password` on a value: a string that names a secret is removed whole.
PASSWORD_VALUE = re.compile(
    r"(?i)password|secret|passwd|api[-_]?key|auth|credentials|mysql_pwd|private[-_]?key|token[^\s]{0,64}[:=]")
# Literals one of which every match of PASSWORD_VALUE holds (lower-case), for the prefilter.
PASSWORD_WORDS = ("pass", "secret", "api", "auth", "credentials", "mysql_pwd", "private", "token")


def _replace(pattern):
    def rule(text, found):
        return pattern.sub(filter_group(0, found), text)

    rule.__doc__ = "Every match of `%s`." % pattern.pattern[:60]
    return rule


def iban(text, found):
    """`@iban`: an IBAN (a country code, two check digits, 11-29 letters or digits)."""

    def replace(match):
        if match.group(1) not in _COUNTRY_SET:
            return match.group(0)
        found.append(match.group(0))
        return SUBSTITUTE

    return _IBAN.sub(replace, text)


def us_ssn(text, found):
    """`@usssn`: a US social security number, `078-05-1120`."""
    if "-" not in text:
        return text
    return _US_SSN.sub(filter_group(0, found), text)


def user_paths(text, found):
    """`@userpath`: the user's name in a home directory path."""
    low = text.lower()
    if "home" not in low and "users" not in low and "documents and" not in low:
        return text
    return _USER_PATH.sub(filter_group(1, found), text)


def user_passwords(text, found):
    """`@urlauth` beyond URLs: `user:password@host` without a scheme, `PASSWORD '...'` in SQL."""
    if "@" in text:
        text = _USER_PASSWORD.sub(filter_group(2, found), text)
    if "'" in text or '"' in text:
        text = _SQL_PASSWORD.sub(_sql(found), text)
    return text


def _sql(found):
    def replace(match):
        quoted = match.group(2)
        found.append(quoted[1:-1])
        return match.group(1) + quoted[0] + SUBSTITUTE + quoted[0]

    return replace


def emails(text, found):
    """`@email`: an e-mail address."""
    return _EMAIL.sub(filter_group(0, found), text)


# What Relay's default applies to the message (`$logentry.formatted`) and to a log's body, which
# `@common:filter` leaves alone: `@email`, `@creditcard`, `@iban`, `@usssn` and `@bearer`.
MESSAGE_RULES = (emails, cards.filter_cards, iban, us_ssn, bearer_tokens)


_VALUE_WORDS = ("password", "secret", "passwd", "apikey", "api_key", "api-key", "auth", "credentials",
                "mysql_pwd", "privatekey", "private_key", "private-key")
_TOKEN_SEPARATED = re.compile(r"token[^\s]{0,64}[:=]")


def password_value(text):
    """Whether `text`, the value of an event's field, is removed whole by Relay's `@password`
    (`PASSWORD_VALUE`, checked as literals first: a case-blind alternation is slow in `re`)."""
    low = text.lower()
    for word in _VALUE_WORDS:
        if word in low:
            return True
    return "token" in low and _TOKEN_SEPARATED.search(low) is not None


# Name -> the text rules it adds (`@password` is the key rules, applied apart).
TEXT_RULES = {
    "@creditcard": (cards.filter_cards,),
    "@iban": (iban,),
    "@pemkey": (pem_keys,),
    "@urlauth": (url_passwords, user_passwords),
    "@userpath": (user_paths,),
    "@password": (),
    "@usssn": (us_ssn,),
    "@bearer": (bearer_tokens,),
    "@email": (emails,),
    "@ip": (_replace(_IPV4), _replace(_IPV6)),
    "@mac": (_replace(_MAC),),
    "@imei": (_replace(_IMEI),),
    "@uuid": (_replace(_UUID),),
}
