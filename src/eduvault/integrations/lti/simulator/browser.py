"""The browser's part of a launch, played with an ``httpx.Client`` (its cookie jar is the browser's).

:meth:`Browser.launch` opens the platform's launch page (which logs the browser in to the LMS
and starts the third-party-initiated login), follows the tool's redirect to the platform's
``/auth`` — refusing to follow it anywhere else —, then POSTs the id_token form to the tool and
returns the tool's answer. A real browser (the Chromium test) gets the same flow by opening
:meth:`Browser.launch_url`.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import httpx

from eduvault.integrations.lti.simulator import oidc
from eduvault.integrations.lti.simulator.vocab import DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST

if TYPE_CHECKING:
    from eduvault.integrations.lti.simulator.server import LtiPlatform

_REDIRECTS = (301, 302, 303, 307, 308)


class LaunchError(Exception):
    """The launch could not go on; ``response`` is the answer that stopped it."""

    def __init__(self, message: str, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.reason = ""
        self._in_reason = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": values.get("action", ""), "method": values.get("method", "get"),
                               "fields": {}})  # fmt: skip
        elif tag in ("input", "textarea") and self.forms and values.get("name"):
            if values.get("type", "text") not in ("submit", "button"):
                self.forms[-1]["fields"][values["name"]] = values.get("value", "")
        elif tag == "p" and "reason" in values.get("class", ""):
            self._in_reason = True

    def handle_data(self, data: str) -> None:
        if self._in_reason:
            self.reason += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_reason = False


def parse_form(html_text: str) -> tuple[str, str, dict[str, str]] | None:
    """(action, method, fields) of the first form in a page, or None."""
    parser = _FormParser()
    parser.feed(html_text)
    if not parser.forms:
        return None
    form = parser.forms[0]
    return form["action"], form["method"].lower(), form["fields"]


def page_reason(html_text: str) -> str:
    parser = _FormParser()
    parser.feed(html_text)
    return parser.reason.strip()


def submit_form(response: httpx.Response, client: httpx.Client) -> httpx.Response:
    """Submit the (auto-submitting) form a page holds, as the browser would on load."""
    form = parse_form(response.text)
    if form is None:
        raise LaunchError(f"no form in the page from {response.request.url}", response)
    action, method, fields = form
    url = urljoin(str(response.request.url), action)
    if method == "post":
        return client.post(url, data=fields)
    return client.get(url.split("?")[0], params=fields)


def _same_endpoint(url: str, endpoint: str) -> bool:
    a, b = urlsplit(url), urlsplit(endpoint)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


class Browser:
    def launch_url(
        self: LtiPlatform,
        sub: str,
        context_id: str,
        resource_link_id: str | None = None,
        *,
        message_type: str = RESOURCE_LINK_REQUEST,
        client_id: str | None = None,
        deployment_id: str | None = None,
        post: bool = False,
        **overrides: Any,
    ) -> str:
        """A single-use URL that, opened in a browser, launches the tool as ``sub`` would from the LMS."""
        pending = oidc.begin(
            self, sub, context_id, resource_link_id, message_type=message_type, client_id=client_id,
            deployment_id=deployment_id, post=post, overrides=overrides,
        )  # fmt: skip
        return self.base_url + oidc.launch_path(pending)

    def launch(
        self: LtiPlatform,
        sub: str,
        context_id: str,
        resource_link_id: str | None = None,
        *,
        client: httpx.Client,
        message_type: str = RESOURCE_LINK_REQUEST,
        post: bool = False,
        client_id: str | None = None,
        deployment_id: str | None = None,
        **overrides: Any,
    ) -> httpx.Response:
        """Launch the tool; returns the tool's answer to the id_token POST (redirects not followed).

        If the tool's login endpoint neither redirects nor answers a form to the platform's auth
        URL, its answer is returned as is (a refusal). Raises :class:`LaunchError` if it redirects anywhere but the platform's auth URL, or the
        platform refuses the authentication request (the reason is in the message).
        """
        url = self.launch_url(
            sub, context_id, resource_link_id, message_type=message_type, client_id=client_id,
            deployment_id=deployment_id, post=post, **overrides,
        )  # fmt: skip
        page = client.get(url, follow_redirects=False)
        if page.status_code in _REDIRECTS:  # a GET initiation: the platform redirects to the tool
            login = client.get(urljoin(url, page.headers["location"]), follow_redirects=False)
        else:
            login = submit_form(page, client)
        if login.status_code in _REDIRECTS and "location" in login.headers:
            location = urljoin(str(login.request.url), login.headers["location"])
            if not _same_endpoint(location, self.auth_url):
                raise LaunchError(f"the tool's login redirected to {location}, not to {self.auth_url}", login)
            answer = client.get(location, follow_redirects=False)
        else:  # a tool may also send the authentication request as an auto-submitting form
            form = parse_form(login.text) if login.status_code == 200 else None
            if form is None or not _same_endpoint(urljoin(str(login.request.url), form[0]), self.auth_url):
                return login
            answer = submit_form(login, client)
        if answer.status_code != 200:
            reason = page_reason(answer.text) or answer.text[:200]
            raise LaunchError(f"the platform refused the authentication request: {reason}", answer)
        return submit_form(answer, client)

    def deep_link(
        self: LtiPlatform,
        sub: str,
        context_id: str,
        *,
        client: httpx.Client,
        post: bool = False,
        client_id: str | None = None,
        deployment_id: str | None = None,
        **overrides: Any,
    ) -> httpx.Response:
        """An ``LtiDeepLinkingRequest`` launch; the tool's answer (its content picker, usually)."""
        return self.launch(
            sub, context_id, None, client=client, message_type=DEEP_LINKING_REQUEST, post=post,
            client_id=client_id, deployment_id=deployment_id, **overrides,
        )  # fmt: skip

    def follow_form(self: LtiPlatform, response: httpx.Response, client: httpx.Client) -> httpx.Response:
        """Submit the auto-submitting form of a page (e.g. the tool's deep-linking response)."""
        return submit_form(response, client)
