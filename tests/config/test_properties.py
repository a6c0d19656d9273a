"""Property: any YAML text and any SENTRY_* variables give a ResolvedConfig or a ConfigError,
never another exception, and quickly.

`HYPOTHESIS_PROFILE=thorough` runs many more examples than the default `ci` profile.
"""
import json
import os
import shutil
import tempfile
from datetime import timedelta

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentry_bootstrap.config.env_source import known_names
from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.loader import load_config
from sentry_bootstrap.config.model import key_tree
from sentry_bootstrap.config.resolved import ResolvedConfig

PROFILES = {"ci": 200, "thorough": 3000}
EXAMPLES = PROFILES.get(os.environ.get("HYPOTHESIS_PROFILE", "ci"), PROFILES["ci"])
TREE = key_tree()
KEYS = sorted(TREE) + ["integrations.celery", "environments", "bogus", "tags"]
VARIABLES = known_names(TREE) + ["SENTRY_ENVIRONMENT", "SENTRY_DSN_FILE", "SENTRY_CONFIG_FILE",
                                 "SENTRY_BOOTSTRAP_CONFIG_RESOLVED", "ENVIRONMENT"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10 ** 6), st.floats(allow_nan=True),
    st.sampled_from(["auto", "yes", "no", "${X}", "${X:-0.5}", "${X:?need}", "$$", "${",
                     "https://k@127.0.0.1/1", "app@{sha}", "{tag}", "mod:func", "production",
                     "staging", "[1, 2]", "{}", "INFO"]),
    st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["a", "level", "monitor_beat_tasks", "production", "team",
                                     "sample_rate", "target", "enabled", "endpoint"]),
                    inner, max_size=4)), max_leaves=12)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)


@st.composite
def yaml_texts(draw):
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.text(max_size=200))
    document = draw(documents)
    if kind >= 2:
        document = dict(document, version=1)
    if kind == 3:
        document["environments"] = {"production": draw(documents), "staging": draw(documents)}
    text = yaml.safe_dump(document, allow_unicode=True)
    if draw(st.booleans()):  # damage it a little
        at = draw(st.integers(0, len(text)))
        damage = draw(st.sampled_from(["", ":", "  ", "\t", "- ", "&a ", "*a", "!!python/name:x "]))
        text = text[:at] + damage + text[at:]
    return text


environs = st.dictionaries(
    st.one_of(st.sampled_from(VARIABLES), st.from_regex(r"SENTRY_[A-Z_]{1,24}", fullmatch=True)),
    st.one_of(st.text(max_size=30), st.sampled_from(["", "0.5", "true", "[1]", '{"a": 1}',
                                                     "production", "/nonexistent"])),
    max_size=6)


@settings(max_examples=EXAMPLES, deadline=timedelta(seconds=1),
          suppress_health_check=[HealthCheck.too_slow])
@given(text=yaml_texts(), environ=environs, env_name=st.one_of(st.none(), st.sampled_from(
    ["production", "staging", "prod"])))
def test_any_input_gives_config_or_config_error(text, environ, env_name):
    """Any file text, variables and --env give a ResolvedConfig or a ConfigError, within 1 s."""
    directory = tempfile.mkdtemp(prefix="cfgprop")
    try:
        with open(os.path.join(directory, "sentry.yaml"), "w", encoding="utf-8",
                  errors="surrogatepass") as handle:
            handle.write(text)
        try:
            resolved = load_config(environ=environ, cwd=directory, env_name=env_name)
        except ConfigError as error:
            assert error.problems and all(str(p) for p in error.problems)
        else:
            assert isinstance(resolved, ResolvedConfig)
            # plain JSON data: what the cache and `explain --json` rely on
            assert ResolvedConfig.from_data(json.loads(resolved.to_json())) == resolved
    finally:
        shutil.rmtree(directory, ignore_errors=True)
