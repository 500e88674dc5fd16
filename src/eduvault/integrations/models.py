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


class ToolKey(models.Model):
    """A key pair of Edu Vault as an LTI tool: it signs client assertions and deep-linking
    responses; its public half is published at ``/lti/jwks``. The newest unretired one signs;
    older ones stay published until retired, so a platform's cached key set keeps working
    through a rotation."""

    kid = models.CharField(max_length=64, unique=True)
    #: ``{"pem": …}``: the private key (PKCS#8 PEM), sealed at rest.
    private = SealedJSONField(default=dict)
    #: The public JWK (kty, n, e, kid, alg, use).
    public_jwk = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"tool key {self.kid}"


class LtiLogin(models.Model):
    """One OIDC login initiated by a platform: the ``state`` and ``nonce`` Edu Vault issued,
    kept server-side (no cookie: a tool in an LMS iframe may not have one), each usable
    once, bound to the platform and the login that issued them."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=64, unique=True)
    nonce = models.CharField(max_length=64, unique=True)
    login_hint = models.CharField(max_length=500, blank=True)
    target_link_uri = models.CharField(max_length=2000, blank=True)
    deployment_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    #: When the launch that used it arrived (a second launch with it is refused).
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"login {self.state[:8]}… of {self.source_id}"
