"""The Open edX event bus consumer on a real Redis: Avro messages into the inbox, and a
message is acknowledged only once it is stored."""

from __future__ import annotations

import uuid

import pytest
import redis
from eduvault_openedx import sender

from eduvault.integrations.openedx.bus import BusConsumer
from eduvault.integrations.openedx.simulator.bus import publish, xblock_message
from eduvault.integrations.services import source_add
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.services import arrival_store
from tests.services import REDIS_URL, require

pytestmark = pytest.mark.django_db

USAGE = "block-v1:MIE+MATH-F3+2026_T1+type@problem+block@{}"
DUPLICATED = "org.openedx.content_authoring.xblock.duplicated.v1"


@pytest.fixture
def bus():
    require(REDIS_URL, "redis")
    client = redis.Redis.from_url(REDIS_URL)
    stream = f"test-{uuid.uuid4().hex[:8]}-course-authoring-xblock-lifecycle"
    yield client, stream
    client.delete(stream)
    client.close()


@pytest.fixture
def lms(db):
    return source_add(
        platform="openedx", name="lms", base_url="http://lms.test", client_id="c", client_secret="s"
    )


def consumer(client, stream, source, store=None):
    if store is None:

        def store(arrival):
            return arrival_store(source=source, arrival=arrival, via=InboundEvent.Via.BUS)[1]

    return BusConsumer(
        client=client, source=source, topics=[stream], group="eduvault", consumer="c1", store=store
    )


def pending(client, stream) -> int:
    return client.xpending(stream, "eduvault")["pending"]


def test_messages_are_decoded_stored_and_acknowledged(bus, lms):
    client, stream = bus
    first_id = str(uuid.uuid1())
    publish(client, stream, xblock_message(sender.XBLOCK_PUBLISHED, USAGE.format("p1"), event_id=first_id))
    publish(client, stream, xblock_message(sender.XBLOCK_DELETED, USAGE.format("p2")))
    publish(
        client, stream, xblock_message(sender.XBLOCK_PUBLISHED, USAGE.format("p1"), event_id=first_id)
    )  # again
    stats = consumer(client, stream, lms).run(once=True)
    assert stats == {"stored": 2, "duplicates": 1, "skipped": 0, "unusable": 0, "failed": 0}
    assert pending(client, stream) == 0
    stored = InboundEvent.objects.get(event_id=first_id)
    assert (stored.type, stored.subject_key, stored.via, stored.status) == (
        sender.XBLOCK_PUBLISHED,
        "course-v1:MIE+MATH-F3+2026_T1",
        "bus",
        "pending",
    )
    assert stored.payload["data"] == {
        "xblock_info": {"usage_key": USAGE.format("p1"), "block_type": "problem", "version": None}
    }
    assert stored.payload["specversion"] == "1.0" and stored.payload["sourcelib"] == "10.5.0"


def test_a_message_that_cannot_be_stored_is_not_acknowledged(bus, lms):
    client, stream = bus
    publish(client, stream, xblock_message(sender.XBLOCK_PUBLISHED, USAGE.format("p1")))

    def database_down(arrival):
        raise ConnectionError("the database is unreachable")

    stats = consumer(client, stream, lms, store=database_down).run(once=True)
    assert stats["failed"] == 1 and pending(client, stream) == 1
    assert not InboundEvent.objects.exists()
    # Restarted with the database back, the consumer first re-reads what it left pending.
    stats = consumer(client, stream, lms).run(once=True)
    assert stats["stored"] == 1 and pending(client, stream) == 0
    assert InboundEvent.objects.count() == 1


def test_unusable_messages_stay_pending_and_other_types_are_skipped(bus, lms):
    client, stream = bus
    corrupt = xblock_message(sender.XBLOCK_PUBLISHED, USAGE.format("p1"))
    corrupt[b"event_data"] = b"\xff\x00 not avro"
    publish(client, stream, corrupt)
    publish(client, stream, _duplicated(USAGE.format("p3")))
    stats = consumer(client, stream, lms).run(once=True)
    assert (stats["unusable"], stats["skipped"], stats["stored"]) == (1, 1, 0)
    assert pending(client, stream) == 1  # the corrupt one: visible, never silently dropped
    assert not InboundEvent.objects.exists()


def _duplicated(usage_key):
    """xblock.duplicated: on the same topic, a type Edu Vault does not act on."""
    from opaque_keys.edx.keys import UsageKey
    from openedx_events.content_authoring.data import DuplicatedXBlockData
    from openedx_events.event_bus.avro.serializer import serialize_event_data_to_bytes
    from openedx_events.tooling import OpenEdxPublicSignal, load_all_signals

    load_all_signals()
    key = UsageKey.from_string(usage_key)
    data = {
        "xblock_info": DuplicatedXBlockData(usage_key=key, block_type=key.block_type, source_usage_key=key)
    }
    fields = {b"type": DUPLICATED.encode(), b"id": str(uuid.uuid1()).encode(), b"source": b"openedx/cms/web"}
    fields[b"event_data"] = serialize_event_data_to_bytes(
        data, OpenEdxPublicSignal.get_signal_by_type(DUPLICATED)
    )
    return fields
