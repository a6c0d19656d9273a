"""The defaults that code outside the model needs as numbers, written once: the model
(`config/model.py`) declares its fields with them, and the transport's constructors and the context
middleware's policy use them when a caller (a test, a tool, user code) gives no configuration section.

Code that runs from a configuration never needs them: `ResolvedConfig.values` holds every section
complete (the model's `model_dump`, defaults included, cached as plain data), so it reads
`values["spool"]["max_bytes"]` and restates nothing. Standard library only, no import.
"""
OUTBOX_MAX_BYTES = 10 * 1024 * 1024
SPOOL_MAX_BYTES = 50 * 1024 * 1024
SPOOL_MAX_AGE = 7 * 24 * 3600  # seconds
ENDPOINT_PATH = "/api/v1/common/test-sentry/"
CONTEXT_USER_FIELDS = ("id", "username", "email")
CONTEXT_REQUEST_ID_HEADER = "X-Request-ID"
