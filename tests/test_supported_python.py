"""The package must stay importable on the oldest supported Python (3.9): no newer syntax."""
import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = sorted(ROOT.joinpath("bootstrap").rglob("*.py")) + [ROOT / "sitecustomize.py"]


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_parses_as_python_39(path):
    """Every module parses with Python 3.9's grammar (no match, no parenthesised with-items...)."""
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 9))


def test_model_uses_no_pep604_unions():
    """pydantic evaluates the model's annotations at runtime, where `X | Y` fails before 3.10."""
    text = ROOT.joinpath("bootstrap", "sentry_bootstrap", "config", "model.py").read_text()
    assert not re.search(r":\s*[\w\[\], ]+\s\|\s[\w\[]", text)
