"""Deep Linking 2.0: the tool's ``LtiDeepLinkingResponse`` POSTed back (DL §4.5).

The browser POSTs form field ``JWT`` to ``deep_link_return_url``. The JWT is signed RS256 by the
tool (verified by ``kid`` against its JWKS); ``iss`` is the client_id, ``aud`` the platform's
issuer, with ``exp``, ``iat`` and ``nonce`` (refused when reused); ``…/claim/deployment_id``,
``message_type`` ``LtiDeepLinkingResponse``, ``version`` ``1.3.0``; ``…/lti-dl/claim/data``
echoed exactly as the request sent it (which also names the request: answered once only);
``content_items`` a list (absent or empty: the user added nothing), each of an accepted type,
at most one unless ``accept_multiple``. Each ``ltiResourceLink`` becomes a resource link in the
course, with a line item when it declares ``lineItem`` (``scoreMaximum`` > 0; AGS §4.9).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import jwt

from eduvault.integrations.lti.simulator.rest import Call, Reply, error_page, html_page
from eduvault.integrations.lti.simulator.tokens import InvalidJwt, verify_tool_jwt
from eduvault.integrations.lti.simulator.vocab import (
    DEEP_LINKING_RESPONSE,
    DEPLOYMENT_ID,
    DL_CONTENT_ITEMS,
    DL_DATA,
    DL_ERRORMSG,
    DL_MSG,
    LTI_VERSION,
    MESSAGE_TYPE,
    VERSION,
)


@dataclass
class DeepLinkItem:
    """A content item the platform accepted, and what it became."""

    context_id: str
    item: dict[str, Any]
    resource_link_id: str | None = None
    line_item_id: str | None = None


def _refuse(reason: str) -> Exception:
    return error_page(400, "Deep linking response refused", reason)


def deep_link_return(call: Call) -> Reply:
    platform = call.platform
    token = call.form().get("JWT")
    if not token:
        raise _refuse("the form field JWT is missing")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _refuse(f"malformed JWT: {exc}") from None
    tool = platform.tools.get(str(unverified.get("iss")))
    if tool is None:
        raise _refuse(f"iss {unverified.get('iss')!r} is not a registered client_id")
    try:
        claims = verify_tool_jwt(
            platform, tool, token, audience=[platform.issuer], require=["iss", "aud", "exp", "iat", "nonce"]
        )
    except InvalidJwt as exc:
        raise _refuse(str(exc)) from None
    if claims.get(MESSAGE_TYPE) != DEEP_LINKING_RESPONSE:
        raise _refuse(f"message_type must be {DEEP_LINKING_RESPONSE}")
    if claims.get(VERSION) != LTI_VERSION:
        raise _refuse(f"version must be {LTI_VERSION}")
    data = claims.get(DL_DATA)
    with platform.lock:
        request = platform.deep_link_requests.get(data) if isinstance(data, str) else None
    if request is None or request.client_id != tool.client_id:
        raise _refuse("the data claim does not echo a deep linking request sent to this tool")
    if claims.get(DEPLOYMENT_ID) != request.deployment_id:
        raise _refuse("deployment_id is not the one of the deep linking request")
    items = claims.get(DL_CONTENT_ITEMS, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _refuse("content_items must be a list of objects")
    if len(items) > 1 and not request.accept_multiple:
        raise _refuse("only one content item may be returned")
    for item in items:
        if item.get("type") not in request.accept_types:
            raise _refuse(f"content item type {item.get('type')!r} was not accepted")
        line_item = item.get("lineItem")
        if line_item is not None:
            maximum = line_item.get("scoreMaximum") if isinstance(line_item, dict) else None
            if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
                raise _refuse("lineItem.scoreMaximum must be a number greater than 0")
    with platform.lock:
        if claims["nonce"] in platform.seen_nonces:
            raise _refuse("nonce was already used")
        if platform.deep_link_requests.pop(request.data, None) is None:
            raise _refuse("the deep linking request was already answered")
        platform.seen_nonces.add(claims["nonce"])
    accepted = [_accept(platform, request.context_id, tool.client_id, item) for item in items]
    with platform.lock:
        platform.deep_link_items.extend(accepted)
    lines = [f"<li>{html.escape(str(a.item.get('title') or a.item.get('url') or a.item['type']))}</li>"
             for a in accepted]  # fmt: skip
    body = f'<h1>Added {len(accepted)} item(s)</h1>\n<ul class="added">{"".join(lines)}</ul>'
    for claim, css in ((DL_MSG, "msg"), (DL_ERRORMSG, "errormsg")):
        if claims.get(claim):
            body += f'\n<p class="{css}">{html.escape(str(claims[claim]))}</p>'
    return Reply(200, html_page("Content added", body), {}, "text/html; charset=utf-8")


def _accept(platform: Any, context_id: str, client_id: str, item: dict[str, Any]) -> DeepLinkItem:
    accepted = DeepLinkItem(context_id, dict(item))
    if item.get("type") != "ltiResourceLink":
        return accepted
    with platform.lock:
        platform.dl_counter += 1
        link_id = f"dl-{platform.dl_counter}"
    title = str(item.get("title") or "")
    line_item = item.get("lineItem")
    spec = None
    if isinstance(line_item, dict):
        spec = {"label": line_item.get("label") or title or link_id, **line_item}
        spec.pop("submissionReview", None)
    link = platform.add_resource_link(
        context_id, link_id, title=title, client_id=client_id, custom=item.get("custom") or {},
        description=item.get("text"), target_link_uri=item.get("url"), line_item=spec,
    )  # fmt: skip
    accepted.resource_link_id, accepted.line_item_id = link.id, link.line_item_id
    return accepted
