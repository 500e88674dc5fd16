"""One replica's side of the exchange: finding its own changes, choosing what the other side
has not seen, framing it in chunks, and applying the chunks it receives.

Both the server and a device run these; the HTTP around them is in :mod:`.services` (the
server's endpoints) and :mod:`.client` (the device's side).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from django.db import transaction

from eduvault.cores.records.replication import Seen, decide, merged_vector, unseen
from eduvault.cores.records.vectors import bump, check
from eduvault.cores.transfer import chunk_records, encode_chunk
from eduvault.kernel.errors import InvalidInput
from eduvault.learning.devices.kinds import ORDER, Arrival, Kind, Scope, digest, kinds
from eduvault.learning.devices.models import Entry, Replica, Seen as SeenRow, TransferChunk, TransferSession

log = structlog.get_logger(__name__)

_BATCH = 2000


def replica(*, lock: bool = False) -> Replica:
    """This replica (made on first use with a random name)."""
    rows = Replica.objects.select_for_update() if lock else Replica.objects
    row = rows.order_by("id").first()
    if row is None:
        Replica.objects.get_or_create(name=f"r-{uuid.uuid4().hex[:12]}")
        row = rows.order_by("id").first()
    assert row is not None
    return row


def replica_rename(name: str) -> None:
    """Take the name the server gave this device (before it has changed anything)."""
    row = replica(lock=True)
    row.name = name
    row.save(update_fields=["name"])


def seen_of(partitions: Iterable[str]) -> dict[str, dict[str, int]]:
    """What this replica has seen of ``partitions`` (its own changes included)."""
    partitions = sorted(set(partitions))
    me = replica()
    out: dict[str, dict[str, int]] = {p: {} for p in partitions}
    for i in range(0, len(partitions), 500):
        for p, r, n in SeenRow.objects.filter(partition__in=partitions[i : i + 500]).values_list(
            "partition", "replica", "counter"
        ):
            out[p][r] = n
    if me.counter:
        for p in partitions:
            out[p][me.name] = max(out[p].get(me.name, 0), me.counter)
    return out


def seen_join(theirs: Seen, partitions: Iterable[str]) -> None:
    """After a whole transfer: this replica has seen what the sender had."""
    me = replica().name
    for partition in partitions:
        for name, counter in theirs.get(partition, {}).items():
            if name == me:
                continue
            row, made = SeenRow.objects.get_or_create(
                partition=partition, replica=name, defaults={"counter": counter}
            )
            if not made and row.counter < counter:
                SeenRow.objects.filter(pk=row.pk).update(counter=counter)


# -- finding changes -------------------------------------------------------------------------


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def refresh(*, scope: Scope, kind_names: Iterable[str]) -> int:
    """Find what changed here since the last pass, in ``scope``: each new or changed object's
    entry takes this pass's counter (one counter per pass, however many changes). Returns
    how many entries changed. Memory holds one batch, whatever the number of objects."""
    started = time.monotonic()
    changed = 0
    with transaction.atomic():
        me = replica(lock=True)
        counter = me.counter + 1
        for name in kind_names:
            kind = kinds.get(name)
            for batch in _batched(kind.scan(scope), _BATCH):
                stored = {
                    e.key: e for e in Entry.objects.filter(kind=name, key__in=[key for key, _, _ in batch])
                }
                new, updated = [], []
                for key, partition, fingerprint in batch:
                    d = digest(fingerprint)
                    entry = stored.get(key)
                    if entry is None:
                        new.append(
                            Entry(
                                kind=name, key=key, partition=partition, vector={me.name: counter},
                                last=me.name, counter=counter, digest=d,
                            )
                        )
                    elif entry.digest != d or entry.partition != partition:
                        entry.vector = bump(entry.vector, me.name, counter)
                        entry.last, entry.counter, entry.digest, entry.partition = me.name, counter, d, partition
                        updated.append(entry)
                Entry.objects.bulk_create(new, batch_size=1000)
                Entry.objects.bulk_update(updated, ["vector", "last", "counter", "digest", "partition"], batch_size=1000)
                changed += len(new) + len(updated)
        if changed:
            me.counter = counter
            me.save(update_fields=["counter"])
    log.info("device.refresh", replica=me.name, changed=changed, duration_ms=int(1000 * (time.monotonic() - started)))
    return changed


# -- sending ---------------------------------------------------------------------------------


def _outgoing(*, scope: Scope, partitions: set[str], their_seen: Seen, kind_names: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The wire records the receiver has not seen, kind by kind in :data:`ORDER`."""
    wanted = [n for n in ORDER if n in set(kind_names)]
    for name in wanted:
        kind = kinds.get(name)
        entries = (
            Entry.objects.filter(kind=name, partition__in=sorted(partitions))
            .order_by("id")
            .values_list("key", "partition", "vector", "last", "counter")
        )
        pending = (
            e for e in entries.iterator(chunk_size=_BATCH)
            if unseen(partition=e[1], last=e[3], counter=e[4], seen=their_seen)
        )
        for batch in _batched(pending, _BATCH // 2):
            payloads = kind.load([e[0] for e in batch], scope)
            for key, partition, vector, last, counter in batch:
                payload = payloads.get(key)
                if payload is not None:
                    yield {"k": name, "key": key, "p": partition, "v": vector, "l": last, "c": counter, "d": payload}


def session_frames_build(
    *, session: TransferSession, scope: Scope, their_seen: Seen, kind_names: Iterable[str],
    target_bytes: int | None = None,
) -> None:
    """Frame what the receiver lacks into the session's chunks, stored (one chunk in memory
    at a time) so a resumed transfer resends exactly the same bytes."""
    from django.conf import settings

    target_bytes = target_bytes or settings.EDUVAULT_DEVICE_CHUNK_BYTES
    sid = session.id.bytes
    key = bytes.fromhex(session.key)
    seq = records = size = 0
    outgoing = _outgoing(
        scope=scope, partitions=set(session.partitions), their_seen=their_seen, kind_names=kind_names
    )
    for group in chunk_records(outgoing, target_bytes=target_bytes):
        frame = encode_chunk(session=sid, key=key, seq=seq, records=group)
        TransferChunk.objects.create(session=session, seq=seq, records=len(group), frame=frame)
        seq += 1
        records += len(group)
        size += len(frame)
    session.chunks, session.records, session.bytes = seq, records, size
    session.save(update_fields=["chunks", "records", "bytes", "updated_at"])


def session_key() -> str:
    return secrets.token_bytes(32).hex()


# -- receiving -------------------------------------------------------------------------------


def _check_record(record: dict[str, Any], *, allowed: set[str], up_only: bool) -> tuple[Kind, dict[str, Any]]:
    name = record.get("k")
    if not isinstance(name, str) or name not in kinds:
        raise InvalidInput(f"a record of unknown kind {name!r}")
    kind = kinds.get(name)
    if up_only and not kind.up:
        raise InvalidInput(f"a device does not send {name} records")
    payload = record.get("d")
    key, partition = record.get("key"), record.get("p")
    if not isinstance(payload, dict) or not isinstance(key, str) or not isinstance(partition, str):
        raise InvalidInput(f"a {name} record without its key, partition or data")
    if partition not in allowed:
        raise InvalidInput(f"a {name} record of {partition!r}, which is not this device's to send")
    try:
        if kind.partition_of(payload) != partition:
            raise InvalidInput(f"{name} {key!r} says partition {partition!r} but belongs to another")
        vector = check(record.get("v"))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} {key!r}: {exc}") from None
    counter, last = record.get("c"), record.get("l")
    if not isinstance(counter, int) or isinstance(counter, bool) or counter < 1 or not isinstance(last, str):
        raise InvalidInput(f"{name} {key!r}: no last change")
    if vector.get(last) != counter:
        raise InvalidInput(f"{name} {key!r}: its last change is not in its vector")
    return kind, payload


