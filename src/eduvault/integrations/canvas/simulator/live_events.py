"""Canvas Live Events, delivered as Canvas Data Services' HTTPS ("Webhook with JWT signing") stream.

Shapes (instructure/canvas-lms ``doc/api/data_services/json/canvas/event-types/*.json`` and
``metadata.json``): each event is ``{"metadata": {...}, "body": {...}}``. Metadata carries
``event_name``, ``event_time`` (ISO-8601, ms, UTC), ``root_account_id``/``root_account_uuid``/
``root_account_lti_guid``, ``user_id``/``user_login``/``user_sis_id``/``user_account_id``,
``context_type``/``context_id``/``context_account_id``/``context_sis_source_id``/``context_role``,
``hostname``, ``producer: "canvas"`` and, for request-driven events, ``request_id``/
``http_method``/``url``; system (job) events carry ``job_id``/``job_tag`` and no request fields.
There is no event id. Metadata ids are global (``shard_id * 10**13 + local_id``, as
``doc/api/data_services/canvas_metadata_template.md.erb`` defines them), body ids local, all strings.

Delivery (developerdocs ``file.data_service_setup``; Canvas Guides "How do I configure and test
Canvas Live Events using HTTPS delivery?"): one POST per event. Unsigned: the body is the event
JSON. Signed: "the event body will be a signed JWT with the live event data in the claims",
RS256, header ``kid`` naming a key of a public JWKS that holds the previous, current and next
keys ("the most current kid is the one in the middle"), rotated monthly. Not verified from a
primary source, so chosen here and configurable: the claims are the event's ``metadata`` and
``body`` as top-level claims plus ``iss`` (``https://live-events.canvas.instructure.com``, the
issuer integrators report seeing), ``iat`` and ``exp``; the Content-Type is ``application/jwt``.

Delivery is best effort, unsequenced and possibly duplicated (the metadata template says so);
the fault methods make each of those happen on demand.
"""

from __future__ import annotations

import base64
import hashlib
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://live-events.canvas.instructure.com"

_POOL: dict[int, SigningKey] = {}
_POOL_LOCK = threading.Lock()


@dataclass(frozen=True)
class SigningKey:
    private: rsa.RSAPrivateKey
    kid: str
    jwk: dict[str, str]


def _pool_key(index: int) -> SigningKey:
    """The index-th key of a process-wide pool: RSA 2048 is generated once, not per simulator."""
    with _POOL_LOCK:
        if index not in _POOL:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
            # RFC 7638 thumbprint as the kid: stable per key, opaque to the receiver.
            canonical = orjson.dumps({"e": public["e"], "kty": "RSA", "n": public["n"]})
            kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
            jwk = {"kty": "RSA", "e": public["e"], "n": public["n"], "kid": kid, "alg": "RS256", "use": "sig"}
            _POOL[index] = SigningKey(private, kid, jwk)
        return _POOL[index]


class KeyRing:
    """Previous, current and next signing keys; :meth:`rotate` moves them along by one."""

    def __init__(self) -> None:
        self._indexes = [0, 1, 2]
        self._lock = threading.Lock()

    @property
    def previous(self) -> SigningKey:
        return _pool_key(self._indexes[0])

    @property
    def current(self) -> SigningKey:
        return _pool_key(self._indexes[1])

    @property
    def next(self) -> SigningKey:
        return _pool_key(self._indexes[2])

    def rotate(self) -> None:
        with self._lock:
            self._indexes = [self._indexes[1], self._indexes[2], self._indexes[2] + 1]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.previous.jwk, self.current.jwk, self.next.jwk]}


def global_id(shard_id: int, local_id: int | None) -> str | None:
    """Canvas's global id: ``(shardId * 10000000000000) + localId``, as a string."""
    return None if local_id is None else str(shard_id * 10_000_000_000_000 + local_id)


def local_id(value: int | None) -> str | None:
    return None if value is None else str(value)


@dataclass
class Delivery:
    """One POST to the live events URL and what Edu Vault answered (a status, or the error)."""

    event_name: str
    status: int | str
    signed: bool
    event: dict[str, Any]
    data: bytes = field(repr=False)


