"""Settle one account: `python settle.py ACCOUNT`."""
import sys

from ledger import core

core.settle(sys.argv[1])
