"""A faithful stand-in for a Discourse forum: real HTTP on loopback, for the demo and the tests.

Serves the requests Edu Vault's Discourse client makes (see :mod:`.api` for the endpoints) with
Discourse's shapes, validations and status codes, its admin API rate limit (:mod:`.throttle`) and
signed webhooks (:mod:`.webhooks`); driven from Python through :class:`~.driving.Forum`.

Authentication as ``Auth::DefaultCurrentUserProvider``: the ``Api-Key`` and ``Api-Username``
headers (credentials in the query string are ignored, as Discourse does since April 2020). An
unknown key, a key bound to another user, or no such user: 403 ``{"errors": ["You are not
permitted to view the requested resource. The API username or key is invalid."], "error_type":
"invalid_access"}``. No key: anonymous (public reads work, writes answer 403 ``not_logged_in``,
``/admin`` routes 404 as Rails' ``AdminConstraint`` does).
"""

from __future__ import annotations

import socket
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
import email
import email.policy
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from eduvault.integrations.discourse.simulator import rules
from eduvault.integrations.discourse.simulator.api import route
from eduvault.integrations.discourse.simulator.driving import VERSION, Forum
from eduvault.integrations.discourse.simulator.models import User
from eduvault.integrations.discourse.simulator.rest import ApiError, Call, Reply, not_found
from eduvault.integrations.discourse.simulator.rules import Invalid, Settings
from eduvault.integrations.discourse.simulator.throttle import AdminApiLimiter, Refusal
from eduvault.integrations.discourse.simulator.webhooks import DISCOURSE_RETRY_DELAYS

_OUTAGE = b"<html><head><title>503 Service Temporarily Unavailable</title></head><body></body></html>\n"


@dataclass
class Fault:
    status: int
    path_prefix: str


@dataclass
class Request:
    method: str
    path: str
    query: str
    status: int
    time: float
    api_username: str = ""


class DiscourseSimulator(Forum):
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        per_minute: int = 60,
        api_keys: dict[str, str | None] | None = None,
        throttle_enabled: bool = True,
        per_key_limit: bool = False,
        clock: Callable[[], float] | None = None,
        retry_delays: Iterable[float] = DISCOURSE_RETRY_DELAYS,
        version: str = VERSION,
        settings: Settings | None = None,
        id_offset: int = 0,
        **site_settings: Any,
    ) -> None:
        settings = settings or Settings()
        for name, value in site_settings.items():
            if not hasattr(settings, name):
                raise TypeError(f"unknown site setting {name!r}")
            setattr(settings, name, value)
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.simulator = self  # type: ignore[attr-defined]
        super().__init__(
            clock=clock, settings=settings, retry_delays=retry_delays, version=version, id_offset=id_offset
        )
        self.limiter = AdminApiLimiter(
            per_minute, clock=lambda: self.clock(), enabled=throttle_enabled, per_key=per_key_limit
        )
        #: API key → the username it is bound to (None: an "all users" key naming its user per request).
        self.api_keys: dict[str, str | None] = dict(api_keys or {})
        #: Every API request (logged before its answer is written).
        self.requests: list[Request] = []
        #: Exceptions raised while answering (answered 500), for debugging tests.
        self.errors: list[str] = []
        self._faults: list[Fault] = []
        self._down = False
        self._fault_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DiscourseSimulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="discourse-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.webhooks.close()

    def __enter__(self) -> DiscourseSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- keys, throttling, faults -------------------------------------------------------------------------

    def add_api_key(self, key: str, username: str | None = None) -> None:
        """An admin API key: bound to ``username``, or (None) for all users (``Api-Username`` names one)."""
        self.api_keys[key] = username

    def revoke_api_key(self, key: str) -> None:
        self.api_keys.pop(key, None)

    @property
    def throttle_enabled(self) -> bool:
        return self.limiter.enabled

    @throttle_enabled.setter
    def throttle_enabled(self, enabled: bool) -> None:
        self.limiter.enabled = enabled

    def fail_next(self, count: int = 1, *, status: int = 500, path_prefix: str = "/") -> None:
        """The next ``count`` requests under ``path_prefix`` answer ``status`` (429 in Discourse's shape)."""
        with self._fault_lock:
            self._faults.extend(Fault(status, path_prefix) for _ in range(count))

    def set_down(self, down: bool = True) -> None:
        """While down every request answers 503 (the proxy's page, not JSON)."""
        self._down = down

    @contextmanager
    def down(self) -> Iterator[None]:
        self.set_down(True)
        try:
            yield
        finally:
            self.set_down(False)

    def requests_to(self, prefix: str) -> list[Request]:
        return [r for r in list(self.requests) if r.path.startswith(prefix)]

    def _take_fault(self, path: str) -> Fault | None:
        with self._fault_lock:
            for i, fault in enumerate(self._faults):
                if path.startswith(fault.path_prefix):
                    return self._faults.pop(i)
        return None

    def authenticate(self, api_key: str | None, api_username: str | None) -> User | None:
        """``DefaultCurrentUserProvider#current_user`` for header credentials, then the limiter."""
        if api_key is None:
            return None
        invalid = ApiError(403, {"errors": [rules.INVALID_API_CREDENTIALS], "error_type": "invalid_access"})
        if api_key not in self.api_keys:
            raise invalid
        bound = self.api_keys[api_key]
        if bound is not None and api_username and api_username.lower() != bound.lower():
            raise invalid
        user = self.user_named(bound or api_username or "") if (bound or api_username) else None
        if user is None:
            raise invalid
        if not user.active:
            raise ApiError(403, {"errors": [rules.INVALID_ACCESS], "error_type": "invalid_access"})
        refusal = self.limiter.perform(api_key)
        if refusal is not None:
            raise ApiError(429, refusal.body, refusal.headers)
        return user


