"""The one table of Sentry integrations the hook knows, and the plan of which ones apply.

Deciding never imports a framework, nor the SDK's integration module (which imports its framework
at module level): it reads installed distribution metadata from the `*.dist-info` directory names
on `sys.path`, one `listdir` per entry, which is far cheaper than one `importlib.metadata.version()`
call per integration. An integration whose framework is not imported yet is *deferred*: the hooks
layer sets it up when the framework's module is first imported.
"""
import os
import re
import sys

# Set up at init, always cheap: the SDK's own default integrations.
DEFAULT = ("argv", "atexit", "dedupe", "excepthook", "logging", "modules", "stdlib", "threading")

# name -> (distributions that provide it, module whose import triggers the setup).
# The SDK's `_AUTO_ENABLING_INTEGRATIONS` is the authority on *which* integrations auto-enable; a
# test fails when it names one that is missing here, so a new SDK release can't slip past.
AUTO = {
    "aiohttp": (("aiohttp",), "aiohttp"),
    "anthropic": (("anthropic",), "anthropic"),
    "ariadne": (("ariadne",), "ariadne"),
    "arq": (("arq",), "arq"),
    "asyncpg": (("asyncpg",), "asyncpg"),
    "boto3": (("boto3",), "boto3"),
    "bottle": (("bottle",), "bottle"),
    "celery": (("celery",), "celery"),
    "chalice": (("chalice",), "chalice"),
    "clickhouse_driver": (("clickhouse-driver",), "clickhouse_driver"),
    "cohere": (("cohere",), "cohere"),
    "django": (("django",), "django"),
    "falcon": (("falcon",), "falcon"),
    "fastapi": (("fastapi",), "fastapi"),
    "flask": (("flask",), "flask"),
    "gql": (("gql",), "gql"),
    "google_genai": (("google-genai",), "google.genai"),
    "graphene": (("graphene",), "graphene"),
    "httpx": (("httpx",), "httpx"),
    "httpx2": (("httpx2",), "httpx2"),
    "huey": (("huey",), "huey"),
    "huggingface_hub": (("huggingface-hub",), "huggingface_hub"),
    "langchain": (("langchain-core", "langchain"), "langchain_core"),
    "langgraph": (("langgraph",), "langgraph"),
    "litestar": (("litestar",), "litestar"),
    "loguru": (("loguru",), "loguru"),
    "mcp": (("mcp",), "mcp"),
    "openai": (("openai",), "openai"),
    "openai_agents": (("openai-agents",), "agents"),
    "pydantic_ai": (("pydantic-ai-slim", "pydantic-ai"), "pydantic_ai"),
    "pymongo": (("pymongo",), "pymongo"),
    "pyramid": (("pyramid",), "pyramid"),
    "quart": (("quart",), "quart"),
    "redis": (("redis",), "redis"),
    "rq": (("rq",), "rq"),
    "sanic": (("sanic",), "sanic"),
    "sqlalchemy": (("sqlalchemy",), "sqlalchemy"),
    "starlette": (("starlette",), "starlette"),
    "starlite": (("starlite",), "starlite"),
    "strawberry": (("strawberry-graphql",), "strawberry"),
    "tornado": (("tornado",), "tornado"),
}

# Opt-in integrations (listed in `integrations.enabled`) that wait for a module before set-up.
# Others are set up at init.
OPT_IN_TRIGGERS = {"asyncio": "asyncio"}

