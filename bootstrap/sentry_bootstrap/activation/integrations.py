"""The plan of which Sentry integrations apply, and when, from the integrations table
(`sentry_bootstrap/integrations_table.py`).

Deciding never imports a framework, nor the SDK's integration module (which imports its framework
at module level): it reads installed distribution metadata from the `*.dist-info` directory names
on `sys.path`, one `listdir` per entry, which is far cheaper than one `importlib.metadata.version()`
call per integration. An integration whose framework is not imported yet is *deferred*: the hooks
layer sets it up when the framework's module is first imported.
"""
import os
import sys

from sentry_bootstrap import integrations_table as _table

# Views of the integrations table (sentry_bootstrap/integrations_table.py), the one place that
# knows each integration.
DEFAULT = tuple(row.name for row in _table.of_kind(_table.DEFAULT))  # set up at init, always
AUTO = {row.name: (row.distributions, row.trigger) for row in _table.of_kind(_table.AUTO)}
# Opt-in integrations (listed in `integrations.enabled`) that wait for a module before set-up.
OPT_IN_TRIGGERS = {row.name: row.trigger for row in _table.of_kind(_table.OPT_IN) if row.trigger}


def names():
    """Every integration name accepted in `integrations.enabled` / `integrations.disabled`."""
    return _table.names()


# --- installed distributions, from dist-info names -------------------------------------------------

# (`re` is imported where it is used: the lazy start reads the tables above at every start.)
_DIST_INFO = r"^(?P<name>.+?)-(?P<version>[^-]+?)\.(?:dist-info|egg-info)$"


def normalize(name):
    """PEP 503 normalisation: `Flask_Login` and `flask-login` are the same distribution."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(path=None):
    """{normalised name: version} for every distribution on `path` (default sys.path).

    The first entry on the path wins, as it does for imports.
    """
    import re

    dist_info = re.compile(_DIST_INFO)
    found = {}
    for base in sys.path if path is None else path:
        try:
            entries = os.listdir(base or ".")
        except OSError:
            continue
        for entry in entries:
            match = dist_info.match(entry)
            if match:
                found.setdefault(normalize(match.group("name")), match.group("version"))
    return found


def version_tuple(version):
    """'5.2.19' -> (5, 2, 19); '1.0rc1' -> (1, 0). None when there is no leading number."""
    import re

    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
        if digits.group() != piece:
            break
    return tuple(parts) or None


# --- the plan -------------------------------------------------------------------------------------

class IntegrationPlan:
    """What activation does with the integrations: each name with a reason.

    - `now`: (name, options) to pass to `sentry_sdk.init`.
    - `deferred`: (name, options, trigger module) set up when the module is imported.
    - `skipped`: (name, reason).
    """

    def __init__(self):
        self.now = []
        self.deferred = []
        self.skipped = []
        self.why_now = {}  # name -> why it is set up at init: default, imported, opted in

    def adapt_options(self, adapt):
        """Replace each integration's options with `adapt(name, options)`."""
        self.now = [(name, adapt(name, opts)) for name, opts in self.now]
        self.deferred = [(name, adapt(name, opts), trigger) for name, opts, trigger in self.deferred]

    def summary(self):
        """The startup report's integrations part: every integration with its reason."""
        defaults = [n for n, _ in self.now if self.why_now.get(n) == "default"]
        others = ["{} ({})".format(n, self.why_now.get(n, "")) for n, _ in self.now if n not in defaults]
        enabled = ([",".join(defaults) + " (default)"] if defaults else []) + others
        parts = ["enabled=[{}]".format(", ".join(enabled))]
        parts.append("deferred=[{}]".format(", ".join(
            "{} (on import of {})".format(n, t) for n, _, t in self.deferred)))
        parts.append("skipped=[{}]".format(", ".join("{} ({})".format(n, r) for n, r in self.skipped)))
        return " ".join(parts)


def plan_integrations(section, modules=None, distributions=None, min_versions=None):
    """Decide from the `integrations` config section which integrations apply, and when.

    `modules` is what is imported already (default sys.modules), `distributions` what is installed
    (default: read from sys.path), `min_versions` the version floors (default: the table's, which
    are the SDK's).
    """
    modules = sys.modules if modules is None else modules
    if distributions is None:
        distributions = installed_distributions()
    if min_versions is None:
        min_versions = plan_floors()
    disabled = set(section.get("disabled") or ())
    opted_in = list(section.get("enabled") or ())
    plan = IntegrationPlan()

    def options(name):
        return options_for(name, section.get(name))

    for name in DEFAULT:
        if name in disabled:
            plan.skipped.append((name, "disabled in config"))
        else:
            plan.now.append((name, options(name)))
            plan.why_now[name] = "default"

    for name, (dists, trigger) in sorted(AUTO.items()):
        if name in disabled:
            if any(normalize(d) in distributions for d in dists):
                plan.skipped.append((name, "disabled in config"))
            continue
        if not section.get("auto", True) and name not in opted_in:
            continue
        installed = next((normalize(d) for d in dists if normalize(d) in distributions), None)
        if installed is None:
            if name in opted_in:
                plan.skipped.append((name, "not installed"))
            continue
        version = distributions[installed]
        floor = min_versions.get(name)
        parsed = version_tuple(version)
        if floor and (parsed is None or _older(parsed, floor)):
            plan.skipped.append((name, "{} {} < {}".format(installed, version, ".".join(map(str, floor)))))
            continue
        if trigger in modules:
            plan.now.append((name, options(name)))
            plan.why_now[name] = "{} already imported".format(trigger)
        else:
            plan.deferred.append((name, options(name), trigger))

    for name in opted_in:
        if name in AUTO or name in DEFAULT or name in disabled:
            continue
        trigger = OPT_IN_TRIGGERS.get(name)
        if trigger and trigger not in modules:
            plan.deferred.append((name, options(name), trigger))
        else:
            plan.now.append((name, options(name)))
            plan.why_now[name] = "enabled in config"
    return plan


def plan_floors():
    """{integration: version floor}: the table's (2.x's, read without importing the SDK); on 3.x,
    which raised several, the SDK's own `_MIN_VERSIONS`."""
    from sentry_bootstrap import sdk_compat

    if sdk_compat.is_sdk3():
        return dict(sdk_compat.min_versions())
    return {row.name: row.min_version for row in _table.ROWS if row.min_version}


def _older(version, floor):
    width = max(len(version), len(floor))
    return version + (0,) * (width - len(version)) < tuple(floor) + (0,) * (width - len(floor))


def options_for(name, raw):
    """Constructor keyword arguments from the integration's config mapping (None entries dropped:
    the SDK's default applies). A level that is off (`false`) is passed as None, the SDK's off."""
    if not isinstance(raw, dict):
        return {}
    kwargs = {}
    for key, value in raw.items():
        if value is None:
            continue
        if value is False and key in _table.LEVEL_OPTIONS:
            kwargs[key] = None  # a level switched off: the SDK's off
            continue
        if key in _table.LEVEL_OPTIONS and isinstance(value, str):
            import logging

            value = logging.getLevelName(value.upper())
        kwargs[key] = value
    return kwargs


def instantiate(name, options):
    """Import the SDK's integration class for `name` and build it. Imports the framework."""
    import importlib

    if name == "atexit" and "callback" not in options:
        from sentry_bootstrap._log import exit_notice

        options = dict(options, callback=exit_notice)  # our stderr line instead of the SDK's three
    module_name, _, class_name = _table.BY_NAME[name].class_path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)(**options)
