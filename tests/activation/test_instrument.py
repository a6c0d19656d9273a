"""`instrument:` entries: applied by post-import hooks to modules imported later, in process and through
the hook in a real child interpreter reading sentry.yaml and sending to a real HTTP server."""
import importlib
import inspect
import sys
import uuid

import pytest

from sentry_bootstrap.activation.instrument import apply_instrument
from tests.support.child import run_python

MODULE = '''
import asyncio


def charge(amount, *, currency="EUR"):
    """Charge an amount."""
    raise ValueError("declined %s" % amount)


def lookup(user_id):
    import sentry_bootstrap
    return sentry_bootstrap.capture_message("looked up %s" % user_id)


def nightly(fail=False):
    if fail:
        raise RuntimeError("report failed")
    return "done"


class Service:
    def method(self, x):
        raise KeyError(x)

    @classmethod
    def build(cls, x):
        return cls, x

    @staticmethod
    def helper(x):
        return x * 2

    async def fetch(self, x):
        await asyncio.sleep(0)
        raise LookupError(x)

    def stream(self, n):
        for i in range(n):
            yield i
        raise OSError("stream broke")
'''


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A fresh, not yet imported package `<name>.mod` on sys.path; its modules are dropped afterwards."""
    name = "instpkg_" + uuid.uuid4().hex[:8]
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "mod.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def import_from(module, *names):
    """Run `from <module> import <names>` as application code would, and return the names."""
    namespace = {}
    exec("from {} import {}".format(module, ", ".join(names)), namespace)
    return [namespace[n] for n in names]


def test_entries_apply_when_the_module_is_imported_later(sentry, package):
    """Hooks don't import the module; a later `from pkg.mod import f` gets the wrapped function."""
    apply_instrument([
        {"target": package + ".mod:charge", "capture_errors": {"service": "payment_service",
                                                                "reraise": False}},
        {"target": package + ".mod:lookup", "context": "user_service"},
    ])
    assert package + ".mod" not in sys.modules and package not in sys.modules

    charge, lookup = import_from(package + ".mod", "charge", "lookup")
    assert str(inspect.signature(charge)) == "(amount, *, currency='EUR')"
    assert charge.__doc__ == "Charge an amount." and charge.__name__ == "charge"
    assert charge(10) is None
    event_id = lookup(7)

    declined, looked_up = sentry.events
    assert declined["tags"] == {"service": "payment_service"}
    assert declined["exception"]["values"][0]["value"] == "declined 10"
    assert looked_up["event_id"] == event_id
    assert looked_up["tags"] == {"service": "user_service"}
    assert looked_up["transaction"] == "user_service.lookup"


def test_methods_classmethods_staticmethods_async_and_generators(sentry, package):
    """Class.method targets are wrapped in the class __dict__, keeping each kind of method intact."""
    module = package + ".mod"
    apply_instrument([
        {"target": module + ":Service.method", "capture_errors": {"service": "svc", "reraise": True}},
        {"target": module + ":Service.build", "context": "builder"},
        {"target": module + ":Service.helper", "trace": {"op": "task", "name": "helper"}},
        {"target": module + ":Service.fetch", "capture_errors": {"service": "svc", "reraise": False}},
        {"target": module + ":Service.stream", "capture_errors": {"service": "svc", "reraise": False}},
    ])
    (Service,) = import_from(module, "Service")
    assert isinstance(Service.__dict__["build"], classmethod)
    assert isinstance(Service.__dict__["helper"], staticmethod)
    assert inspect.iscoroutinefunction(Service.fetch)
    assert inspect.isgeneratorfunction(Service.stream)

    with pytest.raises(KeyError):
        Service().method("k")
    assert Service.build(1) == (Service, 1)
    assert Service.helper(4) == 8 and Service().helper(5) == 10
    import asyncio
    assert asyncio.run(Service().fetch("x")) is None
    assert list(Service().stream(3)) == [0, 1, 2]

    assert [e["exception"]["values"][0]["type"] for e in sentry.events] == [
        "KeyError", "LookupError", "OSError"]
    assert {e["tags"]["service"] for e in sentry.events} == {"svc"}
    assert [t["name"] for t in sentry.segments()] == ["helper", "helper"]


