"""Calling a platform's LTI Advantage services as the tool: an access token by client
credentials with a JWT client assertion (RFC 7523, signed by the tool's key; cached until it
expires), scores to a line item (AGS 2.0), the roster of a context (NRPS 2.0, pages by
``Link: rel="next"``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
import structlog

from eduvault import __version__
from eduvault.integrations.lti.keys import client_assertion
from eduvault.integrations.lti.verify import Registration
from eduvault.kernel.errors import SourceError, SourceRateLimited, SourceRejected, SourceUnavailable
from eduvault.kernel.links import next_link

log = structlog.get_logger(__name__)

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
MEMBERSHIPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
#: A token is used until this long before it expires.
TOKEN_MARGIN = 30.0
#: Pages of a roster read at most (a bound on a platform that never stops paging).
MAX_PAGES = 1000

_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def scores_url(lineitem: str) -> str:
    """``<lineitem>/scores``, the suffix inserted before any query string (AGS 2.0 §3.4)."""
    parts = urlsplit(lineitem)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


class PlatformClient:
    def __init__(self, registration: Registration, *, timeout: float = 10.0, http: httpx.Client | None = None) -> None:
        self.registration = registration
        self.host = urlsplit(registration.token_url).netloc
        self._owns = http is None
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"User-Agent": f"eduvault/{__version__}"},
            follow_redirects=False,
        )

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns:
            self._http.close()

    # -- the token -----------------------------------------------------------------------------

    def access_token(self, scopes: Sequence[str]) -> str:
        scope = " ".join(sorted(set(scopes)))
        key = (self.registration.token_url, self.registration.client_id, scope)
        with _tokens_lock:
            held = _tokens.get(key)
            if held is not None and held[1] - TOKEN_MARGIN > time.time():
                return held[0]
        assertion = client_assertion(client_id=self.registration.client_id, token_url=self.registration.token_url)
        response = self._send(
            "POST",
            self.registration.token_url,
            what="an access token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": scope,
            },
            headers={"Accept": "application/json"},
        )
        body = self._json(response, "an access token")
        token, lifetime = body.get("access_token"), body.get("expires_in", 3600)
        if not isinstance(token, str) or not token:
            raise SourceRejected(f"{self.host} answered the token request without an access_token")
        expires = time.time() + (float(lifetime) if isinstance(lifetime, int | float) else 3600.0)
        with _tokens_lock:
            _tokens[key] = (token, expires)
        return token

    def _authorized(self, scopes: Sequence[str], accept: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token(scopes)}", "Accept": accept}

    # -- AGS -------------------------------------------------------------------------------------

    def post_score(self, lineitem: str, score: Mapping[str, Any]) -> None:
        headers = self._authorized(["https://purl.imsglobal.org/spec/lti-ags/scope/score"], "application/json")
        headers["Content-Type"] = SCORE_TYPE
        self._send("POST", scores_url(lineitem), what="a score", content=orjson.dumps(dict(score)), headers=headers)

    def line_item(self, lineitem: str) -> dict[str, Any]:
        headers = self._authorized(["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"], LINEITEM_TYPE)
        return self._json(self._send("GET", lineitem, what="a line item", headers=headers), "a line item")

    # -- NRPS ------------------------------------------------------------------------------------

    def memberships(self, url: str) -> Iterator[dict[str, Any]]:
        """Every member of a context's roster, page after page."""
        scope = ["https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"]
        seen = 0
        next_url: str | None = url
        while next_url and seen < MAX_PAGES:
            seen += 1
            response = self._send("GET", next_url, what="the roster", headers=self._authorized(scope, MEMBERSHIPS_TYPE))
            body = self._json(response, "the roster")
            for member in body.get("members") or []:
                if isinstance(member, dict):
                    yield member
            following = next_link(response)
            if following and urlsplit(following).netloc not in ("", urlsplit(url).netloc):
                raise SourceRejected(f"{self.host} paged the roster to another host ({following}); not followed")
            next_url = following

    # -- plumbing --------------------------------------------------------------------------------

    def _send(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise SourceUnavailable(f"{self.host} did not answer in time when asked for {what}") from exc
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"could not reach {urlsplit(url).netloc} for {what}: {exc}") from exc
        status = response.status_code
        if status < 300:
            return response
        text = response.text[:300]
        log.warning("lti.request_failed", host=urlsplit(url).netloc, method=method, status=status, what=what)
        if status == 429:
            retry = response.headers.get("Retry-After", "")
            raise SourceRateLimited(
                f"{self.host} is rate limiting {what}", retry_after=float(retry) if retry.isdigit() else 60.0
            )
        if status in (401, 403) and what != "an access token":
            with _tokens_lock:  # a token the platform no longer takes: ask anew next time
                for key in [k for k in _tokens if k[0] == self.registration.token_url]:
                    _tokens.pop(key, None)
        if status >= 500:
            raise SourceUnavailable(f"{urlsplit(url).netloc} answered {status} for {what}: {text}")
        raise SourceRejected(f"{urlsplit(url).netloc} refused {what} ({status}): {text}")

    def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise SourceError(f"{self.host} answered {what} with something that is not JSON") from None
        if not isinstance(body, dict):
            raise SourceError(f"{self.host} answered {what} with something that is not a JSON object")
        return body
