"""Open edX: course structures by the Course Blocks API (OAuth2 client credentials), and
publish events by signed webhooks (the Edu Vault plugin) or the event bus. The integration
itself is :mod:`eduvault.integrations.openedx.integration`; this package imports nothing, so
that the command line's ``diff`` reads Blocks API files without Django."""
