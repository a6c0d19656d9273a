"""The package's layering, checked on its source with `ast` (tests/support/source_rules.py): private
sentry_sdk names only in sdk_compat, no import cycle, the config layer below activation."""
from tests.support import source_rules

SDK_COMPAT = "sentry_bootstrap.sdk_compat"


def test_only_sdk_compat_touches_private_sdk_names():
    """No module but sdk_compat imports, reads, overrides or names a private sentry_sdk name."""
    found = []
    for name, path in source_rules.product_modules().items():
        if name == SDK_COMPAT:
            continue
        with open(path, encoding="utf-8") as handle:
            for line, what in source_rules.private_sdk_uses(handle.read()):
                found.append("{}:{}: {}".format(path, line, what))
    assert not found, "move these into sentry_bootstrap/sdk_compat.py:\n" + "\n".join(found)


def test_the_private_name_check_finds_each_kind_of_use():
    """The check flags each way of reaching an SDK internal, and not our own underscore names."""
    source = '''
import sentry_sdk._init_implementation
from sentry_sdk.integrations import _MIN_VERSIONS, setup_integrations
from sentry_sdk import scope as sdk_scope, worker
from sentry_sdk.transport import HttpTransport
from sentry_bootstrap import _log

var = sdk_scope._isolation_scope
Scope = sdk_scope.Scope
slots = Scope.__slots__

class T(HttpTransport):
    def _send_request(self, body, headers, endpoint_type, envelope):
        pass

class Mine:
    def __init__(self):
        self._online = True

def f(client, transport, scope):
    client.integrations.update({})
    transport._pool.clear()
    scope._transaction = "x"
    getattr(None, "_wsgi_middleware_applied", None)
    __import__("sentry_sdk.integrations._wsgi_common")
    _log.report("info", "ok")
    return Mine()._online
'''
    found = {what for _, what in source_rules.private_sdk_uses(source)}
    assert found == {
        "import sentry_sdk._init_implementation",
        "from sentry_sdk.integrations import _MIN_VERSIONS",
        "from sentry_sdk.integrations import setup_integrations",
        "from sentry_sdk import worker",
        "sdk_scope._isolation_scope",
        "Scope.__slots__",
        "overrides T._send_request",
        ".integrations",
        "._pool",
        "._transaction",
        "'_wsgi_middleware_applied'",
        "'sentry_sdk.integrations._wsgi_common'",
    }


def test_product_import_graph_has_no_cycle():
    """No chain of imports (module level or inside functions) leads from a module back to itself."""
    graph = source_rules.import_graph()
    assert len(graph) > 40 and graph["sentry_bootstrap.hook"]
    assert source_rules.find_cycle(graph) is None, " -> ".join(source_rules.find_cycle(graph))


def test_package_import_graph_has_no_cycle():
    """Between the package's parts (activation, config, diagnostics, ...) no chain of imports leads
    back either: diagnostics uses activation, and activation never imports diagnostics."""
    packages = source_rules.package_graph(source_rules.import_graph())
    assert "sentry_bootstrap.diagnostics" in packages and packages["sentry_bootstrap.activation"]
    assert "sentry_bootstrap.activation" in packages["sentry_bootstrap.diagnostics"]
    cycle = source_rules.find_cycle(packages)
    assert cycle is None, " -> ".join(cycle)


def test_the_graph_sees_imports_inside_functions():
    """An import inside a function is an edge like one at module level (the hook imports most of
    its modules where they are needed)."""
    graph = source_rules.import_graph()
    assert "sentry_bootstrap.activation.activate" in graph["sentry_bootstrap.hook"]  # in _activate
    assert "sentry_bootstrap.middleware.django" in graph["sentry_bootstrap.middleware"]  # in install
    packages = source_rules.package_graph({"p.a.x": {"p.b.y"}, "p.b.y": {"p.a.z"}, "p.a.z": set()})
    assert source_rules.find_cycle(packages) == ["p.a", "p.b", "p.a"]


def test_no_string_imports_of_our_own_modules():
    """`import_module` only imports code that isn't ours (the SDK's integration classes, the user's
    `module:function` callables): our own modules are imported by name, where the graph sees them."""
    calls = source_rules.import_module_calls()
    assert {module for module, _line, _call in calls} <= {
        "sentry_bootstrap.activation.integrations", "sentry_bootstrap.activation.options"}, calls


def test_one_import_watcher():
    """Every post-import action goes through activation/watcher.py: no module registers with wrapt's
    post-import registry or puts a finder of its own on sys.meta_path (but the short-lived scopes:
    `import_hooks.frameworks_hidden` during the SDK's set-up, `deps.config_imports` during
    validation)."""
    found = []
    for name, path in source_rules.product_modules().items():
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if "register_post_import_hook" in text:
            found.append(name)
        if "meta_path.insert" in text and name not in (
                "sentry_bootstrap.activation.watcher", "sentry_bootstrap.activation.import_hooks",
                "sentry_bootstrap.deps"):
            found.append(name)
    assert not found


def test_the_cycle_check_finds_a_cycle():
    """find_cycle reports a cycle through three modules and none in a chain."""
    assert source_rules.find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert source_rules.find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_config_does_not_import_activation_or_diagnostics():
    """The config layer sits below activation and diagnostics: it imports neither."""
    graph = source_rules.import_graph()
    bad = sorted((module, target) for module, targets in graph.items()
                 if module.startswith("sentry_bootstrap.config") for target in targets
                 if target.startswith(("sentry_bootstrap.activation", "sentry_bootstrap.diagnostics",
                                       "sentry_bootstrap.cli")))
    assert not bad


def test_diagnostics_uses_no_private_name_of_activation():
    """Diagnostics imports only public names from activation, and activation none from diagnostics."""
    import ast

    modules = source_rules.product_modules()
    bad = []
    for name, path in modules.items():
        layer = name.split(".")[1] if "." in name else ""
        other = {"diagnostics": "sentry_bootstrap.activation",
                 "activation": "sentry_bootstrap.diagnostics"}.get(layer)
        if other is None:
            continue
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(other):
                bad.extend("{}: {}.{}".format(name, node.module, a.name)
                           for a in node.names if a.name.startswith("_"))
    assert not bad


def test_hook_reads_no_file_itself():
    """hook.py opens no file and parses nothing: the quick look at the file is config.discovery's."""
    import ast

    path = source_rules.product_modules()["sentry_bootstrap.hook"]
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    calls = {node.func.id for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    assert "open" not in calls
    assert not imported & {"re", "yaml", "io"}
