"""Every Sentry integration the SDK ships, one row each: the one place that knows them; and the
frameworks the hook itself goes into (`FRAMEWORKS`).

Both the configuration model (`integrations.<name>` options, `integrations.enabled/disabled` names)
and activation (which integrations apply, and when) read this table. Standard library only and no
imports of the package: any layer may import it. The hook's warm start doesn't import it: what the
lazy start needs from it is computed at validation (`start_plan`) and kept in the cached
configuration.

A row: `name` (the SDK's `identifier`, the key under `integrations:`), `class_path`
(`module:Class`), `distributions` (installed distributions that provide the framework; for an auto
row, the one that makes it apply), `trigger` (the module whose import sets it up, for a deferred
row), `min_version` (the framework's version floor, as the SDK's own; tests/test_sdk_compat.py
keeps them equal), `decision` (for an integration the SDK itself leaves opt-in: why it is opt-in or
auto here; whether it only observes and is safe to switch on when its module is imported), and
`kind`:
- `default`: set up at init, always (the SDK's default integrations);
- `auto`: set up when its framework is installed (at init if already imported, else on import of
  `trigger`), unless `integrations.auto` is off or it is in `integrations.disabled`;
- `opt_in`: set up only when listed in `integrations.enabled` (at init, or on import of `trigger`).
"""
DEFAULT = "default"
AUTO = "auto"
OPT_IN = "opt_in"



class Integration(object):
    """One row. A plain class, not a namedtuple: `collections` is not loaded by a bare interpreter."""

    __slots__ = ("name", "class_path", "kind", "distributions", "trigger", "min_version",
                 "decision")

    def __init__(self, name, class_path, kind, distributions, trigger, min_version, decision=None):
        self.name = name
        self.class_path = class_path
        self.kind = kind
        self.distributions = distributions
        self.trigger = trigger
        self.min_version = min_version
        self.decision = decision

    def __repr__(self):
        return "Integration({})".format(", ".join(
            "{}={!r}".format(slot, getattr(self, slot)) for slot in self.__slots__))

# Constructor options given as logging level names in YAML, that the SDK wants as numbers.
LEVEL_OPTIONS = frozenset({"level", "event_level", "sentry_logs_level"})

# Integrations the SDK ships that can't be written in a configuration file, with the reason.
NOT_CONFIGURABLE = {
    "sentry_sdk.integrations.rust_tracing:RustTracingIntegration":
        "needs the Rust extension's `initialize` function, which only code can pass",
}


# Auto integrations that only report crashes: importing their module doesn't start a lazy SDK (a
# CLI that succeeds never pays for it); the lazy start wraps the crash path instead
# (activation/lazy.py), and the SDK, once started, sets the integration up.
CRASH_ONLY = frozenset({"typer"})


def _row(name, class_path, kind, distributions, trigger, min_version, decision=None):
    return Integration(name, class_path, kind, tuple(distributions), trigger, min_version, decision)


