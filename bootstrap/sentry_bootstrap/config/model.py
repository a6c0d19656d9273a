"""The pydantic v2 `Settings` model: every key the file, its overlays and `SENTRY_*` variables may set.

Cold path only: imported by `config.loader` and the CLI, never by the start-up hook.

- `extra="forbid"` at every level, so a misspelt key is an error, not a silent no-op.
- Defaults mirror `sentry_sdk.consts.DEFAULT_OPTIONS`, so `explain` shows the value that takes effect.
- Callable options are `module:function` strings, checked for shape only (never imported here).
- `SECRET_PATHS` names the fields that every output must mask.
- `SDK_EXCLUDED` lists the `sentry_sdk.init` options deliberately not modelled, each with its reason.
"""
import difflib
import re
import string
from typing import Any, Dict, List, Optional, Tuple, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

try:
    from typing import Annotated, Literal
except ImportError:  # Python < 3.9 is not supported, but typing_extensions ships with pydantic
    from typing_extensions import Annotated, Literal

from sentry_bootstrap.activation import integrations as _integrations

# The file format version this release reads.
FORMAT_VERSION = 1

# Dotted paths of secret fields: masked in errors, logs, `explain` and `doctor`.
SECRET_PATHS = frozenset({
    "dsn", "http_proxy", "https_proxy", "proxy_headers", "diagnostics.endpoint.token",
})

# `sentry_sdk.init` options that are deliberately not keys of the file, with the reason.
SDK_EXCLUDED = {
    "transport": "the bootstrap installs its own (durable spool with a DSN, local outbox without)",
    "integrations": "integration objects can't be written in YAML; the `integrations` section "
                    "chooses them and holds their options",
    "default_integrations": "chosen by the bootstrap's integration plan (`integrations.auto`)",
    "auto_enabling_integrations": "`integrations.auto` decides which installed integrations turn on",
    "disabled_integrations": "`integrations.disabled` lists them by name",
    "event_scrubber": "an object; the `scrub` section configures the bootstrap's scrubber",
    "_experiments": "unstable SDK internals whose keys change between releases; the stable ones "
                    "have top-level options (enable_logs, trace_lifecycle, ...)",
}


def _callable_path(value):
    if not isinstance(value, str) or not _CALLABLE.match(value):
        raise PydanticCustomError("callable_path", "must be a 'module:function' path")
    return value


def _rate(value):
    if isinstance(value, bool):
        raise PydanticCustomError("rate", "must be a number between 0 and 1")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PydanticCustomError("rate", "must be a number between 0 and 1")
    if not 0.0 <= number <= 1.0:  # also rejects NaN
        raise PydanticCustomError("rate", "must be a number between 0 and 1")
    return number


def _spotlight(value):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, str) and value:
        return value
    raise PydanticCustomError("spotlight", "must be true, false or the Spotlight URL")


def _dsn(value):
    if value is None or value == "":
        return None  # an empty DSN means "no DSN": events go to the local outbox
    if not isinstance(value, str) or not _DSN.match(value):
        raise PydanticCustomError("dsn", "must be a DSN like 'https://<key>@<host>/<project id>'")
    return value


def _tag_value(value):
    # Tags are strings on the wire; accept numbers and booleans as YAML writes them.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _number_as_text(value):
    # `dist: 42` or `release: 1.2` mean the text as written, not a type error.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _log_level(value):
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    if isinstance(value, str):
        word = value.strip().upper()
        if word in _LEVELS:
            return word
        if word.isdigit():
            return int(word)
    raise PydanticCustomError(
        "log_level", "must be a logging level name ({names}) or a number",
        {"names": ", ".join(_LEVELS)})


def _regex(value):
    try:
        re.compile(value)
    except (re.error, TypeError) as exc:
        raise PydanticCustomError("regex", "not a valid regular expression: {error}",
                                  {"error": str(exc)})
    return value


