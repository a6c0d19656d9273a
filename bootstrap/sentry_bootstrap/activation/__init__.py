"""Activation: from a validated configuration to a running SDK (integrations, post-import hooks,
`instrument:` targets)."""
