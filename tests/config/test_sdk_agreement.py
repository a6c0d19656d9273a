"""`check` and the hook agree: every configuration the loader accepts activates.

Configurations are generated from the model itself (every field of `Settings` and its sections,
with values of each field's type, None for every nullable one), so a field added later is covered
without touching this test. Each is activated for real in a fork of a child interpreter, against
a real local Sentry server or the outbox.
"""
import json
import os
import typing

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sentry_bootstrap.activation import integrations as _integrations
from sentry_bootstrap.config import model
from tests.support.child import ROOT, run_python
from tests.support.sentry_server import SentryServer

WORKER = os.path.join(ROOT, "tests", "support", "activation_worker.py")
# Fields whose value is not data of the SDK's: overlays, the format version, and what the hook does
# outside activation (which processes it covers, what it instruments).
SKIPPED = {"environments", "version", "enabled", "processes", "instrument"}
TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=12)
CALLABLES = ["agreement_hooks:passthrough"]  # beside the worker: on the program's own path
REGEXES = ["secret", "tok[0-9]+", "^x$"]
_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", 10, 40]


def dsns(server_dsn):
    """DSNs the SDK parses, including the corners (IPv6, ports, a path before the project id), and
    near misses that `check` must either refuse or the SDK accept."""
    return st.sampled_from([
        server_dsn,
        "http://key@127.0.0.1:1/1",
        "https://key:secret@127.0.0.1:65535/path/to/42",
        "http://key@[::1]:9/7",
        "https://key@example.invalid/1",
        "https://key@[::1/1", "https://key@127.0.0.1:99999999/1", "http://key@127.0.0.1:0/1",
        "https://key@127.0.0.1/1/", "ftp://key@127.0.0.1/1", "https://@127.0.0.1/1",
        "https://key@127.0.0.1/x", "https://key@127.0.0.1:-1/1", "https://key@:80/1",
        "https://key@127.0.0.1/\u0661", "https://key@127.0.0.1/" + "1" * 5000,
        "https://k\x00y@127.0.0.1/1",
    ])


# Values the hook hands to child processes (SENTRY_RELEASE, and SENTRY_ENVIRONMENT under `run`)
# that no variable can carry: `check` must refuse them, or every exec of the program fails.
UNEXPORTABLE = ["a\x00b", "r" * (128 * 1024)]


def rarely(common, rare):
    """`common`, or one of the `rare` values one time in ten (the generator should mostly make
    configurations that activate)."""
    return st.integers(0, 9).flatmap(lambda n: st.sampled_from(rare) if n == 0 else common)


