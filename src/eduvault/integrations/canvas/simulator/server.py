"""A faithful stand-in for a Canvas LMS: real HTTP on loopback, for the demo and the tests.

Serves the REST API Edu Vault's Canvas connector calls (see :mod:`.api` for the endpoints and
their sources), paginated (:mod:`.pagination`) and throttled (:mod:`.throttle`) as Canvas does,
and sends Canvas Live Events to ``live_events_url`` (:mod:`.live_events`), signed with RS256
keys whose JWKS it serves at ``GET /api/lti/live_events/jwks`` (public; in real life that JWKS
lives at an Instructure AWS URL, so it answers even while the simulator is "down").

Authentication as Canvas's ``AuthenticationMethods`` answers it: ``Authorization: Bearer <token>``
or an ``access_token`` query parameter; no token → 401 ``{"status": "unauthenticated", "errors":
[{"message": "user authorization required"}]}``; an unknown token → 401 ``{"errors": [{"message":
"Invalid access token."}]}``; both with ``WWW-Authenticate: Bearer realm="canvas-lms"``.

Driven from Python (:class:`~.state.CanvasState`): add users, courses, modules, items,
assignments and enrollments, grade and submit, and inject faults (server errors, throttling,
slow answers, an outage) and delivery faults for Live Events (lost, duplicated, late and out of
order).
"""

from __future__ import annotations

import socket
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson

from eduvault.integrations.canvas.simulator.api import route
from eduvault.integrations.canvas.simulator.live_events import Delivery, LiveEventsEmitter
from eduvault.integrations.canvas.simulator.models import User
from eduvault.integrations.canvas.simulator.pagination import InvalidPage, first, nested
from eduvault.integrations.canvas.simulator.rest import ApiError, Call, Reply
from eduvault.integrations.canvas.simulator.state import CanvasState
from eduvault.integrations.canvas.simulator.throttle import Throttle, ThrottleSettings, rate_limit_body

JWKS_PATH = "/api/lti/live_events/jwks"
WWW_AUTHENTICATE = 'Bearer realm="canvas-lms"'


@dataclass
class Fault:
    kind: str  # "error" | "slow" | "throttle"
    status: int = 0
    delay: float = 0.0
    path_prefix: str = "/api/v1/"


@dataclass
class Token:
    token: str
    user_id: int
    admin: bool = True


@dataclass
class Request:
    method: str
    path: str
    query: str
    status: int
    authorization: str


