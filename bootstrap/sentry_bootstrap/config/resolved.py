"""The validated configuration as plain data: what the hot path, the cache and `explain` read.

It holds no pydantic object, so it can be cached as plain data and read back without importing
pydantic (or json: the hook's start reads it with `marshal`).
"""
from sentry_bootstrap import _env

_MISSING = object()


class ResolvedConfig:
    """Effective values, each with its source.

    - `values`: nested dict of every key of the model (defaults included), JSON-compatible: every
      section is complete (the model's `model_dump`), so code reads `values["spool"]["max_bytes"]`
      and restates no default; the cache stores it as it is, so a warm start needs no model.
    - `sources`: dotted key path -> where the value came from (`default`, `sentry.yaml:3:5`,
      `sentry.yaml:9:7 (environments.production)`, `env SENTRY_DSN`, or the release resolver's text).
    - `config_file`: absolute path of the file read, or None.
    - `environment`: the active environment name.
    - `release`, `release_source`: the resolved release (or None) and where it came from.
    - `warnings`: lines to report (e.g. did-you-mean for unknown SENTRY_* variables, or for an
      environment whose name is close to an overlay's).
    - `overlay`: the name of the overlay `environments.<name>` that applied, or None (base keys).
    - `start_plan`: what the lazy start needs from the integrations table for these values
      (`integrations_table.start_plan`), computed by the loader so that a warm start imports no table.
    """

    __slots__ = ("values", "sources", "config_file", "environment", "release", "release_source",
                 "warnings", "overlay", "start_plan")

    def __init__(self, values, sources, config_file=None, environment="development", release=None,
                 release_source="none", warnings=(), overlay=None, start_plan=None):
        self.values = values
        self.sources = sources
        self.config_file = config_file
        self.environment = environment
        self.release = release
        self.release_source = release_source
        self.warnings = list(warnings)
        self.overlay = overlay
        self.start_plan = start_plan

    def get(self, path, default=None):
        """The value at a dotted path (`integrations.celery.monitor_beat_tasks`)."""
        node = self.values
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def section(self, name):
        """The full section `name` (a dict with every key of the model, defaults included), as
        validated. Callers may keep it; they must not change it."""
        return self.values[name]

    def source(self, path):
        """Where the value at `path` came from; a parent's source when only the parent was set."""
        while path:
            if path in self.sources:
                return self.sources[path]
            path = path.rpartition(".")[0]
        return "default"

    def export_release(self, environ):
        """Hand the release to child processes through `environ`, so they don't resolve it again:
        `SENTRY_RELEASE` and where it came from. A release already set there is left alone."""
        if self.release and not environ.get(_env.RELEASE):
            environ[_env.RELEASE] = self.release
            environ[_env.RELEASE_SOURCE] = self.release_source

    def to_data(self):
        """Plain data (dicts, lists, strings, numbers, None) that `from_data` takes back."""
        return {slot: getattr(self, slot) for slot in self.__slots__}

    @classmethod
    def from_data(cls, data):
        return cls(**{slot: data[slot] for slot in cls.__slots__})

    def to_json(self):
        import json

        return json.dumps(self.to_data(), sort_keys=True)

    def __eq__(self, other):
        return isinstance(other, ResolvedConfig) and self.to_json() == other.to_json()

    def __repr__(self):
        return "ResolvedConfig(config_file={!r}, environment={!r}, release={!r})".format(
            self.config_file, self.environment, self.release)
