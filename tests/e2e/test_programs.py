"""The ledger tools (tests/e2e/apps/ledger) started the three ways a Python program starts: a plain
script, `python -m`, and a console script. Each fails with an uncaught error inside the function
that `instrument:` wraps, and the event is checked in a real bugsink."""
import configparser
import os
import subprocess
import sys
import uuid

import pytest

from tests.e2e.deploy import assert_deployed, assert_hook_quiet, deploy, exception_of, find_events

# What pip writes for a `console_scripts` entry point (pip's own template, shortened).
CONSOLE_SCRIPT = """\
#!{python}
import re
import sys
from {module} import {function}
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({function}())
"""


def install_console_script(app, bin_dir):
    """Write the wrapper of the app's `console_scripts` entry point (from its setup.cfg) into
    `bin_dir`, as `pip install -e` would; the package is found through PYTHONPATH."""
    config = configparser.ConfigParser()
    config.read(app.file("setup.cfg"))
    name, _, target = config["options.entry_points"]["console_scripts"].strip().partition("=")
    module, _, function = target.strip().partition(":")
    os.makedirs(bin_dir, exist_ok=True)
    path = os.path.join(bin_dir, name.strip())
    with open(path, "w") as f:
        f.write(CONSOLE_SCRIPT.format(python=sys.executable, module=module, function=function))
    os.chmod(path, 0o755)
    return path


@pytest.mark.parametrize("how", ["script", "module", "console-script"])
def test_uncaught_error_is_stored_once(bugsink, tmp_path, how):
    """An uncaught error in an instrumented function is stored once, with overlay, release, tags and service."""
    project_id, dsn = bugsink.create_project("ledger-" + how)
    app = deploy("ledger", tmp_path / "ledger", dsn)
    account = "acct-" + uuid.uuid4().hex[:12]
    if how == "script":
        argv = [sys.executable, "settle.py", account]
    elif how == "module":
        argv = [sys.executable, "-m", "ledger", account]
    else:
        argv = [install_console_script(app, str(tmp_path / "bin")), account]
    result = subprocess.run(argv, cwd=app.path, env=app.env({"PYTHONPATH": app.path}), timeout=60,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert result.returncode == 1, result.stderr
    assert "UnbalancedLedger: account %s is off by 20" % account in result.stderr

    stored = find_events(bugsink, project_id, lambda e: True)
    assert len(stored) == 1, [exception_of(e)["value"] for e in stored]
    event = stored[0]
    assert_deployed(event, app, {"app": "ledger", "tier": "batch"})
    assert exception_of(event)["type"] == "UnbalancedLedger"
    assert exception_of(event)["value"] == "account %s is off by 20" % account
    assert event["tags"]["service"] == "ledger"
    assert event["transaction"] == "ledger.settle"
    assert_hook_quiet(result.stderr)
