"""Helpers for the configuration tests: a project directory with a `sentry.yaml`, and a loader
that reads only the variables a test passes (never the developer's shell)."""
import textwrap

import pytest

from sentry_bootstrap.config.loader import load_config


@pytest.fixture
def project(tmp_path):
    """A directory to hold `sentry.yaml`; `project.write(text)` writes it (dedented)."""

    class Project:
        path = tmp_path

        def write(self, text, name="sentry.yaml"):
            target = tmp_path / name
            target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
            return target

        def load(self, environ=None, **kwargs):
            return load_config(environ=dict(environ or {}), cwd=str(tmp_path), **kwargs)

    return Project()


def problems_of(excinfo):
    """The problem lines of a ConfigError, as text."""
    return [str(p) for p in excinfo.value.problems]
