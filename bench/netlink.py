"""A slow link on loopback, for the sync benchmarks (stdlib only: the morango harness's
Python imports it too, so that both engines go through the very same throttle).

:class:`Link` is one direction of a link: ``rate`` bytes per second on the bottleneck and
``delay`` seconds of propagation added to every segment. :func:`paced_pump` forwards a
socket's bytes over it: each segment leaves the bottleneck when the segments before it
have (at ``rate``), and reaches the other side ``delay`` later. A reader thread takes bytes
as they come and a writer thread delivers them on time; between the two at most
``buffer`` bytes wait (a router's queue), beyond which the reader stops reading (TCP's flow
control does the rest). 100 kbit/s with 250 ms each way is ``Link(12_500, 0.25)`` twice.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable

SEGMENT = 1460


class Link:
    """One direction of a link, shared by every connection that goes that way."""

    def __init__(self, rate: float, delay: float) -> None:
        self.rate = float(rate)
        self.delay = float(delay)
        self.lock = threading.Lock()
        self.free_at = 0.0

    def schedule(self, size: int) -> float:
        """When a segment of ``size`` bytes that arrives now reaches the other side."""
        with self.lock:
            start = max(time.monotonic(), self.free_at)
            self.free_at = start + (size / self.rate if self.rate > 0 else 0.0)
            return self.free_at + self.delay


def _close(*socks: socket.socket) -> None:
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass


def paced_pump(
    src: socket.socket,
    dst: socket.socket,
    link: Link,
    *,
    on_bytes: Callable[[bytes], None] | None = None,
    buffer: int = 64 * 1024,
) -> None:
    """Forward ``src`` to ``dst`` over ``link`` until ``src`` ends (then close both).
    ``on_bytes(data)`` is called as data is delivered. Blocks: run it in a thread."""
    waiting: queue.Queue = queue.Queue(maxsize=max(1, buffer // SEGMENT))
    stop = object()

    def deliver() -> None:
        try:
            while True:
                item = waiting.get()
                if item is stop:
                    break
                at, data = item
                pause = at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                if on_bytes is not None:
                    on_bytes(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src, dst)

    writer = threading.Thread(target=deliver, daemon=True)
    writer.start()
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            for i in range(0, len(data), SEGMENT):
                segment = data[i : i + SEGMENT]
                waiting.put((link.schedule(len(segment)), segment))
    except OSError:
        pass
    finally:
        waiting.put(stop)
    writer.join()
