"""Outbound webhooks: each subscription gets every change its filters and scope let
through, in feed order, one at a time, signed with Standard Webhooks.

A delivery carries a stable id (``<subscription>:<cursor>``, the ``webhook-id`` header and
the CloudEvent id), so a receiver can drop the duplicates retries may cause. Failures retry
with exponential backoff and jitter (capped at an hour); a subscription failing for
``EDUVAULT_WEBHOOK_DISABLE_AFTER_SECONDS`` (a day) is disabled with the reason. Every attempt
is logged: status, latency, a response excerpt. Destinations are checked at creation and at
every delivery, and the connection goes to the address that was checked: private, loopback
and link-local addresses are refused unless ``EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS`` allows
them, so the service cannot be turned against the school's own network.
"""

from __future__ import annotations

import base64
import ipaddress
import random
import secrets
import socket
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from eduvault import __version__
from eduvault.core.models import ApiToken
from eduvault.core.processes import process_gone, this_process
from eduvault.exceptions import InvalidInput, NotFound
from eduvault.feed.models import DeliveryAttempt, Subscription
from eduvault.feed.selectors import FeedEntry, Scope, feed_read
from eduvault.feed.services import feed_head
from eduvault.inbox.signatures import headers_for

log = structlog.get_logger(__name__)

OPS = ("create", "update", "move", "delete")
EVENT_TYPE = "org.eduvault.course.change.v1"
#: How many changes one delivery round sends to one subscription before moving on.
ROUND = 100


class SubscriptionNotFound(NotFound):
    """No such subscription."""


class DestinationRefused(InvalidInput):
    """The destination is not allowed."""

    status = 422


# -- destinations ------------------------------------------------------------------------


