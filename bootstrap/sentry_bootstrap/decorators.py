"""Decorators for application code, and the wrappers that `instrument:` entries apply.

- `with_sentry_context(service)`: each call runs in its own isolation scope. Events captured inside carry
  the tag `service=<service>` and the transaction name `"<service>.<qualname>"` (for example
  `user_service.process_user_data` or `user_service.UserService.get`); a transaction name set inside the
  call (`sentry_bootstrap.set_transaction`) wins. Tags, user, context, breadcrumbs and the transaction name set
  inside the call do not leak to the caller.
- `capture_errors(service, reraise=True)`: an `Exception` escaping the call is captured with the tag
  `service=<service>`, then re-raised; with `reraise=False` it is logged (logger `sentry_bootstrap`) and
  the call returns None. BaseExceptions that are not errors (KeyboardInterrupt, SystemExit,
  GeneratorExit, cancellation) pass through untouched.
- `trace(op, name)`: the call runs in a span (a child of the active span, or a new transaction when there
  is none). `monitor(slug, schedule)`: the call reports cron check-ins (in progress, then ok or error).

Each works on plain and async functions, generators and async generators (the body runs under the
decorator at every step of the iteration), methods, classmethods and staticmethods (on either side of
`@classmethod`/`@staticmethod`). The wrapper keeps `__name__`, `__qualname__`, `__doc__`,
`__module__`, `__wrapped__` and so `inspect.signature`, and is itself a coroutine, generator or async
generator function when the original is one.

Why not wrapt here: wrapt 2.x `FunctionWrapper` costs about 0.8 µs per call on a plain function (it
probes `__wrapped__.__self__`, which raises), which alone exceeds the 1 µs budget. A `functools.wraps`
closure of the right kind costs about 0.1 µs and keeps the same introspection.

Why the isolation scope is forked lazily: `sentry_sdk.isolation_scope()` copies two scopes on every
call (about 8 µs measured). Instead each call installs one empty isolation scope that forks its parent
on first touch (`LazyScope`, built by `sdk_compat.lazy_isolation()` since it works on the SDK's scope
internals), and forks the current scope at the same moment. A call that never touches Sentry pays
for one small object and one context-variable switch; a call that does gets the SDK's fork
semantics. The limit: a change made straight to the current scope
(`sentry_sdk.get_current_scope().set_x(...)`, `sentry_sdk.set_transaction_name`) before anything in the
call touched the isolation scope lands in the caller's scope; `sentry_bootstrap.set_transaction` settles the
fork first, so it stays inside.
"""
from __future__ import annotations  # annotations stay text: nothing of `typing` at run time

import functools
import inspect
import logging
import time
from typing import TYPE_CHECKING

import sentry_sdk
from sentry_sdk.crons import capture_checkin
from sentry_sdk.utils import capture_internal_exceptions

from sentry_bootstrap import sdk_compat

if TYPE_CHECKING:
    from typing import Any, Awaitable, Callable, Coroutine, Dict, Optional, TypeVar, Union, overload

    from typing_extensions import Literal, ParamSpec, Protocol

    F = TypeVar("F", bound=Callable[..., Any])
    P = ParamSpec("P")
    R = TypeVar("R")

    class _Swallowing(Protocol):
        """`capture_errors(service, reraise=False)`: the call returns None instead of raising."""

        @overload
        def __call__(self, func: Callable[P, Coroutine[Any, Any, R]]
                     ) -> Callable[P, Coroutine[Any, Any, Optional[R]]]: ...

        @overload
        def __call__(self, func: Callable[P, R]) -> Callable[P, Optional[R]]: ...
else:
    # Only `overload` is needed at run time (it decorates the stubs below); it costs nothing.
    def overload(func):
        return func

__all__ = ["capture_errors", "monitor", "trace", "with_sentry_context"]

logger = logging.getLogger("sentry_bootstrap")

# The lazy isolation scope works on the SDK's scope internals, so it lives in sdk_compat.
_lazy = sdk_compat.lazy_isolation()
_Scope = _lazy.Scope
_LazyScope = _lazy.LazyScope
_Frame = _lazy.Frame
_isolation_var = _lazy.isolation_var
_current_var = _lazy.current_var
_lazy_scope = _lazy.new_scope
_restore_current = _lazy.restore_current
_new = object.__new__


# ---------------------------------------------------------------------------------------------------
# Runs: what a decorator does around each step of one invocation. A plain call or a coroutine is one
# step; a generator has one step per resumption. `leave(exc, final)` returns True to swallow `exc`.


class _ScopeRun:
    __slots__ = ("lazy", "token")

    def __init__(self, frame):
        self.lazy = _lazy_scope(frame)

    def enter(self):
        lazy = self.lazy
        self.token = _isolation_var.set(lazy)
        if lazy._lz_parent is None and lazy._lz_cur is not None:  # forked in an earlier step
            lazy._lz_cur_token = _current_var.set(lazy._lz_cur)

    def leave(self, exc, final):
        if self.lazy._lz_parent is None:
            _restore_current(self.lazy)
        _isolation_var.reset(self.token)
        return False