ROWS = (
    _row('aiohttp', 'sentry_sdk.integrations.aiohttp:AioHttpIntegration', AUTO, ('aiohttp',), 'aiohttp', (3, 4)),
    _row('aiomysql', 'sentry_sdk.integrations.aiomysql:AioMySQLIntegration', OPT_IN, ('aiomysql',), None, (0, 3, 0),
         "opt-in: observes only (query spans), but patches aiomysql's private Connection._connect and matters only with tracing; no test here runs aiomysql"),
    _row('anthropic', 'sentry_sdk.integrations.anthropic:AnthropicIntegration', AUTO, ('anthropic',), 'anthropic', (0, 16)),
    _row('argv', 'sentry_sdk.integrations.argv:ArgvIntegration', DEFAULT, (), None, None),
    _row('ariadne', 'sentry_sdk.integrations.ariadne:AriadneIntegration', AUTO, ('ariadne',), 'ariadne', (0, 20)),
    _row('arq', 'sentry_sdk.integrations.arq:ArqIntegration', AUTO, ('arq',), 'arq', (0, 23)),
    _row('asyncio', 'sentry_sdk.integrations.asyncio:AsyncioIntegration', OPT_IN, (), 'asyncio', None,
         "opt-in: changes behaviour: replaces the event loop's task factory and reports task exceptions asyncio would only log"),
    _row('asyncpg', 'sentry_sdk.integrations.asyncpg:AsyncPGIntegration', AUTO, ('asyncpg',), 'asyncpg', (0, 23)),
    _row('atexit', 'sentry_sdk.integrations.atexit:AtexitIntegration', DEFAULT, (), None, None),
    _row('aws_lambda', 'sentry_sdk.integrations.aws_lambda:AwsLambdaIntegration', OPT_IN, (), None, None,
         "opt-in: no module to wait for (patches the Lambda runtime's bootstrap at init); for Lambda images only"),
    _row('beam', 'sentry_sdk.integrations.beam:BeamIntegration', OPT_IN, ('apache-beam',), None, (2, 12),
         'opt-in: patches DoFn methods and ParDo.__init__, so the functions Beam ships to workers change'),
    _row('boto3', 'sentry_sdk.integrations.boto3:Boto3Integration', AUTO, ('boto3',), 'boto3', (1, 16)),
    _row('bottle', 'sentry_sdk.integrations.bottle:BottleIntegration', AUTO, ('bottle',), 'bottle', (0, 12)),
    _row('celery', 'sentry_sdk.integrations.celery:CeleryIntegration', AUTO, ('celery',), 'celery', (4, 4, 7)),
    _row('chalice', 'sentry_sdk.integrations.chalice:ChaliceIntegration', AUTO, ('chalice',), 'chalice', (1, 16, 0)),
    _row('clickhouse_driver', 'sentry_sdk.integrations.clickhouse_driver:ClickhouseDriverIntegration', AUTO, ('clickhouse-driver',), 'clickhouse_driver', (0, 2, 0)),
    _row('cloudresourcecontext', 'sentry_sdk.integrations.cloud_resource_context:CloudResourceContextIntegration', OPT_IN, (), None, None,
         'opt-in: not observation only: queries the cloud metadata endpoint over the network at init (a request, and a wait off-cloud)'),
    _row('cohere', 'sentry_sdk.integrations.cohere:CohereIntegration', AUTO, ('cohere',), 'cohere', (5, 4, 0)),
    _row('dedupe', 'sentry_sdk.integrations.dedupe:DedupeIntegration', DEFAULT, (), None, None),
    _row('django', 'sentry_sdk.integrations.django:DjangoIntegration', AUTO, ('django',), 'django', (1, 8)),
    _row('dramatiq', 'sentry_sdk.integrations.dramatiq:DramatiqIntegration', OPT_IN, ('dramatiq',), None, (1, 9),
         'opt-in: changes behaviour: adds a middleware to every broker constructed'),
    _row('excepthook', 'sentry_sdk.integrations.excepthook:ExcepthookIntegration', DEFAULT, (), None, None),
    _row('executing', 'sentry_sdk.integrations.executing:ExecutingIntegration', OPT_IN, ('executing',), None, None,
         'opt-in: observes only (qualified function names in frames) but parses source at every event and needs the executing package: a choice of cost'),
    _row('falcon', 'sentry_sdk.integrations.falcon:FalconIntegration', AUTO, ('falcon',), 'falcon', (1, 4)),
    _row('fastapi', 'sentry_sdk.integrations.fastapi:FastApiIntegration', AUTO, ('fastapi',), 'fastapi', (0, 79, 0)),
    _row('flask', 'sentry_sdk.integrations.flask:FlaskIntegration', AUTO, ('flask',), 'flask', (1, 1, 4)),
    _row('gcp', 'sentry_sdk.integrations.gcp:GcpIntegration', OPT_IN, (), None, None,
         'opt-in: no module to wait for (patches the Cloud Functions worker); for that runtime only'),
    _row('gnu_backtrace', 'sentry_sdk.integrations.gnu_backtrace:GnuBacktraceIntegration', OPT_IN, (), None, None,
         'opt-in: observes only (parses GNU backtraces in messages), but has no module to wait for: switched on, every start would be eager'),
    _row('google_genai', 'sentry_sdk.integrations.google_genai:GoogleGenAIIntegration', AUTO, ('google-genai',), 'google.genai', (1, 29, 0)),
    _row('gql', 'sentry_sdk.integrations.gql:GQLIntegration', AUTO, ('gql',), 'gql', (3, 4, 1)),
    _row('graphene', 'sentry_sdk.integrations.graphene:GrapheneIntegration', AUTO, ('graphene',), 'graphene', (3, 3)),
    _row('grpc', 'sentry_sdk.integrations.grpc:GRPCIntegration', OPT_IN, ('grpcio',), None, (1, 32, 0),
         'opt-in: changes behaviour: adds client and server interceptors to every channel and server'),
    _row('httpx', 'sentry_sdk.integrations.httpx:HttpxIntegration', AUTO, ('httpx',), 'httpx', (0, 16, 0)),
    _row('httpx2', 'sentry_sdk.integrations.httpx2:Httpx2Integration', AUTO, ('httpx2',), 'httpx2', (2, 0, 0)),
    _row('huey', 'sentry_sdk.integrations.huey:HueyIntegration', AUTO, ('huey',), 'huey', None),
    _row('huggingface_hub', 'sentry_sdk.integrations.huggingface_hub:HuggingfaceHubIntegration', AUTO, ('huggingface-hub',), 'huggingface_hub', (0, 24, 7)),
    _row('langchain', 'sentry_sdk.integrations.langchain:LangchainIntegration', AUTO, ('langchain-core', 'langchain'), 'langchain_core', (0, 1, 0)),
    _row('langgraph', 'sentry_sdk.integrations.langgraph:LanggraphIntegration', AUTO, ('langgraph',), 'langgraph', (0, 6, 6)),
    _row('launchdarkly', 'sentry_sdk.integrations.launchdarkly:LaunchDarklyIntegration', OPT_IN, ('launchdarkly-server-sdk',), None, (9, 8, 0),
         "opt-in: needs the program's LaunchDarkly client object (ld_client), which a file can't give"),
    _row('litellm', 'sentry_sdk.integrations.litellm:LiteLLMIntegration', OPT_IN, ('litellm',), None, (1, 77, 5),
         "opt-in: changes behaviour: sets litellm's global callbacks, and records prompts and responses"),
    _row('litestar', 'sentry_sdk.integrations.litestar:LitestarIntegration', AUTO, ('litestar',), 'litestar', None),
    _row('logging', 'sentry_sdk.integrations.logging:LoggingIntegration', DEFAULT, (), None, None),
    _row('loguru', 'sentry_sdk.integrations.loguru:LoguruIntegration', AUTO, ('loguru',), 'loguru', (0, 7, 0)),
    _row('mcp', 'sentry_sdk.integrations.mcp:MCPIntegration', AUTO, ('mcp',), 'mcp', (1, 15, 0)),
    _row('mistral', 'sentry_sdk.integrations.mistral:MistralIntegration', OPT_IN, ('mistralai',), None, (2, 0, 5),
         "opt-in: records prompts and responses (personal data) on spans: the user's choice"),
    _row('modules', 'sentry_sdk.integrations.modules:ModulesIntegration', DEFAULT, (), None, None),
    _row('openai', 'sentry_sdk.integrations.openai:OpenAIIntegration', AUTO, ('openai',), 'openai', (1, 0, 0)),
    _row('openai_agents', 'sentry_sdk.integrations.openai_agents:OpenAIAgentsIntegration', AUTO, ('openai-agents',), 'agents', (0, 0, 19)),
    _row('openfeature', 'sentry_sdk.integrations.openfeature:OpenFeatureIntegration', OPT_IN, ('openfeature-sdk',), None, (0, 7, 1),
         'opt-in: observes only (flag evaluations on the scope), safe on import of openfeature; left opt-in: no test here runs it'),
    _row('opentelemetry', 'sentry_sdk.integrations.opentelemetry.integration:OpenTelemetryIntegration', OPT_IN, ('opentelemetry-sdk',), None, None,
         "opt-in: changes behaviour: installs Sentry's span processor and propagator as OpenTelemetry's global ones"),
    _row('otlp', 'sentry_sdk.integrations.otlp:OTLPIntegration', OPT_IN, ('opentelemetry-exporter-otlp-proto-http',), None, None,
         'opt-in: changes behaviour: sets a global tracer provider and an OTLP exporter'),
    _row('pure_eval', 'sentry_sdk.integrations.pure_eval:PureEvalIntegration', OPT_IN, ('pure-eval',), None, None,
         "opt-in: observes only (local values in frames) but evaluates expressions in the program's frames at every event"),
    _row('pydantic_ai', 'sentry_sdk.integrations.pydantic_ai:PydanticAIIntegration', AUTO, ('pydantic-ai-slim', 'pydantic-ai'), 'pydantic_ai', (1, 0, 0)),
    _row('pymongo', 'sentry_sdk.integrations.pymongo:PyMongoIntegration', AUTO, ('pymongo',), 'pymongo', (3, 5, 0)),
    _row('pyramid', 'sentry_sdk.integrations.pyramid:PyramidIntegration', AUTO, ('pyramid',), 'pyramid', None),
    _row('pyreqwest', 'sentry_sdk.integrations.pyreqwest:PyreqwestIntegration', OPT_IN, ('pyreqwest',), None, (0, 11, 6),
         'opt-in: changes behaviour: adds a middleware to every client built'),
    _row('quart', 'sentry_sdk.integrations.quart:QuartIntegration', AUTO, ('quart',), 'quart', (0, 16, 0)),
    _row('ray', 'sentry_sdk.integrations.ray:RayIntegration', OPT_IN, ('ray',), None, (2, 7, 0),
         'opt-in: changes behaviour: patches ray.remote, so the functions Ray ships to workers change'),
    _row('redis', 'sentry_sdk.integrations.redis:RedisIntegration', AUTO, ('redis',), 'redis', None),
    _row('rq', 'sentry_sdk.integrations.rq:RqIntegration', AUTO, ('rq',), 'rq', (0, 6)),
    _row('sanic', 'sentry_sdk.integrations.sanic:SanicIntegration', AUTO, ('sanic',), 'sanic', (0, 8)),
    _row('socket', 'sentry_sdk.integrations.socket:SocketIntegration', OPT_IN, (), None, None,
         'opt-in: observes only (spans for connect and DNS) but patches socket functions process-wide, noise without tracing; no module to wait for'),
    _row('spark', 'sentry_sdk.integrations.spark.spark_driver:SparkIntegration', OPT_IN, ('pyspark',), None, None,
         'opt-in: changes behaviour: patches SparkContext and registers a listener in the JVM'),
    _row('spark_worker', 'sentry_sdk.integrations.spark.spark_worker:SparkWorkerIntegration', OPT_IN, ('pyspark',), None, None,
         "opt-in: runs in Spark's Python workers only, started by Spark's daemon with its own configuration"),
    _row('sqlalchemy', 'sentry_sdk.integrations.sqlalchemy:SqlalchemyIntegration', AUTO, ('sqlalchemy',), 'sqlalchemy', (1, 2)),
    _row('starlette', 'sentry_sdk.integrations.starlette:StarletteIntegration', AUTO, ('starlette',), 'starlette', (0, 16)),
    _row('starlite', 'sentry_sdk.integrations.starlite:StarliteIntegration', AUTO, ('starlite',), 'starlite', (1, 48)),
    _row('statsig', 'sentry_sdk.integrations.statsig:StatsigIntegration', OPT_IN, ('statsig',), None, (0, 55, 3),
         'opt-in: observes only (flag evaluations on the scope), safe on import of statsig; left opt-in: no test here runs it'),
    _row('stdlib', 'sentry_sdk.integrations.stdlib:StdlibIntegration', DEFAULT, (), None, None),
    _row('strawberry', 'sentry_sdk.integrations.strawberry:StrawberryIntegration', AUTO, ('strawberry-graphql',), 'strawberry', (0, 209, 5)),
    _row('sys_exit', 'sentry_sdk.integrations.sys_exit:SysExitIntegration', OPT_IN, (), None, None,
         'opt-in: changes what counts as an error (sys.exit with a non-zero code becomes an event); no module to wait for'),
    _row('threading', 'sentry_sdk.integrations.threading:ThreadingIntegration', DEFAULT, (), None, None),
    _row('tornado', 'sentry_sdk.integrations.tornado:TornadoIntegration', AUTO, ('tornado',), 'tornado', (6, 0)),
    _row('trytond_wsgi', 'sentry_sdk.integrations.trytond:TrytondWSGIIntegration', OPT_IN, ('trytond',), None, None,
         "opt-in: changes behaviour: wraps trytond's WSGI application and registers an error handler"),
    _row('typer', 'sentry_sdk.integrations.typer:TyperIntegration', AUTO, ('typer',), 'typer', (0, 15),
         "auto: observes only (wraps typer's except_hook, sends, then calls it: the output is unchanged), and without it Typer's rich tracebacks hide every crash; a lazy start waits for the crash, not the import"),
    _row('typesafe', 'sentry_sdk.integrations.typesafe:TypeSafeIntegration', OPT_IN, (), None, (0, 7),
         "opt-in: records the requests and answers of TypeSafe's client on spans: the user's choice"),
    _row('unleash', 'sentry_sdk.integrations.unleash:UnleashIntegration', OPT_IN, ('UnleashClient',), None, (6, 0, 1),
         'opt-in: observes only (flag evaluations on the scope), safe on import of UnleashClient; left opt-in: no test here runs it'),
    _row('unraisablehook', 'sentry_sdk.integrations.unraisablehook:UnraisablehookIntegration', OPT_IN, (), None, None,
         'opt-in: observes only (wraps sys.unraisablehook, then calls it), but has no module to wait for: switched on, every start would be eager'),
)

