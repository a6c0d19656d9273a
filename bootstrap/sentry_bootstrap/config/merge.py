"""Deep merge of the configuration layers, keeping which layer set each key path.

Rules (the same for every layer): mappings merge key by key, lists and scalars replace, and `None`
(`null` in the file, an empty variable) removes the key so that the model's default applies.
"""
import copy


class Origin:
    """Where a layer's value came from.

    - `source`: the text `explain` shows (`sentry.yaml:3:5`, `env SENTRY_DSN`, ...);
    - `error_source`: the text an error starts with (`sentry.yaml:3:10`, `env SENTRY_DSN='***'`);
    - `prefix`: key path shown before the model path in errors (`environments.production`).
    """

    __slots__ = ("source", "error_source", "prefix", "key_source")

    def __init__(self, source, error_source=None, prefix=(), key_source=None):
        self.source = source
        self.error_source = error_source or source
        self.key_source = key_source or self.error_source  # where the key itself is written
        self.prefix = tuple(prefix)


class Layer:
    """One source of values: `data` (nested dict) and `origin(path) -> Origin` for its paths."""

    def __init__(self, data, origin):
        self.data = data
        self.origin = origin


class Merged:
    """The merged data plus, for every path a layer set, the layer that set it last."""

    def __init__(self):
        self.data = {}
        self.owners = {}  # path tuple -> Layer
        self.resets = set()  # paths set to None (back to the default) by a layer

    def sources(self):
        """Dotted path -> source text for each value a layer set (maps by their keys, lists whole,
        and each mapping inside a list by its index, e.g. `instrument.2`, so a warning about one
        entry can name its line)."""
        out = {}
        for path, layer in self.owners.items():
            value = _lookup(self.data, path)
            if any(isinstance(p, int) for p in path):
                if isinstance(path[-1], int) and isinstance(value, dict) and \
                        not any(isinstance(p, int) for p in path[:-1]):
                    out[".".join(str(p) for p in path)] = layer.origin(path).source
                continue
            if path in self.resets or not isinstance(value, dict) or not value:
                out[".".join(path)] = layer.origin(path).source
        return out

    def origin_of(self, path):
        """The Origin of the nearest path at or above `path` that a layer set, or None."""
        path = tuple(path)
        while path:
            layer = self.owners.get(path)
            if layer is not None:
                return layer.origin(path)
            path = path[:-1]
        return None


def merge(layers):
    """Merge `layers` (lowest precedence first) into a `Merged`."""
    merged = Merged()
    for layer in layers:
        _apply(merged, merged.data, layer.data, layer, ())
    return merged


def _apply(merged, target, data, layer, path):
    for key, value in data.items():
        here = path + (key,)
        if value is None:
            target.pop(key, None)
            _forget(merged, here)
            merged.owners[here] = layer
            merged.resets.add(here)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merged.owners.setdefault(here, layer)
            _apply(merged, target[key], value, layer, here)
        else:
            target[key] = _without_nulls(value)
            _forget(merged, here)
            _own(merged, value, layer, here)


def _forget(merged, path):
    if path not in merged.owners:
        return  # nothing below it either: every owned path's parents are owned
    n = len(path)
    for owned in [p for p in merged.owners if p[:n] == path]:
        del merged.owners[owned]
    merged.resets.difference_update([p for p in merged.resets if p[:n] == path])


def _without_nulls(value):
    # A mapping written whole may hold nulls: they mean "default", so the key is dropped.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return copy.deepcopy(value)


def _own(merged, value, layer, path):
    merged.owners[path] = layer
    if isinstance(value, dict):
        for key, sub in value.items():
            _own(merged, sub, layer, path + (key,))
            if sub is None:
                merged.resets.add(path + (key,))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            _own(merged, sub, layer, path + (index,))


def _lookup(data, path):
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data
