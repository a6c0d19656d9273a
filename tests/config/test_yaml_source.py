"""The YAML reader: YAML 1.2 scalars, safe constructs only, and a location for every key."""
import pytest

from sentry_bootstrap.config.yaml_source import MAX_VALUES, parse


def data(text):
    document, problems = parse(text, "f.yaml")
    assert problems == []
    return document.data


@pytest.mark.parametrize("scalar, value", [
    ("true", True), ("False", False), ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"),
    ("y", "y"), ("1", 1), ("-3", -3), ("0x1f", 31), ("0o17", 15), ("1:30", "1:30"),
    ("1_000", "1_000"), ("0.5", 0.5), ("1e3", 1000.0), (".inf", float("inf")), ("~", None),
    ("null", None), ("2024-01-02", "2024-01-02"), ("'true'", "true"), ("0b101", "0b101"),
])
def test_yaml_12_scalars(scalar, value):
    """Only YAML 1.2 core forms are typed; YAML 1.1 booleans, sexagesimals and dates stay strings."""
    assert data("k: {}\n".format(scalar))["k"] == value


def test_locations_of_keys_and_values():
    """Every key path has a 1-based line and column, for keys and for values; list items too."""
    document, _ = parse("a:\n  b: 1\n  c:\n    - x\n    - {d: 2}\n", "f.yaml")
    assert document.key_marks[("a", "b")] == (2, 3)
    assert document.value_marks[("a", "b")] == (2, 6)
    assert document.value_marks[("a", "c", 1)] == (5, 7)
    assert document.key_marks[("a", "c", 1, "d")] == (5, 8)


def test_anchors_and_merge_keys():
    """Aliases and `<<` merges work; keys written in place win over merged ones."""
    assert data("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")["other"] == {"x": 1, "y": 3}


def test_alias_bomb_is_refused_quickly():
    """Aliases that expand past the limit are an error, not a hang."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append("a{}: &a{} [{}]".format(i, i, ", ".join(["*a{}".format(i - 1)] * 10)))
    document, problems = parse("\n".join(lines) + "\n", "f.yaml")
    assert document is None
    assert [str(p) for p in problems] == [
        "f.yaml: invalid YAML: aliases expand to more than {} values".format(MAX_VALUES)]


def test_recursive_alias_is_refused():
    """A list that contains itself is an error with its location."""
    _, problems = parse("a: &x [*x]\n", "f.yaml")
    assert [str(p) for p in problems] == ["f.yaml:1:4: a.0: recursive alias"]


def test_non_scalar_key_is_refused():
    """A list or mapping used as a key is an error."""
    _, problems = parse("? [a]\n: 1\n", "f.yaml")
    assert [str(p) for p in problems] == ["f.yaml:1:3: a key must be a plain name, not a list"]


def test_scalar_keys_are_names():
    """Keys are taken as written: `404:` and `true:` are the strings '404' and 'true'."""
    assert data("404: a\ntrue: b\n") == {"404": "a", "true": "b"}


def test_multiple_documents_refused():
    """A stream of several documents is an error."""
    _, problems = parse("a: 1\n---\nb: 2\n", "f.yaml")
    assert [str(p) for p in problems] == [
        "f.yaml:2:1: invalid YAML: expected a single document in the stream, but found another "
        "document"]
