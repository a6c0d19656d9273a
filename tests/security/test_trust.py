"""The trust model: only safe YAML, only files nobody else can write, only the documented places."""
import os

import pytest

from sentry_bootstrap.config.errors import ConfigError
from sentry_bootstrap.config.loader import load_config
from tests.support.child import run_python


def write(path, text, mode=0o600):
    path.write_text(text)
    os.chmod(str(path), mode)
    return path


@pytest.mark.parametrize("mode,who", [(0o664, "its group"), (0o646, "others")])
def test_group_or_world_writable_file_is_refused(tmp_path, mode, who):
    """A sentry.yaml writable by group or others is refused with the chmod that fixes it."""
    write(tmp_path / "sentry.yaml", "version: 1\n", mode)
    with pytest.raises(ConfigError) as caught:
        load_config(environ={}, cwd=str(tmp_path))
    message = str(caught.value)
    assert message.startswith("sentry.yaml: refused: the file is writable by " + who)
    assert "chmod go-w sentry.yaml" in message


def test_file_owned_by_another_user_is_refused(tmp_path):
    """A file owned by someone else (not root) is refused, as ssh refuses its config."""
    if os.geteuid() != 0:
        pytest.fail("this test changes file ownership and must run as root (CI does)")
    path = write(tmp_path / "sentry.yaml", "version: 1\n")
    os.chown(str(path), 65534, 65534)
    with pytest.raises(ConfigError) as caught:
        load_config(environ={}, cwd=str(tmp_path))
    assert "refused: the file is owned by uid 65534" in str(caught.value)


def test_read_only_file_for_others_is_accepted(tmp_path):
    """The usual 0644 of a checkout is fine: only writing is a risk."""
    write(tmp_path / "sentry.yaml", "version: 1\nenvironment: prod\n", 0o644)
    assert load_config(environ={}, cwd=str(tmp_path)).environment == "prod"


def test_python_object_tag_is_an_error_with_location(tmp_path):
    """`!!python/object` and other unsafe tags are configuration errors, never constructed."""
    write(tmp_path / "sentry.yaml", "version: 1\ndsn: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError) as caught:
        load_config(environ={}, cwd=str(tmp_path))
    assert str(caught.value).startswith("sentry.yaml:2:6")


def test_hook_with_a_writable_file_stays_off_and_says_why(tmp_path):
    """Under the hook, a refused file leaves the program running, with one stderr line."""
    write(tmp_path / "sentry.yaml", "version: 1\nbefore_send: evil:hook\n", 0o666)
    (tmp_path / "evil.py").write_text("import sys\nprint('evil imported')\ndef hook(e, h):\n    return e\n")
    (tmp_path / "app.py").write_text("print('app ran')\n")
    result = run_python(["app.py"], cwd=str(tmp_path))
    assert result.stdout == "app ran\n"
    lines = [l for l in result.stderr.splitlines() if l.startswith("sentry-bootstrap:")]
    assert len(lines) == 1 and "refused" in lines[0]


def test_hook_reads_no_config_from_elsewhere(tmp_path):
    """A sentry.yaml in a parent directory or next to the script is not read: only the documented
    places (SENTRY_CONFIG_FILE, the file `run` resolved, ./sentry.yaml)."""
    write(tmp_path / "sentry.yaml", "version: 1\nenvironment: from-parent-dir\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "show.py").write_text("import sentry_sdk\n"  # starts the SDK (its report is the hook's)
                                 "import sentry_bootstrap.hook as a\nr = a.last_report()\n"
                                 "print(r.resolved.config_file, r.resolved.environment)\n")
    result = run_python(["show.py"], cwd=str(sub))
    assert result.stdout == "None development\n", result.stderr


def test_state_directory_is_private(tmp_path):
    """The per-user state directory and everything the hook creates in it are 0700."""
    import stat

    state = tmp_path / "state"
    (tmp_path / "sentry.yaml").write_text("version: 1\n")
    os.chmod(str(tmp_path / "sentry.yaml"), 0o600)
    (tmp_path / "crash.py").write_text("raise KeyError('x')\n")
    run_python(["crash.py"], cwd=str(tmp_path), env={"XDG_STATE_HOME": str(state)})
    created = [state] + [p for p in state.rglob("*") if p.is_dir()]
    assert len(created) >= 3  # state, sentry-bootstrap, outbox and cache below it
    for directory in created:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


WARM = "version: 1\nsdk_start: eager\nbefore_send: marker_hook:hook\n"  # eager: the callable is imported at start
MARKER_MODULE = ("import os\nopen(os.path.join(os.path.dirname(__file__), 'imported'), 'a').write('x')\n"
                 "def hook(event, hint):\n    return event\n")


def warm_cache(tmp_path):
    """Start once with a trusted file so the cache holds its validated configuration."""
    write(tmp_path / "sentry.yaml", WARM, 0o600)
    (tmp_path / "marker_hook.py").write_text(MARKER_MODULE)
    (tmp_path / "app.py").write_text("print('app ran')\n")
    first = run_python(["app.py"], cwd=str(tmp_path), env={"PYTHONPATH": str(tmp_path)})
    assert first.stdout == "app ran\n" and first.stderr == "", first.stderr
    assert (tmp_path / "imported").exists()  # the trusted file's callable was imported
    assert os.listdir(os.path.join(os.environ["XDG_STATE_HOME"], "sentry-bootstrap", "cache"))
    (tmp_path / "imported").unlink()


def test_warm_cache_rechecks_mode_on_every_start(tmp_path):
    """After a start with a trusted file, `chmod 666` takes effect on the next start: the callable is
    not imported and one line says why."""
    warm_cache(tmp_path)
    os.chmod(str(tmp_path / "sentry.yaml"), 0o666)
    result = run_python(["app.py"], cwd=str(tmp_path), env={"PYTHONPATH": str(tmp_path)})
    assert result.stdout == "app ran\n"
    assert not (tmp_path / "imported").exists()
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "refused: the file is writable by others" in lines[0], lines


def test_warm_cache_rechecks_owner_on_every_start(tmp_path):
    """After a start with a trusted file, a `chown` to another user takes effect on the next start."""
    if os.geteuid() != 0:
        pytest.fail("this test changes file ownership and must run as root (CI does)")
    warm_cache(tmp_path)
    os.chown(str(tmp_path / "sentry.yaml"), 65534, 65534)
    result = run_python(["app.py"], cwd=str(tmp_path), env={"PYTHONPATH": str(tmp_path)})
    assert result.stdout == "app ran\n"
    assert not (tmp_path / "imported").exists()
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "refused: the file is owned by uid 65534" in lines[0], lines
