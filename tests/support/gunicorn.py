"""The gunicorn command line for tests, across the gunicorn releases the test extra admits.

gunicorn 26 added a control socket (one shared path by default, so parallel servers collide) and
the `--no-control-socket` flag that turns it off; gunicorn 23, the newest on Python 3.9, has
neither and refuses the flag."""
import os
import sys

from importlib import metadata

BIN = os.path.dirname(sys.executable)


def _has_control_socket():
    major = metadata.version("gunicorn").split(".")[0]
    return major.isdigit() and int(major) >= 26


def gunicorn(*args):
    """argv for this environment's gunicorn with `args`, without a control socket."""
    flags = ["--no-control-socket"] if _has_control_socket() else []
    return [os.path.join(BIN, "gunicorn")] + flags + list(args)
