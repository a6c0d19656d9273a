"""End-to-end tests: real applications reporting to a real bugsink (see bugsink.py)."""
