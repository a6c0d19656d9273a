"""The decorators on every function kind, with events captured by a real sentry_sdk client whose transport
keeps the envelopes in memory (the SDK's own test pattern)."""
import asyncio
import inspect
import logging
import threading

import pytest
import sentry_sdk

import sentry_bootstrap
from sentry_bootstrap.decorators import capture_errors, monitor, trace, with_sentry_context
from tests.support.collecting import root_span

KINDS = ["function", "coroutine", "generator", "async_generator", "method", "classmethod",
         "classmethod_outer", "staticmethod", "staticmethod_outer"]


def build(kind, decorator, body):
    """A callable of `kind` whose body is `body(x)`, decorated, and `run(x)` that drives it to the end
    (a list of the items for generators). The signature is always `(x, *, y=1)` as seen by callers."""
    if kind == "function":
        @decorator
        def f(x, *, y=1):
            return body(x)
        return f, f
    if kind == "coroutine":
        @decorator
        async def f(x, *, y=1):
            await asyncio.sleep(0)
            return body(x)
        return f, lambda x: asyncio.run(f(x))
    if kind == "generator":
        @decorator
        def f(x, *, y=1):
            yield "first"
            yield body(x)
        return f, lambda x: list(f(x))
    if kind == "async_generator":
        @decorator
        async def f(x, *, y=1):
            yield "first"
            await asyncio.sleep(0)
            yield body(x)

        async def drain(x):
            return [item async for item in f(x)]
        return f, lambda x: asyncio.run(drain(x))

    class Service:
        if kind == "method":
            @decorator
            def f(self, x, *, y=1):
                assert isinstance(self, Service)
                return body(x)
        elif kind == "classmethod":
            @classmethod
            @decorator
            def f(cls, x, *, y=1):
                assert cls is Service
                return body(x)
        elif kind == "classmethod_outer":
            @decorator
            @classmethod
            def f(cls, x, *, y=1):
                assert cls is Service
                return body(x)
        elif kind == "staticmethod":
            @staticmethod
            @decorator
            def f(x, *, y=1):
                return body(x)
        elif kind == "staticmethod_outer":
            @decorator
            @staticmethod
            def f(x, *, y=1):
                return body(x)
    target = Service() if kind == "method" else Service
    return getattr(target, "f"), getattr(target, "f")


def is_kind(kind, func):
    return {
        "coroutine": inspect.iscoroutinefunction,
        "generator": inspect.isgeneratorfunction,
        "async_generator": inspect.isasyncgenfunction,
    }.get(kind, lambda f: not (inspect.iscoroutinefunction(f) or inspect.isgeneratorfunction(f)
                               or inspect.isasyncgenfunction(f)))(func)


def result_of(kind, value):
    return ["first", value] if kind in ("generator", "async_generator") else value


@pytest.mark.parametrize("kind", KINDS)
def test_with_sentry_context_tags_and_names_events_inside(sentry, kind):
    """An event captured in the call carries the service tag and `service.qualname`; one after it doesn't."""
    func, run = build(kind, with_sentry_context("user_service"), lambda x: sentry_bootstrap.capture_message(x))
    assert str(inspect.signature(func)) == "(x, *, y=1)"
    assert is_kind(kind, func)
    assert func.__name__ == "f" and func.__doc__ is None

    result = run("inside")
    sentry_bootstrap.capture_message("outside")

    inside, outside = sentry.events
    assert result == result_of(kind, inside["event_id"])
    assert inside["tags"] == {"service": "user_service"}
    qualname = "build.<locals>.f" if kind in KINDS[:4] else "build.<locals>.Service.f"
    assert inside["transaction"] == "user_service." + qualname
    assert "service" not in outside.get("tags", {})
    assert outside.get("transaction") is None


@pytest.mark.parametrize("kind", KINDS)
def test_with_sentry_context_keeps_scope_changes_inside(sentry, kind):
    """Tags, user, context, breadcrumbs and the transaction name set inside the call don't leak out."""

    def body(x):
        sentry_bootstrap.set_tag("inner", x)
        sentry_sdk.set_tag("via_sdk", x)
        sentry_bootstrap.set_user({"id": 7})
        sentry_bootstrap.set_context("op", {"n": 1})
        sentry_bootstrap.add_breadcrumb(message="step", category="test")
        sentry_bootstrap.set_transaction("renamed")
        return sentry_bootstrap.capture_message("inside")

    sentry_bootstrap.set_tag("outer", "yes")
    func, run = build(kind, with_sentry_context("svc"), body)
    run("v")
    sentry_bootstrap.capture_message("after")

    inside, after = sentry.events
    assert inside["tags"] == {"outer": "yes", "service": "svc", "inner": "v", "via_sdk": "v"}
    assert inside["user"] == {"id": 7}
    assert inside["contexts"]["op"] == {"n": 1}
    assert [crumb["message"] for crumb in inside["breadcrumbs"]["values"]] == ["step"]
    assert inside["transaction"] == "renamed"
    assert after["tags"] == {"outer": "yes"}
    assert "user" not in after and "op" not in after["contexts"]
    assert not after.get("breadcrumbs", {}).get("values")
    assert after.get("transaction") is None


