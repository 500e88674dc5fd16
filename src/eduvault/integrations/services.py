"""Registering sources, and keeping their secrets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import structlog
from django.core.exceptions import ValidationError
from django.db import transaction

from eduvault.integrations.base import integration_class, integration_for
from eduvault.integrations.models import Source
from eduvault.kernel.errors import InvalidInput, SourceError, SourceNotFound

log = structlog.get_logger(__name__)


def source_add(
    *, platform: str, name: str, base_url: str, webhook_secret: str | None = None, **values: Any
) -> Source:
    """Register a source of ``platform``; ``values`` are what its integration asks for
    (settings and secrets). The secrets are sealed, never printed."""
    integration = integration_class(platform)
    settings, secrets = integration.check_values(values)
    if integration.requires_webhook_secret and not webhook_secret:
        raise InvalidInput(f"a {integration.title} source needs --webhook-secret (it signs the source's webhooks)")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(
            f"the base URL {base_url!r} must be an http(s) URL such as https://lms.example.org"
        )
    if name == "eduvault":  # the records hub's own replica: a source of that name would be it
        raise InvalidInput("the name 'eduvault' is Edu Vault's own; give the source another name")
    if Source.objects.filter(name=name).exists():
        raise InvalidInput(f"a source named {name!r} already exists")
    source = Source(
        platform=platform,
        name=name,
        base_url=base_url.rstrip("/"),
        settings=settings,
        credentials=secrets,
        webhook_secrets=[webhook_secret] if webhook_secret else [],
    )
    try:
        source.full_clean(exclude=["credentials", "webhook_secrets"])
    except ValidationError as exc:
        messages = [f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()]
        raise InvalidInput("; ".join(messages)) from None
    with transaction.atomic():
        source.save()
    # What the platform says of itself (outside the transaction: it is a network call).
    try:
        learned = integration_for(source).discover()
    except SourceError as exc:
        log.warning("source.discover_failed", source=name, error=str(exc))
        learned = {}
    if learned:
        source.settings = {**learned, **source.settings}
        source.save(update_fields=["settings"])
    return source


def source_get(*, name: str) -> Source:
    try:
        return Source.objects.get(name=name)
    except Source.DoesNotExist:
        raise SourceNotFound(f"no source is registered under the name {name!r}") from None


@transaction.atomic
def source_point_to(*, name: str, base_url: str, **values: Any) -> Source:
    """Point an existing source at a new address and credentials, and enable it (the
    demo's simulator listens on a new port each time)."""
    source = source_get(name=name)
    settings, secrets = integration_class(source.platform).check_values(values)
    source.base_url = base_url.rstrip("/")
    source.settings = {**source.settings, **settings}
    source.credentials = {**source.credentials, **secrets}
    source.enabled, source.disabled_reason = True, ""
    source.save(update_fields=["base_url", "settings", "credentials", "enabled", "disabled_reason"])
    return source


@transaction.atomic
def source_disable(*, name: str, reason: str) -> Source:
    """Stop syncing from and accepting events of a source, saying why."""
    source = source_get(name=name)
    source.enabled, source.disabled_reason = False, reason
    source.save(update_fields=["enabled", "disabled_reason"])
    return source


@transaction.atomic
def source_enable(*, name: str) -> Source:
    source = source_get(name=name)
    source.enabled, source.disabled_reason = True, ""
    source.save(update_fields=["enabled", "disabled_reason"])
    return source


@transaction.atomic
def source_webhook_secret_set(*, name: str, secret: str, keep_previous: bool = True) -> Source:
    """Make ``secret`` the source's webhook secret; with ``keep_previous`` the current one stays
    valid too (a rotation: the platform may still sign with it for a while). At most two."""
    if len(secret) < 16:
        raise InvalidInput(
            "a webhook secret needs at least 16 characters (e.g. whsec_ and 32 random bytes, base64)"
        )
    source = Source.objects.select_for_update().get(pk=source_get(name=name).pk)
    previous = [s for s in source.webhook_secrets if s != secret][:1] if keep_previous else []
    source.webhook_secrets = [secret, *previous]
    source.save(update_fields=["webhook_secrets"])
    return source
