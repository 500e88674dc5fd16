"""Plugin settings, with defaults (override them in the platform's settings)."""


def plugin_settings(settings):
    settings.EDUVAULT_WEBHOOK_URL = getattr(settings, "EDUVAULT_WEBHOOK_URL", "")
    settings.EDUVAULT_WEBHOOK_SECRET = getattr(settings, "EDUVAULT_WEBHOOK_SECRET", "")
    settings.EDUVAULT_WEBHOOK_SOURCE = getattr(settings, "EDUVAULT_WEBHOOK_SOURCE", "") or getattr(
        settings, "CMS_BASE", "openedx"
    )
    settings.EDUVAULT_WEBHOOK_TIMEOUT = getattr(settings, "EDUVAULT_WEBHOOK_TIMEOUT", 10)