class CanvasSimulator(CanvasState):
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        shard_id: int = 2107,
        hostname: str | None = None,
        max_per_page: int = 100,
        module_items_inline_max: int | None = None,
        throttle_status: int = 429,
        throttle_hwm: float = 600.0,
        throttle_maximum: float = 800.0,
        throttle_outflow: float = 10.0,
        throttle_up_front_cost: float = 50.0,
        request_cost: float = 1.0,
        throttle_enabled: bool = True,
        live_events_url: str = "",
        live_events_signed: bool = True,
        live_events_background: bool = False,
        live_events_content_type: str = "application/jwt",
        bulk_delay: float = 0.05,
        id_offset: int = 0,
    ) -> None:
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.simulator = self  # type: ignore[attr-defined]
        self.live_events = LiveEventsEmitter(
            url=live_events_url,
            signed=live_events_signed,
            background=live_events_background,
            content_type=live_events_content_type,
        )
        super().__init__(
            shard_id=shard_id,
            hostname=hostname or str(self._server.server_address[0]),
            deliver=self.live_events.emit,
            bulk_delay=bulk_delay,
            id_offset=id_offset,
        )
        #: ``Api::MAX_PER_PAGE``: the largest page, and the most items a module shows inline.
        self.max_per_page = max_per_page
        self.module_items_inline_max = (
            module_items_inline_max if module_items_inline_max is not None else max_per_page
        )
        self.throttle = Throttle(
            ThrottleSettings(
                hwm=throttle_hwm,
                maximum=throttle_maximum,
                outflow=throttle_outflow,
                up_front_cost=throttle_up_front_cost,
                request_cost=request_cost,
                status=throttle_status,
                enabled=throttle_enabled,
            )
        )
        self.tokens: dict[str, Token] = {}
        self.requests: list[Request] = []
        #: Exceptions raised while answering (answered 500), for debugging tests.
        self.errors: list[str] = []
        self._faults: list[Fault] = []
        self._down = False
        self._fault_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def jwks_url(self) -> str:
        return self.base_url + JWKS_PATH

    def start(self) -> CanvasSimulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="canvas-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.live_events.close()

    def __enter__(self) -> CanvasSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- tokens ---------------------------------------------------------------------------------

    def add_token(self, token: str, *, user_id: int | None = None, admin: bool = True) -> Token:
        """An access token for ``user_id`` (a new "API User" when None); admins see every course."""
        if user_id is None or user_id not in self.users:
            user = self.add_user("API User") if user_id is None else self._adopt_user(user_id)
            user_id = user.id
        self.tokens[token] = Token(token, user_id, admin)
        return self.tokens[token]

    def _adopt_user(self, user_id: int) -> User:
        with self.lock:
            user = User(user_id, f"User {user_id}", f"User {user_id}", f"User {user_id}")
            self.users[user_id] = user
        return user

    def revoke_token(self, token: str) -> None:
        self.tokens.pop(token, None)

    # -- faults --------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 500, path_prefix: str = "/api/v1/") -> None:
        """The next ``count`` matching requests answer ``status``."""
        with self._fault_lock:
            self._faults.extend(Fault("error", status=status, path_prefix=path_prefix) for _ in range(count))

    def rate_limit_next(
        self, count: int = 1, *, status: int | None = None, path_prefix: str = "/api/v1/"
    ) -> None:
        """The next ``count`` matching requests are throttled (``status`` defaults to ``throttle_status``)."""
        with self._fault_lock:
            self._faults.extend(
                Fault("throttle", status=status or 0, path_prefix=path_prefix) for _ in range(count)
            )

    def slow_next(self, count: int = 1, *, seconds: float, path_prefix: str = "/api/v1/") -> None:
        """The next ``count`` matching requests answer normally, but only after ``seconds``."""
        with self._fault_lock:
            self._faults.extend(Fault("slow", delay=seconds, path_prefix=path_prefix) for _ in range(count))

    def set_down(self, down: bool = True) -> None:
        """While down, every request answers 503 (except the JWKS, which Instructure hosts elsewhere)."""
        self._down = down

    @contextmanager
    def down(self) -> Iterator[None]:
        self.set_down(True)
        try:
            yield
        finally:
            self.set_down(False)

    def requests_to(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def _take_fault(self, path: str, kinds: tuple[str, ...]) -> Fault | None:
        with self._fault_lock:
            for i, fault in enumerate(self._faults):
                if fault.kind in kinds and path.startswith(fault.path_prefix):
                    return self._faults.pop(i)
        return None

    # -- live events -----------------------------------------------------------------------------

    @property
    def live_events_url(self) -> str:
        return self.live_events.url

    @live_events_url.setter
    def live_events_url(self, url: str) -> None:
        self.live_events.url = url

    @property
    def live_events_signed(self) -> bool:
        return self.live_events.signed

    @live_events_signed.setter
    def live_events_signed(self, signed: bool) -> None:
        self.live_events.signed = signed

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every Live Event emitted so far (delivered or not), oldest first."""
        return list(self.live_events.events)

    def events_named(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.live_events.events if e["metadata"]["event_name"] == name]

    @property
    def deliveries(self) -> list[Delivery]:
        """Every POST to ``live_events_url`` and the status Edu Vault answered (or the error)."""
        return list(self.live_events.deliveries)

    def drop_next_events(self, count: int = 1) -> None:
        """The next ``count`` events are lost on the way (never POSTed)."""
        self.live_events.drop_next(count)

    def duplicate_next_events(self, count: int = 1) -> None:
        """The next ``count`` events are POSTed twice."""
        self.live_events.duplicate_next(count)

    def hold_events(self) -> None:
        """Keep events back until :meth:`release_events` (delivered late)."""
        self.live_events.hold()

    def release_events(self, order: str = "reverse") -> None:
        """Deliver held events, by default newest first (out of order)."""
        self.live_events.release(order)

    def wait_for_events(self, timeout: float = 10.0) -> bool:
        """With ``live_events_background=True``: wait until every queued event was POSTed."""
        return self.live_events.flush(timeout)

    def rotate_keys(self) -> None:
        """Instructure's monthly rotation: next becomes current, current previous, and a new next."""
        self.live_events.keys.rotate()

    def jwks(self) -> dict[str, Any]:
        return self.live_events.keys.jwks()

    @property
    def current_kid(self) -> str:
        return self.live_events.keys.current.kid


def _without_token(path: str) -> str:
    url = urlsplit(path)
    kept = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "access_token"]
    return url.path + ("?" + urlencode(kept) if kept else "")


