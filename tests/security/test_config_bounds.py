"""Bounds on the configuration: its size (1 MiB), how deep it nests and how many values it holds,
each refused with a message naming the limit; `check` answers any such input quickly."""
import os
import time

import pytest

from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.loader import load_config
from sentry_bootstrap.config.yaml_source import MAX_DEPTH, MAX_NODES
from tests.cli.helpers import cli


def write(tmp_path, body):
    path = tmp_path / "sentry.yaml"
    with open(str(path), "w") as handle:
        handle.write(body)
    os.chmod(str(path), 0o600)
    return path


def many_keys(count):
    return "version: 1\ntags:\n" + "".join("  k{}: v\n".format(i) for i in range(count))


CASES = {
    "50 MB": ("version: 1\n" + "# padding\n" * (5 * 1024 * 1024), "more than the limit of 1 MiB"),
    "1M keys": (many_keys(1000000), "more than the limit of 1 MiB"),
    "100k keys in 1 MiB": (many_keys(60000), "more than {} values".format(MAX_NODES)),
    "deep block mapping": ("version: 1\ntags:\n" + "".join(
        "  " * (i + 1) + "k:\n" for i in range(200)) + "  " * 201 + "1\n",
        "nested deeper than {} levels".format(MAX_DEPTH)),
    "deep flow mapping": ("version: 1\ntags: " + "{a: " * 50000 + "1" + "}" * 50000 + "\n",
                          "nested deeper than {} levels".format(MAX_DEPTH)),
    "deep flow list": ("version: 1\ntags: " + "[" * 100000 + "]" * 100000 + "\n",
                       "nest"),  # libyaml's own depth guard may answer first
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_loader_refuses_oversized_configuration_without_hanging(tmp_path, case):
    """Each oversized configuration is one located problem naming its limit, found without a hang
    (the bound is far above linear work; the speed itself is measured in benchmarks/hostile_input.py)."""
    body, expected = CASES[case]
    write(tmp_path, body)
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_config(environ={}, cwd=str(tmp_path))
    assert time.perf_counter() - started < 10.0
    lines = [str(p) for p in caught.value.problems]
    assert len(lines) == 1 and lines[0].startswith("sentry.yaml"), lines
    assert expected in lines[0], lines
    assert "alias" not in lines[0]


@pytest.mark.parametrize("case", ["50 MB", "100k keys in 1 MiB", "deep flow mapping"])
def test_check_command_answers_oversized_configuration(tmp_path, case):
    """`check` exits 1 with the limit named, in about the time of an interpreter start."""
    body, expected = CASES[case]
    write(tmp_path, body)
    started = time.monotonic()
    result = cli("check", cwd=tmp_path)
    assert time.monotonic() - started < 5  # a child's start-up included, on a shared machine
    assert result.returncode == 1, result.stderr
    assert expected in result.stdout + result.stderr


def test_configuration_at_the_node_limit_is_accepted(tmp_path):
    """A file just under the value limit loads: the bound refuses only what no real file holds."""
    write(tmp_path, many_keys((MAX_NODES - 10) // 2))
    resolved = load_config(environ={}, cwd=str(tmp_path))
    assert len(resolved.values["tags"]) == (MAX_NODES - 10) // 2


def test_deeply_nested_json_variable_is_a_located_error():
    """A SENTRY_TAGS of 100,000 nested JSON lists is a problem on that variable, not a crash."""
    with pytest.raises(ConfigError) as caught:
        load_config(environ={"SENTRY_TAGS": "[" * 100000 + "]" * 100000}, cwd="/")
    assert any("SENTRY_TAGS" in str(p) and "nested too deeply" in str(p)
               for p in caught.value.problems), caught.value.problems
