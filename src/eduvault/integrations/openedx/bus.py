"""A consumer of the Open edX event bus on Redis Streams (edx-event-bus-redis's format).

Each stream entry carries the event's metadata as fields (``type``, ``id``, ``source``,
``time``, ``sourcehost``, ``minorversion``, ``sourcelib``) and its data Avro-encoded in
``event_data``, with the schema openedx-events derives from the event's signal. The
consumer reads with a consumer group, decodes each message into the work it asks for, has
it stored (``store``: the inbox, given by whoever runs the consumer) and only then
acknowledges it; a message it cannot store stays pending and is read again. (The
platform's own consumer acknowledges even on failure; this one does not.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

import redis
import structlog

from eduvault.integrations.base import Arrival
from eduvault.integrations.models import Source
from eduvault.integrations.openedx.events import parse_cloud_event
from eduvault.kernel.errors import UnknownEventType

#: Stores an arrival (in the inbox); True if it was new, False for a duplicate.
Store = Callable[[Arrival], bool]

log = structlog.get_logger(__name__)

HEADERS = ("type", "id", "source", "time", "sourcehost", "minorversion", "sourcelib")


class UnusableMessage(Exception):
    """A message that can never be stored (no type, undecodable data)."""


def _jsonable(value: Any) -> Any:
    """Event data (attrs classes, opaque keys, datetimes) as plain JSON values."""
    import attr

    if attr.has(type(value)):
        return {f.name: _jsonable(getattr(value, f.name)) for f in attr.fields(type(value))}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # opaque keys (UsageKey, CourseKey), UUIDs


@functools.cache
def _load_signals() -> None:
    """openedx-events registers each event type when its signals module is imported."""
    from openedx_events.tooling import load_all_signals

    load_all_signals()


def cloud_event_of(fields: dict[bytes, bytes]) -> dict[str, Any]:
    """A stream entry → the CloudEvent the webhook would have carried."""
    from openedx_events.event_bus.avro.deserializer import deserialize_bytes_to_event_data
    from openedx_events.tooling import OpenEdxPublicSignal

    headers = {name: fields[name.encode()].decode() for name in HEADERS if name.encode() in fields}
    event_type = headers.get("type")
    if not event_type or not headers.get("id") or b"event_data" not in fields:
        raise UnusableMessage(
            f"the message lacks type, id or event_data (has {sorted(k.decode() for k in fields)})"
        )
    _load_signals()
    try:
        signal = OpenEdxPublicSignal.get_signal_by_type(event_type)
    except KeyError:
        raise UnknownEventType(f"openedx-events has no signal for {event_type!r}") from None
    try:
        data = deserialize_bytes_to_event_data(fields[b"event_data"], signal)
    except Exception as exc:
        raise UnusableMessage(f"event_data is not valid Avro for {event_type}: {exc}") from exc
    document: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(UUID(headers["id"])) if _is_uuid(headers["id"]) else headers["id"],
        "source": headers.get("source", "openedx"),
        "type": event_type,
        "time": headers.get("time"),
        "datacontenttype": "application/json",
        "data": _jsonable(data),
    }
    for extension in ("sourcehost", "minorversion", "sourcelib"):
        if extension in headers:
            document[extension] = headers[extension]
    return document


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


class BusConsumer:
    def __init__(
        self,
        *,
        client: redis.Redis,
        source: Source,
        topics: list[str],
        group: str = "eduvault",
        consumer: str = "eduvault-1",
        block_ms: int = 2000,
        claim_idle_ms: int = 60_000,
        store: Store,
    ) -> None:
        self.redis = client
        self.source = source
        self.topics = topics
        self.group = group
        self.consumer = consumer
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.store = store
        self.stats = {"stored": 0, "duplicates": 0, "skipped": 0, "unusable": 0, "failed": 0}

    def ensure_groups(self) -> None:
        for topic in self.topics:
            try:
                self.redis.xgroup_create(topic, self.group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def handle(self, topic: str, msg_id: bytes, fields: dict[bytes, bytes]) -> bool:
        """Store one message; True if it may be acknowledged."""
        try:
            arrival = parse_cloud_event(cloud_event_of(fields))
        except UnknownEventType as exc:
            # A type Edu Vault does not act on (e.g. xblock.duplicated on the same topic):
            # acknowledged, and said so.
            self.stats["skipped"] += 1
            log.info("bus.skipped", topic=topic, message=msg_id.decode(), reason=exc.detail)
            return True
        except (UnusableMessage, Exception) as exc:
            self.stats["unusable"] += 1
            log.error("bus.unusable", topic=topic, message=msg_id.decode(), error=str(exc))
            return False  # left pending: visible with XPENDING, never silently dropped
        try:
            created = self.store(arrival)
        except Exception as exc:
            self.stats["failed"] += 1
            log.warning("bus.store_failed", topic=topic, message=msg_id.decode(), error=str(exc))
            return False
        self.stats["stored" if created else "duplicates"] += 1
        return True

    def _process(self, response: list[Any]) -> int:
        handled = 0
        for stream, entries in response or []:
            topic = stream.decode() if isinstance(stream, bytes) else stream
            for msg_id, fields in entries:
                if fields is None:  # deleted from the stream while pending
                    self.redis.xack(topic, self.group, msg_id)
                    continue
                if self.handle(topic, msg_id, fields):
                    self.redis.xack(topic, self.group, msg_id)
                    handled += 1
        return handled

    def run(self, *, once: bool = False, should_stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
        """Consume until stopped (or, with ``once``, until no message is waiting)."""
        self.ensure_groups()
        # First what this consumer read before and never acknowledged, then what other
        # consumers left pending for too long (they died), then new messages.
        self._process(self.redis.xreadgroup(self.group, self.consumer, {t: "0" for t in self.topics}))
        for topic in self.topics:
            try:
                _, claimed, *_ = self.redis.xautoclaim(
                    topic, self.group, self.consumer, self.claim_idle_ms, "0-0"
                )
                self._process([(topic, claimed)])
            except redis.ResponseError:  # Redis < 6.2
                pass
        while not should_stop():
            response = self.redis.xreadgroup(
                self.group,
                self.consumer,
                {t: ">" for t in self.topics},
                count=100,
                block=None if once else self.block_ms,
            )
            if not response:
                if once:
                    break
                continue
            self._process(response)
        return self.stats


def consume(
    *,
    redis_url: str,
    source: Source,
    topics: list[str],
    group: str,
    consumer: str,
    once: bool,
    store: Store,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    client = redis.Redis.from_url(redis_url)
    try:
        consumer_ = BusConsumer(
            client=client, source=source, topics=topics, group=group, consumer=consumer, store=store
        )
        return consumer_.run(once=once, should_stop=should_stop)
    finally:
        client.close()