BY_NAME = {row.name: row for row in ROWS}


def names():
    """Every integration name accepted under `integrations:` (enabled, disabled, options)."""
    return sorted(BY_NAME)


def of_kind(kind):
    """The rows of one kind, in name order."""
    return [row for row in ROWS if row.kind == kind]


# --- the frameworks the hook goes into ------------------------------------------------------------

class Framework(object):
    """One framework the hook patches itself, beyond the SDK's integration: once `module` has
    executed, `patched` is wrapped by `by`. Importing the top-level package starts the SDK
    (the lazy start); the context middleware, and the diagnostics test endpoint that registers with
    it, go in through the import watcher (activation and diagnostics read this table)."""

    __slots__ = ("name", "module", "patched", "by")

    def __init__(self, name, module, patched, by):
        self.name = name
        self.module = module
        self.patched = patched
        self.by = by

    def __repr__(self):
        return "Framework({!r}, {!r}, {!r}, {!r})".format(self.name, self.module, self.patched,
                                                           self.by)


# `middleware`: the context middleware (middleware/<name>.py owns the one patch) and, when
# `diagnostics.endpoint` is on, the test endpoint through it. `diagnostics`: the Celery test task,
# when `diagnostics.celery_task` is on. tests/middleware/test_one_patch.py keeps this true.
FRAMEWORKS = (
    Framework("django", "django.core.handlers.base", "BaseHandler.load_middleware", "middleware"),
    Framework("flask", "flask.app", "Flask.wsgi_app", "middleware"),
    Framework("starlette", "starlette.applications", "Starlette.__call__", "middleware"),
    Framework("celery", "celery.app", "Celery (registers sentry_bootstrap.test_sentry_task)",
              "diagnostics"),
)


