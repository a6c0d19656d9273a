"""End-to-end fixtures: one real bugsink for the whole test run. Every test in tests/e2e is marked
`e2e`, so `pytest -m e2e` runs only these and `pytest -m "not e2e"` leaves them out."""
import os

import pytest

from tests.e2e.bugsink import BUGSINK_VERSION, Bugsink, BugsinkError, bugsink_venv

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    # This hook sees the whole session's items, not only this directory's.
    for item in items:
        if str(item.path).startswith(HERE + os.sep):
            item.add_marker(pytest.mark.e2e)


def _template_dir(config, tmp_path_factory):
    # The migrated template is kept in pytest's cache between runs (it saves the ~7 s migration);
    # `pytest --cache-clear` or a new bugsink version rebuilds it.
    cache = getattr(config, "cache", None)
    if cache is None:
        return str(tmp_path_factory.mktemp("bugsink-template") / "template")
    return os.path.join(str(cache.mkdir("bugsink")), "template-" + BUGSINK_VERSION)


@pytest.fixture(scope="session")
def bugsink(request, tmp_path_factory):
    """A running bugsink on 127.0.0.1, shared by the whole run and stopped at its end (also after
    failures). Tests create their own projects (`bugsink.create_project(name)`), so their events
    don't mix."""
    try:
        venv = bugsink_venv()
    except BugsinkError as error:
        pytest.fail(str(error), pytrace=False)
    server = Bugsink(
        tmp_path_factory.mktemp("bugsink"),
        template_dir=_template_dir(request.config, tmp_path_factory),
        venv=venv,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
