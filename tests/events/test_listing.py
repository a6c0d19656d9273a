"""`sentry-bootstrap events` over every item type the real SDK writes: a type column, `--type`,
and the type in `--json`."""
import json
import shutil

from tests.events.conftest import default_box, events


def test_listing_shows_every_type_in_a_type_column(tmp_path, isolated_environ, every_type_box):
    """Errors, messages, transactions, check-ins and logs each get a line whose second column is their type."""
    box = shutil.copytree(every_type_box, default_box(isolated_environ))
    proc = events(cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[2] for line in lines[:5]] == ["transaction", "check-in", "message", "error", "log"]
    assert "nightly-import: ok" in lines[1] and "stock low for SKU-1" in lines[4]
    assert lines[5] == "5 items in {}".format(box)


def test_type_filter_keeps_only_those_types(tmp_path, isolated_environ, every_type_box):
    """--type (repeatable) lists only those types; --json carries each row's type; an unknown type is a usage error."""
    shutil.copytree(every_type_box, default_box(isolated_environ))
    proc = events("--json", "--type", "error", "--type", "log", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["type"] for line in proc.stdout.splitlines()] == ["error", "log"]
    proc = events("--type", "check-in", cwd=tmp_path)
    assert proc.stdout.splitlines()[-1].startswith("1 item (check-in) in ")
    assert events("--type", "session", cwd=tmp_path).returncode == 2
