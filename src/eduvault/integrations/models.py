"""Sources: the platforms Edu Vault exchanges with, one row per registered instance."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from eduvault.kernel.secrets import SealedJSONField


class Source(models.Model):
    name = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9_-]*$", "Use lower-case letters, digits, - and _.")],
    )
    #: The integration that talks to it (``openedx``, ...).
    platform = models.CharField(max_length=20)
    base_url = models.URLField(max_length=500)
    #: What the integration needs that is not secret (an OAuth client id, an API user name,
    #: block type -> kind overrides, ...).
    settings = models.JSONField(default=dict, blank=True)
    #: Its credentials (a client secret, an API token or key): sealed at rest, never printed,
    #: logged or returned by the API.
    credentials = SealedJSONField(default=dict, blank=True)
    #: Secrets that sign this source's webhooks (sealed); two may be valid during a rotation.
    webhook_secrets = SealedJSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    #: Why it is disabled, for the operator (e.g. "the demo's simulator has stopped").
    disabled_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.platform}, {self.base_url})"

    def __repr__(self) -> str:
        return f"<Source {self.name} {self.platform} {self.base_url}>"

    def setting(self, name: str, default: str = "") -> str:
        return str(self.settings.get(name, default))

    def credential(self, name: str) -> str:
        return str(self.credentials.get(name, ""))