# The SDK's class for each name, where it is not `sentry_sdk.integrations.<name>` with the single
# Integration subclass of that identifier.
_CLASS_PATHS = {
    "argv": "sentry_sdk.integrations.argv:ArgvIntegration",
    "atexit": "sentry_sdk.integrations.atexit:AtexitIntegration",
    "dedupe": "sentry_sdk.integrations.dedupe:DedupeIntegration",
    "excepthook": "sentry_sdk.integrations.excepthook:ExcepthookIntegration",
    "logging": "sentry_sdk.integrations.logging:LoggingIntegration",
    "modules": "sentry_sdk.integrations.modules:ModulesIntegration",
    "stdlib": "sentry_sdk.integrations.stdlib:StdlibIntegration",
    "threading": "sentry_sdk.integrations.threading:ThreadingIntegration",
    "celery": "sentry_sdk.integrations.celery:CeleryIntegration",
    "django": "sentry_sdk.integrations.django:DjangoIntegration",
    "fastapi": "sentry_sdk.integrations.fastapi:FastApiIntegration",
    "flask": "sentry_sdk.integrations.flask:FlaskIntegration",
    "starlette": "sentry_sdk.integrations.starlette:StarletteIntegration",
    "sqlalchemy": "sentry_sdk.integrations.sqlalchemy:SqlalchemyIntegration",
    "redis": "sentry_sdk.integrations.redis:RedisIntegration",
    "httpx": "sentry_sdk.integrations.httpx:HttpxIntegration",
    "asyncio": "sentry_sdk.integrations.asyncio:AsyncioIntegration",
    "sys_exit": "sentry_sdk.integrations.sys_exit:SysExitIntegration",
}

# Option values given as level names in YAML that the SDK wants as numbers.
_LEVEL_OPTIONS = {"level", "event_level", "sentry_logs_level"}


def names():
    """Every integration name accepted in `integrations.enabled` / `integrations.disabled`."""
    here = set(DEFAULT) | set(AUTO) | set(OPT_IN_TRIGGERS) | set(_CLASS_PATHS)
    sdk_dir = _sdk_integrations_dir()
    if sdk_dir:
        for entry in os.listdir(sdk_dir):
            stem = entry[:-3] if entry.endswith(".py") else entry
            if not stem.startswith("_") and stem.isidentifier():
                here.add(stem)
    return sorted(here)


def _sdk_integrations_dir():
    for base in sys.path:
        candidate = os.path.join(base or ".", "sentry_sdk", "integrations")
        if os.path.isdir(candidate):
            return candidate
    return None


# --- installed distributions, from dist-info names -------------------------------------------------

_DIST_INFO = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+?)\.(?:dist-info|egg-info)$")


def normalize(name):
    """PEP 503 normalisation: `Flask_Login` and `flask-login` are the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(path=None):
    """{normalised name: version} for every distribution on `path` (default sys.path).

    The first entry on the path wins, as it does for imports.
    """
    found = {}
    for base in sys.path if path is None else path:
        try:
            entries = os.listdir(base or ".")
        except OSError:
            continue
        for entry in entries:
            match = _DIST_INFO.match(entry)
            if match:
                found.setdefault(normalize(match.group("name")), match.group("version"))
    return found


def version_tuple(version):
    """'5.2.19' -> (5, 2, 19); '1.0rc1' -> (1, 0). None when there is no leading number."""
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
    (default: read from sys.path), `min_versions` the SDK's floors (default: its `_MIN_VERSIONS`).
    """
    modules = sys.modules if modules is None else modules
    if distributions is None:
        distributions = installed_distributions()
    if min_versions is None:
        from sentry_bootstrap.sdk_compat import min_versions as sdk_min_versions

        min_versions = sdk_min_versions()
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


def _older(version, floor):
    width = max(len(version), len(floor))
    return version + (0,) * (width - len(version)) < tuple(floor) + (0,) * (width - len(floor))


def options_for(name, raw):
    """Constructor keyword arguments from the integration's config mapping (None entries dropped)."""
    if not isinstance(raw, dict):
        return {}
    kwargs = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key in _LEVEL_OPTIONS and isinstance(value, str):
            import logging

            value = logging.getLevelName(value.upper())
        kwargs[key] = value
    return kwargs


def instantiate(name, options):
    """Import the SDK's integration class for `name` and build it. Imports the framework."""
    import importlib

    path = _CLASS_PATHS.get(name)
    if path:
        module_name, _, class_name = path.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
    else:
        cls = _find_class(importlib.import_module("sentry_sdk.integrations." + name), name)
    return cls(**options)


def _find_class(module, identifier):
    from sentry_sdk.integrations import Integration

    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Integration) and \
                getattr(value, "identifier", None) == identifier:
            return value
    raise ImportError("no Sentry integration named {!r} in {}".format(identifier, module.__name__))
