"""The configuration reference, generated from the model: every key path with its type, default and
description, and the table of environment variables. README.md holds its output between the markers
`<!-- config-reference:start -->` and `<!-- config-reference:end -->`.

    python -m sentry_bootstrap.config.reference                  # print the markdown
    python -m sentry_bootstrap.config.reference --write README.md  # rewrite the block between the markers

Cold path only (imports pydantic through the model). `keys()` is the walk `schema` and the tests
share: one `Key` per documented path, in the model's field order.
"""
import argparse
import json
import sys
import typing

from pydantic import BaseModel

from sentry_bootstrap import _env
from sentry_bootstrap.config import model as _model

try:
    from typing import Annotated, Literal
except ImportError:  # pragma: no cover - Python 3.8
    from typing_extensions import Annotated, Literal

START = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"

# Key path -> description. A list's items are written `list[]`, e.g. `instrument[].target`.
# A path missing here falls back to SHARED (by the defining class); a test requires every key to
# have one of the two, so a new model field can't reach the README undocumented.
DESCRIPTIONS = {
    "version": "Format version of the file. Required (`1`) once the file has any other key.",
    "enabled": "`false` switches the hook off for every process that reads this file.",
    "strict": "Configuration errors stop the program (exit code 78) instead of running it "
              "uninstrumented. Same as `SENTRY_BOOTSTRAP_STRICT=1`.",
    "dsn": "Where events are sent. No DSN: events go to the local outbox "
           "(`sentry-bootstrap events`). Secret: its key is masked in every output.",
    "environment": "The active environment: chooses the overlay `environments.<name>` and is "
                   "sent with every event. `SENTRY_ENVIRONMENT` and `ENVIRONMENT` win over it; "
                   "otherwise `development`.",
    "release": "`auto` (git, then CI variables, then the package version), a literal release, or "
               "a format such as `billing@{short_sha}` with `{sha}`, `{short_sha}`, `{branch}`, "
               "`{tag}`, `{version}`.",
    "dist": "Distribution of the release (a build number, a platform).",
    "server_name": "Host name sent with events; the SDK uses the machine's name when unset.",
    "sample_rate": "Fraction of error events sent.",
    "traces_sample_rate": "Fraction of transactions traced; unset means no tracing (unless "
                          "`traces_sampler` is set).",
    "traces_sampler": "Function deciding the sample rate of each transaction.",
    "profiles_sample_rate": "Fraction of traced transactions that are profiled (transaction-based "
                            "profiling).",
    "profiles_sampler": "Function deciding the profiling rate of each transaction.",
    "profile_session_sample_rate": "Fraction of processes whose whole run is profiled "
                                   "(continuous profiling).",
    "profile_lifecycle": "Continuous profiling: `manual` (start/stop in code) or `trace` "
                         "(while a trace is active).",
    "profiler_mode": "How the profiler samples stacks; the SDK chooses when unset.",
    "error_sampler": "Function deciding, per error event, the rate at which it is sent.",
    "send_default_pii": "Send personal data (user ids, IPs, cookies, headers). Also widens what the "
                        "context middleware reads.",
    "data_collection": "Fine-grained choice of what personal and request data is collected "
                       "(the SDK's `data_collection` option); unset: `send_default_pii` decides.",
    "data_collection.user_info": "Collect the user's identity.",
    "data_collection.cookies": "Which cookies are collected.",
    "data_collection.http_headers": "Which HTTP headers are collected.",
    "data_collection.http_headers.request": "Which request headers are collected.",
    "data_collection.http_bodies": "Which HTTP bodies are collected (by direction or content "
                                   "kind, as the SDK names them).",
    "data_collection.url_query_params": "Which URL query parameters are collected.",
    "data_collection.graphql": "What of GraphQL operations is collected.",
    "data_collection.graphql.document": "Collect the query document.",
    "data_collection.graphql.variables": "Collect the operation's variables.",
    "data_collection.gen_ai": "What of AI model calls is collected.",
    "data_collection.gen_ai.inputs": "Collect prompts and other inputs.",
    "data_collection.gen_ai.outputs": "Collect responses and other outputs.",
    "data_collection.database_query_data": "Collect query parameters of database spans.",
    "data_collection.queues": "Collect message payload data of queue spans.",
    "data_collection.stack_frame_variables": "Collect local variables of stack frames: `true`, "
                                             "`false`, or a mode with terms.",
    "data_collection.frame_context_lines": "Source lines collected around each stack frame.",
    "max_breadcrumbs": "Breadcrumbs kept per event.",
    "attach_stacktrace": "Attach a stack trace to message events too.",
    "debug": "Print the SDK's own debug log to stderr.",
    "shutdown_timeout": "Seconds to wait at exit for pending events.",
    "in_app_include": "Module prefixes that count as the application's code in stack traces.",
    "in_app_exclude": "Module prefixes that never count as the application's code.",
    "ignore_errors": "Exception class names never reported.",
    "ignore_spans": "Spans never sent: a name (or regex) or a rule with `name` and `attributes`.",
    "ignore_spans[].name": "Span name, or a regex, to ignore.",
    "ignore_spans[].attributes": "Span attributes that must all match.",
    "max_request_body_size": "How much of a request body is attached: `never`, `small` "
                             "(≤ 1 KB), `medium` (≤ 10 KB) or `always`.",
    "transport_queue_size": "Envelopes the SDK's worker queues before dropping (a full queue "
                            "spools when a DSN is set).",
    "http_proxy": "Proxy for plain-HTTP DSNs. Secret: masked in every output.",
    "https_proxy": "Proxy for HTTPS DSNs. Secret: masked in every output.",
    "proxy_headers": "Extra headers sent to the proxy. Secret: masked in every output.",
    "socket_options": "Socket options of the transport's connections, as "
                      "`[level, option, value]` lists; replace the SDK's keep-alive defaults.",
    "keep_alive": "Keep the transport's connections alive with TCP keep-alive probes.",
    "ca_certs": "CA bundle file to verify the Sentry server with.",
    "cert_file": "Client certificate file for the connection to the Sentry server.",
    "key_file": "Private key file of `cert_file`.",
    "before_send": "Function called with each error event before it is sent; may change it or "
                   "return None to drop it.",
    "before_send_transaction": "Same as `before_send`, for transactions.",
    "before_breadcrumb": "Function called with each breadcrumb; may change it or drop it.",
    "before_send_log": "Function called with each log record sent to Sentry Logs.",
    "before_send_metric": "Function called with each metric before it is sent.",
    "before_send_span": "Function called with each span before it is sent.",
    "custom_repr": "Function giving the text of a local variable in stack frames (None: "
                   "the default repr).",
    "propagate_traces": "Propagate trace headers to outgoing requests and tasks.",
    "trace_propagation_targets": "URL regexes to whose requests trace headers are added.",
    "trace_lifecycle": "How spans are sent: `static` (with their transaction) or `stream` (as "
                       "they finish).",
    "trace_ignore_status_codes": "HTTP status codes (or `[low, high]` ranges) whose "
                                 "transactions are not sent.",
    "strict_trace_continuation": "Continue an incoming trace only when its organisation id "
                                 "matches `org_id` (or the DSN's).",
    "org_id": "Organisation id used by `strict_trace_continuation`.",
    "enable_tracing": "Deprecated by the SDK: `true` is `traces_sample_rate: 1.0`.",
    "functions_to_trace": "Functions wrapped in a span wherever they are called.",
    "functions_to_trace[].qualified_name": "Dotted path of the function, e.g. "
                                           "`myapp.billing.charge`.",
    "instrumenter": "Which instrumentation creates spans: `sentry` or `otel`.",
    "project_root": "Directory whose code counts as the application's (defaults to the working "
                    "directory).",
    "include_local_variables": "Attach local variables to stack frames.",
    "include_source_context": "Attach source lines around each stack frame.",
    "max_value_length": "Characters kept of long strings in events (unset: the SDK's limit).",
    "max_stack_frames": "Frames kept per stack trace.",
    "add_full_stack": "Attach the frames above the exception handler too.",
    "auto_session_tracking": "Track release-health sessions.",
    "send_client_reports": "Report counts of dropped events to Sentry.",
    "enable_backpressure_handling": "Lower the sample rate when the SDK's queue is overloaded.",
    "enable_db_query_source": "Attach the code location of slow database queries.",
    "db_query_source_threshold_ms": "Queries slower than this (ms) get their code location.",
    "enable_http_request_source": "Attach the code location of slow outgoing HTTP requests.",
    "http_request_source_threshold_ms": "Requests slower than this (ms) get their code location.",
    "spotlight": "Send events to Spotlight too: `true` (its default URL) or its URL.",
    "enable_logs": "Send log records to Sentry Logs.",
    "enable_metrics": "Send metrics emitted through the SDK.",
    "stream_gen_ai_spans": "Send AI model spans as they finish.",
    "tags": "Static tags added to every event: name -> value.",
    "integrations": "Which Sentry integrations turn on, and their options.",
    "integrations.auto": "Turn on every integration whose framework is installed.",
    "integrations.enabled": "Opt-in integrations to turn on as well (e.g. `asyncio`, "
                            "`sys_exit`).",
    "integrations.disabled": "Integrations never turned on, by name.",
    "integrations.django": "Options of the Django integration.",
    "integrations.django.middleware_spans": "A span for each middleware.",
    "integrations.django.signals_spans": "A span for each signal receiver.",
    "integrations.django.cache_spans": "A span for each cache call.",
    "integrations.django.db_transaction_spans": "A span for each database transaction.",
    "integrations.django.signals_denylist": "Signals (`module:name`) that get no span.",
    "integrations.flask": "Options of the Flask integration.",
    "integrations.starlette": "Options of the Starlette integration.",
    "integrations.fastapi": "Options of the FastAPI integration.",
    "integrations.celery": "Options of the Celery integration.",
    "integrations.celery.propagate_traces": "Carry the trace from the caller into its tasks.",
    "integrations.celery.monitor_beat_tasks": "Send cron check-ins for Celery beat tasks.",
    "integrations.celery.exclude_beat_tasks": "Beat task names (regexes) without check-ins.",
    "integrations.logging": "Options of the logging integration.",
    "integrations.logging.level": "Log records at or above this level become breadcrumbs "
                                  "(null: none).",
    "integrations.logging.event_level": "Log records at or above this level become events "
                                        "(null: none).",
    "integrations.logging.sentry_logs_level": "Log records at or above this level go to Sentry "
                                              "Logs when `enable_logs` is on.",
    "integrations.logging.capture_sentry_logs": "Also capture the SDK's own log records "
                                                "(unset: the SDK decides).",
    "integrations.sqlalchemy": "The SQLAlchemy integration (no options).",
    "integrations.redis": "Options of the Redis integration.",
    "integrations.redis.max_data_size": "Characters of a command's data kept in its span.",
    "integrations.redis.cache_prefixes": "Key prefixes whose commands are reported as cache spans.",
    "integrations.httpx": "The HTTPX integration (no options).",
    "integrations.asyncio": "Options of the asyncio integration (opt-in: list it in "
                            "`integrations.enabled`).",
    "integrations.asyncio.task_spans": "A span for each asyncio task.",
    "integrations.rq": "Options of the RQ integration.",
    "integrations.rq.monitor_cron_jobs": "Send cron check-ins for RQ scheduled jobs.",
    "integrations.rq.exclude_cron_jobs": "Job names (regexes) without check-ins.",
    "integrations.aiohttp": "Options of the aiohttp integration.",
    "context": "What the context middleware adds to each request's events.",
    "context.user_fields": "Fields of the authenticated user sent as the event's user (only `id` "
                           "without `send_default_pii`).",
    "context.request_fields": "Request fields added to the event.",
    "context.header_tags": "Request headers turned into tags: header name -> tag name.",
    "context.request_id_header": "Header whose value becomes the `request_id` tag (null: none).",
    "instrument": "Functions and methods to wrap with the bootstrap's decorators, applied when "
                  "their module is imported.",
    "instrument[].target": "What to wrap: `package.module:Class.method` or `package.module:function`.",
    "instrument[].context": "Service name set as context while the target runs.",
    "instrument[].capture_errors": "Report exceptions raised by the target.",
    "instrument[].capture_errors.service": "Service tag of the reported errors.",
    "instrument[].capture_errors.reraise": "Raise the exception again after reporting it.",
    "instrument[].trace": "Run the target in a span.",
    "instrument[].trace.op": "Span operation.",
    "instrument[].trace.name": "Span name (default: the target's qualified name).",
    "instrument[].monitor": "Send cron check-ins around each run of the target.",
    "instrument[].monitor.slug": "The monitor's slug.",
    "instrument[].monitor.schedule": "Crontab schedule, e.g. `0 3 * * *`; creates the monitor "
                                     "when it doesn't exist.",
    "instrument[].monitor.timezone": "Time zone of the schedule (tz database name).",
    "instrument[].monitor.checkin_margin": "Minutes a check-in may be late.",
    "instrument[].monitor.max_runtime": "Minutes a run may take before it counts as failed.",
    "scrub": "Data removed from events before they leave the process, on top of safe defaults.",
    "scrub.fields": "Extra key names whose values are removed (matched loosely: case, `-`, `_`).",
    "scrub.patterns": "Extra regexes whose matches are replaced in every string.",
    "scrub.keep": "Default key names that are not removed.",
    "processes": "Which processes the hook instruments, and what their children do.",
    "processes.include": "Program patterns to instrument; empty: every process not excluded.",
    "processes.exclude": "Program patterns never instrumented, added to the default excludes "
                         "(installers, build backends, ...).",
    "processes.children": "`inherit`: child processes run the hook too; `none`: they don't.",
    "outbox": "The local store of events used when no DSN is set.",
    "outbox.path": "Its directory (null: `outbox` in the per-user state directory, "
                   "`$XDG_STATE_HOME/sentry-bootstrap`). Relative paths start at the config "
                   "file's directory.",
    "outbox.max_bytes": "Size bound; the oldest events are removed beyond it.",
    "spool": "Durable delivery with a DSN: envelopes that can't be sent wait here.",
    "spool.path": "Its exact directory (null: `spool/<hash of the DSN>` in the per-user state "
                  "directory). Relative paths start at the config file's directory.",
    "spool.max_bytes": "Size bound; the oldest envelopes are dropped (and counted) beyond it.",
    "spool.max_age": "Seconds an envelope is kept before it is dropped.",
    "spool.write_ahead": "Write every envelope to the spool before it is sent (deleted after the "
                         "server's answer), so that `kill -9` or the OOM killer loses nothing "
                         "captured; costs a file write per envelope on the healthy path.",
    "diagnostics": "Ways to check the set-up from a running application.",
    "diagnostics.endpoint": "An HTTP endpoint in the web application that sends a test event "
                            "(`?debug=true` raises a test error, `?celery=true` enqueues the Celery test task).",
    "diagnostics.endpoint.enabled": "Add the endpoint.",
    "diagnostics.endpoint.path": "Its URL path.",
    "diagnostics.endpoint.token": "Bearer token Flask and FastAPI requests must carry; with none, the "
                                  "endpoint stays off there (Django asks for a staff user). Secret: masked "
                                  "in every output.",
    "diagnostics.celery_task": "Register `sentry_bootstrap.test_sentry_task` on every Celery app; it raises a "
                               "test error in the worker.",
    "environments": "Overlays: environment name -> partial configuration merged over the base "
                    "keys when that environment is active (maps merge, lists replace, `null` "
                    "resets a key to its default). Any key but `version`, `environment` and "
                    "`environments`.",
}

