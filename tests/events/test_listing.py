"""`sentry-bootstrap events` over every item type the real SDK writes: a type column, `--type`,
and the type in `--json`."""
import json
import shutil

from tests.events.conftest import default_box, events


def test_listing_shows_every_type_in_a_type_column(tmp_path, isolated_environ, every_type_box):
    """Errors, messages, transactions, check-ins and logs each get a line whose type column follows the id and time."""
    box = shutil.copytree(every_type_box, default_box(isolated_environ))
    proc = events(cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[3] for line in lines[:5]] == ["transaction", "check-in", "message", "error", "log"]
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


def test_each_line_starts_with_a_short_id_that_show_takes(tmp_path, isolated_environ, every_type_box):
    """Each line starts with the item's 8-digit short id, as `git log --oneline` does, and `events show`
    given that id shows that very item; the demo and a user need no `--json` to find an id."""
    shutil.copytree(every_type_box, default_box(isolated_environ))
    rows = [json.loads(line) for line in events("--json", cwd=tmp_path).stdout.splitlines()]
    lines = events(cwd=tmp_path).stdout.splitlines()[:len(rows)]
    assert [line.split()[0] for line in lines] == [row["event_id"].replace("-", "")[:8] for row in rows]
    for line, row in zip(lines, rows):
        shown = events("show", line.split()[0], "--json", cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout == events("show", row["event_id"], "--json", cwd=tmp_path).stdout


def test_show_without_an_id_shows_the_newest_item(tmp_path, isolated_environ, every_type_box):
    """`events show` alone shows the newest item (the last line of `events`), as `git show` shows HEAD;
    on an empty outbox it says how to fill it and exits 1."""
    shutil.copytree(every_type_box, default_box(isolated_environ))
    newest = events(cwd=tmp_path).stdout.splitlines()[-2].split()[0]
    alone = events("show", cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout == events("show", newest, cwd=tmp_path).stdout
    assert alone.stdout.startswith("LOG  stock low for SKU-1")
    empty = events("show", cwd=tmp_path, env={"XDG_STATE_HOME": str(tmp_path / "empty")})
    assert empty.returncode == 1 and "No events in the outbox" in empty.stdout
