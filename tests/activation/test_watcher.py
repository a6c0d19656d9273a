"""The one import watcher (activation/watcher.py), in fresh interpreters: an action runs once, right
after its module's body and before the importer gets the module back; at once for a module imported
already; a failing action is one stderr line and the import goes on; `when_idle` waits for the
outermost watched module; `cancel` takes actions back and the finder leaves sys.meta_path."""
import json

from tests.support.child import run_code

SETUP = """
import json, os, sys, tempfile
root = tempfile.mkdtemp()
sys.path.insert(0, root)
for name, body in {modules!r}.items():
    with open(os.path.join(root, name + ".py"), "w") as handle:
        handle.write(body)
from sentry_bootstrap.activation import watcher
seen = []
"""


def _run(modules, code):
    result = run_code(SETUP.format(modules=modules) + code)
    return json.loads(result.stdout), result.stderr


def test_action_runs_after_the_body_before_the_importer_gets_the_module():
    out, err = _run({"app_a": "VALUE = 1\n"}, """
watcher.when_imported("app_a", lambda m, tag: seen.append((tag, m.VALUE)), "first")
watcher.when_imported("app_a", lambda m: setattr(m, "VALUE", 2))
from app_a import VALUE
import app_a
print(json.dumps({"seen": seen, "value": VALUE, "finder_left": watcher._FINDER not in sys.meta_path,
                  "loader": type(app_a.__loader__).__name__}))
""")
    assert out == {"seen": [["first", 1]], "value": 2, "finder_left": True,
                   "loader": "SourceFileLoader"}
    assert err == ""


def test_a_module_imported_already_gets_its_action_at_once():
    out, _ = _run({}, """
import json as already
watcher.when_imported("json", lambda m: seen.append(m is already))
print(json.dumps(seen))
""")
    assert out == [True]


def test_a_failing_action_is_one_line_and_the_import_goes_on():
    out, err = _run({"app_b": "X = 3\n"}, """
def broken(module):
    raise RuntimeError("no luck")
watcher.when_imported("app_b", broken)
watcher.when_imported("app_b", lambda m: seen.append(m.X))
import app_b
print(json.dumps(seen))
""")
    assert out == [3]
    assert err.splitlines() == [
        "sentry-bootstrap: setting up for app_b failed: RuntimeError: no luck"]


def test_when_idle_waits_for_the_outermost_watched_module():
    """An action fired inside another watched module's body (outer imports inner) defers its work
    until the outer body has run."""
    out, _ = _run({"app_outer": "import app_inner\nDONE = True\n", "app_inner": "\n"}, """
def on_inner(module):
    watcher.when_idle(lambda: seen.append(("idle", getattr(sys.modules["app_outer"], "DONE", False))))
    seen.append(("inner", None))
watcher.when_imported("app_inner", on_inner)
watcher.when_imported("app_outer", lambda m: seen.append(("outer", m.DONE)))
import app_outer
print(json.dumps(seen))
""")
    assert out == [["inner", None], ["outer", True], ["idle", True]]


def test_cancel_takes_actions_back():
    out, _ = _run({"app_c": "\n"}, """
def action(module):
    seen.append("ran")
watcher.when_imported("app_c", action)
on_path = watcher._FINDER in sys.meta_path
watcher.cancel(action)
import app_c
print(json.dumps({"seen": seen, "was_on_path": on_path,
                  "left": watcher._FINDER not in sys.meta_path, "watched": sorted(watcher.watched())}))
""")
    assert out == {"seen": [], "was_on_path": True, "left": True, "watched": []}
