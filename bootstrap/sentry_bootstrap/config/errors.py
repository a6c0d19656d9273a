"""The configuration layer's one error type. Imports nothing heavy: the hook reports these."""


class Problem:
    """One thing wrong with the configuration, with where the value came from."""

    __slots__ = ("source", "path", "message", "hint")

    def __init__(self, source, path, message, hint=None):
        self.source = source  # "sentry.yaml:12:5", "env SENTRY_X='***'", or "default"
        self.path = path  # dotted key path, "" for the document itself
        self.message = message
        self.hint = hint  # the nearest valid name, for "did you mean"

    def __str__(self):
        text = "{}: {}: {}".format(self.source, self.path, self.message) if self.path else \
            "{}: {}".format(self.source, self.message)
        if self.hint:
            text += " (did you mean {!r}?)".format(self.hint)
        return text

    def __repr__(self):
        return "Problem({!r})".format(str(self))

    def to_dict(self):
        """Plain data, for the config cache's stored errors (`cache.store_error`)."""
        return {"source": self.source, "path": self.path, "message": self.message, "hint": self.hint}


class ConfigError(Exception):
    """Every problem found in one pass over the configuration."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self):
        return "\n".join(str(p) for p in self.problems)
