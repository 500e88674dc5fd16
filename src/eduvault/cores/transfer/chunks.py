"""Chunks of records on the wire, and the receiving side's bookkeeping.

A chunk is a frame::

    magic "EVC1" | session id (16 bytes) | sequence (u32) | record count (u32)
    | body length (u32) | body (zstd of JSON lines) | HMAC-SHA256 (32 bytes)

The HMAC, keyed by the session's secret, covers everything before it: a chunk altered,
truncated, or taken from another session is refused (compared in constant time) before
anything is decompressed. Decompression is bounded (:data:`MAX_RECORDS_BYTES`): a small
body that would inflate beyond it is refused, not inflated. Records are cut into chunks by
their encoded size (:func:`chunk_records`), streaming: memory holds one chunk, whatever the
number of records.

:class:`Receiver` keeps what a session has applied: the next sequence it expects. A chunk
already applied is acknowledged again and applied not again; one from further ahead is
refused (the sender resends from the receiver's next sequence); so a transfer cut at any
byte resumes from the first chunk not acknowledged, and resends at most the one that was in
flight.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import zstandard

MAGIC = b"EVC1"
_HEADER = struct.Struct(">4s16sIII")
DIGEST_BYTES = 32
#: A chunk's records, uncompressed, at most (a sender's target is usually far lower).
MAX_RECORDS_BYTES = 8 * 1024 * 1024
#: A frame on the wire, at most.
MAX_FRAME_BYTES = _HEADER.size + MAX_RECORDS_BYTES + DIGEST_BYTES
#: Records in one chunk, at most.
MAX_RECORDS = 100_000
LEVEL = 6


class ChunkError(ValueError):
    """A frame that is not a good chunk of this session (tampered, truncated, too large)."""


@dataclass(frozen=True)
class Chunk:
    seq: int
    records: list[dict[str, Any]]


def _encode_records(records: Iterable[Mapping[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(dict(r)) + b"\n" for r in records)


def encode_chunk(*, session: bytes, key: bytes, seq: int, records: list[Mapping[str, Any]]) -> bytes:
    if len(session) != 16:
        raise ValueError("a session id is 16 bytes")
    if not 0 <= seq < 2**32 or len(records) > MAX_RECORDS:
        raise ValueError("sequence or record count out of range")
    raw = _encode_records(records)
    if len(raw) > MAX_RECORDS_BYTES:
        raise ValueError(f"a chunk's records are {len(raw)} bytes, more than {MAX_RECORDS_BYTES}")
    body = zstandard.ZstdCompressor(level=LEVEL).compress(raw)
    head = _HEADER.pack(MAGIC, session, seq, len(records), len(body))
    return head + body + hmac.new(key, head + body, hashlib.sha256).digest()


def decode_chunk(frame: bytes, *, session: bytes, key: bytes) -> Chunk:
    """The chunk of a frame of ``session``; :class:`ChunkError` saying why not."""
    if len(frame) < _HEADER.size + DIGEST_BYTES:
        raise ChunkError("the chunk is truncated")
    if len(frame) > MAX_FRAME_BYTES:
        raise ChunkError(f"the chunk is larger than {MAX_FRAME_BYTES} bytes")
    magic, sid, seq, count, length = _HEADER.unpack_from(frame)
    if magic != MAGIC:
        raise ChunkError("not a chunk of Edu Vault's sync")
    if _HEADER.size + length + DIGEST_BYTES != len(frame):
        raise ChunkError("the chunk's length does not match its header (truncated or padded)")
    signed, digest = frame[:-DIGEST_BYTES], frame[-DIGEST_BYTES:]
    if not hmac.compare_digest(hmac.new(key, signed, hashlib.sha256).digest(), digest):
        raise ChunkError("the chunk's signature does not match (tampered, or of another session)")
    if not hmac.compare_digest(sid, session):
        raise ChunkError("the chunk belongs to another session")
    if count > MAX_RECORDS:
        raise ChunkError("the chunk holds too many records")
    try:
        raw = zstandard.ZstdDecompressor().decompress(
            frame[_HEADER.size : _HEADER.size + length], max_output_size=MAX_RECORDS_BYTES
        )
    except zstandard.ZstdError as exc:
        raise ChunkError(f"the chunk does not decompress: {exc}") from None
    if len(raw) > MAX_RECORDS_BYTES:
        raise ChunkError("the chunk inflates beyond the limit")
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) != count:
        raise ChunkError(f"the chunk says {count} records and holds {len(lines)}")
    records = []
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise ChunkError("a record of the chunk is not JSON") from None
        if not isinstance(record, dict):
            raise ChunkError("a record of the chunk is not an object")
        records.append(record)
    return Chunk(seq=seq, records=records)


def chunk_records(records: Iterable[Mapping[str, Any]], *, target_bytes: int) -> Iterator[list[Mapping[str, Any]]]:
    """The records in groups whose encoded size stays near ``target_bytes`` (a record larger
    than that is a group of its own), streaming: one group in memory at a time."""
    if target_bytes <= 0:
        raise ValueError("target_bytes must be positive")
    group: list[Mapping[str, Any]] = []
    size = 0
    for record in records:
        encoded = len(orjson.dumps(dict(record))) + 1
        if group and (size + encoded > target_bytes or len(group) >= MAX_RECORDS):
            yield group
            group, size = [], 0
        group.append(record)
        size += encoded
    if group:
        yield group


@dataclass
class Receiver:
    """What a transfer session has applied: ``next_seq``, the first chunk not yet applied."""

    session: bytes
    key: bytes
    next_seq: int = 0
    applied_records: int = 0
    #: Frames refused, by reason (for the session's log).
    refused: dict[str, int] = field(default_factory=dict)

    def accept(self, frame: bytes, apply: Any) -> tuple[str, int]:
        """Check a frame and, if it is the next chunk, ``apply(records)`` (the caller's one
        transaction); returns (outcome, the sequence to acknowledge: the next expected).
        Outcomes: ``applied``, ``duplicate`` (applied before: nothing done), ``ahead``
        (a chunk missing before it: resend from ``next_seq``). A bad frame raises
        :class:`ChunkError` and changes nothing."""
        chunk = decode_chunk(frame, session=self.session, key=self.key)
        if chunk.seq < self.next_seq:
            return "duplicate", self.next_seq
        if chunk.seq > self.next_seq:
            self.refused["ahead"] = self.refused.get("ahead", 0) + 1
            return "ahead", self.next_seq
        apply(chunk.records)
        self.next_seq += 1
        self.applied_records += len(chunk.records)
        return "applied", self.next_seq
