"""The server's side of offline devices: pairing, credentials, and the transfer sessions.

``eduvault device add`` makes a device with its courses and a one-time pairing code; the
device joins with the code and receives its credential (``evd_…``, kept hashed here) and its
replica name. A sync is two sessions: a pull (the server frames what the device has not seen
of its courses and learners) and a push (the device's attempts and answers, uploaded chunk
by chunk in parts, each chunk applied with the session's progress in one transaction).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from eduvault.cores.records.replication import check_seen
from eduvault.cores.transfer import ChunkError, decode_chunk
from eduvault.kernel.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from eduvault.learning.devices import store
from eduvault.learning.devices.kinds import DOWN, Arrival, Scope
from eduvault.learning.devices.models import Device, TransferChunk, TransferSession
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.records.models import Enrollment

log = structlog.get_logger(__name__)

CODE_TTL = timedelta(days=7)
#: The largest part of a chunk one request may carry.
MAX_PART_BYTES = 256 * 1024


class DeviceNotFound(NotFound):
    """No such device."""


class DeviceRevoked(PermissionDenied):
    """This device was revoked: it may no longer sync."""


class SessionNotFound(NotFound):
    """No such transfer session for this device."""


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- devices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Added:
    device: Device
    code: str


def _courses(keys: list[str]) -> list[Course]:
    out = []
    for key in keys:
        matches = list(Course.objects.filter(key=key))
        if not matches:
            raise InvalidInput(f"--course: no course {key!r}")
        if len(matches) > 1:
            raise InvalidInput(f"--course: {key!r} names courses of {len(matches)} sources")
        out.append(matches[0])
    return out


def device_add(*, name: str, course_keys: list[str], actor: str) -> Added:
    if not name or len(name) > 100 or not name.isprintable():
        raise InvalidInput("name: printable text of 1 to 100 characters")
    if not course_keys:
        raise InvalidInput("give at least one --course")
    courses = _courses(course_keys)
    if Device.objects.filter(name=name).exists():
        raise Conflict(f"a device named {name!r} exists; revoke it or choose another name")
    code = "-".join(secrets.token_hex(3).upper() for _ in range(4))
    with transaction.atomic():
        device = Device.objects.create(
            name=name,
            replica=f"d-{uuid.uuid4().hex[:12]}",
            code_hash=_hash(code),
            code_expires_at=timezone.now() + CODE_TTL,
            created_by=actor,
        )
        device.courses.set(courses)
    log.info("device.added", device=name, courses=len(courses), actor=actor)
    return Added(device, code)


def device_list() -> list[Device]:
    return list(Device.objects.prefetch_related("courses"))


def device_revoke(*, name: str, actor: str) -> Device:
    device = Device.objects.filter(name=name).first()
    if device is None:
        raise DeviceNotFound(f"no device {name!r}")
    if device.revoked_at is None:
        device.revoked_at = timezone.now()
        device.code_hash = ""
        device.save(update_fields=["revoked_at", "code_hash"])
        TransferSession.objects.filter(device=device, state=TransferSession.State.OPEN).update(
            state=TransferSession.State.ABANDONED
        )
        log.info("device.revoked", device=name, actor=actor)
    return device


@dataclass(frozen=True)
class Joined:
    device: Device
    credential: str
    server_replica: str


def device_join(*, code: str) -> Joined:
    """Pair a device by its one-time code: the code is spent, a credential issued."""
    if not isinstance(code, str) or not 1 <= len(code) <= 40:
        raise InvalidInput("code: the pairing code `eduvault device add` printed")
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(code_hash=_hash(code.strip().upper())).first()
        if device is None or device.revoked_at is not None:
            raise AuthenticationFailed("this pairing code is not valid (each code pairs one device, once)")
        if device.code_expires_at and device.code_expires_at < timezone.now():
            raise AuthenticationFailed("this pairing code has expired; add the device again")
        prefix = secrets.token_hex(4)
        credential = f"evd_{prefix}_{secrets.token_urlsafe(32)}"
        device.code_hash = ""
        device.credential_prefix = prefix
        device.credential_hash = _hash(credential)
        device.paired_at = timezone.now()
        device.save(update_fields=["code_hash", "credential_prefix", "credential_hash", "paired_at"])
    log.info("device.paired", device=device.name)
    return Joined(device, credential, store.replica().name)


def device_authenticate(*, credential: str) -> Device:
    """The device a credential belongs to (compared in constant time)."""
    parts = credential.split("_", 2)
    if len(parts) != 3 or parts[0] != "evd":
        raise AuthenticationFailed("not a device credential")
    device = Device.objects.filter(credential_prefix=parts[1]).first()
    if device is None or not hmac.compare_digest(device.credential_hash, _hash(credential)):
        raise AuthenticationFailed("this device credential is not valid")
    if device.revoked_at is not None:
        raise DeviceRevoked(
            f"device {device.name!r} was revoked on {device.revoked_at:%Y-%m-%d %H:%M} UTC; "
            "what it has not sent stays on it; ask the school's operator to add it again"
        )
    return device


def device_scope(device: Device) -> Scope:
    """What the device may hold: its courses, and the people enrolled in them."""
    courses = tuple(device.courses.values_list("key", flat=True))
    people: dict[str, set[str]] = {k: set() for k in courses}
    for course, username in Enrollment.objects.filter(
        course__in=device.courses.all(), person__user__isnull=False
    ).exclude(state=Enrollment.State.DELETED).values_list("course__key", "person__user__username"):
        people[course].add(username)
    return Scope(courses=courses, people={k: frozenset(v) for k, v in people.items()})


# -- sessions --------------------------------------------------------------------------------


def _clock_skew(device_clock: Any) -> float | None:
    if device_clock is None:
        return None
    if isinstance(device_clock, bool) or not isinstance(device_clock, (int, float)):
        raise InvalidInput("clock: the device's time, in seconds since 1970")
    return float(device_clock) - time.time()


def session_open(*, device: Device, direction: str, partitions: Any = None, clock: Any = None) -> TransferSession:
    """Begin a transfer. A pull frames what the device lacks now; a push waits for chunks.
    ``partitions`` narrows it; asking for any the device may not hold is refused."""
    if direction not in TransferSession.Direction.values:
        raise InvalidInput("direction: push or pull")
    scope = device_scope(device)
    allowed = scope.partitions()
    if partitions is None:
        wanted = allowed
    else:
        if not isinstance(partitions, list) or not all(isinstance(p, str) for p in partitions):
            raise InvalidInput("partitions: a list of partition names")
        wanted = set(partitions)
        foreign = sorted(wanted - allowed)
        if foreign:
            raise PermissionDenied(f"{foreign[0]!r} is not this device's to sync (not its courses or learners)")
    skew = _clock_skew(clock)
    Device.objects.filter(pk=device.pk).update(clock_skew_seconds=skew)
    session = TransferSession.objects.create(
        direction=direction, device=device, key=store.session_key(), partitions=sorted(wanted)
    )
    if direction == TransferSession.Direction.PULL:
        store.refresh(scope=scope, kind_names=DOWN)
        session.sender_seen = store.seen_of(wanted)
        session.save(update_fields=["sender_seen"])
    return session


def session_frames(*, session: TransferSession, device_seen: Any) -> TransferSession:
    """A pull's chunks: what the device (which has seen ``device_seen``) lacks."""
    try:
        seen = check_seen(device_seen or {})
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    store.session_frames_build(
        session=session, scope=device_scope(session.device), their_seen=seen, kind_names=DOWN
    )
    log.info(
        "device.pull.framed",
        device=session.device.name,
        session=str(session.id),
        records=session.records,
        chunks=session.chunks,
        bytes=session.bytes,
    )
    return session


