"""Options sentry-sdk 3 removed: on 3.x a configuration that sets one gets a located error saying
what to write instead (sdk_compat.removed_in_sdk3); on 2.x they are ordinary options."""
import pytest

from sentry_bootstrap import sdk_compat
from sentry_bootstrap.config.errors import ConfigError

from .conftest import problems_of

CONFIG = """
    version: 1
    profiles_sample_rate: 0.5
    propagate_traces: false
    integrations:
      enabled: [opentelemetry]
      flask: {transaction_style: url}
"""


@pytest.mark.skipif(not sdk_compat.is_sdk3(), reason="sentry-sdk 3.x behaviour")
def test_removed_options_are_located_errors_on_sdk3(project):
    """Each removed option set in the file is a problem at its line; a mapped one (propagate_traces)
    is not."""
    project.write(CONFIG)
    with pytest.raises(ConfigError) as excinfo:
        project.load()
    problems = problems_of(excinfo)
    assert [p.split(": ")[0:2] for p in problems] == [
        ["sentry.yaml:2:23", "profiles_sample_rate"],
        ["sentry.yaml:5:12", "integrations.enabled.0"],
        ["sentry.yaml:6:30", "integrations.flask.transaction_style"]]
    assert all("sentry-sdk 3." in p and "removed" in p for p in problems)
    assert "use profile_session_sample_rate" in problems[0]


@pytest.mark.skipif(sdk_compat.is_sdk3(), reason="sentry-sdk 2.x behaviour")
def test_the_same_options_are_accepted_on_sdk2(project):
    """On 2.x the same file loads."""
    project.write(CONFIG)
    values = project.load().values
    assert values["profiles_sample_rate"] == 0.5
    assert values["integrations"]["flask"]["transaction_style"] == "url"
