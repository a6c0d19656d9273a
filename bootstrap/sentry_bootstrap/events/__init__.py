"""Seeing captured events without an account: `reader` parses envelope directories (the outbox, the
spool) into rows of every item type, `render` shows one event in a terminal, and `viewer` serves a
local web page (with its static assets in `static/`) that also accepts envelopes as a Spotlight-style
sidecar. Nothing here imports `sentry_sdk`, and nothing is imported by the hook.
"""
