"""Static checks over the product's source with `ast`, for tests/test_architecture.py.

- `private_sdk_uses(path)`: every place a module imports or touches a private `sentry_sdk` name.
- `import_graph()`: which `sentry_bootstrap` module imports which (module level and inside functions).
- `package_graph(graph)`: the same between the package's top-level parts (`activation`, `config`, ...).
- `find_cycle(graph)`: one import cycle, or None.
- `import_module_calls()`: every `importlib.import_module` / `__import__` call, by module.

Nothing here imports the product: the sources are parsed, never executed.
"""
import ast
import functools
import os
import re

from tests.support.child import ROOT

PACKAGE_DIR = os.path.join(ROOT, "bootstrap", "sentry_bootstrap")
PACKAGE = "sentry_bootstrap"

# Public-looking names that are SDK internals all the same (docs/sdk-internals.md).
INTERNAL_NAMES = frozenset({"setup_integrations"})
INTERNAL_MODULES = frozenset({"sentry_sdk.worker"})
# Attributes that are internals of an SDK object, whatever the object is called locally.
INTERNAL_ATTRIBUTES = frozenset({"integrations"})
# Underscore names the SDK happens to define too, that the product uses for something else.
NOT_SDK = frozenset({"_is_coroutine"})  # asyncio's coroutine marker (middleware/django.py)
_SDK_PATH = re.compile(r"\bsentry_sdk(\.\w+)*\._\w+")


def _private(name):
    return name.startswith("_") and not name.startswith("__") and name.strip("_") != ""