# (defining class name, field) -> description, for classes used at several paths.
SHARED = {
    ("KeyValueCollection", "mode"): "`off`, `denylist` (all but `terms`) or `allowlist` "
                                    "(only `terms`).",
    ("KeyValueCollection", "terms"): "Names the mode applies to.",
    ("DjangoOptions", "transaction_style"): "How transactions are named: `url` (the route "
                                            "pattern) or `function_name` (the view).",
    ("DjangoOptions", "http_methods_to_capture"): "HTTP methods whose requests are traced.",
    ("DjangoOptions", "failed_request_status_codes"): "Status codes (or `[low, high]` ranges) "
                                                      "reported as errors (null: 500-599).",
    ("FlaskOptions", "transaction_style"): "How transactions are named: `endpoint` or `url`.",
    ("FlaskOptions", "http_methods_to_capture"): "HTTP methods whose requests are traced.",
    ("StarletteOptions", "transaction_style"): "How transactions are named: `url` (the route "
                                               "pattern) or `endpoint` (the handler).",
    ("StarletteOptions", "failed_request_status_codes"): "Status codes (or `[low, high]` ranges) "
                                                         "reported as errors (null: 500-599).",
    ("StarletteOptions", "middleware_spans"): "A span for each middleware.",
    ("StarletteOptions", "http_methods_to_capture"): "HTTP methods whose requests are traced.",
    ("AioHttpOptions", "transaction_style"): "How transactions are named: `handler_name` or "
                                             "`method_and_path_pattern`.",
    ("AioHttpOptions", "failed_request_status_codes"): "Status codes (or `[low, high]` ranges) "
                                                       "reported as errors (null: 500-599).",
}