class LiveEventsEmitter:
    """Records every event and delivers it to ``url`` (when set), with delivery faults on demand."""

    def __init__(
        self,
        *,
        url: str = "",
        signed: bool = True,
        background: bool = False,
        issuer: str = ISSUER,
        content_type: str = "application/jwt",
        token_lifetime: int = 3600,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.signed = signed
        self.issuer = issuer
        self.content_type = content_type
        self.token_lifetime = token_lifetime
        self.keys = KeyRing()
        #: Every event emitted, in emission order, whether or not it was delivered.
        self.events: list[dict[str, Any]] = []
        #: Every POST made, in the order made.
        self.deliveries: list[Delivery] = []
        #: Events lost on the way (:meth:`drop_next`).
        self.dropped: list[dict[str, Any]] = []
        self._drop = 0
        self._duplicate = 0
        self._holding = False
        self._held: list[tuple[dict[str, Any], int]] = []
        self._lock = threading.Lock()
        self._timeout = timeout
        self._client: httpx.Client | None = None  # made on first delivery (building one costs ~0.1 s)
        self._background = background
        self._queue: queue.Queue[tuple[dict[str, Any], int] | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._worker: threading.Thread | None = None
        #: Delivers instead of an HTTP POST when set (``sink(body, content_type) -> status``):
        #: tests hand events to an in-process client, in their own database transaction.
        self.sink: Callable[[bytes, str], int | str] | None = None
        if background:
            self._worker = threading.Thread(target=self._work, name="canvas-live-events", daemon=True)
            self._worker.start()

    # -- faults ---------------------------------------------------------------------------

    def drop_next(self, count: int = 1) -> None:
        with self._lock:
            self._drop += count

    def duplicate_next(self, count: int = 1) -> None:
        with self._lock:
            self._duplicate += count

    def hold(self) -> None:
        """Keep events back (delivered late) until :meth:`release`."""
        with self._lock:
            self._holding = True

    def release(self, order: str = "reverse") -> None:
        """Deliver the held events, in ``order``: "reverse", "original" or "shuffle"."""
        with self._lock:
            held, self._held, self._holding = self._held, [], False
        if order == "reverse":
            held.reverse()
        elif order == "shuffle":
            random.shuffle(held)
        elif order != "original":
            raise ValueError(f"unknown order {order!r}")
        for event, copies in held:
            self._dispatch(event, copies)

    @property
    def held(self) -> list[dict[str, Any]]:
        with self._lock:
            return [event for event, _ in self._held]

    # -- emitting ---------------------------------------------------------------------------

    def emit(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.events.append(event)
            if self._drop:
                self._drop -= 1
                self.dropped.append(event)
                return
            copies = 1
            if self._duplicate:
                self._duplicate -= 1
                copies = 2
            if self._holding:
                self._held.append((event, copies))
                return
        self._dispatch(event, copies)

    def encode(self, event: dict[str, Any]) -> tuple[bytes, str]:
        if not self.signed:
            return orjson.dumps(event), "application/json"
        issued = int(time.time())
        claims = {
            "iss": self.issuer,
            "iat": issued,
            "exp": issued + self.token_lifetime,
            "metadata": event["metadata"],
            "body": event["body"],
        }
        key = self.keys.current
        token = jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})
        return token.encode(), self.content_type

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait for background deliveries to finish; True when none is left."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=5)
        if self._client is not None:
            self._client.close()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._timeout)
            return self._client

    # -- delivery ----------------------------------------------------------------------------

    def _dispatch(self, event: dict[str, Any], copies: int) -> None:
        if not self.url and self.sink is None:
            return
        if self._background:
            with self._idle:
                self._pending += 1
            self._queue.put((event, copies))
        else:
            self._post(event, copies)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._post(*item)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _post(self, event: dict[str, Any], copies: int) -> None:
        data, content_type = self.encode(event)
        signed = self.signed
        for _ in range(copies):
            try:
                if self.sink is not None:
                    status: int | str = self.sink(data, content_type)
                else:
                    response = self._http().post(
                        self.url, content=data, headers={"Content-Type": content_type}
                    )
                    status = response.status_code
            except httpx.HTTPError as exc:
                status = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.deliveries.append(Delivery(event["metadata"]["event_name"], status, signed, event, data))
