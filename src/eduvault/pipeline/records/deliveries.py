"""The ``records`` delivery channel: learner records to the platforms that hold them.

A delivery names a record, not a value: it sends the record as it is when it goes out, so
several changes within a window reach the platform as one write, and a delivery whose
platform already holds the value is done without a request. The platform's integration
writes (idempotently: writing what it holds changes nothing there); what it acknowledges is
remembered per record (the value it now holds, and the vector it had seen), so that the
platform's next change is known to follow ours.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import structlog
from django.db import transaction

from eduvault.cores.records import merge as merging
from eduvault.identity.models import Identity
from eduvault.integrations.base import RecordWrite, Written, records_writer
from eduvault.integrations.models import Source
from eduvault.pipeline.outbox.channels import Channel, Held, Sent, register
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.records.models import Record
from eduvault.pipeline.records.routing import CHANNEL, same_fields

log = structlog.get_logger(__name__)


@register(CHANNEL)
class RecordDeliveries(Channel):
    #: One batch of a platform's batch API (Canvas: update_grades).
    batch_size = 100
    lease_seconds = 300.0

    def hold(self, target: str) -> None:
        source = Source.objects.filter(name=target).first()
        if source is None:
            return  # sent below as a refusal: the source is gone
        if not source.enabled:
            raise Held(
                f"source {target} is disabled ({source.disabled_reason or 'by an operator'})", seconds=600
            )

    def send(self, target: str, deliveries: Sequence[Delivery]) -> list[Sent]:
        source = Source.objects.filter(name=target).first()
        if source is None:
            return [Sent(ok=False, permanent=True, error=f"no source {target}")] * len(deliveries)
        records = Record.objects.in_bulk({d.payload.get("record") for d in deliveries})
        identities = _identities(source, [r.person_id for r in records.values() if r.person_id])
        results: dict[int, Sent] = {}
        writes: dict[int, RecordWrite] = {}
        sent_vectors: dict[int, dict[str, int]] = {}
        for delivery in deliveries:
            record = records.get(delivery.payload.get("record"))
            if record is None or record.merged_into_id is not None:
                results[delivery.pk] = Sent(ok=True, excerpt="the record is gone (merged); nothing to send")
                continue
            held = (record.replicas.get(target) or {}).get("fields") or {}
            if same_fields(held, record.fields):
                results[delivery.pk] = Sent(ok=True, excerpt=f"{target} holds this value already")
                continue
            links = dict((record.replicas.get(target) or {}).get("links") or {})
            if not links.get("user_id"):
                identity = identities.get(record.person_id)
                if identity is None:
                    results[delivery.pk] = Sent(
                        ok=False,
                        permanent=True,
                        error=f"{record.holder} has no linked account on {target}; link one, then replay",
                    )
                    continue
                links["user_id"] = identity.external_id
            if record.pk not in writes:
                writes[record.pk] = RecordWrite(
                    record_id=record.pk, kind=record.kind, links=links, fields=dict(record.fields)
                )
                sent_vectors[record.pk] = dict(record.vector)
        if writes:
            writer = records_writer(source)
            try:
                order = list(writes)
                written = writer.write([writes[pk] for pk in order])
            finally:
                writer.close()
            if len(written) != len(order):
                raise RuntimeError(
                    f"{target}'s writer answered {len(written)} results for {len(order)} writes"
                )
            outcome = dict(zip(order, written))
            _remember(target, {pk: (w, sent_vectors[pk]) for pk, w in outcome.items() if w.ok})
            for delivery in deliveries:
                pk = delivery.payload.get("record")
                if delivery.pk not in results and pk in outcome:
                    results[delivery.pk] = _sent(outcome[pk])
        return [results[d.pk] for d in deliveries]


def _sent(written: Written) -> Sent:
    return Sent(
        ok=written.ok,
        status_code=written.status_code,
        excerpt=", ".join(f"{k}={v}" for k, v in written.held.items())[:300] if written.ok else "",
        error=written.error,
        permanent=written.permanent,
        retry_after=written.retry_after,
    )


def _identities(source: Source, person_ids: Sequence[int]) -> dict[int, Identity]:
    rows = Identity.objects.filter(
        platform=source.platform,
        realm=source.name,
        person_id__in=set(person_ids),
        state=Identity.State.LINKED,
    )
    return {i.person_id: i for i in rows if i.person_id is not None}


def _remember(target: str, acknowledged: dict[int, tuple[Written, dict[str, int]]]) -> None:
    """The platform holds what we wrote, as of the vector we sent: the next change it
    reports after that time has seen it."""
    if not acknowledged:
        return
    with transaction.atomic():
        for record in Record.objects.select_for_update().filter(pk__in=list(acknowledged)):
            written, vector = acknowledged[record.pk]
            replica: dict[str, Any] = record.replicas.setdefault(target, {})
            replica["fields"] = {**replica.get("fields", {}), **(written.held or {})}
            at = written.at if written.at is not None else time.time()
            replica["acks"] = merging.acknowledge(replica.get("acks", []), at=at, vector=vector)
            Record.objects.filter(pk=record.pk).update(replicas=record.replicas)
    log.info("records.acknowledged", target=target, records=len(acknowledged))
