"""`python -m bootstrap` is the `sentry-bootstrap` command."""
import sys

from bootstrap.cli import main

if __name__ == "__main__":
    sys.exit(main())
