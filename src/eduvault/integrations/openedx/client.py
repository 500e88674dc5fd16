"""HTTP client for Open edX's REST APIs, authenticated with OAuth2 client credentials.

- ``POST /oauth2/access_token`` (``grant_type=client_credentials``, ``token_type=jwt``)
  returns a JWT, sent as ``Authorization: JWT <token>``; it is cached until shortly before
  it expires and fetched again once when an API call answers 401.
- Every call has a timeout. Timeouts, connection errors and 5xx are retried with
  exponential backoff and jitter; 429 waits for ``Retry-After``; other 4xx fail at once
  with a clear error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import orjson

from eduvault import __version__
from eduvault.integrations.openedx.normalize import REQUESTED_FIELDS
from eduvault.kernel.backoff import retry_delay
from eduvault.kernel.errors import (
    CourseNotFoundAtSource,
    SourceError,
    SourceRateLimited,
    SourceRejected,
    SourceUnavailable,
)

#: Refresh the token this long before the platform says it expires.
TOKEN_EXPIRY_MARGIN = 60.0
#: Never wait longer than this for one Retry-After.
MAX_RETRY_AFTER = 120.0


class OpenEdxClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 30.0,
        attempts: int = 4,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        #: How errors name the platform: its host.
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            headers={"User-Agent": f"eduvault/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the secret
        return f"OpenEdxClient({self.base_url!r}, client_id={self.client_id!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenEdxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the APIs -----------------------------------------------------------------------

    def course_blocks(self, course_key: str) -> Any:
        """The Course Blocks API response for a whole course, as parsed JSON."""
        params = {
            "course_id": course_key,
            "all_blocks": "true",
            "depth": "all",
            "requested_fields": ",".join(REQUESTED_FIELDS),
            "return_type": "dict",
        }
        try:
            return self._get_json("api/courses/v2/blocks/", params, what=f"the blocks of {course_key}")
        except CourseNotFoundAtSource:
            raise CourseNotFoundAtSource(f"{self.host} has no course {course_key!r}") from None

    def courses(self, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every course in the catalog (``/api/courses/v1/courses/``), page by page."""
        url: str | None = "api/courses/v1/courses/"
        params: dict[str, Any] | None = {"page_size": page_size}
        while url:
            page = self._get_json(url, params, what="the course list")
            yield from page.get("results", [])
            url = (page.get("pagination") or {}).get("next")
            params = None  # the next link carries them

    # -- plumbing -----------------------------------------------------------------------

    def _access_token(self, *, force: bool = False) -> str:
        with self._lock:
            if not force and self._token and self._clock() < self._token_expires:
                return self._token
            response = self._send(
                "POST",
                "oauth2/access_token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self._client_secret,
                    "token_type": "jwt",
                },
                what="an access token",
            )
            if response.status_code in (400, 401, 403):
                raise SourceRejected(
                    f"{self.host} rejected our client credentials ({response.status_code}: "
                    f"{_error_text(response)}); check the client id and secret"
                )
            self._raise_for_status(response, "an access token")
            body = _json(response, "an access token", self.host)
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise SourceError(f"{self.host}'s token endpoint answered without an access_token")
            expires_in = float(body.get("expires_in") or 300)
            self._token = token
            self._token_expires = self._clock() + max(0.0, expires_in - TOKEN_EXPIRY_MARGIN)
            return token

    def _get_json(self, url: str, params: dict[str, Any] | None, *, what: str) -> Any:
        token = self._access_token()
        response = self._send("GET", url, params=params, headers={"Authorization": f"JWT {token}"}, what=what)
        if response.status_code == 401:
            # The token may have been revoked or expired early: get a new one, once.
            token = self._access_token(force=True)
            response = self._send(
                "GET", url, params=params, headers={"Authorization": f"JWT {token}"}, what=what
            )
            if response.status_code == 401:
                raise SourceRejected(
                    f"{self.host} refused our access token for {what} (401: {_error_text(response)})"
                )
        self._raise_for_status(response, what)
        return _json(response, what, self.host)

    def _send(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """One request, retried on timeouts, connection errors, 5xx and 429."""
        full = urljoin(self.base_url, url)
        last: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._http.request(method, full, **kwargs)
            except httpx.TimeoutException as exc:
                last = SourceUnavailable(f"{self.host} did not answer in time when asked for {what}")
                last.__cause__ = exc
            except httpx.TransportError as exc:
                last = SourceUnavailable(f"could not reach {self.host} for {what}: {exc}")
                last.__cause__ = exc
            else:
                if response.status_code == 429:
                    retry_after = _retry_after(response)
                    last = SourceRateLimited(
                        f"{self.host} is rate limiting us (429) for {what}", retry_after=retry_after
                    )
                    if attempt < self.attempts:
                        self._sleep(
                            min(
                                retry_after if retry_after is not None else self._delay(attempt),
                                MAX_RETRY_AFTER,
                            )
                        )
                        continue
                    raise last
                if response.status_code >= 500:
                    last = SourceUnavailable(f"{self.host} answered {response.status_code} for {what}")
                else:
                    return response
            if attempt < self.attempts:
                self._sleep(self._delay(attempt))
        assert last is not None
        raise last

    def _delay(self, attempt: int) -> float:
        return retry_delay(attempt, base=self.backoff, cap=MAX_RETRY_AFTER)

    def _raise_for_status(self, response: httpx.Response, what: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if status == 404:
            raise CourseNotFoundAtSource(f"{self.host} has no {what} (404)")
        if status in (401, 403):
            raise SourceRejected(
                f"{self.host} refused access to {what} ({status}: {_error_text(response)}); "
                "the OAuth client needs staff access to the course"
            )
        raise SourceRejected(f"{self.host} answered {status} for {what}: {_error_text(response)}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def _json(response: httpx.Response, what: str, host: str = "the source") -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise SourceError(f"{host} answered {what} with something that is not JSON") from None


def _error_text(response: httpx.Response, limit: int = 200) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text[:limit].strip() or response.reason_phrase
    if isinstance(body, dict):
        for key in ("error_description", "detail", "developer_message", "error", "message"):
            if isinstance(body.get(key), str):
                return body[key][:limit]
    return str(body)[:limit]