def session_get(*, device: Device, session_id: Any) -> TransferSession:
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        raise SessionNotFound(f"no session {session_id!r}") from None
    session = TransferSession.objects.filter(pk=pk, device=device).first()
    if session is None:
        raise SessionNotFound(f"no session {session_id} for this device")
    return session


def _open(session: TransferSession) -> None:
    if session.state != TransferSession.State.OPEN:
        raise Conflict(f"session {session.id} is {session.state}; begin another")


def chunk_frame(*, session: TransferSession, seq: int) -> bytes:
    """A pull's stored frame (the same bytes however often it is asked for)."""
    _open(session)
    frame = TransferChunk.objects.filter(session=session, seq=seq).values_list("frame", flat=True).first()
    if frame is None:
        raise NotFound(f"session {session.id} has no chunk {seq} (it has {session.chunks})")
    return bytes(frame)


@dataclass(frozen=True)
class PartOutcome:
    next_seq: int
    offset: int
    outcome: str


def chunk_part(*, device: Device, session_id: Any, seq: int, offset: int, total: int, body: bytes) -> PartOutcome:
    """Part of a pushed chunk at ``offset`` of its ``total`` bytes. The whole chunk, once
    here, is checked (signature first) and applied in one transaction with the session's
    progress: a chunk sent again is acknowledged and not applied again; a part at the wrong
    offset is told where to resume."""
    if len(body) > MAX_PART_BYTES:
        raise InvalidInput(f"a part is at most {MAX_PART_BYTES} bytes")
    with transaction.atomic():
        session = TransferSession.objects.select_for_update().filter(pk=session_get(device=device, session_id=session_id).pk).get()
        _open(session)
        if session.direction != TransferSession.Direction.PUSH:
            raise Conflict("chunks are sent up in a push session only")
        if seq < session.next_seq:
            return PartOutcome(session.next_seq, 0, "duplicate")
        if seq > session.next_seq:
            raise Conflict(f"chunk {seq} is ahead: send chunk {session.next_seq} first", next_seq=session.next_seq)
        held = bytes(session.partial)
        if offset != len(held):
            return PartOutcome(session.next_seq, len(held), "resume")
        held += body
        session.wire_bytes += len(body)
        if len(held) > total or total > 16 * 1024 * 1024:
            session.partial = b""
            session.save(update_fields=["partial", "wire_bytes", "updated_at"])
            raise InvalidInput("the chunk is longer than it said")
        if len(held) < total:
            session.partial = held
            session.save(update_fields=["partial", "wire_bytes", "updated_at"])
            return PartOutcome(session.next_seq, len(held), "partial")
        session.partial = b""
        refusal = None
        try:
            chunk = decode_chunk(held, session=session.id.bytes, key=bytes.fromhex(session.key))
            if chunk.seq != seq:
                raise ChunkError(f"the frame is chunk {chunk.seq}")
            with transaction.atomic():
                outcome = store.records_apply(
                    chunk.records,
                    context=Arrival(sender=device.replica, server=True, clock_skew=device.clock_skew_seconds),
                    allowed=set(session.partitions),
                    up_only=True,
                    scope=store.everything(),
                )
        except (ChunkError, InvalidInput) as exc:
            refusal = exc
        if refusal is None:
            session.next_seq += 1
            session.applied_records += len(chunk.records)
        session.save(update_fields=["partial", "next_seq", "applied_records", "wire_bytes", "updated_at"])
    if refusal is not None:
        detail = refusal.detail if isinstance(refusal, InvalidInput) else str(refusal)
        log.warning("device.chunk.refused", device=device.name, session=str(session.id), seq=seq, reason=detail)
        raise InvalidInput(f"chunk {seq} refused, nothing of it applied: {detail}")
    log.info("device.chunk.applied", device=device.name, session=str(session.id), seq=seq, records=len(chunk.records), **outcome)
    return PartOutcome(session.next_seq, 0, "applied")