# Validators of the model whose accepted form the reference names instead of the bare type.
_VALIDATOR_TYPES = {
    "_rate": "number 0-1",
    "_callable_path": "`module:function`",
    "_dsn": "DSN",
    "_number_as_text": "string",
    "_tag_value": "string",
    "_release": "`auto`, release or format",
    "_log_level": "level name or number",
    "_regex": "regex",
    "_integration_name": "integration name",
    "_status_code": "HTTP status",
    "_spotlight": "bool or URL",
}
_PLAIN = {bool: "bool", int: "integer", float: "number", str: "string"}


class Key:
    """One documented key: `path` (dotted, list items as `name[]`), `field` (pydantic FieldInfo),
    `owner` (the model class holding it), `section` (True for a nested model)."""

    __slots__ = ("path", "name", "field", "owner", "section")

    def __init__(self, path, name, field, owner, section):
        self.path = path
        self.name = name
        self.field = field
        self.owner = owner
        self.section = section

    @property
    def description(self):
        """The key's description, or None when it has none (a test requires one)."""
        if self.path in DESCRIPTIONS:
            return DESCRIPTIONS[self.path]
        if self.field.description:
            return self.field.description
        for cls in self.owner.__mro__:
            text = SHARED.get((cls.__name__, self.name))
            if text:
                return text
        return None

    @property
    def type_text(self):
        return type_text(_annotated(self.field))

    @property
    def default_text(self):
        if self.field.is_required():
            return "required"
        value = self.field.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            return ""  # a section: its keys' rows give the defaults
        return "`{}`".format(json.dumps(value))


