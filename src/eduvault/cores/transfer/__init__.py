"""The device sync's wire format: records in chunks sized by bytes, zstd-compressed, each
authenticated and numbered within a transfer session, so that a connection cut at any byte
resumes where it stopped and a chunk received twice changes nothing (see :mod:`.chunks`).

Pure Python over plain data: no Django, no HTTP."""

from eduvault.cores.transfer.chunks import (
    Chunk,
    ChunkError,
    Receiver,
    chunk_records,
    decode_chunk,
    encode_chunk,
)

__all__ = ["Chunk", "ChunkError", "Receiver", "chunk_records", "decode_chunk", "encode_chunk"]