def test_with_sentry_context_name_wins_inside_a_running_transaction(sentry):
    """Inside a request's transaction, events in the call carry the call's name; the request keeps its own."""
    work, _ = build("function", with_sentry_context("user_service"), sentry_bootstrap.capture_message)
    with root_span("GET /users", "http.server"):
        work("inside")
        sentry_bootstrap.capture_message("request")

    inside, request = sentry.events
    assert inside["transaction"] == "user_service.build.<locals>.f"
    assert request["transaction"] == "GET /users"
    assert [t["name"] for t in sentry.segments()] == ["GET /users"]


def test_nested_contexts_stack_and_unwind(sentry):
    """An inner context overrides the outer one for its call only."""

    @with_sentry_context("inner")
    def inner():
        sentry_bootstrap.capture_message("in inner")

    @with_sentry_context("outer")
    def outer():
        sentry_bootstrap.set_tag("level", "outer")
        inner()
        sentry_bootstrap.capture_message("in outer")

    outer()
    in_inner, in_outer = sentry.events
    assert in_inner["tags"] == {"service": "inner", "level": "outer"}
    assert in_inner["transaction"] == "inner.test_nested_contexts_stack_and_unwind.<locals>.inner"
    assert in_outer["tags"] == {"service": "outer", "level": "outer"}
    assert in_outer["transaction"] == "outer.test_nested_contexts_stack_and_unwind.<locals>.outer"


def test_concurrent_tasks_keep_their_own_scopes(sentry):
    """Two interleaved calls in asyncio tasks each see only their own tags."""

    @with_sentry_context("svc")
    async def handle(name):
        sentry_bootstrap.set_tag("who", name)
        await asyncio.sleep(0.01)
        sentry_bootstrap.capture_message(name)

    async def main():
        await asyncio.gather(handle("a"), handle("b"))

    asyncio.run(main())
    assert sorted((e["message"], e["tags"]["who"]) for e in sentry.events) == [("a", "a"), ("b", "b")]


def test_threads_started_inside_a_call_see_its_scope(sentry):
    """A thread that copies the call's context captures with the call's tag."""
    import contextvars

    @with_sentry_context("worker")
    def spawn():
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(sentry_bootstrap.capture_message, "from thread"))
        thread.start()
        thread.join()

    spawn()
    sentry_bootstrap.capture_message("after")
    from_thread, after = sentry.events
    assert from_thread["tags"] == {"service": "worker"}
    assert "service" not in after.get("tags", {})


def test_generator_steps_run_in_the_scope_and_the_caller_does_not(sentry):
    """Between steps of a decorated generator the caller is outside its scope."""

    @with_sentry_context("gen")
    def numbers():
        sentry_bootstrap.set_tag("in", "gen")
        yield 1
        sentry_bootstrap.capture_message("second step")
        yield 2

    iterator = numbers()
    assert next(iterator) == 1
    sentry_bootstrap.capture_message("between")
    assert next(iterator) == 2
    iterator.close()

    between, second = sentry.events
    assert "service" not in between.get("tags", {}) and "in" not in between.get("tags", {})
    assert second["tags"] == {"service": "gen", "in": "gen"}


def test_generator_protocol_send_throw_close_and_return_value_pass_through(sentry):
    """send(), throw(), close() and the return value behave as for the undecorated generator."""
    closed = []

    @with_sentry_context("gen")
    def echo():
        try:
            received = yield "ready"
            while True:
                try:
                    received = yield received * 2
                except KeyError:
                    received = yield "recovered"
                if received == "stop":
                    return "done"
        finally:
            closed.append(True)

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send(2) == 4
    assert gen.throw(KeyError("k")) == "recovered"
    with pytest.raises(StopIteration) as stop:
        gen.send("stop")
    assert stop.value.value == "done"

    gen = echo()
    next(gen)
    gen.close()
    assert closed == [True, True]


@pytest.mark.parametrize("kind", KINDS)
def test_capture_errors_reraises_after_capturing_with_the_service_tag(sentry, kind):
    """With reraise=True the error is captured, tagged, and raised to the caller unchanged."""

    def body(x):
        raise ValueError("boom " + x)

    func, run = build(kind, capture_errors("payment_service", reraise=True), body)
    assert str(inspect.signature(func)) == "(x, *, y=1)"
    assert is_kind(kind, func)
    with pytest.raises(ValueError, match="boom now"):
        run("now")

    (event,) = sentry.events
    assert event["tags"] == {"service": "payment_service"}
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "ValueError" and exception["value"] == "boom now"
    mechanism = {k: exception["mechanism"][k] for k in ("type", "handled")}  # 3.x adds exception_id
    assert mechanism == {"type": "sentry_bootstrap.capture_errors", "handled": False}