def _nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Rack's nested params: ``a[]=1&a[]=2`` is a list, ``g[name]=x`` a hash."""
    params: dict[str, Any] = {}
    for key, value in pairs:
        if key.endswith("[]"):
            params.setdefault(key[:-2], []).append(value)
        elif "[" in key and key.endswith("]"):
            outer, _, inner = key[:-1].partition("[")
            params.setdefault(outer, {})[inner] = value
        else:
            params[key] = value
    return params


class _Handler(BaseHTTPRequestHandler):
    server_version = "nginx"
    protocol_version = "HTTP/1.1"

    @property
    def sim(self) -> DiscourseSimulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(self, reply: Reply, path: str, query: str, username: str = "") -> None:
        if reply.body is None:  # Rails' head :ok
            data = b""
        else:
            data = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body)
        self.sim.requests.append(Request(self.command, path, query, reply.status, self.sim.clock(), username))
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
        path, query = unquote(url.path), url.query
        sim = self.sim
        if sim._down:
            return self._send(Reply(503, _OUTAGE, {}, "text/html"), path, query)
        fault = sim._take_fault(path)
        if fault is not None:
            if fault.status == 429:
                refusal = Refusal(1)
                return self._send(Reply(429, refusal.body, refusal.headers), path, query)
            body = {"status": fault.status, "error": self.responses.get(fault.status, ("Error",))[0]}
            return self._send(Reply(fault.status, body), path, query)
        username = ""
        try:
            found = route(method, path)
            if found is None:
                raise not_found()
            user = sim.authenticate(self.headers.get("Api-Key"), self.headers.get("Api-Username"))
            username = user.username if user else ""
            if path.startswith("/admin/"):
                allowed = user is not None and (
                    user.staff if path.startswith("/admin/users/") else user.admin
                )
                if not allowed:
                    raise not_found()
            handler, args = found
            params = _nested(parse_qsl(query, keep_blank_values=True))
            params.update(self._body(raw))
            client = f"{self.client_address[0]} {self.headers.get('User-Agent', '')}"
            call = Call(sim, method, dict(params), params, user, args, client)
            with sim.lock:
                reply = handler(call)
        except ApiError as exc:
            reply = Reply(exc.status, exc.body, exc.headers)
        except Invalid as exc:
            reply = Reply(422, {"errors": exc.errors})
        except (KeyError, LookupError, ValueError):
            reply = Reply(404, {"errors": [rules.NOT_FOUND], "error_type": "not_found"})
        except Exception:
            sim.errors.append(traceback.format_exc())
            reply = Reply(500, {"status": 500, "error": "Internal Server Error"})
        if username:
            reply.headers.setdefault("X-Discourse-Username", username)
        self._send(reply, path, query, username)

    def _body(self, raw: bytes) -> dict[str, Any]:
        if not raw:
            return {}
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            return _multipart(content_type, raw)
        if "json" in content_type:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise ApiError(400, {"errors": ["There was a problem parsing your JSON"]}) from None
            return body if isinstance(body, dict) else {}
        return _nested(parse_qsl(raw.decode(), keep_blank_values=True))


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """Rack's multipart params: a field's text, or a file as {"filename", "content"}."""
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw, policy=email.policy.HTTP
    )
    if not message.is_multipart():
        raise ApiError(400, {"errors": ["There was a problem parsing your multipart body"]})
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        params[str(name)] = {"filename": filename, "content": content} if filename else content.decode()
    return params

