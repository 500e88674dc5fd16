"""Outbound webhooks: each subscription gets every feed entry its filters and scope let
through, in feed order, signed with Standard Webhooks, through the outbox.

The subscription pump turns the entries after a subscription's cursor into outbox
deliveries and moves the cursor, in one transaction (so each entry becomes exactly one
delivery); the outbox sends them one at a time per subscription, in order, retrying with
backoff. A delivery carries a stable id (``<subscription>:<cursor>``: the ``webhook-id``
header, the CloudEvent id and the outbox's idempotency key), so a receiver can drop the
duplicates retries may cause. A subscription failing for
``EDUVAULT_WEBHOOK_DISABLE_AFTER_SECONDS`` (a day) is disabled with the reason; its
deliveries wait until it is enabled again. Every attempt is logged (status, latency, a
response excerpt). Destinations are checked at creation and at every delivery, and the
connection goes to the address that was checked: private, loopback and link-local addresses
are refused unless ``EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS`` allows them, so the service
cannot be turned against the school's own network.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
import time
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from eduvault import __version__
from eduvault.identity.models import ApiToken
from eduvault.kernel.errors import InvalidInput, NotFound
from eduvault.kernel.signing import headers_for
from eduvault.pipeline.feed import broadcast
from eduvault.pipeline.feed.models import Subscription
from eduvault.pipeline.feed.selectors import Scope, feed_head, feed_read
from eduvault.pipeline.outbox.channels import Channel, Held, Sent, register
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.outbox.services import Outgoing, deliveries_enqueue, target_discard, target_resume

log = structlog.get_logger(__name__)

OPS = ("create", "update", "move", "delete")
EVENT_TYPE = "org.eduvault.course.change.v1"
CHANNEL = "webhook"
#: How many entries one pass of the pump turns into deliveries for one subscription.
PUMP_BATCH = 500


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
    """Create a subscription; returns it with its secret (shown this once, stored encrypted)."""
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
    transaction.on_commit(pump_wake)
    return subscription, secret


def subscription_get(*, name_or_id: str | int) -> Subscription:
    found = Subscription.objects.filter(
        Q(name=str(name_or_id)) | Q(pk=int(name_or_id) if str(name_or_id).isdigit() else -1)
    ).first()
    if found is None:
        raise SubscriptionNotFound(f"there is no subscription {name_or_id!r}")
    return found


@transaction.atomic
def subscription_delete(*, subscription: Subscription) -> None:
    """Delete a subscription and the deliveries it has not had."""
    target_discard(target=subscription.target)
    subscription.delete()


@transaction.atomic
def subscription_enable(*, subscription: Subscription) -> Subscription:
    """Turn a disabled subscription back on; its deliveries resume from where they stopped."""
    Subscription.objects.filter(pk=subscription.pk).update(enabled=True, disabled_reason="", disabled_at=None)
    target_resume(target=subscription.target)
    subscription.refresh_from_db()
    return subscription


def scope_of(subscription: Subscription) -> Scope:
    return Scope.of(subscription.token, courses=subscription.courses, kinds=subscription.kinds)


# -- the pump: feed entries into deliveries ----------------------------------------------------


def subscription_pump(*, subscription_id: int, head: int) -> int:
    """Turn the next entries after the subscription's cursor (up to ``head``) into
    deliveries, and move the cursor, in one transaction. Returns how many deliveries."""
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update().filter(pk=subscription_id, enabled=True).first()
        )
        if subscription is None or subscription.cursor >= head:
            return 0
        entries = feed_read(
            after=subscription.cursor, limit=PUMP_BATCH, scope=scope_of(subscription), upto=head
        )
        ops = set(subscription.ops)
        wanted = [orjson.loads(e.json) for e in entries if not ops or e.op in ops]
        deliveries_enqueue(
            deliveries=[
                Outgoing(
                    target=subscription.target,
                    channel=CHANNEL,
                    idempotency_key=f"{subscription.pk}:{entry['cursor']}",
                    payload={"entry": entry},
                    priority=entry["priority"],
                    summary=f"{entry['op']} {entry['kind']} {entry['id']}"[:300],
                )
                for entry in wanted
            ]
        )
        # A short page means every entry up to the head was looked at.
        cursor = entries[-1].cursor if len(entries) == PUMP_BATCH else head
        Subscription.objects.filter(pk=subscription.pk).update(cursor=cursor)
    return len(wanted)


def subscriptions_pump() -> dict[str, int]:
    """Bring every enabled subscription up to the feed's head."""
    head = feed_head()  # read first: every entry up to it has committed
    queued = 0
    for subscription_id in Subscription.objects.filter(enabled=True, cursor__lt=head).values_list(
        "pk", flat=True
    ):
        while True:
            n = subscription_pump(subscription_id=subscription_id, head=head)
            queued += n
            if n < PUMP_BATCH:
                break
    if queued:
        log.info("webhooks.queued", deliveries=queued, head=head)
    return {"queued": queued}


