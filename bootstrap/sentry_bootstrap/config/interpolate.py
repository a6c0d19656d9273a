"""`${VAR}`, `${VAR:-default}`, `${VAR:?message}` and `$$` in scalar values.

Runs after YAML parsing on one string at a time, so a substitution can never add keys or structure;
the result is validated like any value written in the file. Keys are never substituted. A `$` not
followed by `{` or `$` is kept as it is.

- `${VAR}`: the variable's value; an error when it is not set (empty is fine).
- `${VAR:-default}`: the default when VAR is unset or empty.
- `${VAR:?message}`: an error with `message` when VAR is unset or empty.

What placeholders insert is bounded, so that a small file can't expand into gigabytes (300 values of
twenty `${A}` each, A of 100 KB, cost every start 6 s and 1.8 GB): the placeholders of one value may
insert `VALUE_LIMIT` characters, those of one file `FILE_LIMIT` characters in all. Both are checked before the text is built; past the file's bound, the remaining values are left
as written (one problem is enough).
"""
import re

from sentry_bootstrap._mask import QUOTE_LIMIT, quote

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# The largest value read from a `SENTRY_*_FILE` secret; no key needs a longer one.
VALUE_LIMIT = 64 * 1024
# As much as the file itself may hold (`_files.CONFIG_LIMIT`).
FILE_LIMIT = 1024 * 1024


class InterpolationError(ValueError):
    """A placeholder that can't be filled; the message says what to write instead."""


class Budget(object):
    """What the placeholders of one file may still insert; shared by the base keys and the overlay."""

    __slots__ = ("left", "spent")

    def __init__(self, limit=FILE_LIMIT):
        self.left = limit
        self.spent = False


def substitute(text, environ, budget=None):
    """`text` with every placeholder filled from `environ`. Raises `InterpolationError`, also when
    the result would be longer than VALUE_LIMIT or would exhaust `budget` (a `Budget`)."""
    if "$" not in text:
        return text
    out = []
    inserted = 0
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char != "$" or i + 1 >= n or text[i + 1] not in "${":
            out.append(char)
            i += 1
            continue
        if text[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        end = text.find("}", i + 2)
        if end < 0:
            raise InterpolationError("unterminated '${{' at character {} (write '$$' for a "
                                     "literal '$')".format(i + 1))
        filled = _fill(text[i + 2:end], environ)
        inserted += len(filled)
        if inserted > VALUE_LIMIT:
            raise InterpolationError(
                "{} makes the placeholders of this value insert more than {} characters, the limit "
                "for one value: shorten the variable, or set the key another way".format(
                    quote("${" + text[i + 2:end] + "}"), VALUE_LIMIT))
        if budget is not None:
            budget.left -= len(filled)
            if budget.left < 0:
                budget.spent = True
                raise InterpolationError(
                    "{} makes the file's placeholders insert more than {} characters in all, the "
                    "limit for one file: reference long variables fewer times".format(
                        quote("${" + text[i + 2:end] + "}"), FILE_LIMIT))
        out.append(filled)
        i = end + 1
    return "".join(out)


def _fill(body, environ):
    name, op, arg = body, None, None
    for candidate in (":-", ":?"):
        at = body.find(candidate)
        if at >= 0 and (op is None or at < len(name)):
            name, op, arg = body[:at], candidate, body[at + 2:]
    if not _NAME.match(name):
        raise InterpolationError("invalid variable name {} in {} (letters, digits and "
                                 "'_', not starting with a digit)".format(
                                     quote(name), quote("${" + body + "}")))
    value = environ.get(name)
    if op == ":-":
        return value if value else arg
    if op == ":?":
        if not value:
            raise InterpolationError("variable {} is not set: {}".format(
                name, _clip(arg) if arg else "a value is required"))
        return value
    if value is None:
        raise InterpolationError("variable {} is not set (write '${{{}:-default}}' to give a "
                                 "default)".format(name, name))
    return value


def _clip(text):
    # The author's own message, shown as written, but never more than an error line can hold.
    return text if len(text) <= QUOTE_LIMIT else "{}\u2026 ({} characters)".format(
        text[:QUOTE_LIMIT], len(text))


def substitute_tree(data, environ, on_error, path=(), budget=None):
    """A copy of `data` with every string scalar substituted.

    `on_error(path, message)` is called for each placeholder that can't be filled (the value is
    then left as written), so that every problem is reported in one pass. `budget` (a `Budget`)
    bounds what the placeholders insert in all: once it is spent, values are left as written.
    """
    budget = Budget() if budget is None else budget
    if isinstance(data, dict):
        return {k: substitute_tree(v, environ, on_error, path + (k,), budget)
                for k, v in data.items()}
    if isinstance(data, list):
        return [substitute_tree(v, environ, on_error, path + (i,), budget)
                for i, v in enumerate(data)]
    if isinstance(data, str) and not budget.spent:
        try:
            return substitute(data, environ, budget)
        except InterpolationError as exc:
            on_error(path, str(exc))
    return data
