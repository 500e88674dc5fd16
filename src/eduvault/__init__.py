"""Edu Vault: keeps a school's services in step with its learning platform."""

__version__ = "0.2.0"
