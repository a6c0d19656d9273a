"""Every regular expression applied to input runs in linear time: pathological strings up to 1 MB
(long runs of letters, digits, ':' and '/', nested brackets, 'x://' + 'a' * N) are masked, scrubbed,
interpolated, parsed as variables and quoted in error lines within a generous bound; an error line
quotes at most about 200 characters of a value."""
import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentry_bootstrap._mask import mask_dsn, mask_text, quote
from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.interpolate import InterpolationError, substitute
from sentry_bootstrap.config.loader import load_config
from sentry_bootstrap.config.yaml_source import parse
from sentry_bootstrap.release import _pyproject_name_version
from sentry_bootstrap.scrub import make_scrubber, normalise_key
from tests.support.child import run_python

MB = 1 << 20
# Each unit repeated alone is the worst case of some pattern that rescans a run from each of its
# positions (a scheme before `://`, a lazy group before `]`, a key before `=`, digits of a card).
UNITS = ["a", "A", "aB", "1", "1 ", "1-", ":", "/", "://", "x://", "x://a", "a:", "[", "[ ", "]",
         "{", "${", "${a", "$", " ", "\n", "@", "a@", "=", "a=", "key=", "bearer ", "basic ",
         "-----BEGIN PRIVATE KEY-----", "0.", "e", "+", "&", "'", '"', "\\"]
BOUND = 15.0  # seconds for a 1 MB input: a hang bound, not a speed target (linear work takes well
# under a second, quadratic work hours); benchmarks/hostile_input.py measures the speed

runs = st.tuples(st.sampled_from(UNITS), st.integers(1, MB))


@st.composite
def pathological(draw):
    """One to three long runs of a repeated unit, with a short tail, at most 1 MB in all."""
    parts = []
    budget = MB
    for unit, size in draw(st.lists(runs, min_size=1, max_size=3)):
        count = max(1, min(size, budget) // len(unit))
        parts.append(unit * count)
        budget -= count * len(unit)
        if budget <= 0:
            break
    return "".join(parts) + draw(st.sampled_from(["", "@", "x", "]", "}", "://"]))


SCRUBBER = make_scrubber({})


def timed(function, *args):
    started = time.perf_counter()
    try:
        function(*args)
    except (InterpolationError, ValueError):
        pass  # a refusal is an answer too; only the time matters here
    return time.perf_counter() - started


def _substitute(text):
    return substitute(text, {"a": "1"})


CHECKS = [mask_dsn, lambda t: mask_text(t, ["secret"]), quote, _substitute, SCRUBBER.scrub_text,
          normalise_key, _pyproject_name_version, lambda t: parse("k: " + t, "sentry.yaml")]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(pathological())
def test_every_pattern_is_linear_on_pathological_input(text):
    """Masking, scrubbing, interpolation, key normalising and pyproject/YAML scalar parsing of any
    run up to 1 MB each finish within a generous bound."""
    for check in CHECKS:
        elapsed = timed(check, text)
        assert elapsed < BOUND, (check, elapsed, text[:60], len(text))


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(pathological())
def test_variable_values_give_short_error_lines_quickly(text):
    """A pathological value in SENTRY_* variables is validated within the bound and every error
    line quotes at most about 200 characters of it."""
    environ = {"SENTRY_SAMPLE_RATE": text, "SENTRY_DSN": text, "SENTRY_TAGS": text,
               "SENTRY_ENVIRONMENT": text, "SENTRY_IN_APP_INCLUDE": text}
    started = time.perf_counter()
    try:
        load_config(environ=environ, cwd=os.path.dirname(__file__))
        lines = []
    except ConfigError as error:
        lines = [str(p) for p in error.problems]
    assert time.perf_counter() - started < BOUND
    for line in lines:
        assert len(line) < 1000, line[:300]


def test_quote_cuts_long_values_with_ellipsis_and_length():
    """quote() keeps a short value whole and cuts a long one to 200 characters, saying its length."""
    assert quote("0.5") == "'0.5'"
    assert quote("x" * 100000) == repr("x" * 200 + "\u2026") + " (100000 characters)"


def test_scheme_glued_to_text_is_still_masked():
    """A DSN whose scheme follows other characters still has its key masked."""
    assert mask_dsn("1https://abcdef@example.invalid/1") == "1https://***@example.invalid/1"
    assert mask_dsn("see https://abcdef@example.invalid/1 now") == \
        "see https://***@example.invalid/1 now"


def test_huge_malformed_variable_starts_fast_with_a_short_line(tmp_path):
    """A 100 KB malformed SENTRY_SAMPLE_RATE costs the child well under a second of masking and
    its error line quotes 200 characters of the value, not 100 KB."""
    started = time.monotonic()
    result = run_python(["-c", "print('ran')"], cwd=str(tmp_path),
                        env={"SENTRY_SAMPLE_RATE": "9" + "a" * 100000})
    elapsed = time.monotonic() - started
    assert result.stdout == "ran\n"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and len(lines[0]) < 500, result.stderr[:500]
    assert "(100001 characters)" in lines[0]
    assert elapsed < 10, elapsed