class _Handler(BaseHTTPRequestHandler):
    server_version = "CanvasSimulator/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def sim(self) -> CanvasSimulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and the client's
        # delayed ACK hold every keep-alive response back ~40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(self, reply: Reply, path: str, query: str) -> None:
        data = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body)
        # Logged before the answer leaves, so a caller that has its answer finds it logged.
        self.sim.requests.append(
            Request(self.command, path, query, reply.status, self.headers.get("Authorization", ""))
        )
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = nested(parse_qsl(url.query, keep_blank_values=True))
        sim = self.sim
        if url.path == JWKS_PATH and method == "GET":
            return self._send(Reply(200, sim.jwks()), url.path, url.query)
        if sim._down:
            body = {"errors": [{"message": "Service Unavailable"}]}
            return self._send(Reply(503, body, {"Retry-After": "1"}), url.path, url.query)
        scheme, _, bearer = self.headers.get("Authorization", "").partition(" ")
        token = bearer.strip() if scheme.lower() == "bearer" else (first(query, "access_token") or "")
        client = f"token:{token}" if token else f"ip:{self.client_address[0]}"
        forced = sim._take_fault(url.path, ("throttle",))
        if not sim.throttle.reserve(client) or forced:
            status = (forced.status if forced else 0) or sim.throttle.settings.status
            remaining = sim.throttle.settle(client, 0.0)
            reply = Reply(
                status,
                rate_limit_body(status),
                {"X-Rate-Limit-Remaining": repr(remaining)},
                "text/plain; charset=utf-8",
            )
            return self._send(reply, url.path, url.query)
        cost = sim.throttle.settings.request_cost
        try:
            reply = self._process(method, url.path, query, raw, token)
        finally:
            remaining = sim.throttle.settle(client, cost)
        reply.headers["X-Request-Cost"] = repr(float(cost))
        reply.headers["X-Rate-Limit-Remaining"] = repr(remaining)
        self._send(reply, url.path, url.query)

    def _process(self, method: str, path: str, query: dict[str, Any], raw: bytes, token: str) -> Reply:
        sim = self.sim
        fault = sim._take_fault(path, ("error", "slow"))
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status:
            return Reply(fault.status, {"errors": [{"message": "An error occurred."}], "error_report_id": 1})
        found = route(method, path)
        if found is None:
            return Reply(404, {"errors": [{"message": "The specified resource does not exist."}]})
        if not token:
            body = {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]}
            return Reply(401, body, {"WWW-Authenticate": WWW_AUTHENTICATE})
        grant = sim.tokens.get(token)
        if grant is None:
            body = {"errors": [{"message": "Invalid access token."}]}
            return Reply(401, body, {"WWW-Authenticate": WWW_AUTHENTICATE})
        handler, args = found
        request = {
            "request_id": str(uuid.uuid4()),
            "http_method": method,
            "url": sim.base_url + _without_token(self.path),
            "user_agent": self.headers.get("User-Agent"),
            "client_ip": self.client_address[0],
        }
        try:
            call = Call(
                sim, method, query, self._params(query, raw), sim.users[grant.user_id], grant.admin, args
            )
            with sim.acting(actor_id=grant.user_id, request=request):
                return handler(call)
        except ApiError as exc:
            return Reply(exc.status, exc.body)
        except (InvalidPage, KeyError, LookupError):
            return Reply(404, {"errors": [{"message": "The specified resource does not exist."}]})
        except Exception:
            sim.errors.append(traceback.format_exc())
            return Reply(500, {"errors": [{"message": "An error occurred."}], "error_report_id": 1})

    def _params(self, query: dict[str, Any], raw: bytes) -> dict[str, Any]:
        """Rails' params: the query merged with a form-encoded or JSON body."""
        params = dict(query)
        content_type = self.headers.get("Content-Type", "")
        if raw and "json" in content_type:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise ApiError(400, {"errors": [{"message": "Invalid JSON"}]}) from exc
            if isinstance(body, dict):
                params.update(body)
        elif raw:
            params.update(nested(parse_qsl(raw.decode(), keep_blank_values=True)))
        return params
