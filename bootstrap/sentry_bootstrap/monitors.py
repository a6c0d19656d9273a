"""Cron monitors of whole processes (`monitors:` in sentry.yaml): slugs, schedules, and which
monitor a process gets. Standard library only, no `re`: the hook asks `monitor_for` at start.

- `slug_problem(slug)`: why Sentry would refuse or change a slug (lower-case letters, digits, `-`
  and `_`, at most 50 characters, not only digits), or None.
- `parse_schedule(text)`: the check-in's `schedule` object for a crontab (`0 3 * * *`, `@daily`)
  or an interval (`every 30 minutes`); a ValueError that says which field is wrong otherwise.
  One pass over at most `MAX_SCHEDULE` characters.
- `monitor_config(entry)`: the check-in's `monitor_config` (the monitor is created or updated from
  it on the server), or None when the entry has no schedule.
- `monitor_for(info, monitors, script)`: the first entry that matches the process, with why.
- `ANCESTORS` (environment variable): slugs already reported by a process above this one (a
  matched parent, or `sentry-bootstrap run --monitor`); a process never reports one of them again.
"""
import os

from sentry_bootstrap import _env
from sentry_bootstrap.processes import _glob

MAX_SLUG = 50  # Relay truncates longer slugs: two monitors would then share one
MAX_SCHEDULE = 200
MAX_ARGV_WORDS = 64  # of the command line, looked at by an `argv` pattern (bounds its cost)
MAX_WORD = 1024  # characters of each word
MATCHERS = ("script", "module", "console_script", "argv")
ANCESTORS = _env.MONITORS

_WILDCARDS = frozenset("*?[")
_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
_NICKNAMES = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# name, low, high, names (index = value) for the five crontab fields
_MONTHS = ("", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of month", 1, 31, ()),
           ("month", 1, 12, _MONTHS), ("day of week", 0, 7, _DAYS))
UNITS = ("minute", "hour", "day", "week", "month", "year")


def slug_problem(slug):
    """Why `slug` is not a slug Sentry keeps as it is, or None."""
    if not isinstance(slug, str) or not slug:
        return "must be a non-empty slug"
    if len(slug) > MAX_SLUG:
        return "at most {} characters (Sentry cuts it there)".format(MAX_SLUG)
    if any(c not in _SLUG_CHARS for c in slug):
        return "only lower-case letters, digits, '-' and '_' (try {!r})".format(slugify(slug))
    if slug.isdigit():
        return "must not be only digits"
    return None


def slugify(text):
    """A slug close to `text`: lower case, other characters as '-'."""
    out = []
    for c in str(text)[:MAX_SLUG * 2].lower():
        out.append(c if c in _SLUG_CHARS else "-")
    return "".join(out).strip("-")[:MAX_SLUG] or "monitor"


