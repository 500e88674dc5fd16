"""The HTTP layer's building blocks: a call (what was asked), a reply, errors, HTML pages."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

if TYPE_CHECKING:
    from eduvault.integrations.lti.simulator.server import LtiPlatform


class ApiError(Exception):
    def __init__(
        self, status: int, body: Any, headers: dict[str, str] | None = None, content_type: str = ""
    ) -> None:
        super().__init__(status, body)
        self.status, self.body, self.headers = status, body, headers or {}
        self.content_type = content_type or "application/json"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Call:
    platform: LtiPlatform
    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]  # lower-cased names
    raw: bytes
    args: dict[str, str] = field(default_factory=dict)
    client_id: str = ""  # the tool, once its access token is checked
    scopes: frozenset[str] = frozenset()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def form(self) -> dict[str, str]:
        """The query merged with a form-encoded body (OIDC allows either for /auth)."""
        params = dict(self.query)
        if self.raw and self.content_type in ("application/x-www-form-urlencoded", ""):
            params.update(parse_qsl(self.raw.decode("utf-8", "replace"), keep_blank_values=True))
        return params

    def json(self) -> Any:
        try:
            return orjson.loads(self.raw)
        except orjson.JSONDecodeError:
            raise ApiError(
                400, {"error": "invalid_request", "error_description": "body is not JSON"}
            ) from None


def html_page(title: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>'
        + html.escape(title)
        + "</title></head>\n<body>\n"
        + body
        + "\n</body></html>\n"
    ).encode()


def error_page(status: int, title: str, reason: str) -> ApiError:
    """An HTML error page: the reason, and no form."""
    body = html_page(title, f'<h1>{html.escape(title)}</h1>\n<p class="reason">{html.escape(reason)}</p>')
    return ApiError(status, body, content_type="text/html; charset=utf-8")


def auto_submit_form(action: str, fields: dict[str, str], *, method: str = "post", title: str = "") -> bytes:
    """A page whose form submits itself on load (how platforms hand a browser to the tool)."""
    inputs = "\n".join(
        f'  <input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    form = (
        f'<form id="lti_form" action="{html.escape(action)}" method="{method}">\n{inputs}\n'
        '  <noscript><button type="submit">Continue</button></noscript>\n</form>\n'
        '<script>document.getElementById("lti_form").submit();</script>'
    )
    return html_page(title or "Launching…", form)
