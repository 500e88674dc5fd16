"""Discourse's webhooks, sent from a background thread after the change is committed.

Sources: discourse/discourse ``app/jobs/regular/emit_web_hook_event.rb`` and
``app/services/web_hook_emitter.rb``. One POST per event with ``Accept: */*``,
``Content-Type: application/json``, ``User-Agent: Discourse/<version>``, ``X-Discourse-Instance``
(the site's base URL), ``X-Discourse-Event-Id`` (the id of a new ``WebHookEvent`` row: a new one
for every attempt, retries included), ``X-Discourse-Event-Type`` (``topic``, ``post``, ``user``,
``user_badge``, ``group_user``, ``category``, ``group``, ``ping`` …), ``X-Discourse-Event`` (the event
name) and, with a secret, ``X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.
The body is compact JSON ``{"<type>": {...}}``; a ping is ``{"ping":"OK"}``.

Retries (``retry_web_hook_events``; off by default in Discourse, on here): a non-2xx answer or a
transport error is tried again after ``5 ** (n - 1)`` minutes, at most 4 times; ``retry_delays``
makes that schedule short for tests. Faults: :meth:`drop_next` (lost), :meth:`hold` /
:meth:`release` (late, in a chosen order).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

DISCOURSE_RETRY_DELAYS = (60.0, 300.0, 1500.0, 7500.0)


@dataclass
class Event:
    type: str
    name: str
    payload: Any  # the serialized object ("OK" for a ping)
    attempt: int = 0

    @property
    def body(self) -> bytes:
        return orjson.dumps({self.type: self.payload})


@dataclass
class Delivery:
    """One POST (or sink call): the headers and body sent and what came back (a status or an error)."""

    event_id: int
    event_type: str
    event_name: str
    attempt: int
    headers: dict[str, str]
    body: bytes = field(repr=False)
    status: int | str = 0

    def json(self) -> Any:
        return orjson.loads(self.body)


Sink = Callable[[bytes, dict[str, str]], int]


class WebhookSender:
    def __init__(
        self,
        *,
        instance: Callable[[], str],
        version: str,
        retry_delays: Iterable[float] = DISCOURSE_RETRY_DELAYS,
        timeout: float = 20.0,
    ) -> None:
        self.url = ""
        self.secret = ""
        self.events: set[str] | None = None
        self.sink: Sink | None = None
        self.retry_delays = tuple(retry_delays)
        self.version = version
        self._instance = instance
        self._timeout = timeout
        #: Every event emitted (type, name, payload), whether or not it was sent.
        self.emitted: list[Event] = []
        self.deliveries: list[Delivery] = []
        self.dropped: list[Event] = []
        self._ids = itertools.count(1)
        self._order = itertools.count()
        self._drop = 0
        self._holding = False
        self._held: list[Event] = []
        self._queue: list[tuple[float, int, Event]] = []
        self._busy = 0
        self._cond = threading.Condition()
        self._closed = False
        self._client: httpx.Client | None = None
        self._worker = threading.Thread(target=self._work, name="discourse-webhooks", daemon=True)
        self._worker.start()

    # -- configuration and faults --------------------------------------------------------------

    def configure(self, url: str, secret: str = "", events: Iterable[str] | None = None) -> None:
        """Where to send, the secret to sign with, and which event names or types (None: all)."""
        self.url, self.secret = url, secret
        self.events = set(events) if events is not None else None

    def wanted(self, event: Event) -> bool:
        if event.type == "ping":
            return True
        if not self.url and self.sink is None:
            return False
        return self.events is None or event.name in self.events or event.type in self.events

    def drop_next(self, count: int = 1) -> None:
        with self._cond:
            self._drop += count

    def hold(self) -> None:
        with self._cond:
            self._holding = True

    def release(self, order: str = "original") -> None:
        with self._cond:
            held, self._held, self._holding = self._held, [], False
            if order == "reverse":
                held.reverse()
            elif order != "original":
                raise ValueError(f"unknown order {order!r}")
            for event in held:
                self._push(0.0, event)

    @property
    def held(self) -> list[Event]:
        with self._cond:
            return list(self._held)

    # -- emitting --------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        with self._cond:
            self.emitted.append(event)
            if not self.wanted(event):
                return
            if self._drop:
                self._drop -= 1
                self.dropped.append(event)
                return
            if self._holding:
                self._held.append(event)
                return
            self._push(0.0, event)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was sent and no retry is pending; True when so."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._worker.join(timeout=5)
        if self._client is not None:
            self._client.close()

    # -- delivery ----------------------------------------------------------------------------------

    def _push(self, delay: float, event: Event) -> None:
        heapq.heappush(self._queue, (time.monotonic() + delay, next(self._order), event))
        self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._queue or self._queue[0][0] > time.monotonic()):
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(wait)
                if self._closed:
                    return
                _, _, event = heapq.heappop(self._queue)
                self._busy += 1
            try:
                ok = self._send(event)
            finally:
                with self._cond:
                    self._busy -= 1
                    if not ok and event.attempt < len(self.retry_delays):
                        delay = self.retry_delays[event.attempt]
                        retry = Event(event.type, event.name, event.payload, event.attempt + 1)
                        self._push(delay, retry)
                    self._cond.notify_all()

    def headers_for(self, event: Event, body: bytes, event_id: int) -> dict[str, str]:
        headers = {
            "Accept": "*/*",
            "Connection": "close",
            "Content-Length": str(len(body)),
            "Content-Type": "application/json",
            "User-Agent": f"Discourse/{self.version}",
            "X-Discourse-Instance": self._instance(),
            "X-Discourse-Event-Id": str(event_id),
            "X-Discourse-Event-Type": event.type,
            "X-Discourse-Event": event.name,
        }
        if self.secret:
            digest = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Discourse-Event-Signature"] = f"sha256={digest}"
        return headers

    def _send(self, event: Event) -> bool:
        body = event.body
        event_id = next(self._ids)
        headers = self.headers_for(event, body, event_id)
        status: int | str
        try:
            if self.sink is not None:
                status = int(self.sink(body, dict(headers)))
            elif self.url:
                if self._client is None:
                    self._client = httpx.Client(timeout=self._timeout)
                sent = {k: v for k, v in headers.items() if k not in ("Content-Length", "Connection")}
                status = self._client.post(self.url, content=body, headers=sent).status_code
            else:
                return True
        except Exception as exc:  # a receiver that raises or is unreachable: Discourse records -1
            status = f"{type(exc).__name__}: {exc}"
        with self._cond:
            self.deliveries.append(
                Delivery(event_id, event.type, event.name, event.attempt, headers, body, status)
            )
        return isinstance(status, int) and 200 <= status < 300