def for_annotation(annotation, name, server_dsn):
    """A strategy for valid values of one model annotation (None where the type allows it)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base, metadata = args[0], args[1:]
        for item in metadata:
            func = getattr(item, "func", None)
            special = _by_validator(func, server_dsn)
            if special is not None:
                return st.one_of(st.none(), special) if _nullable(base) else special
        low = high = None
        for item in metadata:
            for constraint in [item] + list(getattr(item, "metadata", []) or []):
                low = getattr(constraint, "ge", low)
                high = getattr(constraint, "le", high)
        if base is int:
            return st.integers(low if low is not None else -10, high if high is not None else 10 ** 6)
        if base is float:
            return st.floats(low if low is not None else -1e6, high if high is not None else 1e6,
                             allow_nan=False, allow_infinity=False)
        return for_annotation(base, name, server_dsn)
    if origin is typing.Union:
        return st.one_of([for_annotation(a, name, server_dsn) for a in args])
    if annotation is type(None):
        return st.none()
    if origin is typing.Literal:
        return st.sampled_from(list(args))
    if origin in (list, typing.List):
        return st.lists(for_annotation(args[0], name, server_dsn), max_size=3)
    if origin in (tuple, typing.Tuple):
        return st.tuples(*[for_annotation(a, name, server_dsn) for a in args])
    if origin in (dict, typing.Dict):
        return st.dictionaries(TEXT, for_annotation(args[1], name, server_dsn), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sections(annotation, server_dsn)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(0, 10 ** 6)
    if annotation is float:
        return st.floats(0, 1e6)
    if annotation is str:
        return TEXT
    if annotation is typing.Any:
        return st.one_of(st.none(), st.booleans(), TEXT, st.integers(0, 100))
    raise AssertionError("no strategy for {!r} ({})".format(annotation, name))


def _nullable(annotation):
    return typing.get_origin(annotation) is typing.Union and type(None) in typing.get_args(annotation)


def _by_validator(func, server_dsn):
    if func is None:
        return None
    strategies = {
        "_dsn": dsns(server_dsn),
        "_callable_path": st.sampled_from(CALLABLES),
        "_rate": st.floats(0, 1),
        "_regex": st.sampled_from(REGEXES),
        "_integration_name": st.sampled_from(sorted(_integrations.names())),
        "_status_code": st.integers(100, 599),
        "_log_level": st.one_of(st.none(), st.sampled_from(_LEVELS)),
        "_spotlight": st.one_of(st.none(), st.booleans(), st.just("http://127.0.0.1:9/stream")),
        "_release": rarely(st.sampled_from(["auto", "1.0.0", "app@2"]), UNEXPORTABLE),
        "_tag_value": st.one_of(TEXT, st.integers(0, 9), st.booleans()),
        "_number_as_text": st.one_of(TEXT, st.integers(0, 99)),
        "_proxy": st.sampled_from(["", "http://127.0.0.1:9", "https://user:pw@[::1]:3128",
                                   "socks5://127.0.0.1:1080", "127.0.0.1:3128", "http://:0"]),
    }
    return strategies.get(getattr(func, "__name__", ""))


def _declared(field):
    """The field's annotation as written: pydantic moves a top-level Annotated's parts to metadata."""
    if field.metadata:
        return typing.Annotated[(field.annotation,) + tuple(field.metadata)]
    return field.annotation


def sections(section, server_dsn, skipped=()):
    """Any subset of the section's fields, each with a valid value (or None where nullable)."""
    fields = {name: for_annotation(_declared(field), name, server_dsn)
              for name, field in section.model_fields.items() if name not in skipped}
    if section is model.Settings:
        fields["environment"] = rarely(fields["environment"], UNEXPORTABLE)
    required = {name for name, field in section.model_fields.items()
                if field.is_required() and name not in skipped}
    return st.fixed_dictionaries({n: fields[n] for n in sorted(required)},
                                 optional={n: fields[n] for n in sorted(set(fields) - required)})


def configurations(server_dsn):
    top = sections(model.Settings, server_dsn, skipped=SKIPPED)
    # `null` for every nullable SDK option at once, and data_collection's nested nulls.
    nulls = {name: None for name, field in model.Settings.model_fields.items()
             if name not in SKIPPED and _nullable(field.annotation)}
    nulls["data_collection"] = {"http_headers": {"request": None}, "cookies": None,
                                "stack_frame_variables": None, "graphql": None, "gen_ai": None}
    return st.one_of(top, st.just(nulls)).map(lambda c: dict(c, version=1))



# No shrinking: an example is a batch of 20 activations in a child; the failing configuration and
# its traceback are in the assertion message already.
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck),
          phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(st.data())
