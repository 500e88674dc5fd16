"""Live fan-out of the change feed to the stream clients of one server process.

Each process that serves streams runs one :class:`Hub` in its event loop. The hub learns
that the feed moved from PostgreSQL's LISTEN/NOTIFY (the sync's transaction notifies at
commit), from Redis pub/sub when ``EDUVAULT_NOTIFY_URL`` says so, from a sync applied in
this very process, or, on SQLite, by polling. It then reads the new changes once and puts
each into the bounded queue of every client whose scope allows it. A client whose queue
is full is not waited for: it is told to catch up from the feed, and let go.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

import structlog
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from eduvault.kernel.db import released
from eduvault.pipeline.feed.selectors import FeedItem, Scope, feed_head, feed_read

log = structlog.get_logger(__name__)

#: The PostgreSQL NOTIFY channel (and Redis pub/sub channel) that carries the feed's head.
CHANNEL = "eduvault_feed"

#: Put in a client's queue when it fell too far behind: it must resume from the feed.
RESYNC = object()


def _queue() -> asyncio.Queue[Any]:
    return asyncio.Queue(maxsize=settings.EDUVAULT_STREAM_QUEUE)


@dataclass(eq=False)
class Client:
    scope: Scope
    queue: asyncio.Queue[Any] = field(default_factory=_queue)
    lagging: bool = False

    def offer(self, entry: FeedItem) -> None:
        if self.lagging:
            return
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.lagging = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.clients: set[Client] = set()
        self.head = 0
        self._poke = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        self.head = await sync_to_async(_head, thread_sensitive=False)()
        self._tasks.append(asyncio.create_task(self._fanout(), name="eduvault-feed-fanout"))
        self._tasks.append(asyncio.create_task(self._listen(), name="eduvault-feed-listen"))

    def register(self, scope: Scope) -> Client:
        client = Client(scope)
        self.clients.add(client)
        return client

    def unregister(self, client: Client) -> None:
        self.clients.discard(client)

    def poke(self) -> None:
        self._poke.set()

    async def _fanout(self) -> None:
        while True:
            await self._poke.wait()
            self._poke.clear()
            try:
                while True:
                    entries = await sync_to_async(_read, thread_sensitive=False)(self.head)
                    if not entries:
                        break
                    for entry in entries:
                        for client in list(self.clients):
                            if client.scope.allows(entry.course, entry.kind):
                                client.offer(entry)
                    self.head = entries[-1].cursor
            except Exception:
                log.exception("feed.fanout_failed")
                await asyncio.sleep(1)
                self._poke.set()

    async def _listen(self) -> None:
        url = settings.EDUVAULT_NOTIFY_URL
        while True:
            try:
                if url.startswith("redis"):
                    await self._listen_redis(url)
                elif connection.vendor == "postgresql":
                    await self._listen_postgres()
                else:
                    await self._poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("feed.listener_lost", exc_info=True)
                self.poke()
                await asyncio.sleep(1)

    async def _listen_postgres(self) -> None:
        import psycopg

        async with await psycopg.AsyncConnection.connect(settings.DATABASE_URL, autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.poke()  # whatever committed while we were not listening
            async for _ in conn.notifies():
                self.poke()

    async def _listen_redis(self, url: str) -> None:
        import redis.asyncio as redis

        client = redis.Redis.from_url(url)
        try:
            pubsub = client.pubsub()
            await pubsub.subscribe(CHANNEL)
            self.poke()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self.poke()
        finally:
            await client.aclose()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            head = await sync_to_async(_head, thread_sensitive=False)()
            if head > self.head:
                self.poke()


@released
def _head() -> int:
    return feed_head()


@released
def _read(after: int) -> list[FeedItem]:
    return feed_read(after=after, limit=500)


_hub: Hub | None = None
_hub_lock = threading.Lock()


async def hub() -> Hub:
    """This process's hub, started in the running event loop on first use."""
    global _hub
    loop = asyncio.get_running_loop()
    with _hub_lock:
        current = _hub
        fresh = current is None or current.loop is not loop
        if fresh:
            current = _hub = Hub(loop)
    assert current is not None
    if fresh:
        await current.start()
    return current


def client_count() -> int:
    """Stream clients connected to this process."""
    current = _hub
    return len(current.clients) if current is not None else 0


def local_announce(head: int) -> None:
    """A sync in this process committed: wake the hub now (from any thread)."""
    current = _hub
    if current is not None and not current.loop.is_closed():
        with contextlib.suppress(RuntimeError):
            current.loop.call_soon_threadsafe(current.poke)


def redis_publish(url: str, head: int) -> None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        client.publish(CHANNEL, str(head))
        client.close()
    except Exception:
        log.warning("feed.publish_failed", head=head)


#: Callables woken when entries commit in this process (the subscription pump, say).
_listeners: list[Any] = []


def listen_locally(wake: Any) -> None:
    _listeners.append(wake)


def stop_listening(wake: Any) -> None:
    if wake in _listeners:
        _listeners.remove(wake)


def wake_listeners() -> None:
    for wake in list(_listeners):
        wake()


def announce(head: int) -> None:
    """After a commit that moved the feed: wake this process's streams and listeners at once,
    and other processes over Redis when configured (PostgreSQL's NOTIFY already reached them)."""
    local_announce(head)
    wake_listeners()
    url = settings.EDUVAULT_NOTIFY_URL
    if url.startswith("redis"):
        redis_publish(url, head)