class _CaptureRun:
    __slots__ = ("service", "reraise", "qualname")

    def __init__(self, service, reraise, qualname):
        self.service = service
        self.reraise = reraise
        self.qualname = qualname

    def enter(self):
        pass

    def leave(self, exc, final):
        if exc is None or not isinstance(exc, Exception):
            return False
        _capture(exc, self.service, self.reraise)
        if self.reraise:
            return False
        _log_swallowed(exc, self.service, self.qualname)
        return True


class _SpanRun:
    __slots__ = ("op", "name", "span", "saved")

    def __init__(self, op, name):
        self.op = op
        self.name = name
        self.span = None

    def enter(self):
        self.saved = None
        with capture_internal_exceptions():
            if self.span is None:
                self.span = sdk_compat.start_trace_span(
                    self.op, self.name, as_transaction=sentry_sdk.get_current_span() is None)
            scope = sentry_sdk.get_current_scope()
            # The span setter also renames the scope's transaction; keep what to put back.
            self.saved = (scope, scope.span) + sdk_compat.scope_transaction(scope)
            scope.span = self.span

    def leave(self, exc, final):
        with capture_internal_exceptions():
            if self.saved is not None:
                sdk_compat.restore_scope_span(*self.saved)
            if final and self.span is not None:
                failed = True if exc is not None and isinstance(exc, Exception) else (
                    False if exc is None else None)
                sdk_compat.end_trace_span(self.span, failed)
        return False


class _MonitorRun:
    __slots__ = ("slug", "config", "check_in_id", "started")

    def __init__(self, slug, config):
        self.slug = slug
        self.config = config
        self.check_in_id = None
        self.started = None

    def enter(self):
        if self.started is None:
            self.started = time.monotonic()
            with capture_internal_exceptions():
                self.check_in_id = capture_checkin(
                    monitor_slug=self.slug, status="in_progress", monitor_config=self.config)

    def leave(self, exc, final):
        if final:
            status = "error" if exc is not None and not isinstance(exc, GeneratorExit) else "ok"
            with capture_internal_exceptions():
                capture_checkin(
                    monitor_slug=self.slug, check_in_id=self.check_in_id, status=status,
                    duration=time.monotonic() - self.started, monitor_config=self.config)
        return False


def _capture(exc, service, reraise):
    with capture_internal_exceptions():
        client = sentry_sdk.get_client()
        if not client.is_active():
            return
        event, hint = sdk_compat.event_from_exception(
            exc, mechanism={"type": "sentry_bootstrap.capture_errors", "handled": not reraise})
        sentry_sdk.capture_event(event, hint=hint, tags={"service": service})


def _log_swallowed(exc, service, qualname):
    try:
        logger.error("%s: %s raised %s; capture_errors(reraise=False) returns None", service,
                     qualname, type(exc).__name__, exc_info=exc)
    except Exception:
        pass


# ---------------------------------------------------------------------------------------------------
# Wrapper builders, one per function kind. Each takes `run_for()`: a fresh run for one invocation.


def _sync_wrapper(func, run_for):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        run = run_for()
        run.enter()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            if run.leave(exc, True):
                return None
            raise
        run.leave(None, True)
        return result

    return wrapper


def _async_wrapper(func, run_for):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        run = run_for()
        run.enter()
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            if run.leave(exc, True):
                return None
            raise
        run.leave(None, True)
        return result

    return wrapper


def _generator_wrapper(func, run_for):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        run = run_for()
        gen, sent, thrown = None, None, None
        while True:
            run.enter()
            try:
                if gen is None:  # created in the first step, so that a bad call is captured too
                    gen = func(*args, **kwargs)
                item = gen.send(sent) if thrown is None else gen.throw(thrown)
            except StopIteration as stop:
                run.leave(None, True)
                return stop.value
            except BaseException as exc:
                if run.leave(exc, True):
                    return None
                raise
            run.leave(None, False)
            thrown = None
            try:
                sent = yield item
            except GeneratorExit as exit_:
                run.enter()
                try:
                    gen.close()
                except BaseException as exc:
                    if not run.leave(exc, True):
                        raise
                else:
                    run.leave(exit_, True)
                raise
            except BaseException as exc:
                sent, thrown = None, exc

    return wrapper


def _async_generator_wrapper(func, run_for):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        run = run_for()
        agen, sent, thrown = None, None, None
        while True:
            run.enter()
            try:
                if agen is None:
                    agen = func(*args, **kwargs)
                item = await (agen.asend(sent) if thrown is None else agen.athrow(thrown))
            except StopAsyncIteration:
                run.leave(None, True)
                return
            except BaseException as exc:
                if run.leave(exc, True):
                    return
                raise
            run.leave(None, False)
            thrown = None
            try:
                sent = yield item
            except GeneratorExit as exit_:
                run.enter()
                try:
                    await agen.aclose()
                except BaseException as exc:
                    if not run.leave(exc, True):
                        raise
                else:
                    run.leave(exit_, True)
                raise
            except BaseException as exc:
                sent, thrown = None, exc

    return wrapper