def pump_wake() -> None:
    """Wake this process's pump (a subscription was created: it may start from the beginning)."""
    broadcast.wake_listeners()


# -- the channel: sending one delivery ---------------------------------------------------------


def delivery_body(delivery_id: str, entry_json: bytes) -> bytes:
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": delivery_id,
            "source": "eduvault",
            "type": EVENT_TYPE,
            "time": timezone.now().isoformat(),
            "datacontenttype": "application/json",
            "data": orjson.Fragment(entry_json),
        }
    )


def _subscription_of(target: str) -> Subscription | None:
    try:
        subscription_id = int(target.removeprefix("subscription:"))
    except ValueError:
        return None
    return Subscription.objects.select_related("token").filter(pk=subscription_id).first()


@register(CHANNEL)
class Webhooks(Channel):
    """Signed CloudEvents POSTed to a subscription's URL, one at a time, in feed order; a
    subscription is never given up on by attempts, only disabled after a day of failing."""

    ordered = True
    max_attempts = 0
    lease_seconds = 60.0

    def hold(self, target: str) -> None:
        subscription = _subscription_of(target)
        if subscription is None:
            raise Held("the subscription was deleted", seconds=86400)
        if not subscription.enabled:
            raise Held(f"the subscription is disabled: {subscription.disabled_reason}", seconds=86400)

    def send(self, target: str, deliveries: Sequence[Delivery]) -> list[Sent]:
        subscription = _subscription_of(target)
        assert subscription is not None  # checked by hold()
        return [self._post(subscription, d) for d in deliveries]

    def _post(self, subscription: Subscription, delivery: Delivery) -> Sent:
        entry = delivery.payload["entry"]
        body = delivery_body(delivery.idempotency_key, orjson.dumps(entry))
        started = time.perf_counter()
        status_code, excerpt, error = None, "", ""
        try:
            url, host = resolve_destination(subscription.url)
            headers = {
                "Content-Type": "application/cloudevents+json",
                "User-Agent": f"eduvault/{__version__}",
                "Host": host,
                **headers_for(subscription.secret, delivery.idempotency_key, body),
            }
            with httpx.Client(timeout=settings.EDUVAULT_WEBHOOK_TIMEOUT, follow_redirects=False) as client:
                # To the address that was checked, under the host's own name (Host header, TLS SNI).
                response = client.post(url, content=body, headers=headers, extensions={"sni_hostname": host})
            status_code, excerpt = response.status_code, response.text[:500]
            ok = 200 <= response.status_code < 300
            if not ok:
                error = f"answered {response.status_code}"
        except DestinationRefused as exc:
            ok, error = False, exc.detail
        except httpx.HTTPError as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"
        latency = int((time.perf_counter() - started) * 1000)
        return Sent(ok=ok, status_code=status_code, excerpt=excerpt, error=error, latency_ms=latency)

    def failing(self, target: str, since: datetime, last: Sent) -> None:
        now = timezone.now()
        if (now - since).total_seconds() < settings.EDUVAULT_WEBHOOK_DISABLE_AFTER_SECONDS:
            return
        subscription = _subscription_of(target)
        if subscription is None or not subscription.enabled:
            return
        reason = f"failing since {since:%Y-%m-%d %H:%M} UTC; last: {last.error}"
        Subscription.objects.filter(pk=subscription.pk).update(
            enabled=False, disabled_reason=reason, disabled_at=now
        )
        log.warning("webhooks.disabled", subscription=subscription.name, reason=reason)
