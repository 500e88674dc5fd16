"""The sync's chunks: what goes in comes out (hypothesis), a byte changed or a frame of
another session is refused before it is inflated, a small frame that would inflate beyond
the bound is refused, and a transfer cut anywhere resumes resending at most the chunk that
was in flight, every record applied exactly once (hypothesis over cuts and repeats)."""

from __future__ import annotations

import hashlib
import hmac
import itertools

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from eduvault.cores.transfer import ChunkError, Receiver, chunk_records, decode_chunk, encode_chunk
from eduvault.cores.transfer.chunks import _HEADER, MAGIC, MAX_RECORDS_BYTES

SESSION, KEY = b"s" * 16, b"k" * 32

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
records = st.lists(st.dictionaries(st.text(max_size=10), values, max_size=5), max_size=60)


@settings(max_examples=150, deadline=None)
@given(records, st.integers(min_value=1, max_value=4000))
def test_what_goes_in_comes_out_in_chunks_near_the_target_size(batch, target):
    groups = list(chunk_records(batch, target_bytes=target))
    assert [r for g in groups for r in g] == batch
    out = []
    for seq, group in enumerate(groups):
        chunk = decode_chunk(encode_chunk(session=SESSION, key=KEY, seq=seq, records=group), session=SESSION, key=KEY)
        assert chunk.seq == seq
        out.extend(chunk.records)
    assert out == batch


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_byte_changed_is_refused(data):
    frame = bytearray(encode_chunk(session=SESSION, key=KEY, seq=3, records=[{"id": i, "score": i / 3} for i in range(20)]))
    position = data.draw(st.integers(0, len(frame) - 1))
    frame[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(ChunkError):
        decode_chunk(bytes(frame), session=SESSION, key=KEY)


def test_another_session_another_key_truncated_or_padded_is_refused():
    frame = encode_chunk(session=SESSION, key=KEY, seq=0, records=[{"a": 1}])
    for bad, why in (
        (lambda: decode_chunk(frame, session=b"t" * 16, key=KEY), "another session"),
        (lambda: decode_chunk(frame, session=SESSION, key=b"x" * 32), "signature"),
        (lambda: decode_chunk(frame[:-1], session=SESSION, key=KEY), "length"),
        (lambda: decode_chunk(frame + b"\0", session=SESSION, key=KEY), "length"),
        (lambda: decode_chunk(frame[:10], session=SESSION, key=KEY), "truncated"),
        (lambda: decode_chunk(b"XXXX" + frame[4:], session=SESSION, key=KEY), "not a chunk"),
    ):
        with pytest.raises(ChunkError, match=why):
            bad()


def test_a_small_frame_that_would_inflate_beyond_the_bound_is_refused():
    bomb = zstandard.ZstdCompressor(level=19).compress(b"a" * (MAX_RECORDS_BYTES + 1024))
    assert len(bomb) < 4096
    head = _HEADER.pack(MAGIC, SESSION, 0, 1, len(bomb))
    frame = head + bomb + hmac.new(KEY, head + bomb, hashlib.sha256).digest()
    with pytest.raises(ChunkError, match="decompress|inflates"):
        decode_chunk(frame, session=SESSION, key=KEY)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 400),  # records
    st.integers(50, 2000),  # target bytes
    st.data(),
)
def test_a_transfer_cut_anywhere_resumes_and_applies_every_record_once(count, target, data):
    batch = [{"id": f"attempt-{i}", "answers": list(range(i % 7))} for i in range(count)]
    frames = [
        encode_chunk(session=SESSION, key=KEY, seq=seq, records=group)
        for seq, group in enumerate(chunk_records(batch, target_bytes=target))
    ]
    receiver = Receiver(session=SESSION, key=KEY)
    applied: list[dict] = []
    resent = connections = 0
    sent_from = 0
    for _ in range(len(frames) + 5):  # connections, each cut somewhere
        connections += 1
        if receiver.next_seq == len(frames):
            break
        # The sender resumes from what the receiver says it has (lost acks included).
        cut = data.draw(st.integers(sent_from, len(frames)))
        for seq in range(sent_from, cut):
            outcome, ack = receiver.accept(frames[seq], applied.extend)
            resent += outcome == "duplicate"
            if data.draw(st.booleans()):  # a chunk delivered twice on a flaky link
                assert receiver.accept(frames[seq], applied.extend)[0] == "duplicate"
        ack_lost = data.draw(st.booleans()) and cut > sent_from
        sent_from = max(sent_from, receiver.next_seq - (1 if ack_lost else 0))
    else:
        for seq in range(sent_from, len(frames)):
            receiver.accept(frames[seq], applied.extend)
    assert applied == batch  # every record once, in order
    assert receiver.applied_records == count
    assert resent <= connections  # a resumed connection resends at most the chunk whose ack was lost


def test_a_chunk_from_further_ahead_is_not_applied():
    frames = [encode_chunk(session=SESSION, key=KEY, seq=s, records=[{"n": s}]) for s in range(3)]
    receiver = Receiver(session=SESSION, key=KEY)
    applied: list = []
    assert receiver.accept(frames[1], applied.extend) == ("ahead", 0)
    assert receiver.accept(frames[0], applied.extend) == ("applied", 1)
    assert applied == [{"n": 0}]


def test_chunking_streams_without_holding_every_record():
    endless = ({"id": i, "pad": "x" * 50} for i in itertools.count())
    first = next(chunk_records(endless, target_bytes=64 * 1024))
    assert 900 < len(first) < 1200  # about 64 KiB of ~70-byte records, and the generator was not exhausted