def _decorate(func, make_run, fast=None):
    """Wrap `func` (any supported kind) so that each invocation runs under `make_run(original)()`."""
    if isinstance(func, (classmethod, staticmethod)):
        return type(func)(_decorate(func.__func__, make_run, fast))
    if not callable(func):
        raise TypeError("cannot decorate {!r}: not callable".format(func))
    run_for = make_run(func)
    if inspect.isasyncgenfunction(func):
        return _async_generator_wrapper(func, run_for)
    if inspect.isgeneratorfunction(func):
        return _generator_wrapper(func, run_for)
    if inspect.iscoroutinefunction(func):
        return _async_wrapper(func, run_for)
    if fast is not None:
        return fast(func)
    return _sync_wrapper(func, run_for)


def _qualname(func):
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


# ---------------------------------------------------------------------------------------------------
# Public decorators


def with_sentry_context(service: str) -> Callable[[F], F]:
    """Run each call of the decorated function in its own Sentry isolation scope, tagged
    `service=<service>` and named `"<service>.<qualname>"` (see the module docstring)."""
    service = str(service)

    def make_run(func):
        frame = _Frame(service, "{}.{}".format(service, _qualname(func)))
        return lambda: _ScopeRun(frame)

    def fast(func):
        frame = _Frame(service, "{}.{}".format(service, _qualname(func)))
        iso_get, iso_set, iso_reset = _isolation_var.get, _isolation_var.set, _isolation_var.reset

        # `_lazy_scope` and `_ScopeRun` inlined for plain calls: this path is what the 1 µs budget is
        # about, and a Python call costs about a tenth of it.
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            isolation = iso_get()
            if isolation is None:
                isolation = _Scope.get_isolation_scope()
            lazy = _new(_LazyScope)
            lazy.client = isolation.client
            lazy._lz_parent = isolation
            lazy._lz_frame = frame
            token = iso_set(lazy)
            try:
                return func(*args, **kwargs)
            finally:
                if lazy._lz_parent is None:  # forked during the call
                    _restore_current(lazy)
                iso_reset(token)

        return wrapper

    def decorator(func):
        return _decorate(func, make_run, fast)

    return decorator


@overload
def capture_errors(service: str, reraise: Literal[True] = True) -> Callable[[F], F]: ...


@overload
def capture_errors(service: str, reraise: bool) -> _Swallowing: ...


def capture_errors(service: str, reraise: bool = True) -> Any:
    """Capture an `Exception` escaping the decorated function, tagged `service=<service>`; re-raise it,
    or with `reraise=False` log it to the `sentry_bootstrap` logger and return None."""
    service = str(service)
    reraise = bool(reraise)

    def make_run(func):
        run = _CaptureRun(service, reraise, _qualname(func))  # stateless: one per function
        return lambda: run

    def fast(func):
        qualname = _qualname(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                _capture(exc, service, reraise)
                if reraise:
                    raise
                _log_swallowed(exc, service, qualname)
                return None

        return wrapper

    def decorator(func):
        return _decorate(func, make_run, fast)

    return decorator


def trace(op: str = "function", name: Optional[str] = None) -> Callable[[F], F]:
    """Run each call in a span `op`/`name` (default name: the function's module and qualname): a child
    of the active span, or a new transaction when none is active."""

    def make_run(func):
        span_name = name or "{}.{}".format(getattr(func, "__module__", "?"), _qualname(func))
        return lambda: _SpanRun(op, span_name)

    def decorator(func):
        return _decorate(func, make_run)

    return decorator


def monitor_config(schedule: Union[str, Dict[str, Any], None], timezone: Optional[str] = None,
                   checkin_margin: Optional[int] = None, max_runtime: Optional[int] = None
                   ) -> Optional[Dict[str, Any]]:
    """The check-in `monitor_config` for a crontab string (`"0 3 * * *"`, `"@daily"`), an interval
    (`"every 30 minutes"`) or a dict taken as the schedule itself, with the optional timezone and
    margins (minutes). None without a schedule. A string this can't read is sent as a crontab, for
    the server to judge."""
    if schedule is None:
        return None
    if isinstance(schedule, dict):
        parsed = dict(schedule)
    else:
        from sentry_bootstrap.monitors import parse_schedule

        try:
            parsed = parse_schedule(str(schedule))
        except ValueError:
            parsed = {"type": "crontab", "value": str(schedule)}
    config = {"schedule": parsed}
    for key, value in (("timezone", timezone), ("checkin_margin", checkin_margin),
                       ("max_runtime", max_runtime)):
        if value is not None:
            config[key] = value
    return config


def monitor(slug: str, schedule: Union[str, Dict[str, Any], None] = None,
            timezone: Optional[str] = None, checkin_margin: Optional[int] = None,
            max_runtime: Optional[int] = None) -> Callable[[F], F]:
    """Report a cron check-in for each call: `in_progress` at the start, then `ok` or `error` with the
    duration. With `schedule` (a crontab string) the monitor is created or updated on the server."""
    config = monitor_config(schedule, timezone, checkin_margin, max_runtime)

    def make_run(func):
        return lambda: _MonitorRun(slug, config)

    def decorator(func):
        return _decorate(func, make_run)

    return decorator
