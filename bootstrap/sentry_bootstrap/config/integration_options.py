"""The options each SDK integration takes, read from its constructor's source.

`constructor_params(name)` finds the integration's module (from the integrations table's class path)
under the installed sentry_sdk with `importlib.util.find_spec("sentry_sdk")`, which imports nothing,
and reads `__init__`'s parameters with `ast`: the framework is never imported, and it needn't be
installed. Types come from the annotations where they are written (`bool`, `Optional[int]`,
`list[str]`, ...); an annotation naming a framework's own type (`loguru.FormatFunction`) leaves that
option's type unchecked, but its name is still checked.

Standard library only. Called at validation time (cold path: the loader, `schema`, `explain`),
never on the hook's warm start; results are cached per process, and they only depend on the
installed SDK.
"""
import ast
import functools
import importlib.util
import os
from typing import Any, List, Union

from sentry_bootstrap import integrations_table as _table
from sentry_bootstrap._files import read_text_bounded

SOURCE_LIMIT = 4 << 20  # an SDK module; the largest is well under 1 MiB

_SCALARS = {"bool": bool, "int": int, "float": float, "str": str}
_LISTS = {"list", "List", "set", "Set", "frozenset", "FrozenSet", "Sequence", "tuple", "Tuple",
          "Iterable", "Container", "Collection"}


def sdk_dir():
    """The installed sentry_sdk's directory, or None."""
    try:
        spec = importlib.util.find_spec("sentry_sdk")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return os.path.dirname(spec.origin)


def _module_file(module_name):
    base = sdk_dir()
    if base is None or not module_name.startswith("sentry_sdk."):
        return None
    parts = module_name.split(".")[1:]
    for candidate in (os.path.join(base, *parts) + ".py", os.path.join(base, *parts, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


@functools.lru_cache(maxsize=None)
def _parse(path):
    # The installed SDK's own source, read like any other file: bounded, regular, never blocking.
    return ast.parse(read_text_bounded(path, SOURCE_LIMIT))


def _find_init(module_name, class_name, depth=0):
    """The `__init__` FunctionDef of `class_name` in `module_name`, following a base class (in the
    module, or imported from another sentry_sdk module) when the class defines none."""
    path = _module_file(module_name)
    if path is None or depth > 4:
        return None
    tree = _parse(path)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    return item
            for base in node.bases:
                base_name = base.id if isinstance(base, ast.Name) else None
                if base_name in (None, "Integration"):
                    continue
                found = _find_init(_origin_module(tree, module_name, base_name), base_name, depth + 1)
                if found is not None:
                    return found
            return None
    return None


def _origin_module(tree, module_name, name):
    for node in ast.walk(tree):  # imports inside `try:` blocks too
        if isinstance(node, ast.ImportFrom) and node.module and not node.level and \
                any((alias.asname or alias.name) == name for alias in node.names):
            return node.module
    return module_name


@functools.lru_cache(maxsize=None)
def constructor_params(name):
    """((option, annotation text or None, default text or None), ...) of integration `name`'s
    constructor, keyword-capable parameters only; None when its source can't be found."""
    row = _table.BY_NAME.get(name)
    if row is None:
        return None
    module_name, _, class_name = row.class_path.partition(":")
    if _module_file(module_name) is None:
        return None
    init = _find_init(module_name, class_name)
    if init is None:
        return ()  # Integration's own: no options
    args = init.args
    defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
    params = []  # `self` first; positional-only parameters can't be given by name
    for arg, default in list(zip(args.args, defaults))[1:] + list(zip(args.kwonlyargs,
                                                                     args.kw_defaults)):
        params.append((arg.arg, _text(arg.annotation), _text(default)))
    return tuple(params)


def _text(node):
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value  # a string annotation: "Optional[int]"
    return ast.unparse(node) if hasattr(ast, "unparse") else None


def python_type(annotation):
    """A typing type for an annotation text; `Any` where it names something YAML can't write."""
    if not annotation:
        return Any
    try:
        node = ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return Any
    return _convert(node)


def _convert(node):
    if isinstance(node, ast.Constant) and node.value is None:
        return type(None)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return python_type(node.value)
    if isinstance(node, ast.Name):
        return _SCALARS.get(node.id, Any)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([_convert(node.left), _convert(node.right)])
    if isinstance(node, ast.Subscript):
        head = node.value.id if isinstance(node.value, ast.Name) else \
            node.value.attr if isinstance(node.value, ast.Attribute) else None
        inner = node.slice
        if isinstance(inner, ast.Index):  # Python 3.8 wraps the slice
            inner = inner.value
        items = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if head == "Optional":
            return _union([_convert(items[0]), type(None)])
        if head == "Union":
            return _union([_convert(i) for i in items])
        if head in _LISTS:
            return List[_convert(items[0])]
    return Any


def _union(parts):
    if any(p is Any for p in parts):
        return Any
    unique = tuple(dict.fromkeys(parts))
    return unique[0] if len(unique) == 1 else Union[unique]


def options_of(name):
    """[(option, typing type)] of integration `name` (empty when it takes none or is unknown)."""
    return [(option, python_type(annotation)) for option, annotation, _default
            in constructor_params(name) or ()]

