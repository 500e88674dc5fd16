"""Registering and listing sources."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from eduvault.connectors.models import Source
from eduvault.exceptions import InvalidInput, SourceNotFound


@transaction.atomic
def source_add(
    *,
    platform: str,
    name: str,
    base_url: str,
    client_id: str,
    client_secret: str,
    webhook_secret: str | None = None,
) -> Source:
    """Register a source. The secrets are stored, never printed."""
    if platform not in Source.Platform.values:
        raise InvalidInput(
            f"unknown platform {platform!r}; choose one of {', '.join(Source.Platform.values)}"
        )
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(
            f"the base URL {base_url!r} must be an http(s) URL such as https://lms.example.org"
        )
    if Source.objects.filter(name=name).exists():
        raise InvalidInput(f"a source named {name!r} already exists")
    source = Source(
        platform=platform,
        name=name,
        base_url=base_url.rstrip("/"),
        client_id=client_id,
        client_secret=client_secret,
        webhook_secrets=[webhook_secret] if webhook_secret else [],
    )
    try:
        source.full_clean()
    except ValidationError as exc:
        messages = [f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()]
        raise InvalidInput("; ".join(messages)) from None
    source.save()
    return source


def source_get(*, name: str) -> Source:
    try:
        return Source.objects.get(name=name)
    except Source.DoesNotExist:
        raise SourceNotFound(f"no source is registered under the name {name!r}") from None


@transaction.atomic
def source_point_to(*, name: str, base_url: str, client_id: str, client_secret: str) -> Source:
    """Point an existing source at a new address and credentials (the demo's simulator
    listens on a new port each time)."""
    source = source_get(name=name)
    source.base_url = base_url.rstrip("/")
    source.client_id = client_id
    source.client_secret = client_secret
    source.save(update_fields=["base_url", "client_id", "client_secret"])
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
