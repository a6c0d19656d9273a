"""`sentry-bootstrap schema`: a valid JSON Schema that accepts what the loader accepts, placeholders included."""
import json
import os

import jsonschema
import pytest
import yaml

from sentry_bootstrap.cli.starter import STARTER
from tests.cli.helpers import cli
from tests.support.child import ROOT


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    """The schema printed by the command, as a draft 2020-12 validator."""
    proc = cli("schema", cwd=tmp_path_factory.mktemp("schema"))
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator, document):
    return [e.message for e in validator.iter_errors(document)]


def test_schema_is_draft_2020_12_with_descriptions(validator):
    """The schema names its dialect and carries the reference's descriptions for editors."""
    schema = validator.schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["sample_rate"]["description"] == "Fraction of error events sent."
    assert schema["$defs"]["CeleryOptions"]["properties"]["monitor_beat_tasks"]["description"]


@pytest.mark.parametrize("document", [
    {"sample_rate": "${RATE}"},
    {"traces_sample_rate": "${TRACES_RATE:-0.1}"},
    {"max_breadcrumbs": "${CRUMBS:?set CRUMBS}"},
    {"debug": "${DEBUG:-false}"},
    {"profile_lifecycle": "${LIFECYCLE}"},
    {"integrations": {"celery": {"monitor_beat_tasks": "${BEAT}"}}},
    {"environments": {"production": {"shutdown_timeout": "${TIMEOUT}"}}},
])
def test_every_kind_of_scalar_accepts_a_placeholder(validator, document):
    """Numbers, rates, booleans and enums accept a ${...} placeholder, in overlays as well."""
    assert errors(validator, document) == []


@pytest.mark.parametrize("document", [
    {"sample_rate": "abc"},
    {"sample_rate": 2},
    {"max_breadcrumbs": -1},
    {"debug": "maybe"},
    {"profile_lifecycle": "sometimes"},
    {"integrations": {"celery": {"monitor_beat_task": True}}},
    {"environments": {"production": {"sampel_rate": 0.5}}},
    {"environments": {"production": {"version": 1}}},
])
def test_invalid_values_and_unknown_keys_are_rejected(validator, document):
    """Values out of range, words that aren't placeholders and unknown keys fail, overlays included."""
    assert errors(validator, document) != []


def test_text_fields_accept_numbers_as_yaml_writes_them(validator):
    """`dist: 42` and a numeric tag value are accepted, as the loader accepts them."""
    assert errors(validator, {"dist": 42, "tags": {"build": 7, "canary": True}}) == []


@pytest.mark.parametrize("path", ["sentry.yaml", os.path.join("examples", "sentry.yaml")])
def test_repository_examples_validate(validator, path):
    """The repository's example files validate against the schema."""
    with open(os.path.join(ROOT, path)) as f:
        document = yaml.safe_load(f)
    assert errors(validator, document) == []


def test_init_starter_validates(validator):
    """The starter that `init` writes validates against the schema."""
    assert errors(validator, yaml.safe_load(STARTER)) == []
