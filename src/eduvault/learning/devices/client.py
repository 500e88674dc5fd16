"""The device's side: joining a server, and a sync (pull, then push) that resumes where a
cut connection left it.

Every session is stored here too: a pull's chunks are applied one transaction each, with the
session's progress; the bytes of a chunk read so far are kept, so a cut inside a chunk
resumes with ``Range`` from the byte it stopped at. A push's frames are made once and stored;
a cut resumes from the server's acknowledged chunk and offset.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import structlog
from django.db import transaction
from django.utils import timezone

from eduvault.cores.transfer import ChunkError, decode_chunk
from eduvault.kernel.errors import Conflict, EduVaultError, NotFound
from eduvault.learning.devices import store
from eduvault.learning.devices.kinds import Arrival, kinds
from eduvault.learning.devices.services import MAX_PART_BYTES
from eduvault.learning.devices.models import Entry, Pairing, Seen, TransferChunk, TransferSession

log = structlog.get_logger(__name__)

UP_KINDS = tuple(name for name, kind in kinds.items() if kind.up)


class NotPaired(NotFound):
    """This device is not paired with a server: run `eduvault device join SERVER_URL CODE`."""


class SyncInterrupted(EduVaultError):
    """The connection dropped during the sync; run it again to resume."""

    exit_code = 4
    transient = True


class DeviceRefused(EduVaultError):
    """The server refused this device."""

    status = 403
    exit_code = 5


@dataclass
class Leg:
    records: int = 0
    bytes: int = 0
    chunks: int = 0
    #: Bytes that went over the wire again after a cut (parts or chunk tails resent).
    resent: int = 0
    resumed: bool = False


@dataclass
class SyncReport:
    pull: Leg = field(default_factory=Leg)
    push: Leg = field(default_factory=Leg)
    seconds: float = 0.0


#: progress(stage, done_bytes, total_bytes)
Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    return None


class _Server:
    """HTTP to the server under the device's credential; bodies bounded."""

    def __init__(self, pairing: Pairing, *, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self.client = httpx.Client(
            base_url=pairing.server_url.rstrip("/") + "/api/v1/devices/",
            headers={"Authorization": f"Bearer {pairing.credential}", "User-Agent": "eduvault-device"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code in (401, 403):
            raise DeviceRefused(_detail(response))
        if response.status_code == 404:
            raise NotFound(_detail(response))
        if response.status_code == 409:
            raise Conflict(_detail(response))
        if response.status_code >= 400:
            raise EduVaultError(f"the server answered {response.status_code}: {_detail(response)}")
        return response

    def json(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = self._check(self.client.request(method, path, content=orjson.dumps(body) if body is not None else None, headers={"Content-Type": "application/json"}))
        return orjson.loads(response.content)

    def put_part(self, path: str, part: bytes, *, offset: int, total: int) -> dict[str, Any]:
        response = self._check(
            self.client.put(
                path,
                content=part,
                headers={"Content-Type": "application/octet-stream", "Upload-Offset": str(offset), "Upload-Length": str(total)},
            )
        )
        return orjson.loads(response.content)


def _detail(response: httpx.Response) -> str:
    try:
        body = orjson.loads(response.content[:65536])
        return str(body.get("detail") or body.get("title") or response.status_code)
    except (orjson.JSONDecodeError, AttributeError):
        return f"HTTP {response.status_code}"


def pairing() -> Pairing:
    row = Pairing.objects.order_by("id").first()
    if row is None:
        raise NotPaired()
    return row


def device_join(*, server_url: str, code: str, transport: httpx.BaseTransport | None = None) -> Pairing:
    """Pair this Edu Vault with a server as one of its devices (once)."""
    existing = Pairing.objects.order_by("id").first()
    if existing is not None:
        raise Conflict(f"this device is already paired with {existing.server_url} as {existing.device_name!r}")
    if Entry.objects.filter(last=store.replica().name).exists():
        raise Conflict("this Edu Vault has work of its own: a device joins from a fresh data directory")
    url = server_url.rstrip("/")
    try:
        with httpx.Client(timeout=30.0, transport=transport) as http:
            response = http.post(f"{url}/api/v1/devices/join", json={"code": code})
    except httpx.TransportError as exc:
        raise SyncInterrupted(f"could not reach {url}: {exc}") from None
    if response.status_code >= 400:
        raise DeviceRefused(f"the server refused the pairing: {_detail(response)}")
    data = orjson.loads(response.content)
    with transaction.atomic():
        store.replica_rename(data["replica"])
        row = Pairing.objects.create(
            server_url=url,
            device_name=data["device"],
            server_replica=data["server_replica"],
            credential=data["credential"],
            courses=data["courses"],
        )
    log.info("device.joined", server=url, device=row.device_name)
    return row


def _local_partitions() -> set[str]:
    return set(Entry.objects.values_list("partition", flat=True).distinct()) | set(
        Seen.objects.values_list("partition", flat=True).distinct()
    )


def device_sync(
    *, progress: Progress = _quiet, timeout: float = 60.0, part_bytes: int | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SyncReport:
    """Pull what the server has for this device, then push what the device did."""
    from django.conf import settings

    row = pairing()
    part_bytes = min(part_bytes or settings.EDUVAULT_DEVICE_PART_BYTES, MAX_PART_BYTES)
    started = time.monotonic()
    report = SyncReport()
    server = _Server(row, timeout=timeout, transport=transport)
    outcome = "failed"
    try:
        _pull(server, row, report.pull, progress)
        _push(server, row, report.push, progress, part_bytes)
        outcome = "ok"
    except httpx.TransportError as exc:
        outcome = f"interrupted: {type(exc).__name__}"
        raise SyncInterrupted(
            f"the connection to {row.server_url} dropped ({type(exc).__name__}); what was acknowledged is kept: "
            "run `eduvault device sync` again to resume"
        ) from None
    except DeviceRefused as exc:
        outcome = f"refused: {exc.detail}"[:300]
        raise
    finally:
        server.close()
        report.seconds = time.monotonic() - started
        Pairing.objects.filter(pk=row.pk).update(
            last_sync_at=timezone.now() if outcome == "ok" else row.last_sync_at, last_outcome=outcome[:300]
        )
    log.info(
        "device.synced",
        pulled=report.pull.records,
        pulled_bytes=report.pull.bytes,
        pushed=report.push.records,
        pushed_bytes=report.push.bytes,
        duration_ms=int(1000 * report.seconds),
    )
    return report


def _open_session(direction: str) -> TransferSession | None:
    return TransferSession.objects.filter(direction=direction, state=TransferSession.State.OPEN, device=None).first()


def _server_session(server: _Server, local: TransferSession) -> dict[str, Any] | None:
    try:
        data = server.json("GET", f"sessions/{local.id}")
    except (NotFound, Conflict):
        data = None
    if data is None or data["state"] != "open":
        TransferSession.objects.filter(pk=local.pk).update(state=TransferSession.State.ABANDONED)
        return None
    return data


def _pull(server: _Server, row: Pairing, leg: Leg, progress: Progress) -> None:
    local = _open_session("pull")
    if local is not None and _server_session(server, local) is not None:
        leg.resumed = True
    else:
        seen = store.seen_of(_local_partitions())
        data = server.json("POST", "sessions", {"direction": "pull", "seen": seen, "clock": time.time()})
        local = TransferSession.objects.create(
            id=uuid.UUID(data["session"]),
            direction="pull",
            key=data["key"],
            partitions=data["partitions"],
            sender_seen=data["seen"],
            chunks=data["chunks"],
            records=data["records"],
            bytes=data["bytes"],
        )
    progress("pull", 0, local.bytes)
    context = Arrival(sender=row.server_replica, server=False)
    allowed = set(local.partitions)
    while local.next_seq < local.chunks:
        held = bytearray(bytes(local.partial))
        if held:
            leg.resumed = True
        try:
            headers = {"Range": f"bytes={len(held)}-"} if held else {}
            with server.client.stream("GET", f"sessions/{local.id}/chunks/{local.next_seq}", headers=headers) as response:
                server._check(response)
                for piece in response.iter_bytes():
                    held += piece
                    leg.bytes += len(piece)
                    progress("pull", leg.bytes, local.bytes)
        except httpx.TransportError:
            TransferSession.objects.filter(pk=local.pk).update(partial=bytes(held))
            raise
        try:
            chunk = decode_chunk(bytes(held), session=local.id.bytes, key=bytes.fromhex(local.key))
        except ChunkError as exc:
            TransferSession.objects.filter(pk=local.pk).update(partial=b"")
            raise EduVaultError(f"chunk {local.next_seq} from the server is not good ({exc}); run the sync again") from None
        with transaction.atomic():
            store.records_apply(
                chunk.records, context=context, allowed=allowed, up_only=False, scope=store.everything()
            )
            local.next_seq += 1
            local.partial = b""
            local.applied_records += len(chunk.records)
            local.save(update_fields=["next_seq", "partial", "applied_records", "updated_at"])
        leg.records += len(chunk.records)
        leg.chunks += 1
    with transaction.atomic():
        store.seen_join(local.sender_seen, local.partitions)
        local.state = TransferSession.State.DONE
        local.finished_at = timezone.now()
        local.save(update_fields=["state", "finished_at", "updated_at"])
    server.json("POST", f"sessions/{local.id}/finish", {})


def _push(server: _Server, row: Pairing, leg: Leg, progress: Progress, part_bytes: int) -> None:
    local = _open_session("push")
    remote = _server_session(server, local) if local is not None else None
    if local is not None and remote is not None:
        leg.resumed = True
    else:
        store.refresh(scope=store.everything(), kind_names=UP_KINDS)
        data = server.json("POST", "sessions", {"direction": "push", "clock": time.time()})
        with transaction.atomic():
            local = TransferSession.objects.create(
                id=uuid.UUID(data["session"]), direction="push", key=data["key"], partitions=data["partitions"]
            )
            local.sender_seen = store.seen_of(local.partitions)
            local.save(update_fields=["sender_seen"])
            store.session_frames_build(session=local, scope=store.everything(), their_seen=data["seen"], kind_names=UP_KINDS)
        remote = {"next_seq": 0, "offset": 0}
    seq, offset = remote["next_seq"], remote["offset"]
    frames = TransferChunk.objects.filter(session=local, seq__gte=seq).order_by("seq")
    sent_before = sum(len(bytes(f)) for f in TransferChunk.objects.filter(session=local, seq__lt=seq).values_list("frame", flat=True))
    progress("push", sent_before + offset, local.bytes)
    for chunk in frames.iterator(chunk_size=1):
        frame = bytes(chunk.frame)
        position = offset if chunk.seq == seq else 0
        while True:
            part = frame[position : position + part_bytes]
            answer = server.put_part(f"sessions/{local.id}/chunks/{chunk.seq}", part, offset=position, total=len(frame))
            leg.bytes += len(part)
            if answer["outcome"] in ("applied", "duplicate"):
                break
            if answer["outcome"] == "resume":
                leg.resent += max(0, position + len(part) - answer["offset"])
                position = answer["offset"]
            else:
                position += len(part)
            progress("push", sent_before + position, local.bytes)
        sent_before += len(frame)
        progress("push", sent_before, local.bytes)
        leg.records += chunk.records
        leg.chunks += 1
    server.json("POST", f"sessions/{local.id}/finish", {"seen": local.sender_seen})
    me = store.replica().name
    pushed = max((v.get(me, 0) for v in local.sender_seen.values()), default=0)
    with transaction.atomic():
        TransferSession.objects.filter(pk=local.pk).update(state=TransferSession.State.DONE, finished_at=timezone.now())
        Pairing.objects.filter(pk=row.pk, pushed_counter__lt=pushed).update(pushed_counter=pushed)


@dataclass(frozen=True)
class Status:
    pairing: Pairing | None
    waiting: dict[str, int]
    open_sessions: list[TransferSession]


def device_status() -> Status:
    """When this device last synced, and what waits to go up (changes since its last push)."""
    row = Pairing.objects.order_by("id").first()
    waiting: dict[str, int] = {}
    if row is not None:
        me = store.replica().name
        store.refresh(scope=store.everything(), kind_names=UP_KINDS)
        for kind in UP_KINDS:
            count = Entry.objects.filter(kind=kind, last=me, counter__gt=row.pushed_counter).count()
            if count:
                waiting[kind] = count
    return Status(row, waiting, list(TransferSession.objects.filter(state=TransferSession.State.OPEN, device=None)))
