"""A faithful stand-in for an Open edX LMS: real HTTP on loopback.

Serves what Edu Vault's Open edX connector calls, shaped as the platform documents it:

- ``POST /oauth2/access_token``: OAuth2 client credentials; ``token_type=jwt`` returns a
  signed JWT (``{"access_token", "token_type": "JWT", "expires_in", "scope"}``).
- ``GET /api/courses/v2/blocks/?course_id=…&all_blocks=true&depth=all&requested_fields=…``:
  the Course Blocks API, ``{"root", "blocks"}`` (or a list with ``return_type=list``).
- ``GET /api/courses/v1/courses/``: the paginated course catalog.

Driven from Python: add courses, edit them as an author would (see
:class:`~eduvault.integrations.openedx.simulator.course.SimulatedCourse`), and inject faults
(server errors, rate limiting, slow answers, an outage, revoked tokens).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import orjson
from eduvault_openedx import sender

from eduvault.integrations.openedx.simulator.course import SimulatedCourse

COURSE_KEY = re.compile(r"^course-v1:[^+/\s]+\+[^+/\s]+\+[^+/\s]+$")


@dataclass
class Fault:
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    path_prefix: str = "/"


@dataclass
class Request:
    method: str
    path: str
    status: int
    authorization: str


class OpenEdxSimulator:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token_lifetime: int = 3600,
        webhook_url: str = "",
        webhook_secret: str = "",
    ) -> None:
        #: Where Studio's Edu Vault plugin posts its events (empty: it sends nothing).
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.deliveries: list[tuple[str, int | str]] = []
        self.courses: dict[str, SimulatedCourse] = {}
        self.clients: dict[str, str] = {}
        self.token_lifetime = token_lifetime
        self.requests: list[Request] = []
        self._faults: list[Fault] = []
        self._down = False
        self._signing_key = secrets.token_hex(32)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.simulator = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> OpenEdxSimulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="openedx-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OpenEdxSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- setup and faults -------------------------------------------------------------------

    def add_client(self, client_id: str, client_secret: str) -> None:
        self.clients[client_id] = client_secret

    def add_course(self, course: SimulatedCourse) -> SimulatedCourse:
        self.courses[course.course_key] = course
        return course

    def fail_next(self, count: int = 1, *, status: int = 500, path_prefix: str = "/api/") -> None:
        """The next ``count`` matching requests answer ``status``."""
        with self._lock:
            self._faults.extend(Fault(status=status, path_prefix=path_prefix) for _ in range(count))

    def rate_limit_next(self, count: int = 1, *, retry_after: float = 1, path_prefix: str = "/api/") -> None:
        with self._lock:
            self._faults.extend(
                Fault(status=429, retry_after=retry_after, path_prefix=path_prefix) for _ in range(count)
            )

    def slow_next(self, count: int = 1, *, seconds: float, path_prefix: str = "/api/") -> None:
        """The next ``count`` matching requests answer normally, but only after ``seconds``."""
        with self._lock:
            self._faults.extend(Fault(status=0, delay=seconds, path_prefix=path_prefix) for _ in range(count))

    def set_down(self, down: bool = True) -> None:
        """While down, every request answers 503."""
        self._down = down

    def revoke_tokens(self) -> None:
        """Invalidate every token issued so far (as a key rotation would)."""
        self._signing_key = secrets.token_hex(32)

    # -- publishing, as Studio with the Edu Vault plugin does ----------------------------------

    def publish(self, course_key: str) -> dict[str, Any]:
        """An author publishes the course: the plugin relays Studio's course_published signal."""
        course = self.courses[course_key]
        course.publish()
        return self._send(sender.COURSE_PUBLISHED, {"course_key": course_key})

    def publish_block(self, usage_key: str, *, deleted: bool = False) -> dict[str, Any]:
        """A block is published (or deleted): the openedx-events block event."""
        block_type = usage_key.split("+type@", 1)[1].split("+", 1)[0]
        event_type = sender.XBLOCK_DELETED if deleted else sender.XBLOCK_PUBLISHED
        return self._send(
            event_type, {"xblock_info": {"usage_key": usage_key, "block_type": block_type, "version": None}}
        )

    def _send(self, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        event = sender.cloud_event(event_type, data, source=self.base_url)
        if self.webhook_url:
            try:
                status: int | str = sender.deliver(self.webhook_url, self.webhook_secret, event)
            except sender.DeliveryError as exc:
                status = str(exc)
            self.deliveries.append((event["id"], status))
        return event

    def requests_to(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    @contextmanager
    def down(self) -> Iterator[None]:
        self.set_down(True)
        try:
            yield
        finally:
            self.set_down(False)

    # -- request handling (called from the server's threads) --------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if path.startswith(fault.path_prefix):
                    return self._faults.pop(i)
        return None

    def _issue_token(self, client_id: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.base_url + "/oauth2",
            "aud": "lms-key",
            "sub": client_id,
            "preferred_username": f"{client_id}-service-user",
            "administrator": True,
            "scopes": ["read", "write", "email", "profile"],
            "grant_type": "client_credentials",
            "iat": now,
            "exp": now + self.token_lifetime,
            "version": "1.2.0",
        }
        return jwt.encode(claims, self._signing_key, algorithm="HS256")

    def _check_token(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("jwt", "bearer") or not token:
            return False
        try:
            jwt.decode(token, self._signing_key, algorithms=["HS256"], audience="lms-key")
        except jwt.PyJWTError:
            return False
        return True


class _Handler(BaseHTTPRequestHandler):
    server_version = "OpenEdxSimulator/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def sim(self) -> OpenEdxSimulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = orjson.dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Vary", "Accept")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        url = urlsplit(self.path)
        self.sim.requests.append(
            Request(self.command, url.path, status, self.headers.get("Authorization", ""))
        )

    def _faulted(self) -> bool:
        path = urlsplit(self.path).path
        if self.sim._down:
            self._reply(503, {"detail": "Service temporarily unavailable."})
            return True
        fault = self.sim._take_fault(path)
        if fault is None:
            return False
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status == 429:
            self._reply(429, {"detail": "Request was throttled."}, {"Retry-After": f"{fault.retry_after:g}"})
            return True
        if fault.status:
            self._reply(
                fault.status,
                {"detail": "Internal Server Error"} if fault.status >= 500 else {"detail": "error"},
            )
            return True
        return False

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if self._faulted():
            return
        url = urlsplit(self.path)
        if url.path.rstrip("/") != "/oauth2/access_token":
            self._reply(404, {"detail": "Not found."})
            return
        form = {k: v[0] for k, v in parse_qs(body).items()}
        if form.get("grant_type") != "client_credentials":
            self._reply(400, {"error": "unsupported_grant_type"})
            return
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        expected = self.sim.clients.get(client_id)
        if expected is None or not secrets.compare_digest(expected, secret):
            self._reply(401, {"error": "invalid_client"})
            return
        if form.get("token_type", "").lower() == "jwt":
            token, token_type = self.sim._issue_token(client_id), "JWT"
        else:
            token, token_type = self.sim._issue_token(client_id), "Bearer"
        self._reply(
            200,
            {
                "access_token": token,
                "token_type": token_type,
                "expires_in": self.sim.token_lifetime,
                "scope": "read write email profile",
            },
        )

    def do_GET(self) -> None:
        if self._faulted():
            return
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        path = url.path
        protected = ("/api/courses/v2/blocks/", "/api/courses/v1/blocks/", "/api/courses/v1/courses/")
        if path in protected and not self.sim._check_token(self.headers.get("Authorization", "")):
            self._reply(401, {"detail": "Authentication credentials were not provided or are invalid."})
            return
        if path in ("/api/courses/v2/blocks/", "/api/courses/v1/blocks/"):
            self._blocks(query)
        elif path == "/api/courses/v1/courses/":
            self._courses(query)
        else:
            self._reply(404, {"detail": "Not found."})

    def _blocks(self, query: dict[str, str]) -> None:
        course_id = query.get("course_id")
        if not course_id:
            self._reply(400, ["course_id is required."])
            return
        if not COURSE_KEY.match(course_id):
            self._reply(400, [f"'{course_id}' is not a valid course key."])
            return
        course = self.sim.courses.get(course_id)
        if course is None:
            self._reply(404, {"detail": f"Block not found: {course_id}"})
            return
        requested = [f for f in query.get("requested_fields", "").split(",") if f]
        return_type = query.get("return_type", "dict")
        if return_type not in ("dict", "list"):
            self._reply(
                400,
                {
                    "return_type": [
                        f"Select a valid choice. {return_type} is not one of the available choices."
                    ]
                },
            )
            return
        self._reply(200, course.blocks_response(self.sim.base_url, requested, return_type))

    def _courses(self, query: dict[str, str]) -> None:
        try:
            page = max(1, int(query.get("page", "1")))
            page_size = min(100, max(1, int(query.get("page_size", "10"))))
        except ValueError:
            self._reply(400, {"detail": "Invalid page."})
            return
        keys = sorted(self.sim.courses)
        count = len(keys)
        pages = max(1, -(-count // page_size))
        if page > pages:
            self._reply(404, {"detail": "Invalid page."})
            return
        chunk = keys[(page - 1) * page_size : page * page_size]
        base = self.sim.base_url

        def link(n: int) -> str | None:
            if not 1 <= n <= pages:
                return None
            return f"{base}/api/courses/v1/courses/?{urlencode({'page': n, 'page_size': page_size})}"

        results: list[dict[str, Any]] = []
        for key in chunk:
            course = self.sim.courses[key]
            root = course.blocks[course.root]
            results.append(
                {
                    "blocks_url": f"{base}/api/courses/v2/blocks/?{urlencode({'course_id': key})}",
                    "effort": None,
                    "end": None,
                    "enrollment_start": None,
                    "enrollment_end": None,
                    "id": key,
                    "media": {},
                    "name": root.display_name,
                    "number": course.number,
                    "org": course.org,
                    "short_description": "",
                    "start": root.settings.get("start"),
                    "start_display": None,
                    "start_type": "timestamp" if root.settings.get("start") else "empty",
                    "pacing": "instructor",
                    "mobile_available": False,
                    "hidden": False,
                    "invitation_only": False,
                    "course_id": key,
                }
            )
        self._reply(
            200,
            {
                "results": results,
                "pagination": {
                    "next": link(page + 1),
                    "previous": link(page - 1),
                    "count": count,
                    "num_pages": pages,
                },
            },
        )