def records_apply(
    records: list[dict[str, Any]], *, context: Arrival, allowed: set[str], up_only: bool, scope: Scope
) -> dict[str, int]:
    """Apply one chunk's records (the caller's transaction): each taken, skipped or merged by
    its version vector. Anything malformed refuses the whole chunk (nothing applied)."""
    checked = [(_check_record(r, allowed=allowed, up_only=up_only), r) for r in records]
    outcome = {"taken": 0, "skipped": 0, "merged": 0}
    me = None
    for name in ORDER:
        group = [(kind, payload, r) for (kind, payload), r in checked if r["k"] == name]
        if not group:
            continue
        kind = group[0][0]
        stored = {e.key: e for e in Entry.objects.filter(kind=name, key__in=[r["key"] for _, _, r in group])}
        take: list[dict[str, Any]] = []
        new, updated = [], []
        for _, payload, r in group:
            entry = stored.get(r["key"])
            decision = decide(local=entry.vector if entry else None, incoming=r["v"])
            if decision == "skip":
                outcome["skipped"] += 1
                continue
            vector, last, counter = r["v"], r["l"], r["c"]
            if decision == "merge":
                if me is None:
                    me = replica(lock=True)
                    me.counter += 1
                    me.save(update_fields=["counter"])
                local = kind.load([r["key"]], scope).get(r["key"])
                payload = kind.merge(local, payload) if local is not None else payload
                vector = merged_vector(entry.vector, r["v"], me=me.name, counter=me.counter)
                last, counter = me.name, me.counter
                outcome["merged"] += 1
            else:
                outcome["taken"] += 1
            take.append(payload)
            d = digest(kind.fingerprint(payload))
            if entry is None:
                entry = Entry(kind=name, key=r["key"], partition=r["p"], vector=vector, last=last, counter=counter, digest=d)
                stored[r["key"]] = entry
                new.append(entry)
            else:
                entry.vector, entry.last, entry.counter, entry.digest = vector, last, counter, d
                updated.append(entry)
        if take:
            try:
                kind.apply(take, context)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise InvalidInput(f"{name} records are malformed ({type(exc).__name__}: {exc})") from None
        Entry.objects.bulk_create(new, batch_size=1000)
        Entry.objects.bulk_update(updated, ["vector", "last", "counter", "digest"], batch_size=1000)
    return outcome


def everything() -> Scope:
    """A device's own scope: every course it holds, every learner in them."""
    from eduvault.pipeline.content.models import Course

    return Scope(courses=tuple(Course.objects.values_list("key", flat=True)), people=None)


__all__ = [
    "everything",
    "records_apply",
    "refresh",
    "replica",
    "seen_join",
    "seen_of",
    "session_frames_build",
    "session_key",
]
