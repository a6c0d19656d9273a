"""The annotated starter `sentry.yaml` that `sentry-bootstrap init` writes. It passes `check` as it is
(a test holds it to that); everything optional is commented out with its default."""

STARTER = """\
# yaml-language-server: $schema=./sentry.schema.json
# The line above gives editors completion and checks once you generate the schema next to this file:
#   sentry-bootstrap schema > sentry.schema.json
#
# sentry.yaml: configuration of sentry-bootstrap, zero-code Sentry for any Python program.
#   sentry-bootstrap check --all-environments   validate the base and every environment
#   sentry-bootstrap explain [KEY]              each effective value and where it came from
# Precedence, lowest first: defaults < this file < environments.<name> < SENTRY_* variables.
# Values may use ${VAR}, ${VAR:-default}, ${VAR:?message}; write $$ for a literal $.

version: 1

# Where events go. With no DSN they stay in a local outbox: `sentry-bootstrap events` shows them.
# Keep the key out of the file: SENTRY_DSN or SENTRY_DSN_FILE=/run/secrets/sentry_dsn.
# dsn: https://<public key>@sentry.example.invalid/<project id>

# release: auto            # git, then CI variables, then the package version; or "app@{short_sha}"
# sample_rate: 1.0         # fraction of errors sent
# traces_sample_rate: 0.1  # fraction of transactions traced (unset: no tracing)
# send_default_pii: false  # user ids, IPs, cookies and headers

tags: {}                   # on every event, e.g. {team: payments, service: billing}

integrations:
  auto: true               # every integration whose framework is installed
  disabled: []             # e.g. [redis]
  enabled: []              # opt-in ones, e.g. [asyncio]
  # django: {transaction_style: url}
  # celery: {monitor_beat_tasks: true}
  # logging: {level: INFO, event_level: ERROR}

# context:                 # what the context middleware adds to request events
#   request_id_header: X-Request-ID
#   header_tags: {X-Tenant-ID: tenant}

# scrub:                   # removed before events leave the process, on top of safe defaults
#   fields: [national_id]
#   patterns: ['\\b\\d{3}-\\d{2}-\\d{4}\\b']

# Merged over the keys above when that environment is active (SENTRY_ENVIRONMENT, ENVIRONMENT,
# else `environment:` here, else development). Maps merge, lists replace, null resets a key.
environments:
  development:
    debug: false
  production:
    traces_sample_rate: 0.05
"""
