"""Property: whatever the configuration, the hook leaves the host program's stdout and exit status
exactly as they are without it (strict mode, which exists to refuse, is the one exception)."""
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.child import run_python

KEYS = ["dsn", "environment", "release", "sample_rate", "traces_sample_rate", "debug", "tags",
        "integrations", "processes", "outbox", "spool", "before_send", "max_breadcrumbs",
        "send_default_pii", "instrument", "scrub", "context", "enabled", "environments", "unknown_key"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5000), st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["", "yes", "no", "${HOME}", "${MISSING}", "${X:?boom}", "$$", "http://k@127.0.0.1:9/1",
                     "not a dsn", "os:system", "nomodule:func", "auto", "{short_sha}", "[", "]: x"]),
    st.text(max_size=12),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS + ["a", "b"]), inner, max_size=3)),
    max_leaves=6)

PROGRAM = """\
import sys
sys.stdout.write("out:" + repr(sys.argv[1:]) + "\\n")
code = int(sys.argv[1])
if code == 9:
    raise RuntimeError("host error")
sys.exit(code)
"""


def render(doc):
    import json

    # JSON is YAML; flow style keeps odd strings quoted, and a raw prefix adds broken-YAML cases.
    return json.dumps(doc)


@settings(max_examples=int(os.environ.get("HOST_PROPERTY_EXAMPLES", "12")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5), version=st.booleans(),
       garbage=st.sampled_from(["", "", "\t- :", "{", "x: [1, 2"]), code=st.sampled_from([0, 3, 9]))
def test_stdout_and_exit_status_are_untouched(tmp_path_factory, doc, version, garbage, code):
    """For any sentry.yaml, stdout and the exit status match the run without the hook."""
    doc.pop("strict", None)
    if version:
        doc = dict(doc, version=1)
    work = tmp_path_factory.mktemp("host")
    config = work / "sentry.yaml"
    config.write_text(render(doc) + ("\n" + garbage if garbage else "") + "\n")
    os.chmod(str(config), 0o600)
    (work / "prog.py").write_text(PROGRAM)
    env = {"SENTRY_BOOTSTRAP_STRICT": None}
    hooked = run_python(["prog.py", str(code)], cwd=str(work), env=env)
    plain = run_python(["prog.py", str(code)], cwd=str(work), env=env, hook=False)
    assert hooked.stdout == plain.stdout
    assert hooked.returncode == plain.returncode, hooked.stderr
