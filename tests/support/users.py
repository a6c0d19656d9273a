"""A second local user for tests of what another user could do to our files."""
import os
import pwd
import shutil
import subprocess

NAME = "sb-store-test"


def other_uid():
    """A uid that isn't ours: a user made for the test (`useradd`) when the machine allows one,
    else `nobody`'s."""
    try:
        return pwd.getpwnam(NAME).pw_uid
    except KeyError:
        pass
    if shutil.which("useradd") and os.geteuid() == 0:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", NAME],
                       capture_output=True)
        try:
            return pwd.getpwnam(NAME).pw_uid
        except KeyError:
            pass
    return pwd.getpwnam("nobody").pw_uid