@pytest.mark.parametrize("kind", KINDS)
def test_capture_errors_swallow_logs_and_returns_none(sentry, kind, caplog):
    """With reraise=False the error is captured, logged to `sentry_bootstrap`, and the call ends with None."""

    def body(x):
        raise KeyError(x)

    func, run = build(kind, capture_errors("payment_service", reraise=False), body)
    with caplog.at_level(logging.ERROR, logger="sentry_bootstrap"):
        result = run("k")

    assert result == (["first"] if kind in ("generator", "async_generator") else None)
    (event,) = sentry.events
    assert event["tags"] == {"service": "payment_service"}
    assert event["exception"]["values"][0]["mechanism"]["handled"] is True
    (record,) = [r for r in caplog.records if r.name == "sentry_bootstrap"]
    assert "payment_service" in record.getMessage() and "KeyError" in record.getMessage()
    assert record.exc_info[0] is KeyError


def test_capture_errors_passes_results_and_base_exceptions_through(sentry):
    """A successful call returns its value; KeyboardInterrupt is neither captured nor swallowed."""
    func, run = build("function", capture_errors("svc", reraise=False), lambda x: x * 2)
    assert run(21) == 42

    def interrupt(x):
        raise KeyboardInterrupt

    func, run = build("function", capture_errors("svc", reraise=False), interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(1)
    assert sentry.events == []


def test_capture_errors_inside_context_carries_both(sentry):
    """A captured error in a context-decorated call has the context's name and the capture's service."""

    @with_sentry_context("user_service")
    @capture_errors("payment_service")
    def charge():
        raise RuntimeError("declined")

    with pytest.raises(RuntimeError):
        charge()
    (event,) = sentry.events
    assert event["tags"] == {"service": "payment_service"}
    assert event["transaction"].startswith("user_service.")


def test_decorators_are_transparent_when_sentry_is_off():
    """With no client, the decorated calls behave like the bare ones and nothing raises from the SDK."""
    assert not sentry_sdk.get_client().is_active()

    @with_sentry_context("svc")
    @capture_errors("svc", reraise=False)
    def fails():
        raise ValueError

    @capture_errors("svc")
    def fails_loudly():
        raise ValueError("loud")

    @with_sentry_context("svc")
    def ok(a, b=1):
        sentry_bootstrap.set_tag("x", "y")
        return a + b

    assert fails() is None
    with pytest.raises(ValueError, match="loud"):
        fails_loudly()
    assert ok(1) == 2


@pytest.mark.parametrize("kind", ["function", "coroutine", "generator", "async_generator", "method"])
def test_trace_starts_a_transaction_or_a_child_span(sentry, kind):
    """Outside a transaction `trace` starts one named by `name`; inside one it adds a child span."""
    func, run = build(kind, trace(op="task", name="charge"), lambda x: x)
    assert str(inspect.signature(func)) == "(x, *, y=1)"
    run(1)
    with root_span("outer", "http.server"):
        run(2)

    standalone, outer = sentry.segments()
    assert standalone["name"] == "charge"
    assert standalone["op"] == "task"
    assert standalone["status"] == "ok"
    assert outer["children"] == [("task", "charge")]


def test_trace_marks_failed_spans_and_does_not_rename_the_caller(sentry):
    """A failing traced call ends its span with internal_error; the caller's transaction name is unchanged."""

    @trace(op="task", name="doomed")
    def doomed():
        raise ValueError

    with pytest.raises(ValueError):
        doomed()
    sentry_bootstrap.capture_message("after")
    (transaction,) = sentry.segments()
    assert transaction["status"] == "error"  # internal_error on 2.x
    assert sentry.events[-1].get("transaction") is None


@pytest.mark.parametrize("kind", ["function", "coroutine", "generator", "async_generator"])
def test_monitor_reports_in_progress_then_ok_or_error(sentry, kind):
    """Each call sends two check-ins with the slug and crontab config: in_progress, then ok or error."""
    func, run = build(kind, monitor("nightly-report", "0 3 * * *"), lambda x: 1 / x)
    run(1)
    with pytest.raises(ZeroDivisionError):
        run(0)

    checkins = sentry.of("check_in")
    assert [c["status"] for c in checkins] == ["in_progress", "ok", "in_progress", "error"]
    assert {c["monitor_slug"] for c in checkins} == {"nightly-report"}
    assert checkins[0]["monitor_config"]["schedule"] == {"type": "crontab", "value": "0 3 * * *"}
    assert checkins[1]["check_in_id"] == checkins[0]["check_in_id"]
    assert checkins[1]["duration"] >= 0


def test_monitor_schedule_accepts_intervals_and_nicknames(sentry):
    """`every 2 hours` is sent as an interval and `@daily` as its crontab, as in `monitors:`."""
    monitor("every", "every 2 hours")(lambda: None)()
    monitor("nick", "@daily")(lambda: None)()
    configs = [c["monitor_config"]["schedule"] for c in sentry.of("check_in")]
    assert configs[0] == {"type": "interval", "value": 2, "unit": "hour"}
    assert configs[2] == {"type": "crontab", "value": "0 0 * * *"}
