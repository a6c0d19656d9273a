"""config.discovery.quick_look: the hook's look at the file without YAML (enabled: false, strict: true)."""
import os
import threading
import time

from sentry_bootstrap.config.discovery import READ_LIMIT, quick_look
from tests.support.child import run_python


def _write(tmp_path, text):
    path = tmp_path / "sentry.yaml"
    path.write_text(text)
    return str(path)


def test_enabled_false_at_top_level_switches_off(tmp_path):
    """A top-level `enabled: false` (with a comment) is seen as switched off."""
    look = quick_look(_write(tmp_path, "version: 1\nenabled: false  # paused\n"), {})
    assert look.switched_off and not look.strict


def test_overlays_or_a_variable_leave_the_answer_to_the_full_load(tmp_path):
    """With overlays in the file, or a SENTRY_ENABLED variable, the quick look never says off."""
    with_overlays = _write(tmp_path, "version: 1\nenabled: false\nenvironments:\n  prod: {enabled: true}\n")
    assert not quick_look(with_overlays, {}).switched_off
    plain = _write(tmp_path, "version: 1\nenabled: false\n")
    assert not quick_look(plain, {"SENTRY_ENABLED": "true"}).switched_off


def test_nested_or_true_values_are_not_switched_off(tmp_path):
    """Only the top-level key counts: `enabled: false` under another section is something else."""
    path = _write(tmp_path, "version: 1\ndiagnostics:\n  endpoint:\n    enabled: false\n")
    assert not quick_look(path, {}).switched_off
    assert not quick_look(_write(tmp_path, "enabled: true\n"), {}).switched_off


def test_strict_true_is_seen(tmp_path):
    """A top-level `strict: true` is reported, for the refusal to start after a failed load."""
    assert quick_look(_write(tmp_path, "version: 1\nstrict: true\n"), {}).strict
    assert not quick_look(_write(tmp_path, "version: 1\nstrict: false\n"), {}).strict


def test_read_is_bounded(tmp_path):
    """Only the first READ_LIMIT bytes are read: a key after them is not seen."""
    path = _write(tmp_path, "version: 1\n" + "# padding\n" * (READ_LIMIT // 10 + 1) + "enabled: false\n")
    assert os.path.getsize(path) > READ_LIMIT
    assert not quick_look(path, {}).switched_off


def test_fifo_and_missing_file_give_the_empty_answer_without_blocking(tmp_path):
    """A FIFO in the file's place doesn't block, a missing file doesn't raise: both are 'no answer'."""
    fifo = str(tmp_path / "fifo.yaml")
    os.mkfifo(fifo)
    done = []
    worker = threading.Thread(target=lambda: done.append(quick_look(fifo, {})), daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(5)
    assert done and not done[0].switched_off and time.monotonic() - started < 5
    missing = quick_look(str(tmp_path / "nope.yaml"), {})
    assert not missing.switched_off and not missing.strict


def test_hook_discovers_the_file_once_per_start(app):
    """A cold start (no cache) runs discovery once: the loader is handed the hook's answer."""
    app.config("version: 1\nsdk_start: eager\n")  # activation (and its report) at start
    code = (
        "import sentry_bootstrap.config.discovery as d\n"
        "calls = []\n"
        "original = d.discover\n"
        "d.discover = lambda *a, **k: calls.append(a) or original(*a, **k)\n"
        "from sentry_bootstrap import hook\n"
        "hook.start()\n"
        "print(len(calls), hook.last_report() is not None)\n")
    result = run_python(["-c", code], cwd=str(app.path), hook=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "True"]