def product_modules():
    """{dotted module name: file path} for every module of the package."""
    found = {}
    for base, dirs, files in os.walk(PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(base, name)
            rel = os.path.relpath(path, os.path.dirname(PACKAGE_DIR))[:-3].split(os.sep)
            if rel[-1] == "__init__":
                rel = rel[:-1]
            found[".".join(rel)] = path
    return found


@functools.lru_cache(maxsize=None)
def sdk_private_names():
    """Every underscore name the installed sentry_sdk defines: modules, functions, classes,
    assigned names and attributes."""
    import importlib.util

    sdk_dir = os.path.dirname(importlib.util.find_spec("sentry_sdk").origin)
    names = set()
    for base, dirs, files in os.walk(sdk_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        names.update(d for d in dirs if _private(d))
        for name in files:
            if not name.endswith(".py"):
                continue
            if _private(name[:-3]):
                names.add(name[:-3])
            with open(os.path.join(base, name), encoding="utf-8") as handle:
                tree = ast.parse(handle.read())
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add(node.attr)
    return frozenset(n for n in names if _private(n)) - NOT_SDK


def _root_name(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _docstrings(tree):
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


class _Scan(ast.NodeVisitor):
    def __init__(self, sdk_private):
        self.sdk_private = sdk_private
        self.sdk_names = set()  # local names bound to sentry_sdk modules, classes or functions
        self.own_names = set()  # local names bound to sentry_bootstrap modules
        self.other_names = set()  # local names bound to other modules (asyncio, ...)
        self.own_attrs = set()  # underscore attributes our own classes define
        self.sdk_classes = []  # depth stack: are we inside a subclass of an SDK class?
        self.found = []

    def flag(self, node, what):
        self.found.append((node.lineno, what))

    # -- names bound by imports ---------------------------------------------------------------
    def visit_Import(self, node):
        for alias in node.names:
            module = alias.name
            if module.split(".")[0] == "sentry_sdk":
                if any(_private(part) for part in module.split(".")) or module in INTERNAL_MODULES:
                    self.flag(node, "import " + module)
                self.sdk_names.add(alias.asname or module.split(".")[0])
            elif module.split(".")[0] == PACKAGE:
                self.own_names.add(alias.asname or module.split(".")[0])
            else:
                self.other_names.add(alias.asname or module.split(".")[0])

    def visit_ImportFrom(self, node):
        module = node.module or ""
        if module.split(".")[0] == "sentry_sdk":
            for alias in node.names:
                full = module + "." + alias.name
                if any(_private(part) for part in full.split(".")) or alias.name in INTERNAL_NAMES \
                        or full in INTERNAL_MODULES:
                    self.flag(node, "from {} import {}".format(module, alias.name))
                self.sdk_names.add(alias.asname or alias.name)
        elif module.split(".")[0] == PACKAGE or node.level:
            for alias in node.names:
                self.own_names.add(alias.asname or alias.name)
        else:
            for alias in node.names:
                self.other_names.add(alias.asname or alias.name)

    def visit_Assign(self, node):
        # `_Scope = sentry_sdk.scope.Scope`: the alias is an SDK name too.
        if _root_name(node.value) in self.sdk_names:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.sdk_names.add(target.id)
        self.generic_visit(node)

    # -- classes: overriding an SDK class's private methods counts as touching them --------------
    def visit_ClassDef(self, node):
        sdk_base = any(_root_name(base) in self.sdk_names for base in node.bases)
        self.sdk_classes.append(sdk_base)
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if sdk_base and item.name in self.sdk_private:
                    self.flag(item, "overrides {}.{}".format(node.name, item.name))
        self.generic_visit(node)
        self.sdk_classes.pop()

    def visit_Attribute(self, node):
        root = _root_name(node)
        if root in self.own_names or root in self.other_names:
            self.generic_visit(node)
            return
        attr = node.attr
        if root in self.sdk_names and (_private(attr) or attr in INTERNAL_NAMES
                                       or attr == "__slots__"):
            self.flag(node, "{}.{}".format(root, attr))
        elif attr in INTERNAL_ATTRIBUTES and isinstance(node.ctx, ast.Load):
            self.flag(node, "." + attr)
        elif _private(attr) and attr in self.sdk_private and attr not in self.own_attrs:
            self.flag(node, "." + attr)
        self.generic_visit(node)


def _own_attributes(tree, sdk_names):
    """Underscore attributes defined by the module's own classes (not subclasses of SDK classes):
    `self._x = ...` stores, methods, and `__slots__` entries."""
    own = set()
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef) or any(_root_name(b) in sdk_names for b in cls.bases):
            continue
        for node in ast.walk(cls):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and \
                    _root_name(node) == "self":
                own.add(node.attr)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                own.add(node.name)
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets):
                for elt in getattr(node.value, "elts", ()):
                    if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                        own.add(elt.value)
    return own


def private_sdk_uses(source, sdk_private=None):
    """[(line, what)] for every import or use of a private sentry_sdk name in `source` (text)."""
    sdk_private = sdk_private_names() if sdk_private is None else sdk_private
    tree = ast.parse(source)
    scan = _Scan(sdk_private)
    # First pass: imports only, so that names are known before they are used.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            scan.visit_Import(node)
        elif isinstance(node, ast.ImportFrom):
            scan.visit_ImportFrom(node)
    scan.found = []
    scan.own_attrs = _own_attributes(tree, scan.sdk_names)
    scan.visit(tree)
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                id(node) not in docstrings:
            text = node.value
            if _SDK_PATH.search(text) or (text in sdk_private and text not in scan.own_attrs):
                scan.flag(node, repr(text))
    return sorted(set(scan.found))


# -- the import graph --------------------------------------------------------------------------

def _resolve(module, level, current, is_package):
    if not level:
        return module
    parts = current.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[:len(parts) - (level - 1)]
    return ".".join(parts + ([module] if module else []))


def import_graph():
    """{module: set of sentry_bootstrap modules it imports}, for imports anywhere in the module."""
    modules = product_modules()
    graph = {}
    for name, path in modules.items():
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        is_package = path.endswith("__init__.py")
        edges = set()
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node.module, node.level, name, is_package)
                targets = [base + "." + alias.name for alias in node.names] + [base]
            for target in targets:
                # `from pkg import mod` names a module; `from mod import func` names the module.
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target.split(".")[0] == PACKAGE and target != name:
                    edges.add(target)
        # Importing a submodule runs its package's __init__ too, but that is a parent, not a cycle.
        graph[name] = {t for t in edges if not name.startswith(t + ".") and t != PACKAGE}
    return graph


def package_of(module):
    """The top-level part of the package a module belongs to: `sentry_bootstrap.config.cache` ->
    `sentry_bootstrap.config`; a top-level module is its own part."""
    return ".".join(module.split(".")[:2])


def package_graph(graph):
    """{part: set of other parts it imports}, from a module graph."""
    packages = {}
    for module, targets in graph.items():
        edges = packages.setdefault(package_of(module), set())
        edges.update(package_of(t) for t in targets if package_of(t) != package_of(module))
    return packages


def import_module_calls():
    """[(module, line, call text)] for every call of `import_module` or `__import__`."""
    found = []
    for name, path in product_modules().items():
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in ("import_module", "__import__"):
                    found.append((name, node.lineno, ast.unparse(node)))
    return found


def find_cycle(graph):
    """One cycle as a list of modules (first == last), or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None
