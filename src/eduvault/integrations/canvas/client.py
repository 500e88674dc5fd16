"""HTTP client for the Canvas LMS REST API (``/api/v1``), authenticated with a bearer token.

What it relies on (canvas-lms ``doc/api/pagination.md``, ``doc/api/throttling.md``,
``app/middleware/request_throttle.rb``):

- Lists are paginated. The ``Link`` header's ``rel="next"`` is an opaque absolute URL
  (often ``page=bookmark:…``) and is followed as is; only links to the same host are.
- Every throttled-or-not answer carries ``X-Rate-Limit-Remaining``: the token's quota left
  below the high-water mark (600 by default; the bucket leaks 10 units a second). When it
  runs low the client pauses before its next request, so a long read slows down rather than
  hitting the limit. A rate-limited answer is ``403`` with ``403 Forbidden (Rate Limit
  Exceeded)`` in its body (until 2025-10) or ``429`` (since): retried with backoff, honouring
  ``Retry-After``, then :class:`SourceRateLimited`.
- Timeouts, connection errors and 5xx are retried with backoff, then
  :class:`SourceUnavailable`. Other errors fail at once with Canvas's own error text.

Grade writes are idempotent (they set a value), so they are retried like reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from eduvault import __version__
from eduvault.integrations.canvas.http import (
    decode_json,
    error_text,
    is_rate_limited,
    next_link,
    parse_number,
    retry_after_seconds,
)
from eduvault.kernel.backoff import retry_delay
from eduvault.kernel.errors import (
    CourseNotFoundAtSource,
    SourceError,
    SourceRateLimited,
    SourceRejected,
    SourceUnavailable,
)

#: Never wait longer than this for one retry; a longer Retry-After is passed to the caller.
MAX_RETRY_AFTER = 120.0
#: Pause before the next request when X-Rate-Limit-Remaining falls below this (hwm is 600).
THROTTLE_BELOW = 100.0
#: How fast Canvas's bucket drains (``outflow``, units a second, its default).
LEAK_PER_SECOND = 10.0
#: The longest pause pacing alone makes.
MAX_THROTTLE_PAUSE = 30.0
#: A list longer than this many pages is refused (a server that never stops).
MAX_PAGES = 20_000
#: Ask for at most this many ids in one query string.
IDS_PER_REQUEST = 100
#: How often wait_progress polls at most (it starts at ``poll`` and grows to this).
MAX_POLL = 5.0


class CanvasClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        attempts: int = 4,
        backoff: float = 0.5,
        per_page: int = 100,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ValueError("a Canvas access token is required")
        site = base_url.strip().rstrip("/")
        site = site.removesuffix("/api/v1")
        self.base_url = site + "/"
        self.api_url = site + "/api/v1/"
        origin = httpx.URL(self.base_url)
        #: How errors name the platform: its host.
        self.host = origin.netloc.decode("ascii") or self.base_url
        self._origin = (origin.scheme, origin.host, origin.port)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.per_page = per_page
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            headers={
                "Authorization": f"Bearer {token.strip()}",
                "User-Agent": f"eduvault/{__version__}",
                "Accept": "application/json",
            },
            follow_redirects=False,
        )
        self._lock = threading.Lock()
        self._remaining: float | None = None
        self._remaining_at = 0.0

    def __repr__(self) -> str:  # never show the token
        return f"CanvasClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CanvasClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading a course -----------------------------------------------------------------

    def self_user(self) -> dict[str, Any]:
        """The user the token acts as (``GET /api/v1/users/self``)."""
        return self._call("GET", "users/self", what="the token's own user")

    def course(self, course_id: Any) -> dict[str, Any]:
        return self._call("GET", f"courses/{_seg(course_id)}", what=f"course {course_id}")

    def courses(self) -> list[dict[str, Any]]:
        """The courses the token's user can see."""
        return self._list("courses", "the course list")

    def modules(self, course_id: Any) -> list[dict[str, Any]]:
        """The course's modules, each with its ``items`` (and their ``content_details``).

        Canvas leaves ``items`` out of a module it deems too large (more than
        ``api_max_per_page`` items); those are read from the module's ``items_url``.
        """
        what = f"the modules of course {course_id}"
        modules = self._list(
            f"courses/{_seg(course_id)}/modules", what, {"include[]": ["items", "content_details"]}
        )
        for module in modules:
            if isinstance(module, dict) and module.get("items") is None:
                url = module.get("items_url")
                if not isinstance(url, str) or not url:
                    url = f"courses/{_seg(course_id)}/modules/{_seg(module.get('id'))}/items"
                what = f"the items of module {module.get('id')} of course {course_id}"
                module["items"] = self._list(url, what, {"include[]": ["content_details"]})
        return modules

    def module_items(self, course_id: Any, module_id: Any) -> list[dict[str, Any]]:
        path = f"courses/{_seg(course_id)}/modules/{_seg(module_id)}/items"
        what = f"the items of module {module_id} of course {course_id}"
        return self._list(path, what, {"include[]": ["content_details"]})

    def assignments(self, course_id: Any) -> list[dict[str, Any]]:
        return self._list(f"courses/{_seg(course_id)}/assignments", f"the assignments of course {course_id}")

    def assignment(self, course_id: Any, assignment_id: Any) -> dict[str, Any]:
        return self._call(
            "GET",
            f"courses/{_seg(course_id)}/assignments/{_seg(assignment_id)}",
            what=f"assignment {assignment_id} of course {course_id}",
        )

    def grading_standards(self, course_id: Any) -> list[dict[str, Any]]:
        """The course's own grading standards, then those of its account and root account
        where the token may read them (a 401, 403 or 404 there is skipped)."""
        path = f"courses/{_seg(course_id)}/grading_standards"
        found = self._list(path, f"the grading standards of course {course_id}")
        seen = {s.get("id") for s in found if isinstance(s, dict)}
        course = self.course(course_id)
        for account in dict.fromkeys(course.get(k) for k in ("account_id", "root_account_id")):
            if account is None:
                continue
            try:
                offered = self._list(
                    f"accounts/{_seg(account)}/grading_standards",
                    f"the grading standards of account {account}",
                )
            except (SourceRejected, CourseNotFoundAtSource):
                continue
            for standard in offered:
                if isinstance(standard, dict) and standard.get("id") not in seen:
                    seen.add(standard.get("id"))
                    found.append(standard)
        return found

    def enrollments(self, course_id: Any, *, states: Iterable[str] | None = None) -> list[dict[str, Any]]:
        params = {"state[]": list(states)} if states else None
        return self._list(
            f"courses/{_seg(course_id)}/enrollments", f"the enrollments of course {course_id}", params
        )

    def users(self, course_id: Any) -> list[dict[str, Any]]:
        what = f"the users of course {course_id}"
        return self._list(f"courses/{_seg(course_id)}/users", what, {"include[]": ["email"]})

    def submissions(
        self,
        course_id: Any,
        *,
        assignment_ids: Iterable[Any] | None = None,
        graded_since: datetime | str | None = None,
    ) -> list[dict[str, Any]]:
        """Every student's submissions in the course (``student_ids[]=all``), optionally only
        for some assignments (asked for 100 at a time) and only those graded after
        ``graded_since``."""
        params: dict[str, Any] = {"student_ids[]": ["all"]}
        if graded_since is not None:
            params["graded_since"] = _timestamp(graded_since)
        path, what = (
            f"courses/{_seg(course_id)}/students/submissions",
            f"the submissions of course {course_id}",
        )
        if assignment_ids is None:
            return self._list(path, what, params)
        ids = [str(a) for a in assignment_ids]
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), IDS_PER_REQUEST):
            found += self._list(
                path, what, {**params, "assignment_ids[]": ids[start : start + IDS_PER_REQUEST]}
            )
        return found

    def submission(self, course_id: Any, assignment_id: Any, user_id: Any) -> dict[str, Any]:
        path = f"courses/{_seg(course_id)}/assignments/{_seg(assignment_id)}/submissions/{_seg(user_id)}"
        return self._call("GET", path, what=f"the submission of user {user_id} to assignment {assignment_id}")

    # -- writing grades -------------------------------------------------------------------

    def put_grade(
        self, course_id: Any, assignment_id: Any, user_id: Any, posted_grade: Any
    ) -> dict[str, Any]:
        """Grade one submission (``submission[posted_grade]``: points such as ``"13.5"``, a
        percentage ``"40%"``, a letter grade, or pass/complete/fail/incomplete; ``None`` or
        ``""`` removes the grade). Returns the submission."""
        path = f"courses/{_seg(course_id)}/assignments/{_seg(assignment_id)}/submissions/{_seg(user_id)}"
        what = f"the grade of user {user_id} for assignment {assignment_id}"
        return self._call("PUT", path, data={"submission[posted_grade]": _grade(posted_grade)}, what=what)

    def update_grades(self, course_id: Any, grades: Mapping[Any, Mapping[Any, Any]]) -> dict[str, Any]:
        """Grade many submissions in one asynchronous job: ``grades`` is ``{assignment_id:
        {user_id: posted_grade}}``, sent as ``grade_data[<assignment_id>][<user_id>][posted_grade]``
        (the course-level form of ``POST …/submissions/update_grades``). Returns the job's
        Progress; see :meth:`wait_progress`."""
        data: dict[str, str] = {}
        for assignment_id, by_user in grades.items():
            for user_id, posted_grade in by_user.items():
                data[f"grade_data[{assignment_id}][{user_id}][posted_grade]"] = _grade(posted_grade)
        if not data:
            raise ValueError("update_grades needs at least one grade")
        path = f"courses/{_seg(course_id)}/submissions/update_grades"
        return self._call("POST", path, data=data, what=f"a bulk grade update in course {course_id}")

    def progress(self, progress_id: Any) -> dict[str, Any]:
        return self._call("GET", f"progress/{_seg(progress_id)}", what=f"progress {progress_id}")

    def wait_progress(
        self, progress: Mapping[str, Any] | Any, *, timeout: float = 60, poll: float = 0.5
    ) -> dict[str, Any]:
        """Poll a Progress (as returned, or its id) until it is ``completed`` (returned) or
        ``failed`` (:class:`SourceRejected` with its message); :class:`SourceUnavailable`
        if it is still running after ``timeout`` seconds."""
        current = dict(progress) if isinstance(progress, Mapping) else self.progress(progress)
        deadline = self._clock() + timeout
        interval = max(0.0, poll)
        while True:
            state = current.get("workflow_state")
            if state == "completed":
                return current
            if state == "failed":
                message = current.get("message") or "no message"
                raise SourceRejected(f"{self.host}'s job {current.get('id')} failed: {message}")
            if self._clock() >= deadline:
                raise SourceUnavailable(
                    f"{self.host}'s job {current.get('id')} is still {state or 'pending'} after {timeout:g}s"
                )
            self._sleep(interval)
            interval = min(max(interval * 1.5, poll), max(poll, MAX_POLL))
            url = current.get("url")
            if isinstance(url, str) and url:
                current = self._call("GET", url, what=f"progress {current.get('id')}")
            else:
                current = self.progress(current.get("id"))

    # -- plumbing -------------------------------------------------------------------------

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, what: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, following ``Link: <…>; rel="next"``."""
        what = what or path
        url: str | None = self._url(path)
        query: dict[str, Any] | None = {"per_page": self.per_page, **(params or {})}
        seen: set[str] = set()
        while url is not None:
            if len(seen) >= MAX_PAGES:
                raise SourceError(f"{self.host} answered more than {MAX_PAGES:,} pages of {what}")
            seen.add(url)
            response = self._send("GET", url, params=query, what=what)
            self._raise_for_status(response, what)
            page = decode_json(response, what, self.host)
            if not isinstance(page, list):
                raise SourceError(f"{self.host} answered {what} with something that is not a list")
            yield from page
            nxt = next_link(response)
            if nxt is None:
                return
            nxt = urljoin(str(response.request.url), nxt)
            if not self._same_origin(nxt):
                raise SourceError(f"{self.host} sent a next link for {what} to another host; refused")
            if nxt in seen:
                raise SourceError(f"{self.host}'s pages of {what} loop back to a page already read")
            url, query = nxt, None  # the link is opaque and carries every parameter

    def _list(self, path: str, what: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return list(self.paginate(path, params, what=what))

    def _call(self, method: str, path: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, self._url(path), what=what, **kwargs)
        self._raise_for_status(response, what)
        body = decode_json(response, what, self.host)
        if not isinstance(body, dict):
            raise SourceError(f"{self.host} answered {what} with something that is not a JSON object")
        return body

    def _url(self, path: str) -> str:
        if "://" in path:
            if not self._same_origin(path):
                raise SourceError(f"refused to send our token to a URL outside {self.host}")
            return path
        if path.startswith("/"):
            return urljoin(self.base_url, path)
        return self.api_url + path

    def _same_origin(self, url: str) -> bool:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            return False
        return (parsed.scheme, parsed.host, parsed.port) == self._origin

    def _send(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """One request, paced by the quota left, retried on rate limits, timeouts,
        connection errors and 5xx."""
        last: SourceError | None = None
        for attempt in range(1, self.attempts + 1):
            self._pace()
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                last = SourceUnavailable(f"{self.host} did not answer in time when asked for {what}")
                last.__cause__ = exc
            except httpx.TransportError as exc:
                last = SourceUnavailable(f"could not reach {self.host} for {what}: {exc}")
                last.__cause__ = exc
            else:
                self._note_quota(response)
                if is_rate_limited(response):
                    hint = retry_after_seconds(response)
                    wait = hint if hint is not None else self._refill_time()
                    limited = SourceRateLimited(
                        f"{self.host} is rate limiting us ({response.status_code}) for {what}",
                        retry_after=wait,
                    )
                    if attempt >= self.attempts or wait > MAX_RETRY_AFTER:
                        raise limited
                    delay = retry_delay(attempt, base=self.backoff, cap=MAX_RETRY_AFTER, retry_after=wait)
                    self._sleep(min(delay, MAX_RETRY_AFTER))
                    with self._lock:
                        self._remaining = None  # waited as asked; the next answer says where we are
                    continue
                if response.status_code >= 500:
                    last = SourceUnavailable(f"{self.host} answered {response.status_code} for {what}")
                else:
                    return response
            if attempt < self.attempts:
                self._sleep(retry_delay(attempt, base=self.backoff, cap=MAX_RETRY_AFTER))
        assert last is not None
        raise last

    def _note_quota(self, response: httpx.Response) -> None:
        remaining = parse_number(response.headers.get("X-Rate-Limit-Remaining"))
        if remaining is not None:
            with self._lock:
                self._remaining, self._remaining_at = remaining, self._clock()

    def _refill_time(self) -> float:
        """Seconds until the quota is back above THROTTLE_BELOW, from the last reading."""
        with self._lock:
            remaining, at = self._remaining, self._remaining_at
        if remaining is None:
            remaining, at = 0.0, self._clock()
        needed = (THROTTLE_BELOW - remaining) / LEAK_PER_SECOND - (self._clock() - at)
        return min(max(0.0, needed), MAX_THROTTLE_PAUSE)

    def _pace(self) -> None:
        """Before a request: if the quota left is low, wait for the bucket to drain."""
        with self._lock:
            low = self._remaining is not None and self._remaining < THROTTLE_BELOW
        if low and (pause := self._refill_time()) > 0:
            self._sleep(pause)
        if low:
            with self._lock:
                self._remaining = None

    def _raise_for_status(self, response: httpx.Response, what: str) -> None:
        status = response.status_code
        if status < 300:
            return
        if status < 400:
            where = response.headers.get("Location", "elsewhere")
            raise SourceError(f"{self.host} redirected {what} to {where}; check the Canvas base URL")
        text = error_text(response)
        if status == 404:
            raise CourseNotFoundAtSource(f"{self.host} has no {what} (404: {text})")
        if status == 401 and "WWW-Authenticate" in response.headers:
            raise SourceRejected(
                f"{self.host} rejected our access token for {what} (401: {text}); "
                "the token is invalid, expired or revoked"
            )
        if status in (401, 403):
            raise SourceRejected(
                f"{self.host} refused {what} ({status}: {text}); the token lacks permission for it"
            )
        raise SourceRejected(f"{self.host} rejected the request for {what} ({status}: {text})")


def _seg(value: Any) -> str:
    """One path segment: an id as Canvas sends it, or ``sis_course_id:…`` and the like."""
    text = str(value) if value is not None and not isinstance(value, bool) else ""
    if not text:
        raise ValueError(f"not a Canvas id: {value!r}")
    return quote(text, safe=":~")


def _grade(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError(f"not a grade: {value!r}")
    return "" if value is None else str(value)


def _timestamp(value: datetime | str) -> str:
    """ISO 8601 as Canvas's ``Api::ISO8601_REGEX`` accepts it (``YYYY-MM-DDTHH:MM:SSZ``)."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