def test_all_four_decorators_on_one_target_layer_in_order(sentry, package):
    """monitor outermost, then trace, context, capture_errors: the error carries the context's name."""
    apply_instrument([{
        "target": package + ".mod:nightly",
        "context": "reports",
        "capture_errors": {"service": "reports", "reraise": True},
        "trace": {"op": "cron", "name": None},
        "monitor": {"slug": "nightly-report", "schedule": "0 3 * * *", "timezone": "UTC"},
    }])
    (nightly,) = import_from(package + ".mod", "nightly")
    assert nightly() == "done"
    with pytest.raises(RuntimeError):
        nightly(fail=True)

    (error,) = sentry.events
    assert error["tags"]["service"] == "reports"
    assert error["transaction"] == "reports.nightly"
    checkins = sentry.of("check_in")
    assert [c["status"] for c in checkins] == ["in_progress", "ok", "in_progress", "error"]
    assert checkins[0]["monitor_config"] == {
        "schedule": {"type": "crontab", "value": "0 3 * * *"}, "timezone": "UTC"}
    assert [t["name"] for t in sentry.segments()] == [package + ".mod.nightly"] * 2


def test_already_imported_module_is_wrapped_at_once_and_only_once(sentry, package):
    """An entry for a loaded module applies immediately; applying it again doesn't wrap twice."""
    module = importlib.import_module(package + ".mod")
    original = module.charge
    entry = {"target": package + ".mod:charge", "capture_errors": {"service": "s", "reraise": False}}
    apply_instrument([entry])
    wrapped = module.charge
    assert wrapped is not original and wrapped.__wrapped__ is original

    apply_instrument([entry, dict(entry)])
    assert module.charge is wrapped
    assert module.charge(1) is None
    assert len(sentry.events) == 1


def test_missing_target_warns_once_with_its_yaml_line(sentry, package, capsys):
    """A target that doesn't exist gets one stderr line naming its YAML location; nothing raises."""
    entries = [
        {"target": package + ".mod:Service.nope", "context": "x"},
        {"target": package + ".mod:absent_function", "context": "x"},
        {"target": "not a target", "context": "x"},
    ]
    locate = {0: "sentry.yaml:12:5", 1: "sentry.yaml:15:5", 2: "sentry.yaml:18:5"}.get
    apply_instrument(entries, locate=locate)
    apply_instrument(entries, locate=locate)
    import_from(package + ".mod", "Service")

    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "sentry-bootstrap: sentry.yaml:18:5: instrument[2].target: target must look like "
        "'package.module:Class.method', got 'not a target'",
        "sentry-bootstrap: sentry.yaml:12:5: instrument[0].target: target '{0}.mod:Service.nope' not "
        "found: module '{0}.mod' has no attribute 'Service.nope'".format(package),
        "sentry-bootstrap: sentry.yaml:15:5: instrument[1].target: target '{0}.mod:absent_function' "
        "not found: module '{0}.mod' has no attribute 'absent_function'".format(package),
    ]


SENTRY_YAML = """\
version: 1
dsn: {dsn}
integrations:
  auto: false
instrument:
  - target: "{pkg}.mod:charge"
    capture_errors: {{service: payment_service, reraise: false}}
  - target: "{pkg}.mod:lookup"
    context: user_service
  - target: "{pkg}.mod:does_not_exist"
    context: user_service
"""

APP = """\
import sentry_sdk
from {pkg}.mod import charge, lookup
assert charge(5) is None
lookup(3)
sentry_sdk.flush(5)
print("ok")
"""


def test_yaml_entries_through_the_hook_in_a_child_against_a_real_server(package, tmp_path,
                                                                       sentry_server):
    """With only sentry.yaml and the hook, a child's later imports are instrumented; the bad target
    gets its line number."""
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "sentry.yaml").write_text(SENTRY_YAML.format(dsn=sentry_server.dsn, pkg=package))
    (app_dir / "app.py").write_text(APP.format(pkg=package))

    result = run_python(["app.py"], cwd=str(app_dir), env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok"]
    sentry_server.wait_for_events(2, timeout=10)

    by_message = {e.get("message") or e["exception"]["values"][0]["value"]: e
                  for e in sentry_server.events}
    assert by_message["declined 5"]["tags"]["service"] == "payment_service"
    assert by_message["looked up 3"]["tags"]["service"] == "user_service"
    assert by_message["looked up 3"]["transaction"] == "user_service.lookup"
    warnings = [line for line in result.stderr.splitlines() if "does_not_exist" in line]
    assert len(warnings) == 1
    # The third entry starts on line 10, column 5 of the file.
    assert warnings[0].startswith("sentry-bootstrap: sentry.yaml:10:5: instrument[2].target")