def _allowed(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    for entry in settings.EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS:
        if entry.lower() == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def resolve_destination(url: str) -> tuple[str, str]:
    """Check a destination URL; return (the URL with the checked address, the host name).

    Raises :class:`DestinationRefused` for other schemes, credentials in the URL, and
    hosts that resolve to a private, loopback, link-local, multicast or reserved address
    (unless allowed).
    """
    shown = url if len(url) <= 200 else url[:200] + "..."
    try:
        parts = urlsplit(url)
        given_port = parts.port
    except ValueError as exc:  # a port out of range, a broken IPv6 literal
        raise DestinationRefused(f"url: {shown!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused(f"url: the destination must be an http(s) URL, not {shown!r}")
    if parts.username or parts.password:
        raise DestinationRefused("url: the destination URL must not carry credentials")
    host = parts.hostname
    port = given_port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DestinationRefused(f"the destination host {host!r} does not resolve ({exc.strerror})") from None
    except (UnicodeError, ValueError) as exc:  # a label over 63 characters, a NUL
        raise DestinationRefused(f"url: {host[:100]!r} is not a valid host name ({exc})") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if _allowed(host, address):
            continue
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        ):
            raise DestinationRefused(
                f"the destination {host!r} resolves to {address}, a private or local address; "
                "allow it with EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS if it is meant to be reached"
            )
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{given_port}" if given_port else literal
    return urlunsplit(parts._replace(netloc=netloc)), host


# -- managing subscriptions --------------------------------------------------------------


def _choices(values: list[str], allowed: tuple[str, ...] | None, what: str) -> list[str]:
    values = sorted({v for v in values if v})
    if allowed is not None:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise InvalidInput(f"unknown {what}: {', '.join(unknown)}; choose from {', '.join(allowed)}")
    return values


@transaction.atomic
def subscription_create(
    *,
    name: str,
    url: str,
    courses: list[str] | None = None,
    kinds: list[str] | None = None,
    ops: list[str] | None = None,
    token: ApiToken | None = None,
    from_start: bool = False,
) -> tuple[Subscription, str]:
    """Create a subscription; returns it with its secret (shown this once)."""
    if not name.strip():
        raise InvalidInput("a subscription needs a name")
    if Subscription.objects.filter(name=name).exists():
        raise InvalidInput(f"a subscription named {name!r} already exists")
    resolve_destination(url)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    subscription = Subscription.objects.create(
        name=name,
        url=url,
        secret=secret,
        token=token,
        courses=_choices(courses or [], None, "course"),
        kinds=_choices(kinds or [], None, "kind"),
        ops=_choices(ops or [], OPS, "operation"),
        cursor=0 if from_start else feed_head(),
    )
    return subscription, secret


def subscription_get(*, name_or_id: str | int) -> Subscription:
    found = Subscription.objects.filter(
        Q(name=str(name_or_id)) | Q(pk=int(name_or_id) if str(name_or_id).isdigit() else -1)
    ).first()
    if found is None:
        raise SubscriptionNotFound(f"there is no subscription {name_or_id!r}")
    return found


def subscription_delete(*, subscription: Subscription) -> None:
    subscription.delete()


def subscription_enable(*, subscription: Subscription) -> Subscription:
    """Turn a disabled subscription back on; it resumes from where it stopped."""
    Subscription.objects.filter(pk=subscription.pk).update(
        enabled=True,
        disabled_reason="",
        disabled_at=None,
        attempts=0,
        next_attempt_at=None,
        failing_since=None,
    )
    subscription.refresh_from_db()
    return subscription


def scope_of(subscription: Subscription) -> Scope:
    scope = Scope.of(subscription.token, courses=subscription.courses, kinds=subscription.kinds)
    return scope


# -- delivering ------------------------------------------------------------------------------


def _claim(subscription_id: int, owner: str) -> Subscription | None:
    now = timezone.now()
    lease = now + timedelta(seconds=max(60.0, settings.EDUVAULT_WEBHOOK_TIMEOUT * ROUND))
    holder = this_process()
    claimed = Subscription.objects.filter(
        Q(pk=subscription_id, enabled=True),
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
    ).update(lease_owner=owner, lease_expires_at=lease, lease_host=holder.host, lease_process=holder.process)
    return Subscription.objects.filter(pk=subscription_id).first() if claimed else None


def _release(subscription: Subscription, owner: str, **fields: Any) -> None:
    Subscription.objects.filter(pk=subscription.pk, lease_owner=owner).update(
        lease_owner="", lease_expires_at=None, lease_host="", lease_process="", **fields
    )


def subscription_leases_reclaim() -> int:
    """Release at once the subscriptions that a dead process of this machine was delivering
    (see :func:`eduvault.inbox.services.leases_reclaim`); returns how many."""
    me = this_process()
    held = Subscription.objects.filter(lease_host=me.host, lease_expires_at__isnull=False).exclude(
        lease_process__in=("", me.process)
    )
    gone = [p for p in held.values_list("lease_process", flat=True).distinct() if process_gone(p)]
    if not gone:
        return 0
    released = held.filter(lease_process__in=gone).update(
        lease_owner="", lease_expires_at=None, lease_host="", lease_process=""
    )
    log.warning("webhooks.leases_reclaimed", subscriptions=released, processes=gone)
    return released


def delivery_body(subscription: Subscription, entry: FeedEntry) -> tuple[str, bytes]:
    delivery_id = f"{subscription.pk}:{entry.cursor}"
    body = orjson.dumps(
        {
            "specversion": "1.0",
            "id": delivery_id,
            "source": "eduvault",
            "type": EVENT_TYPE,
            "time": timezone.now().isoformat(),
            "datacontenttype": "application/json",
            "data": orjson.Fragment(entry.json),
        }
    )
    return delivery_id, body


def subscription_deliver(*, subscription_id: int, owner: str) -> str:
    """Deliver, in order, up to a round of the changes this subscription has not had yet.
    Returns what happened: idle, delivered, retrying, disabled or busy."""
    subscription = _claim(subscription_id, owner)
    if subscription is None:
        return "busy"
    scope = scope_of(subscription)
    ops = set(subscription.ops)
    delivered = 0
    cursor = subscription.cursor
    head = feed_head()  # read first: every change up to it has committed
    entries = feed_read(after=cursor, limit=ROUND, scope=scope, upto=head)
    for entry in entries:
        if ops and entry.op not in ops:
            cursor = entry.cursor
            continue
        ok, failure = _post(subscription, entry)
        if not ok:
            Subscription.objects.filter(pk=subscription.pk).update(cursor=cursor)
            return _failed(subscription, owner, failure)
        cursor = entry.cursor
        delivered += 1
        Subscription.objects.filter(pk=subscription.pk).update(cursor=cursor, attempts=0, failing_since=None)
    if len(entries) < ROUND:
        cursor = max(cursor, head)  # nothing else up to the head is for this subscription
    _release(subscription, owner, cursor=cursor)
    if delivered:
        log.info("webhooks.delivered", subscription=subscription.name, deliveries=delivered, cursor=cursor)
    return "delivered" if delivered else "idle"


def _post(subscription: Subscription, entry: FeedEntry) -> tuple[bool, str]:
    delivery_id, body = delivery_body(subscription, entry)
    attempt = subscription.attempts + 1
    started = time.perf_counter()
    status_code, excerpt, error = None, "", ""
    try:
        target, host = resolve_destination(subscription.url)
        headers = {
            "Content-Type": "application/cloudevents+json",
            "User-Agent": f"eduvault/{__version__}",
            "Host": host,
            **headers_for(subscription.secret, delivery_id, body),
        }
        with httpx.Client(timeout=settings.EDUVAULT_WEBHOOK_TIMEOUT, follow_redirects=False) as client:
            # To the address that was checked, under the host's own name (Host header, TLS SNI).
            response = client.post(target, content=body, headers=headers, extensions={"sni_hostname": host})
        status_code, excerpt = response.status_code, response.text[:500]
        ok = 200 <= response.status_code < 300
        if not ok:
            error = f"answered {response.status_code}"
    except DestinationRefused as exc:
        ok, error = False, exc.detail
    except httpx.HTTPError as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"
    latency = int((time.perf_counter() - started) * 1000)
    DeliveryAttempt.objects.create(
        subscription=subscription,
        delivery_id=delivery_id,
        cursor=entry.cursor,
        attempt=attempt,
        status_code=status_code,
        ok=ok,
        latency_ms=latency,
        response_excerpt=excerpt,
        error=error,
    )
    return ok, error


def _failed(subscription: Subscription, owner: str, failure: str) -> str:
    now = timezone.now()
    attempts = subscription.attempts + 1
    failing_since = subscription.failing_since or now
    if (now - failing_since).total_seconds() >= settings.EDUVAULT_WEBHOOK_DISABLE_AFTER_SECONDS:
        reason = f"failing since {failing_since:%Y-%m-%d %H:%M} UTC ({attempts} attempts); last: {failure}"
        _release(
            subscription,
            owner,
            enabled=False,
            disabled_reason=reason,
            disabled_at=now,
            attempts=attempts,
            failing_since=failing_since,
        )
        log.warning("webhooks.disabled", subscription=subscription.name, reason=reason)
        return "disabled"
    ceiling = min(3600.0, settings.EDUVAULT_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    _release(
        subscription,
        owner,
        attempts=attempts,
        failing_since=failing_since,
        next_attempt_at=now + timedelta(seconds=delay),
    )
    log.warning(
        "webhooks.failed",
        subscription=subscription.name,
        attempts=attempts,
        error=failure,
        retry_in_s=round(delay, 1),
    )
    return "retrying"


def deliveries_run(*, owner: str) -> dict[str, int]:
    """One pass over every enabled subscription that is due (the deliverer loop calls this)."""
    now = timezone.now()
    due = Subscription.objects.filter(
        Q(enabled=True),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(cursor__lt=feed_head()),
    ).values_list("pk", flat=True)
    outcomes: dict[str, int] = {}
    for subscription_id in list(due):
        state = subscription_deliver(subscription_id=subscription_id, owner=owner)
        outcomes[state] = outcomes.get(state, 0) + 1
    return outcomes
