"""In strict mode any failure to start, not only a configuration error, refuses to start (exit 78)."""
from tests.support.child import run_python

BROKEN_SDK = 'raise RuntimeError("this sentry_sdk is broken")\n'


def broken_sdk(tmp_path):
    """A directory on PYTHONPATH whose sentry_sdk fails on import: a real internal failure."""
    shadow = tmp_path / "shadow" / "sentry_sdk"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(BROKEN_SDK)
    return str(tmp_path / "shadow")


def test_internal_error_in_strict_mode_exits_78(tmp_path):
    """A broken sentry_sdk under SENTRY_BOOTSTRAP_STRICT=1: exit 78, one line, the program never runs."""
    result = run_python(["-c", "print('ran')"], cwd=str(tmp_path),
                        env={"PYTHONPATH": broken_sdk(tmp_path), "SENTRY_BOOTSTRAP_STRICT": "1"})
    assert result.returncode == 78
    assert result.stdout == ""
    assert result.stderr == ("sentry-bootstrap: refusing to start (strict mode): internal error "
                             "RuntimeError: this sentry_sdk is broken\n")


def test_internal_error_with_strict_in_the_file_exits_78(tmp_path):
    """`strict: true` in the file makes an internal failure a refusal too."""
    (tmp_path / "sentry.yaml").write_text("version: 1\nstrict: true\n")
    (tmp_path / "sentry.yaml").chmod(0o600)
    result = run_python(["-c", "print('ran')"], cwd=str(tmp_path),
                        env={"PYTHONPATH": broken_sdk(tmp_path)})
    assert result.returncode == 78, result.stderr
    assert "refusing to start (strict mode): internal error RuntimeError" in result.stderr


def test_internal_error_without_strict_runs_on(tmp_path):
    """Without strict mode the same failure is one line and the program runs uninstrumented."""
    result = run_python(["-c", "print('ran')"], cwd=str(tmp_path),
                        env={"PYTHONPATH": broken_sdk(tmp_path), "SENTRY_SDK_START": "eager"})
    assert result.returncode == 0 and result.stdout == "ran\n"
    assert result.stderr == ("sentry-bootstrap: not active: internal error RuntimeError: this "
                             "sentry_sdk is broken\n")