def _release(value):
    if value is None or not isinstance(value, str) or "{" not in value and "}" not in value:
        return value
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
    except ValueError:
        fields = None
    allowed = RELEASE_PLACEHOLDERS
    if fields is None or any(f not in allowed for f in fields):
        bad = None if fields is None else next(f for f in fields if f not in allowed)
        raise PydanticCustomError(
            "release_format",
            "unknown placeholder {bad} (use {allowed}; double a brace for a literal one)",
            {"bad": "'{" + bad + "}'" if bad is not None else "(unbalanced braces)",
             "allowed": ", ".join("{" + f + "}" for f in sorted(allowed))})
    return value


def _integration_name(value):
    known = _integrations.names()
    if value not in known:
        near = difflib.get_close_matches(str(value), known, n=1, cutoff=0.6)
        raise PydanticCustomError("unknown_integration", "unknown integration '{name}'",
                                  {"name": value, "hint": near[0] if near else None})
    return value


def _status_code(value):
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    raise PydanticCustomError("status_code", "must be an HTTP status code (100-599)")


_CALLABLE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_DSN = re.compile(r"^https?://[^@/\s]+@[^/\s]+/(.*/)?\d+/?$")
_LEVELS = ("NOTSET", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
RELEASE_PLACEHOLDERS = frozenset({"sha", "short_sha", "branch", "tag", "version"})

CallablePath = Annotated[str, BeforeValidator(_callable_path)]
ImportPath = CallablePath  # `module:qualname`: same shape as a callable
Rate = Annotated[float, BeforeValidator(_rate)]
LogLevel = Annotated[Optional[Union[int, str]], BeforeValidator(_log_level)]
Regex = Annotated[str, BeforeValidator(_regex)]
IntegrationName = Annotated[str, BeforeValidator(_integration_name)]
StatusCode = Annotated[int, BeforeValidator(_status_code)]
# A code, or an inclusive [low, high] range: the SDK's `HttpStatusCodeRange` written as YAML.
StatusCodeRange = Union[StatusCode, Tuple[StatusCode, StatusCode]]
HTTP_METHODS = ["CONNECT", "DELETE", "GET", "PATCH", "POST", "PUT", "TRACE"]
PositiveInt = Annotated[int, Field(ge=0)]
Text = Annotated[str, BeforeValidator(_number_as_text)]


class Section(BaseModel):
    """Base of every level: unknown keys are errors, values are checked when assigned too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# ---- data_collection (the SDK's DataCollectionUserOptions) --------------------------------------

class KeyValueCollection(Section):
    mode: Literal["off", "denylist", "allowlist"]
    terms: Optional[List[str]] = None


class HttpHeadersCollection(Section):
    request: Optional[KeyValueCollection] = None


class GraphQLCollection(Section):
    document: Optional[bool] = None
    variables: Optional[bool] = None


class GenAICollection(Section):
    inputs: Optional[bool] = None
    outputs: Optional[bool] = None


class DataCollection(Section):
    user_info: Optional[bool] = None
    cookies: Optional[KeyValueCollection] = None
    http_headers: Optional[HttpHeadersCollection] = None
    http_bodies: Optional[List[str]] = None
    url_query_params: Optional[KeyValueCollection] = None
    graphql: Optional[GraphQLCollection] = None
    gen_ai: Optional[GenAICollection] = None
    database_query_data: Optional[bool] = None
    queues: Optional[bool] = None
    stack_frame_variables: Optional[Union[bool, KeyValueCollection]] = None
    frame_context_lines: Optional[PositiveInt] = None


class IgnoreSpanRule(Section):
    name: Optional[str] = None
    attributes: Dict[str, Any] = Field(default_factory=dict)


class FunctionToTrace(Section):
    qualified_name: str


# ---- integrations: field names match each SDK integration's __init__ ---------------------------

class DjangoOptions(Section):
    transaction_style: Literal["url", "function_name"] = "url"
    middleware_spans: bool = False
    signals_spans: bool = True
    cache_spans: bool = False
    db_transaction_spans: bool = False
    signals_denylist: Optional[List[ImportPath]] = None  # `django.db.models.signals:post_save`
    http_methods_to_capture: List[str] = Field(default_factory=lambda: list(HTTP_METHODS))
    failed_request_status_codes: Optional[List[StatusCodeRange]] = None  # None: the SDK's 5xx


class FlaskOptions(Section):
    transaction_style: Literal["endpoint", "url"] = "endpoint"
    http_methods_to_capture: List[str] = Field(default_factory=lambda: list(HTTP_METHODS))


class StarletteOptions(Section):
    transaction_style: Literal["url", "endpoint"] = "url"
    failed_request_status_codes: Optional[List[StatusCodeRange]] = None
    middleware_spans: bool = False
    http_methods_to_capture: List[str] = Field(default_factory=lambda: list(HTTP_METHODS))


class FastApiOptions(StarletteOptions):
    pass


class CeleryOptions(Section):
    propagate_traces: bool = True
    monitor_beat_tasks: bool = False
    exclude_beat_tasks: Optional[List[str]] = None


class LoggingOptions(Section):
    level: LogLevel = "INFO"
    event_level: LogLevel = "ERROR"
    sentry_logs_level: LogLevel = "INFO"
    capture_sentry_logs: Optional[bool] = None  # None: the SDK decides


class NoOptions(Section):
    """Integrations whose constructor takes no options; the section exists to reject typos."""


class RedisOptions(Section):
    max_data_size: Optional[PositiveInt] = None
    cache_prefixes: Optional[List[str]] = None


class AsyncioOptions(Section):
    task_spans: bool = True


class RqOptions(Section):
    monitor_cron_jobs: bool = False
    exclude_cron_jobs: Optional[List[str]] = None


class AioHttpOptions(Section):
    transaction_style: Literal["handler_name", "method_and_path_pattern"] = "handler_name"
    failed_request_status_codes: Optional[List[StatusCodeRange]] = None


class Integrations(Section):
    auto: bool = True
    enabled: List[IntegrationName] = Field(default_factory=list)
    disabled: List[IntegrationName] = Field(default_factory=list)
    django: DjangoOptions = Field(default_factory=DjangoOptions)
    flask: FlaskOptions = Field(default_factory=FlaskOptions)
    starlette: StarletteOptions = Field(default_factory=StarletteOptions)
    fastapi: FastApiOptions = Field(default_factory=FastApiOptions)
    celery: CeleryOptions = Field(default_factory=CeleryOptions)
    logging: LoggingOptions = Field(default_factory=LoggingOptions)
    sqlalchemy: NoOptions = Field(default_factory=NoOptions)
    redis: RedisOptions = Field(default_factory=RedisOptions)
    httpx: NoOptions = Field(default_factory=NoOptions)
    asyncio: AsyncioOptions = Field(default_factory=AsyncioOptions)
    rq: RqOptions = Field(default_factory=RqOptions)
    aiohttp: AioHttpOptions = Field(default_factory=AioHttpOptions)


# ---- the bootstrap's own sections ----------------------------------------------------------------

class Context(Section):
    user_fields: List[str] = Field(default_factory=lambda: ["id", "username", "email"])
    request_fields: List[str] = Field(default_factory=lambda: ["method", "path"])
    header_tags: Dict[str, str] = Field(default_factory=dict)  # header name -> tag name
    request_id_header: Optional[str] = "X-Request-ID"


class CaptureErrors(Section):
    service: Optional[str] = None
    reraise: bool = True


class Trace(Section):
    op: str = "function"
    name: Optional[str] = None


class Monitor(Section):
    slug: str
    schedule: Optional[str] = None  # crontab
    timezone: Optional[str] = None
    checkin_margin: Optional[PositiveInt] = None  # minutes
    max_runtime: Optional[PositiveInt] = None  # minutes


class InstrumentTarget(Section):
    target: ImportPath  # `pkg.mod:Class.method`
    context: Optional[str] = None
    capture_errors: Optional[CaptureErrors] = None
    trace: Optional[Trace] = None
    monitor: Optional[Monitor] = None


class Scrub(Section):
    fields: List[str] = Field(default_factory=list)
    patterns: List[Regex] = Field(default_factory=list)
    keep: List[str] = Field(default_factory=list)


class Processes(Section):
    include: List[str] = Field(default_factory=list)
    exclude: List[str] = Field(default_factory=list)
    children: Literal["inherit", "none"] = "inherit"


class Outbox(Section):
    path: Optional[str] = None  # None: <state dir>/outbox
    max_bytes: PositiveInt = 10 * 1024 * 1024


class Spool(Section):
    path: Optional[str] = None  # None: <state dir>/spool
    max_bytes: PositiveInt = 50 * 1024 * 1024
    max_age: PositiveInt = 7 * 24 * 3600  # seconds
    write_ahead: bool = False  # every envelope reaches the spool before it is sent


class Endpoint(Section):
    enabled: bool = False
    path: str = "/api/v1/common/test-sentry/"
    token: Optional[str] = None  # secret


class Diagnostics(Section):
    endpoint: Endpoint = Field(default_factory=Endpoint)
    celery_task: bool = False


class Settings(Section):
    """The whole configuration. Field order is the order `explain` and `schema` show."""

    version: int = FORMAT_VERSION
    enabled: bool = True
    strict: bool = False

    # sentry_sdk.init data options, defaults as in sentry_sdk.consts.DEFAULT_OPTIONS
    dsn: Annotated[Optional[str], BeforeValidator(_dsn)] = None
    environment: Optional[Text] = None
    release: Annotated[Optional[Text], BeforeValidator(_release)] = "auto"
    dist: Optional[Text] = None
    server_name: Optional[Text] = None
    sample_rate: Rate = 1.0
    traces_sample_rate: Optional[Rate] = None
    traces_sampler: Optional[CallablePath] = None
    profiles_sample_rate: Optional[Rate] = None
    profiles_sampler: Optional[CallablePath] = None
    profile_session_sample_rate: Optional[Rate] = None
    profile_lifecycle: Literal["manual", "trace"] = "manual"
    profiler_mode: Optional[Literal["thread", "gevent", "sleep", "unknown"]] = None
    error_sampler: Optional[CallablePath] = None
    send_default_pii: Optional[bool] = None
    data_collection: Optional[DataCollection] = None
    max_breadcrumbs: PositiveInt = 100
    attach_stacktrace: bool = False
    debug: Optional[bool] = None
    shutdown_timeout: Annotated[float, Field(ge=0)] = 2
    in_app_include: List[str] = Field(default_factory=list)
    in_app_exclude: List[str] = Field(default_factory=list)
    ignore_errors: List[str] = Field(default_factory=list)  # exception class names
    ignore_spans: Optional[List[Union[str, IgnoreSpanRule]]] = None
    max_request_body_size: Literal["never", "small", "medium", "always"] = "medium"
    transport_queue_size: PositiveInt = 100
    http_proxy: Optional[str] = None
    https_proxy: Optional[str] = None
    proxy_headers: Optional[Dict[str, str]] = None
    socket_options: Optional[List[Tuple[int, int, Union[int, str]]]] = None
    keep_alive: Optional[bool] = None
    ca_certs: Optional[str] = None
    cert_file: Optional[str] = None
    key_file: Optional[str] = None
    before_send: Optional[CallablePath] = None
    before_send_transaction: Optional[CallablePath] = None
    before_breadcrumb: Optional[CallablePath] = None
    before_send_log: Optional[CallablePath] = None
    before_send_metric: Optional[CallablePath] = None
    before_send_span: Optional[CallablePath] = None
    custom_repr: Optional[CallablePath] = None
    propagate_traces: bool = True
    trace_propagation_targets: Optional[List[str]] = Field(default_factory=lambda: [".*"])
    trace_lifecycle: Optional[Literal["static", "stream"]] = None
    trace_ignore_status_codes: List[StatusCodeRange] = Field(default_factory=list)
    strict_trace_continuation: bool = False
    org_id: Optional[Text] = None
    enable_tracing: Optional[bool] = None
    functions_to_trace: List[FunctionToTrace] = Field(default_factory=list)
    instrumenter: Optional[Literal["sentry", "otel"]] = "sentry"
    project_root: Optional[str] = None
    include_local_variables: Optional[bool] = True
    include_source_context: Optional[bool] = True
    max_value_length: Optional[PositiveInt] = None
    max_stack_frames: Optional[PositiveInt] = 100
    add_full_stack: bool = False
    auto_session_tracking: bool = True
    send_client_reports: bool = True
    enable_backpressure_handling: bool = True
    enable_db_query_source: bool = True
    db_query_source_threshold_ms: PositiveInt = 100
    enable_http_request_source: bool = True
    http_request_source_threshold_ms: PositiveInt = 100
    spotlight: Annotated[Optional[Union[bool, str]], BeforeValidator(_spotlight)] = None
    enable_logs: bool = False
    enable_metrics: bool = True
    stream_gen_ai_spans: bool = True

    # the bootstrap's own sections
    tags: Dict[str, Annotated[str, BeforeValidator(_tag_value)]] = Field(default_factory=dict)
    integrations: Integrations = Field(default_factory=Integrations)
    context: Context = Field(default_factory=Context)
    instrument: List[InstrumentTarget] = Field(default_factory=list)
    scrub: Scrub = Field(default_factory=Scrub)
    processes: Processes = Field(default_factory=Processes)
    outbox: Outbox = Field(default_factory=Outbox)
    spool: Spool = Field(default_factory=Spool)
    diagnostics: Diagnostics = Field(default_factory=Diagnostics)
    # name -> partial configuration; the loader merges the active one and drops the section
    environments: Dict[str, Dict[str, Any]] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _known_version(cls, value):
        if isinstance(value, bool) or not isinstance(value, (int, str)) or \
                not str(value).strip().isdigit():
            raise PydanticCustomError("version", "must be {version}", {"version": FORMAT_VERSION})
        number = int(value)
        if number > FORMAT_VERSION:
            raise PydanticCustomError(
                "version", "version {found} is newer than this release understands "
                "(it reads version {version}); upgrade sentry-bootstrap",
                {"found": number, "version": FORMAT_VERSION})
        if number < 1:
            raise PydanticCustomError("version", "must be {version}", {"version": FORMAT_VERSION})
        return number


def is_secret(path):
    """True when the dotted `path` (or a parent of it, or its overlay form) holds a secret."""
    parts = path.split(".")
    if len(parts) > 2 and parts[0] == "environments":
        parts = parts[2:]
    return any(".".join(parts[:i]) in SECRET_PATHS for i in range(1, len(parts) + 1))


def key_tree(model=Settings):
    """The shape of the keys, for the env source and for did-you-mean.

    A dict of field name -> a nested dict for a sub-model, or one of the kinds `"map"` (free keys),
    `"list"`, `"scalar"`.
    """
    tree = {}
    for name, field in model.model_fields.items():
        tree[name] = _kind(field.annotation)
    return tree


def _kind(annotation):
    import typing

    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin is Union:
        kinds = [_kind(a) for a in typing.get_args(annotation) if a is not type(None)]
        for kind in kinds:
            if not isinstance(kind, str) or kind != "scalar":
                return kind
        return "scalar"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return key_tree(annotation)
    if origin in (dict, Dict):
        return "map"
    if origin in (list, tuple, set, frozenset, List, Tuple):
        return "list"
    return "scalar"


def model_at(path_parts, model=Settings):
    """The sub-model class at a key path (list indices and map keys skipped), or None."""
    for part in path_parts:
        if isinstance(part, int):
            continue  # a list index: the item's model is the list's
        field = model.model_fields.get(part)
        if field is None:
            return None
        sub = _submodel(field.annotation)
        if sub is None:
            return None
        model = sub
    return model


def _submodel(annotation):
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        sub = _submodel(arg)
        if sub is not None:
            return sub
    return None
