"""Every environment variable the hook itself reads, in one place.

The configuration keys' own variables (`SENTRY_<PATH>`) are derived from the model by
`sentry_bootstrap.config.env_source`; the names here are the switches and the legacy aliases.
"""

import os

# Path of the configuration file. When set, the file must exist.
CONFIG_FILE = "SENTRY_CONFIG_FILE"
# "1"/"true" switches the hook off before it imports anything heavy.
DISABLED = "SENTRY_BOOTSTRAP_DISABLED"
# "1"/"true" turns configuration errors into a refusal to start (exit code 78).
STRICT = "SENTRY_BOOTSTRAP_STRICT"
# Verbosity of the hook's stderr lines: off | error | info | debug (default error).
LOG = "SENTRY_BOOTSTRAP_LOG"
# Set by the hook in its own process so that children it starts know a parent resolved the release.
RELEASE = "SENTRY_RELEASE"
ENVIRONMENT = "SENTRY_ENVIRONMENT"
# Generic fallback for the active environment, used by many deploy tools.
ENVIRONMENT_FALLBACK = "ENVIRONMENT"
# Set by `sentry-bootstrap run`: the config file it resolved, or "" when it found none, so that every
# process below it uses the same file and skips discovery.
RESOLVED_CONFIG = "SENTRY_BOOTSTRAP_CONFIG_RESOLVED"
# Set by `run`: directories (os.pathsep-separated) the hook's fallback finder takes our package and
# its dependencies from where CMD's environment has none (read in bootstrap/sitecustomize.py).
DEPS = "SENTRY_BOOTSTRAP_DEPS"
# Read by `run`: the bundle (`sentry-bootstrap bundle DIR`) to use as the hook, as --bundle does.
BUNDLE = "SENTRY_BOOTSTRAP_BUNDLE"
# Set by the hook for its children: where the release came from (for the startup report).
RELEASE_SOURCE = "SENTRY_BOOTSTRAP_RELEASE_SOURCE"
# Set by a process that reports a cron monitor (a matched process, `run --monitor`) for its
# children: the slugs (comma-separated) already reported above them, never reported again.
MONITORS = "SENTRY_BOOTSTRAP_MONITORS"

# "1"/"true" lets the hook run on a sentry-sdk 3.x (pre-)release, outside the supported range (a
# preview: docs/sdk-internals.md, "sentry-sdk 3"); the version matrix's `sdk3` cell sets it.
SDK3_PREVIEW = "SENTRY_BOOTSTRAP_SDK3_PREVIEW"

# Legacy names in use today, mapped to the key path they set.
LEGACY = {
    "SENTRY_DSN": "dsn",
    "SENTRY_RELEASE": "release",
    "SENTRY_ENVIRONMENT": "environment",
    "SENTRY_SAMPLE_RATE": "sample_rate",
    "SENTRY_TRACES_SAMPLE_RATE": "traces_sample_rate",
    "SENTRY_PROFILES_SAMPLE_RATE": "profiles_sample_rate",
    "SENTRY_DEBUG": "debug",
}

# The hook's own switches: never treated as configuration keys.
SWITCHES = frozenset({CONFIG_FILE, DISABLED, STRICT, LOG, RESOLVED_CONFIG, RELEASE_SOURCE, DEPS, BUNDLE,
                      MONITORS, SDK3_PREVIEW})

# Variables that belong to other Sentry tools (sentry-cli, the SDK itself): never errors or warnings.
FOREIGN = frozenset({
    "SENTRY_AUTH_TOKEN", "SENTRY_ORG", "SENTRY_PROJECT", "SENTRY_URL", "SENTRY_TRACE",
    "SENTRY_BAGGAGE", "SENTRY_KEEP_ALIVE", "SENTRY_SPOTLIGHT", "SENTRY_LOG_LEVEL",
    "SENTRY_PROPERTIES", "SENTRY_LOAD_DOTENV", "SENTRY_NO_PROGRESS_BAR", "SENTRY_ALLOW_FAILURE",
    "SENTRY_DSN_FILE",
})

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})

# The longest `NAME=value` string (its terminating NUL included) one variable may be when a program
# starts another: Linux's MAX_ARG_STRLEN (32 pages of 4 KiB). A longer one makes every exec fail
# with E2BIG, so a value the hook hands to children must fit.
MAX_VARIABLE_BYTES = 128 * 1024


def export_problem(name, value):
    """Why `value` can't be handed to child processes as the variable `name`, or None."""
    if "\0" in value:
        return "holds a NUL byte, which no environment variable can carry (it is handed to " \
               "child processes as {}); remove it".format(name)
    try:
        size = len(name) + 1 + len(os.fsencode(value)) + 1
    except UnicodeError:  # a lone surrogate
        return "holds a character no environment variable can carry (it is handed to child " \
               "processes as {}); remove it".format(name)
    if size > MAX_VARIABLE_BYTES:
        return "is {} bytes long, too long for child processes to be given as {} (at most {} " \
               "bytes with the name: the system's limit for one variable); shorten it".format(
                   size - len(name) - 2, name, MAX_VARIABLE_BYTES)
    return None


def flag(environ, name):
    """True when the variable holds a true-ish word (1, true, yes, on; any case)."""
    return environ.get(name, "").strip().lower() in TRUE_WORDS
