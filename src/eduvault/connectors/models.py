"""Sources: the learning platforms Edu Vault synchronizes from."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models


class Source(models.Model):
    class Platform(models.TextChoices):
        OPENEDX = "openedx", "Open edX"

    name = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9_-]*$", "Use lower-case letters, digits, - and _.")],
    )
    platform = models.CharField(max_length=20, choices=Platform.choices)
    base_url = models.URLField(max_length=500)
    client_id = models.CharField(max_length=200)
    #: Never printed, logged or returned by the API.
    client_secret = models.CharField(max_length=500)
    #: Secrets that sign this source's webhooks; two may be valid at once during rotation.
    webhook_secrets = models.JSONField(default=list, blank=True)
    #: Overrides of the platform's block type -> canonical kind mapping.
    kind_map = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()}, {self.base_url})"

    def __repr__(self) -> str:
        return f"<Source {self.name} {self.platform} {self.base_url}>"
