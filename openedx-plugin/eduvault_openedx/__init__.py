"""Open edX plugin: relay course publishes and block events to Edu Vault as signed webhooks."""

__version__ = "0.1.0"