def test_every_accepted_configuration_activates(tmp_path_factory, data):
    """Every generated configuration the loader accepts activates for real, with no exception."""
    with SentryServer() as server:
        configs = data.draw(st.lists(configurations(server.dsn), min_size=20, max_size=20))
        directory = tmp_path_factory.mktemp("agreement")
        path = directory / "configs.json"
        path.write_text(json.dumps(configs))
        result = run_python([WORKER, str(path)], hook=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(configs), result.stderr[-3000:]
    failed = [(configs[a["index"]], a["detail"]) for a in answers if a["outcome"] == "failed"]
    assert not failed, failed[0]
    accepted = sum(a["outcome"] == "accepted" for a in answers)
    rejected = [a["detail"] for a in answers if a["outcome"] == "rejected"]
    assert accepted >= len(configs) // 2, rejected[:3]  # the generator makes valid configurations


REFUSED = [
    ("dsn: 'https://k@127.0.0.1/" + "1" * 5000 + "'", "dsn: must be a DSN like",
     "below 2**64"),
    ('dsn: "https://k\\x00y@127.0.0.1/1"', "dsn: must be a DSN like",
     "control character"),
    ('release: "a\\0b"', "release: holds a NUL byte", "SENTRY_RELEASE"),
    ("release: '" + "r" * (128 * 1024) + "'", "release: is 131072 bytes long, too long",
     "SENTRY_RELEASE"),
    ('environment: "prod\\0"', "environment: holds a NUL byte", "SENTRY_ENVIRONMENT"),
    ("dsn: 'https://k@127.0.0.1:99999999/1'", "dsn: must be a DSN like", "port out of range"),
    ("dsn: 'https://k@[::1/1'", "dsn: must be a DSN like", "invalid IPv6 URL"),
    ("dsn: 'https://k@127.0.0.1/1/'", "dsn: must be a DSN like", ""),
    ("dsn: 'https://k@127.0.0.1:0/1'", "dsn: must be a DSN like", "port 0"),
    ("shutdown_timeout: .inf", "shutdown_timeout: must be a finite number", ""),
    ("shutdown_timeout: 1e308", "shutdown_timeout: must be at most 86400", ""),
    ("max_breadcrumbs: 100000000000000000000000", "max_breadcrumbs: must be at most 2147483647", ""),
    ("http_proxy: '127.0.0.1:3128'", "http_proxy: must be a proxy URL", ""),
    ("spotlight: sidecar", "spotlight: must be true, false or the Spotlight URL", ""),
]


def test_check_refuses_what_the_sdk_would_refuse(project):
    """Each value the SDK can't start with (found by the property above or reported in the issue)
    is a located configuration error in `check`, not a failure when the hook starts."""
    import pytest

    from sentry_bootstrap.config.errors import ConfigError

    for line, message, detail in REFUSED:
        project.write("version: 1\n" + line + "\n")
        with pytest.raises(ConfigError) as caught:
            project.load()
        text = str(caught.value)
        assert text.startswith("sentry.yaml:2:") and message in text and detail in text, (line, text)


def test_values_children_cant_carry_are_refused_not_failed(tmp_path):
    """A release or environment with a NUL byte or over the system's limit for one variable, and a
    DSN whose project id the SDK's parser refuses, are rejected by the loader: none fails when
    activated and handed to a child process (the issue's `check --strict` passes)."""
    configs = [{"version": 1, "release": value} for value in UNEXPORTABLE] + \
        [{"version": 1, "environment": value} for value in UNEXPORTABLE] + \
        [{"version": 1, "dsn": "https://key@127.0.0.1/" + "1" * 5000}]
    path = tmp_path / "configs.json"
    path.write_text(json.dumps(configs))
    result = run_python([WORKER, str(path)], hook=False, timeout=120)
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["outcome"] for a in answers] == ["rejected"] * len(configs), \
        [a["detail"][-600:] for a in answers] or result.stderr[-2000:]


def test_nullable_data_collection_options_activate(tmp_path):
    """`data_collection: {http_headers: {request: null}}` and the other nulls activate in a child."""
    config = {"version": 1, "data_collection": {"http_headers": {"request": None}, "cookies": None,
                                                "user_info": None}}
    path = tmp_path / "configs.json"
    path.write_text(json.dumps([config]))
    result = run_python([WORKER, str(path)], hook=False, timeout=60)
    assert json.loads(result.stdout)["outcome"] == "accepted", result.stdout + result.stderr[-2000:]