def session_finish(*, device: Device, session_id: Any, seen: Any = None) -> TransferSession:
    """Close a session that went through whole: after a push, the server has seen what the
    device had (``seen``); after a pull, the device has its frames (dropped here)."""
    with transaction.atomic():
        session = TransferSession.objects.select_for_update().get(pk=session_get(device=device, session_id=session_id).pk)
        if session.state == TransferSession.State.DONE:
            return session
        _open(session)
        if session.direction == TransferSession.Direction.PUSH:
            try:
                theirs = check_seen(seen or {})
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
            store.seen_join(theirs, session.partitions)
        else:
            TransferChunk.objects.filter(session=session).delete()
        session.state = TransferSession.State.DONE
        session.finished_at = timezone.now()
        session.save(update_fields=["state", "finished_at", "updated_at"])
        Device.objects.filter(pk=device.pk).update(last_sync_at=session.finished_at)
    log.info(
        "device.session.done",
        device=device.name,
        session=str(session.id),
        direction=session.direction,
        records=session.applied_records or session.records,
    )
    return session


def sessions_purge(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Forget sessions untouched for ``older_than`` (an open one is abandoned: its device
    starts again, resending only what the server has not seen), and the frames of finished
    ones. Returns the sessions forgotten."""
    cutoff: datetime = timezone.now() - older_than
    TransferChunk.objects.filter(session__state=TransferSession.State.DONE).delete()
    stale = TransferSession.objects.filter(updated_at__lt=cutoff)
    deleted = stale.count()
    stale.delete()
    if deleted:
        log.info("device.sessions_purged", sessions=deleted)
    return deleted

