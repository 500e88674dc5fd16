"""The token bucket: never more than ``per_minute`` takes in any 60 seconds, small bursts,
thread-safe, one bucket per key per process. On a fake clock: no real sleeping."""

from __future__ import annotations

import threading

import pytest

from eduvault.integrations.discourse.pacing import TokenBucket, bucket_for, bucket_key, default_burst


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def windows_ok(stamps: list[float], per_minute: int) -> bool:
    stamps = sorted(stamps)
    return all(len([t for t in stamps[i:] if t - stamps[i] < 60]) <= per_minute for i in range(len(stamps)))


def test_a_burst_goes_out_at_once_then_takes_wait() -> None:
    clock = Clock()
    bucket = TokenBucket(60, clock=clock, sleep=clock.sleep)
    assert bucket.burst == default_burst(60) == 6
    waits = [bucket.take() for _ in range(6)]
    assert waits == [0.0] * 6
    assert bucket.take() > 0


@pytest.mark.parametrize("per_minute", [2, 10, 60, 120, 600])
@pytest.mark.parametrize("burst", [None, 1, 5])
def test_never_more_than_per_minute_in_any_60_seconds(per_minute: int, burst: int | None) -> None:
    clock = Clock()
    bucket = TokenBucket(per_minute, burst=burst, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(per_minute * 3 + 1):
        bucket.take()
        stamps.append(clock())
    assert windows_ok(stamps, per_minute)


def test_idle_time_refills_no_more_than_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(60, burst=3, clock=clock, sleep=clock.sleep)
    clock.now += 3600
    assert bucket.available() == 3
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(60 / 57)


def test_take_returns_the_seconds_waited() -> None:
    clock = Clock()
    bucket = TokenBucket(60, burst=1, clock=clock, sleep=clock.sleep)
    bucket.take()
    before = clock()
    waited = bucket.take()
    assert waited == pytest.approx(clock() - before)
    assert waited == pytest.approx(60 / 59)


def test_threads_share_the_pace() -> None:
    clock = Clock()
    bucket = TokenBucket(60, clock=clock, sleep=lambda s: None)  # waits are reserved, not slept
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            w = bucket.take()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 80 takes at once: 6 free, the other 74 each reserved one further token interval ahead
    assert len(waits) == 80
    assert sorted(waits)[:6] == [0.0] * 6
    assert max(waits) == pytest.approx(74 / bucket.rate)
    assert len({round(w, 6) for w in waits if w > 0}) == 74  # no two share a slot


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(60, burst=0)


def test_one_bucket_per_key_per_process() -> None:
    key = bucket_key("https://Forum.test/", "System", source="community")
    assert key == bucket_key("https://forum.test", "system", source="community")
    first = bucket_for(key, 60)
    assert bucket_for(key, 60) is first
    assert bucket_for(bucket_key("https://forum.test", "other", source="community"), 60) is not first
    changed = bucket_for(key, 30)
    assert changed is not first and changed.per_minute == 30
