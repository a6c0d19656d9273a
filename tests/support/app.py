"""A throwaway application directory (fixture `app`): its own git repository, a sentry.yaml, and its scripts."""
import os
import textwrap

import pytest

from tests.support.git import make_git_repo


class App:
    def __init__(self, path, sha):
        self.path = path
        self.sha = sha

    def write(self, name, text):
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
        return target

    def config(self, text):
        target = self.write("sentry.yaml", text)
        os.chmod(str(target), 0o600)
        return target


@pytest.fixture
def app(tmp_path):
    """A directory with a committed git repository, ready for a sentry.yaml and scripts."""
    path = tmp_path / "app"
    sha = make_git_repo(path, {"README": "app\n"})
    return App(path, sha)


def base_config(dsn, extra=""):
    """A sentry.yaml pointing at `dsn`, with a production overlay and static tags."""
    return textwrap.dedent("""\
        version: 1
        dsn: "{dsn}"
        environment: staging
        tags:
          team: payments
        environments:
          staging:
            tags:
              team: payments
              tier: web
          production:
            sample_rate: 1.0
        """).format(dsn=dsn) + textwrap.dedent(extra)