def keys(model=None, prefix=""):
    """Every key path of the model, parents before children, in field order."""
    model = model or _model.Settings
    out = []
    for name, field in model.model_fields.items():
        sub = _model._submodel(field.annotation)
        path = prefix + name
        out.append(Key(path, name, field, model, sub is not None))
        if sub is not None:
            item = "[]" if _is_list(field.annotation) else ""
            out.extend(keys(sub, path + item + "."))
    return out


def _is_list(annotation):
    origin = typing.get_origin(annotation)
    if origin in (list, typing.List):
        return True
    if origin is typing.Union:
        return any(_is_list(a) for a in typing.get_args(annotation))
    return False



def _annotated(field):
    if field.metadata:
        return Annotated[(field.annotation,) + tuple(field.metadata)]
    return field.annotation


def validator_names(annotation):
    """Names of the model's BeforeValidator functions anywhere in `annotation`."""
    names = set()
    if typing.get_origin(annotation) is Annotated:
        for meta in typing.get_args(annotation)[1:]:
            func = getattr(meta, "func", None)
            if func is not None:
                names.add(func.__name__)
    for arg in typing.get_args(annotation):
        if not isinstance(arg, str):
            names |= validator_names(arg)
    return names


def type_text(annotation):
    """A short human name for a field's type (`list of string`, `number 0-1`, ...)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        inner, *metas = typing.get_args(annotation)
        for meta in metas:
            func = getattr(meta, "func", None)
            if func is not None and func.__name__ in _VALIDATOR_TYPES:
                return _VALIDATOR_TYPES[func.__name__]
        text = type_text(inner)
        for meta in metas:
            for constraint in getattr(meta, "metadata", [meta]):
                if getattr(constraint, "ge", None) is not None:
                    text += " ≥ {}".format(constraint.ge)
        return text
    if origin is typing.Union:
        parts = [type_text(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    if origin is Literal:
        return "one of " + ", ".join("`{}`".format(v) for v in typing.get_args(annotation))
    if origin in (list, typing.List):
        return "list of " + _plural(type_text(typing.get_args(annotation)[0]))
    if origin in (tuple, typing.Tuple):
        return "[" + ", ".join(type_text(a) for a in typing.get_args(annotation)) + "]"
    if origin in (dict, typing.Dict):
        _key, value = typing.get_args(annotation)
        if value is typing.Any or typing.get_origin(value) in (dict, typing.Dict):
            return "map"
        return "map of string to " + type_text(value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    if annotation is typing.Any:
        return "any"
    return _PLAIN.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _plural(text):
    if text == "section":
        return "sections"
    return text


# ---- environment variables ---------------------------------------------------------------------

_SWITCH_TEXT = {
    _env.CONFIG_FILE: "Path of the configuration file; it must exist. Beats `sentry.yaml` in the "
                      "working directory.",
    _env.DISABLED: "`1` switches the hook off: it imports neither `sentry_sdk`, `pydantic` nor "
                   "`yaml`.",
    _env.STRICT: "`1` turns configuration errors into a refusal to start (exit code 78).",
    _env.LOG: "The hook's stderr lines: `off`, `error` (default), `info` (one start-up line) or "
              "`debug`.",
    _env.RESOLVED_CONFIG: "Set by `sentry-bootstrap run` for the processes below it: the "
                          "config file already found (empty: none). Not for hand use.",
    _env.RELEASE_SOURCE: "Set by the hook for child processes: where the release came from. "
                         "Not for hand use.",
}
_SWITCH_ORDER = (_env.CONFIG_FILE, _env.DISABLED, _env.STRICT, _env.LOG, _env.RESOLVED_CONFIG,
                 _env.RELEASE_SOURCE)


def env_table():
    """The markdown table of environment variables."""
    rows = []
    for name, path in _env.LEGACY.items():
        text = "`{}`".format(path)
        if name == _env.ENVIRONMENT:
            text += "; also chooses the overlay `environments.<name>`"
        rows.append((name, text))
    rows.append((_env.ENVIRONMENT_FALLBACK, "`environment` when `SENTRY_ENVIRONMENT` is not set "
                                            "(many deploy tools set it)"))
    rows.append(("`SENTRY_<PATH>`", "any key: the path in upper case with `__` between levels, "
                 "e.g. `SENTRY_INTEGRATIONS__CELERY__MONITOR_BEAT_TASKS=true`, "
                 "`SENTRY_TAGS__TEAM=payments`, `SENTRY_SCRUB__FIELDS='[\"ssn\"]'`. Lists take "
                 "JSON or comma-separated text, maps and sections a JSON object; an empty value "
                 "resets the key to its default"))
    rows.append(("`<NAME>_FILE`", "reads the value of `<NAME>` from a file, for secrets: "
                 "`SENTRY_DSN_FILE=/run/secrets/sentry_dsn`, "
                 "`SENTRY_DIAGNOSTICS__ENDPOINT__TOKEN_FILE`. Setting both forms is an error"))
    for name in _SWITCH_ORDER:
        rows.append((name, _SWITCH_TEXT[name]))
    foreign = sorted(n for n in _env.FOREIGN if not n.endswith("_FILE"))
    rows.append((", ".join("`{}`".format(n) for n in foreign),
                 "belong to other Sentry tools (sentry-cli, the SDK itself): left alone, never an "
                 "error. Any other unknown `SENTRY_*` name close to a real one gets a did-you-mean "
                 "warning"))
    lines = ["| variable | sets / does |", "| --- | --- |"]
    for name, text in rows:
        shown = name if name.startswith("`") else "`{}`".format(name)
        lines.append("| {} | {} |".format(shown, _cell(text)))
    return "\n".join(lines)


# ---- the markdown --------------------------------------------------------------------------------

def key_table():
    """The markdown table of every key path."""
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key in keys():
        lines.append("| `{}` | {} | {} | {} |".format(
            key.path, _cell(key.type_text), _cell(key.default_text), _cell(key.description or "")))
    return "\n".join(lines)


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def markdown():
    """The whole generated block (without the markers)."""
    return "\n".join([
        "<!-- Generated from bootstrap/sentry_bootstrap/config/model.py by "
        "`python -m sentry_bootstrap.config.reference --write README.md`; edit there, not here. -->",
        "",
        "Precedence, lowest first: built-in defaults < the file's base keys < the active overlay "
        "`environments.<name>` < environment variables. The file is `$SENTRY_CONFIG_FILE`, else "
        "`sentry.yaml` in the working directory, else none. Scalars may use `${VAR}`, "
        "`${VAR:-default}`, `${VAR:?message}` and `$$` (a literal `$`). `sentry-bootstrap init` "
        "writes an annotated starter, `check --all-environments` validates it, `explain` shows "
        "each effective value and its source, and `schema > sentry.schema.json` gives editors "
        "completion. An annotated example is [`sentry.yaml`](sentry.yaml).",
        "",
        "### Keys",
        "",
        "A list's items are written `name[]`. Unknown keys are errors at every level.",
        "",
        key_table(),
        "",
        "### Environment variables",
        "",
        env_table(),
        "",
    ])


def replace_block(text, block):
    """`text` with the part between the markers replaced by `block`. Raises ValueError when the
    markers are missing or out of order."""
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < start:
        raise ValueError("markers {} ... {} not found in order".format(START, END))
    return text[:start + len(START)] + "\n" + block + text[end:]


def current_block(text):
    """The part of `text` between the markers (as `replace_block` writes it), or None."""
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < start:
        return None
    return text[start + len(START) + 1:end]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sentry_bootstrap.config.reference",
                                     description="Generate the README configuration reference.")
    parser.add_argument("--write", metavar="README", help="rewrite the block between the markers")
    args = parser.parse_args(argv)
    block = markdown()
    if not args.write:
        sys.stdout.write(block)
        return 0
    with open(args.write, encoding="utf-8") as f:
        text = f.read()
    try:
        new = replace_block(text, block)
    except ValueError as exc:
        print("error: {}: {}".format(args.write, exc), file=sys.stderr)
        return 1
    if new != text:
        with open(args.write, "w", encoding="utf-8") as f:
            f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
