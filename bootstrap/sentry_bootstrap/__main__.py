"""`python -m sentry_bootstrap` is the `sentry-bootstrap` command."""
import sys

from sentry_bootstrap.cli import main

if __name__ == "__main__":
    sys.exit(main())
