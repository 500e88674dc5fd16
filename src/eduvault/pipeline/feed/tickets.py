"""Stream tickets: ``POST /api/v1/stream/tickets`` with an API token gives a ticket that opens
``GET /api/v1/stream?ticket=…`` once, within ``EDUVAULT_STREAM_TICKET_SECONDS``, with that
token's scope (narrowed by the courses and kinds asked for). The ticket is a random value;
only its SHA-256 is stored, and redeeming it is one conditional UPDATE, so two requests
racing with the same ticket cannot both open a stream. Tickets are never logged (the server
writes no access log, and its own lines name the path only)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from eduvault.identity.models import ApiToken
from eduvault.kernel.errors import AuthenticationFailed
from eduvault.pipeline.feed.models import StreamTicket
from eduvault.pipeline.feed.selectors import Scope

PREFIX = "evs_"
#: Expired tickets are deleted this long after they expire (when the next is issued).
KEEP = timedelta(hours=1)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def stream_ticket_issue(
    *, token: ApiToken, courses: Iterable[str] = (), kinds: Iterable[str] = ()
) -> tuple[str, datetime]:
    """A new ticket for ``token`` (returned once) and when it expires."""
    value = PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.EDUVAULT_STREAM_TICKET_SECONDS)
    with transaction.atomic():
        StreamTicket.objects.filter(expires_at__lt=now - KEEP).delete()
        StreamTicket.objects.create(
            key_hash=_digest(value),
            token=token,
            courses=sorted(set(courses)),
            kinds=sorted(set(kinds)),
            expires_at=expires_at,
        )
    return value, expires_at


def stream_ticket_redeem(*, value: str) -> Scope:
    """The scope a ticket opens the stream with; it cannot be used again. 401 if it is not
    a live, unused ticket of a live token."""
    if not value.startswith(PREFIX) or len(value) > 100:
        raise AuthenticationFailed("The stream ticket is malformed.")
    digest = _digest(value)
    now = timezone.now()
    # Conditions on the ticket's own row only: of two requests racing with one ticket, the
    # second finds it used when the first commits (PostgreSQL re-checks them), never both.
    spent = StreamTicket.objects.filter(key_hash=digest, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    ticket = StreamTicket.objects.select_related("token").filter(key_hash=digest).first() if spent == 1 else None
    if ticket is None or ticket.token.revoked_at is not None:
        raise AuthenticationFailed(
            "The stream ticket is unknown, expired or already used: ask POST /api/v1/stream/tickets for another."
        )
    return Scope.of(ticket.token, courses=ticket.courses, kinds=ticket.kinds)