def frameworks(by):
    """The framework rows patched by `by` (`middleware` or `diagnostics`)."""
    return [row for row in FRAMEWORKS if row.by == by]


# --- what the lazy start needs, computed once at validation ---------------------------------------

def start_plan(values):
    """What the lazy start (activation/lazy.py) needs from this table for the validated `values`,
    as plain data the config cache stores (its key covers this file), so that a warm start imports
    neither this table nor activation.integrations:
    - `triggers`: the module names whose import starts the SDK: the SDK itself (the program, or the
      hook's helpers, use it), the frameworks the hook goes into (`FRAMEWORKS`), the triggers of
      the integrations that apply, and the modules of `instrument:` targets;
    - `at_start`: an integration listed in `integrations.enabled` with no module to wait for
      (sys_exit patches sys.exit), needed from the first instruction, or None."""
    section = values["integrations"]
    disabled = set(section["disabled"])
    opted_in = set(section["enabled"])
    rows = frameworks("middleware")
    if values["diagnostics"]["celery_task"]:
        rows += frameworks("diagnostics")
    names = {"sentry_sdk"} | {row.module.partition(".")[0] for row in rows}
    for row in of_kind(AUTO):
        if row.name not in disabled and (section["auto"] or row.name in opted_in) and \
                row.name not in CRASH_ONLY:
            names.add(row.trigger)
    for name in opted_in:
        row = BY_NAME.get(name)
        if row is not None and row.kind == OPT_IN and row.trigger and name not in disabled:
            names.add(row.trigger)
    for entry in values["instrument"]:
        target = entry.get("target") if isinstance(entry, dict) else None
        if isinstance(target, str) and ":" in target:
            names.add(target.partition(":")[0])
    at_start = None
    for name in section["enabled"]:
        row = BY_NAME.get(name)
        if row is None or (row.kind == OPT_IN and not row.trigger):
            at_start = name
            break
    return {"triggers": sorted(names), "at_start": at_start}
