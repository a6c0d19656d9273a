"""`ledger-settle ACCOUNT`: the console script's entry point."""
import sys

from ledger import core


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    core.settle(argv[0])
    return 0