def parse_schedule(text):
    """The check-in `schedule` for `text`: `{"type": "crontab", "value": "0 3 * * *"}` or
    `{"type": "interval", "value": 30, "unit": "minute"}`. Raises ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError("must be a crontab string like '0 3 * * *' or an interval like "
                         "'every 30 minutes'")
    if len(text) > MAX_SCHEDULE:
        raise ValueError("at most {} characters".format(MAX_SCHEDULE))
    words = text.lower().split()
    if not words:
        raise ValueError("empty schedule")
    if words[0] == "every":
        return _interval(words[1:])
    if len(words) == 1 and words[0].startswith("@"):
        if words[0] not in _NICKNAMES:
            raise ValueError("unknown {!r} (use one of {})".format(words[0], ", ".join(_NICKNAMES)))
        return {"type": "crontab", "value": _NICKNAMES[words[0]]}
    if len(words) != 5:
        raise ValueError("a crontab has 5 fields (minute hour day-of-month month day-of-week), "
                         "this has {}".format(len(words)))
    for number, (word, field) in enumerate(zip(words, _FIELDS), 1):
        problem = _field_problem(word, *field)
        if problem:
            raise ValueError("field {} ({}) {!r}: {}".format(number, field[0], word, problem))
    return {"type": "crontab", "value": " ".join(words)}


def _interval(words):
    count = 1
    if words and words[0].isdigit() and words[0].isascii():
        count = int(words[0][:9])
        words = words[1:]
    unit = words[0][:-1] if len(words) == 1 and words[0].endswith("s") else (words or [""])[0]
    if len(words) != 1 or unit not in UNITS or count < 1:
        raise ValueError("an interval is 'every N <unit>' with N at least 1 and a unit among {}"
                         .format(", ".join(UNITS)))
    return {"type": "interval", "value": count, "unit": unit}


def _field_problem(word, name, low, high, names):
    for item in word.split(","):
        base, slash, step = item.partition("/")
        if slash and not (step.isdigit() and step.isascii() and 0 < int(step[:9]) <= high):
            return "the step after '/' must be a number from 1 to {}".format(high)
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        bounds = []
        for part in (first, last) if dash else (first,):
            value = _value(part, names)
            if value is None:
                return "{!r} is not a number{}".format(part, " or a name" if names else "")
            if not low <= value <= high:
                return "{} is out of range {}-{}".format(value, low, high)
            bounds.append(value)
        if dash and bounds[0] > bounds[1]:
            return "the range {} goes backwards".format(base)
    return None


def _value(part, names):
    if part.isdigit() and part.isascii():
        return int(part[:4])
    if names and len(part) == 3 and part in names:
        return names.index(part)
    return None


def monitor_config(entry):
    """The check-in `monitor_config` of a `monitors:` entry (or `run --monitor`'s options), or None
    without a schedule: then the monitor must exist on the server already."""
    schedule = entry.get("schedule")
    if not schedule:
        return None
    config = {"schedule": parse_schedule(schedule)}
    for key in ("timezone", "checkin_margin", "max_runtime", "failure_issue_threshold",
                "recovery_threshold"):
        if entry.get(key) is not None:
            config[key] = entry[key]
    return config


def ancestors(environ):
    """The slugs reported by processes above this one."""
    return [s for s in environ.get(ANCESTORS, "").split(",") if s]


def add_ancestor(environ, slug):
    """Tell child processes that `slug` is reported here."""
    slugs = ancestors(environ)
    if slug not in slugs:
        environ[ANCESTORS] = ",".join(slugs + [slug])


def monitor_for(info, monitors):
    """`(index, entry, why)` of the first entry of `monitors` that matches the process `info`
    (a `processes.ProcessInfo`), else None. `why` says which matcher matched, e.g.
    `argv 'manage.py clearsessions'`. A relative script path is taken from the working directory,
    as Python does."""
    # The script's path components, from the working directory as Python reads it.
    script = os.path.abspath(info.script).split("/") if info.script else None
    argv = [w[:MAX_WORD] for w in info.argv[1:MAX_ARGV_WORDS + 1]]
    # Every word and every path's last component: a pattern word without a wildcard that is none
    # of these rules its entry out with one set lookup.
    known = set(argv)
    known.update(w.rsplit("/", 1)[1] for w in argv if "/" in w)
    for index, entry in enumerate(monitors or ()):
        if not isinstance(entry, dict):
            continue
        why = _matches(info, entry, script, argv, known)
        if why:
            return index, entry, why
    return None


def _matches(info, entry, script, argv, known):
    pattern = entry.get("script")
    if pattern and script:
        if _glob(_path_tail(script, pattern), pattern):
            return "script {!r}".format(pattern)
    pattern = entry.get("module")
    if pattern and info.module and _glob(info.module, pattern):
        return "module {!r}".format(pattern)
    pattern = entry.get("console_script")
    if pattern and info.console_script and _glob(info.console_script, pattern):
        return "console_script {!r}".format(pattern)
    pattern = entry.get("argv")
    if pattern:
        words = pattern.split()
        literal_missing = any(w not in known for w in words if not _WILDCARDS.intersection(w))
        if not literal_missing and _argv_matches(argv, words):
            return "argv {!r}".format(pattern)
    return None


def _path_tail(parts, pattern):
    """The end of the path `parts` with as many components as `pattern` has (all of it for an
    absolute pattern): `jobs/backup.py` is compared with the last two components of the path."""
    if pattern.startswith("/"):
        return "/".join(parts)
    keep = pattern.count("/") + 1
    return parts[-1] if keep == 1 else "/".join(parts[-keep:])


def _argv_matches(argv, words):
    """Whether `words` (globs) match consecutive words of `argv`; a word without '/' matches a
    path's last component too (`manage.py` matches `/srv/app/manage.py`)."""
    if not words:
        return False
    for start in range(len(argv) - len(words) + 1):
        if all(_word_matches(argv[start + i], word) for i, word in enumerate(words)):
            return True
    return False


def _word_matches(value, pattern):
    if _glob(value, pattern):
        return True
    return "/" not in pattern and "/" in value and _glob(value.rsplit("/", 1)[1], pattern)
