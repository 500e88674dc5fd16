"""The Open edX event bus, simulated: Avro-encoded openedx-events on Redis Streams, in the
format edx-event-bus-redis produces (metadata as stream fields, data in ``event_data``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import redis


def xblock_message(
    event_type: str, usage_key: str, *, event_id: str | None = None, version: str | None = None
) -> dict[bytes, bytes]:
    """The stream entry for an ``xblock.published`` / ``xblock.deleted`` event."""
    from opaque_keys.edx.keys import UsageKey
    from openedx_events.content_authoring.data import XBlockData
    from openedx_events.event_bus.avro.serializer import serialize_event_data_to_bytes
    from openedx_events.tooling import OpenEdxPublicSignal, load_all_signals

    load_all_signals()
    signal = OpenEdxPublicSignal.get_signal_by_type(event_type)
    key = UsageKey.from_string(usage_key)
    data = {
        "xblock_info": XBlockData(
            usage_key=key,
            block_type=key.block_type,
            version=UsageKey.from_string(version) if version else None,
        )
    }
    headers = {
        "type": event_type,
        "id": event_id or str(uuid.uuid1()),
        "source": "openedx/cms/web",
        "sourcehost": "studio.simulator",
        "time": datetime.now(UTC).isoformat(),
        "minorversion": "0",
        "sourcelib": "10.5.0",
    }
    fields = {k.encode(): v.encode() for k, v in headers.items()}
    fields[b"event_data"] = serialize_event_data_to_bytes(data, signal)
    return fields


def publish(client: redis.Redis, stream: str, fields: dict[bytes, Any]) -> bytes:
    return client.xadd(stream, fields, maxlen=10_000, approximate=True)
