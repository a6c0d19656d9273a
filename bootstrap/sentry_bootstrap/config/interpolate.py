"""`${VAR}`, `${VAR:-default}`, `${VAR:?message}` and `$$` in scalar values.

Runs after YAML parsing on one string at a time, so a substitution can never add keys or structure;
the result is validated like any value written in the file. Keys are never substituted. A `$` not
followed by `{` or `$` is kept as it is.

- `${VAR}`: the variable's value; an error when it is not set (empty is fine).
- `${VAR:-default}`: the default when VAR is unset or empty.
- `${VAR:?message}`: an error with `message` when VAR is unset or empty.
"""
import re

from sentry_bootstrap._mask import QUOTE_LIMIT, quote

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class InterpolationError(ValueError):
    """A placeholder that can't be filled; the message says what to write instead."""


def substitute(text, environ):
    """`text` with every placeholder filled from `environ`. Raises `InterpolationError`."""
    if "$" not in text:
        return text
    out = []
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
        out.append(_fill(text[i + 2:end], environ))
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


def substitute_tree(data, environ, on_error, path=()):
    """A copy of `data` with every string scalar substituted.

    `on_error(path, message)` is called for each placeholder that can't be filled (the value is
    then left as written), so that every problem is reported in one pass.
    """
    if isinstance(data, dict):
        return {k: substitute_tree(v, environ, on_error, path + (k,)) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute_tree(v, environ, on_error, path + (i,)) for i, v in enumerate(data)]
    if isinstance(data, str):
        try:
            return substitute(data, environ)
        except InterpolationError as exc:
            on_error(path, str(exc))
    return data
