"""A faithful stand-in for an LTI 1.3 / LTI Advantage platform: real HTTP on loopback.

Endpoints (``issuer`` = ``base_url``, no trailing slash):

- ``GET /launch/<lti_message_hint>`` — where a browser starts a launch (:mod:`.oidc`);
- ``GET|POST /auth`` — the OIDC authorization endpoint (:mod:`.oidc`);
- ``GET /jwks`` — the platform's public keys, ``Cache-Control: max-age=300`` (:mod:`.keys`);
- ``POST /token`` — client credentials with a JWT client assertion (:mod:`.tokens`);
- ``/api/lti/courses/{context_id}/line_items[/{id}[/scores|/results]]`` — AGS 2.0 (:mod:`.ags`);
- ``GET /api/lti/courses/{context_id}/memberships`` — NRPS 2.0 (:mod:`.nrps`);
- ``POST /deep_link_return`` — Deep Linking 2.0 responses (:mod:`.deep_linking`);
- ``GET /.well-known/openid-configuration`` and ``GET /courses/{id}/lti_return`` (the
  ``launch_presentation.return_url``).

Driven from Python (:class:`LtiPlatform`): register tools, add courses, users, enrollments and
links, launch as a browser would (:mod:`.browser`), craft id_tokens (:mod:`.messages`), rotate
keys, read the gradebook, and inject faults (``fail_next``, ``set_down``). Every request is
logged in :attr:`LtiPlatform.requests` before its answer is written.
"""

from __future__ import annotations

import socket
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import orjson

from eduvault.integrations.lti.simulator import deep_linking, oidc, tokens
from eduvault.integrations.lti.simulator.browser import Browser
from eduvault.integrations.lti.simulator.keys import KeyRing
from eduvault.integrations.lti.simulator.messages import Messages
from eduvault.integrations.lti.simulator.rest import ApiError, Call, Reply
from eduvault.integrations.lti.simulator.routes import ROUTES


class Request(NamedTuple):
    method: str
    path: str
    status: int


@dataclass
class Fault:
    status: int
    path_prefix: str


class LtiPlatform(Browser, Messages):
    """An LMS acting as LTI Advantage platform. ``with LtiPlatform() as lms:`` serves it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        require_session: bool = True,
        stale_score_status: int = 409,
        page_size: int = 10,
        product_family_code: str = "eduvault-simulator",
    ) -> None:
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.platform = self  # type: ignore[attr-defined]
        super().__init__()
        #: /auth also checks the browser's platform session (set by the launch page) is the user's.
        self.require_session = require_session
        self.stale_score_status = stale_score_status
        self.page_size = page_size
        self.product_family_code = product_family_code
        self.keys = KeyRing()
        self.pending_launches: dict[str, oidc.PendingLaunch] = {}
        self.sessions: dict[str, str] = {}
        self.deep_link_requests: dict[str, Any] = {}
        self.deep_link_items: list[deep_linking.DeepLinkItem] = []
        self.dl_counter = 0
        self.access_tokens: dict[str, tokens.AccessToken] = {}
        #: Every access token issued: {"client_id", "scope", "access_token", "jti", "time"}.
        self.tokens_issued: list[dict[str, Any]] = []
        self.seen_jtis: dict[str, float] = {}
        self.seen_nonces: set[str] = set()
        self.tool_jwks_cache: dict[str, dict[str, Any]] = {}
        #: Every fetch of a tool's JWKS (its URL), for tests of key rotation on the tool side.
        self.tool_jwks_fetches: list[str] = []
        self.id_tokens_sent: list[str] = []
        self.auth_refusals: list[str] = []
        self.requests: list[Request] = []
        #: Exceptions raised while answering (answered 500), for debugging tests.
        self.errors: list[str] = []
        self._faults: list[Fault] = []
        self._down = False
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None

    # -- lifecycle and URLs -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def auth_url(self) -> str:
        return self.base_url + "/auth"

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/jwks"

    @property
    def http(self) -> httpx.Client:
        with self.lock:
            if self._http is None:
                self._http = httpx.Client(timeout=5.0, verify=False)
            return self._http

    def start(self) -> LtiPlatform:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="lti-platform", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> LtiPlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- keys and tokens ----------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        return self.keys.jwks()

    @property
    def current_kid(self) -> str:
        return self.keys.current.kid

    def rotate_keys(self) -> str:
        """A new current signing key; the previous ones stay published. Returns the new kid."""
        return self.keys.rotate().kid

    def retire_old_keys(self) -> None:
        """Publish only the current key."""
        self.keys.retire_old()

    def expire_tokens(self) -> None:
        """Every access token issued so far expires now (the tool must fetch a new one)."""
        with self.lock:
            for access in self.access_tokens.values():
                access.expires_at = 0.0

    def forget_tool_keys(self) -> None:
        """Drop the cached tool JWKS, so the next assertion fetches it again."""
        with self.lock:
            self.tool_jwks_cache.clear()

    # -- faults and the log -------------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 500, path_prefix: str = "/api/lti/") -> None:
        """The next ``count`` requests under ``path_prefix`` answer ``status``."""
        with self.lock:
            self._faults.extend(Fault(status, path_prefix) for _ in range(count))

    def set_down(self, down: bool = True) -> None:
        """While down, every request answers 503."""
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
        with self.lock:
            for i, fault in enumerate(self._faults):
                if path.startswith(fault.path_prefix):
                    return self._faults.pop(i)
        return None


class _Handler(BaseHTTPRequestHandler):
    server_version = "LtiPlatformSimulator/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def platform(self) -> LtiPlatform:
        return self.server.platform  # type: ignore[attr-defined]

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

    def _send(self, reply: Reply, path: str) -> None:
        if reply.body is None:
            data = b""
        else:
            data = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body)
        # Logged before the answer leaves, so a caller that has its answer finds it logged.
        self.platform.requests.append(Request(self.command, path, reply.status))
        self.send_response(reply.status)
        if reply.status != 204:
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
        path = url.path
        platform = self.platform
        if platform._down:
            return self._send(
                Reply(503, {"errors": [{"message": "Service Unavailable"}]}, {"Retry-After": "1"}), path
            )
        fault = platform._take_fault(path)
        if fault is not None:
            return self._send(Reply(fault.status, {"errors": [{"message": "An error occurred."}]}), path)
        try:
            reply = self._route(method, path, url.query, raw)
        except ApiError as exc:
            reply = Reply(exc.status, exc.body, exc.headers, exc.content_type)
        except Exception:
            platform.errors.append(traceback.format_exc())
            reply = Reply(500, {"errors": [{"message": "An error occurred."}]})
        self._send(reply, path)

    def _route(self, method: str, path: str, query: str, raw: bytes) -> Reply:
        allowed: list[str] = []
        for methods, pattern, handler in ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            if method not in methods:
                allowed.extend(methods)
                continue
            call = Call(
                self.platform, method, path, dict(parse_qsl(query, keep_blank_values=True)), query,
                {k.lower(): v for k, v in self.headers.items()}, raw,
                {k: unquote(v) for k, v in match.groupdict().items()},
            )  # fmt: skip
            return handler(call)
        if allowed:
            return Reply(405, {"errors": [{"message": "Method Not Allowed"}]}, {"Allow": ", ".join(allowed)})
        return Reply(404, {"errors": [{"message": "The specified resource does not exist."}]})


__all__ = ["LtiPlatform", "Request"]
