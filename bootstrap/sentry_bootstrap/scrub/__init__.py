"""Scrubbing of events and every other item before they leave the process.

The rules and what each replaces are specified in docs/security.md ("Scrubbing"). The modules:
`keys` (which keys have their value removed), `text` (what is replaced inside strings), `cards`
(`@creditcard`), `rules` (the rules under Relay's names, `scrub.rules`), `prefilter` (which strings
of an event need the text rules), `walk` (the copy-on-write walk of one event), `items` (where each
item type is scrubbed), `scrubber` (`BootstrapScrubber`, the SDK `EventScrubber` that ties them
together). Provider token formats live in `sentry_bootstrap.secret_formats`.
"""
from sentry_bootstrap.scrub.cards import luhn_valid
from sentry_bootstrap.scrub.keys import normalise_key
from sentry_bootstrap.scrub.scrubber import BootstrapScrubber, make_scrubber
from sentry_bootstrap.scrub.text import MAX_TEXT

__all__ = ["BootstrapScrubber", "make_scrubber", "normalise_key", "luhn_valid", "MAX_TEXT"]
