"""The OIDC third-party-initiated login, the platform's half (Security Framework 1.0 §5.1.1).

1. The platform sends the browser to the tool's login URL with ``iss``, ``login_hint``,
   ``target_link_uri``, ``lti_message_hint``, ``client_id`` and ``lti_deployment_id`` (GET or a
   form POST: :func:`launch_page`, served at ``/launch/<lti_message_hint>``; it also gives the
   browser the platform's session cookie, as being logged in to the LMS would).
2. The tool answers with a redirect to the platform's authorization endpoint carrying
   ``scope=openid``, ``response_type=id_token``, ``response_mode=form_post``, ``prompt=none``,
   ``client_id``, ``redirect_uri``, ``login_hint``, ``lti_message_hint``, ``state`` and ``nonce``.
3. :func:`authorize` checks each of those (Canvas's ``Lti::IMS::AuthenticationController``
   checks the same list, and that the session's user is the one the ``login_hint`` names) and
   answers a page whose form POSTs ``id_token`` and ``state`` to ``redirect_uri``.

An invalid request is answered 400 with an HTML page giving the reason and no form. The
``lti_message_hint`` is single-use and lives five minutes, as Canvas's cached launch does
("The launch has either expired or already been consumed").
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from eduvault.integrations.lti.simulator.rest import Call, Reply, auto_submit_form, error_page
from eduvault.integrations.lti.simulator.vocab import DEEP_LINKING_REQUEST

if TYPE_CHECKING:
    from eduvault.integrations.lti.simulator.server import LtiPlatform

SESSION_COOKIE = "lti_platform_session"
HINT_LIFETIME = 300.0
REQUIRED = (
    "client_id", "login_hint", "lti_message_hint", "nonce", "prompt", "redirect_uri",
    "response_mode", "response_type", "scope",
)  # fmt: skip


@dataclass
class PendingLaunch:
    message_hint: str
    login_hint: str
    client_id: str
    deployment_id: str
    sub: str
    context_id: str
    resource_link_id: str | None
    message_type: str
    target_link_uri: str
    post: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)


def login_hint_for(sub: str) -> str:
    """An opaque login hint (not the ``sub``: a tool must not mistake one for the other)."""
    return "lh-" + hashlib.sha256(sub.encode()).hexdigest()[:16]


def begin(
    platform: LtiPlatform,
    sub: str,
    context_id: str,
    resource_link_id: str | None,
    *,
    message_type: str,
    client_id: str | None,
    deployment_id: str | None,
    post: bool,
    overrides: dict[str, Any],
) -> PendingLaunch:
    tool = platform.tool(client_id)
    with platform.lock:
        if sub not in platform.users or context_id not in platform.courses:
            raise KeyError(f"no user {sub!r} or course {context_id!r}")
        link = platform.links.get((context_id, resource_link_id)) if resource_link_id else None
        if resource_link_id and link is None:
            raise KeyError(f"no resource link {resource_link_id!r} in {context_id!r}")
    if message_type == DEEP_LINKING_REQUEST:
        target = tool.deep_link_url or tool.launch_url
    else:
        target = (link.target_link_uri if link else None) or tool.launch_url
    deployment = deployment_id or tool.deployment_ids[0]
    pending = PendingLaunch(
        "mh-" + secrets.token_urlsafe(16), login_hint_for(sub), tool.client_id, deployment, sub,
        context_id, resource_link_id, message_type, target, post, dict(overrides),
    )  # fmt: skip
    with platform.lock:
        platform.pending_launches[pending.message_hint] = pending
    return pending


def initiation_params(platform: LtiPlatform, pending: PendingLaunch) -> dict[str, str]:
    return {
        "iss": platform.issuer,
        "login_hint": pending.login_hint,
        "target_link_uri": pending.target_link_uri,
        "lti_message_hint": pending.message_hint,
        "client_id": pending.client_id,
        "lti_deployment_id": pending.deployment_id,
    }


def launch_page(call: Call) -> Reply:
    """``/launch/<hint>``: log the browser in to the platform and send it to the tool's login URL."""
    platform = call.platform
    with platform.lock:
        pending = platform.pending_launches.get(call.args["hint"])
    if pending is None:
        raise error_page(404, "No such launch", "This launch link is unknown or was already used.")
    tool = platform.tool(pending.client_id)
    params = initiation_params(platform, pending)
    session = secrets.token_urlsafe(16)
    with platform.lock:
        platform.sessions[session] = pending.sub
    cookie = f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax"
    headers = {"Set-Cookie": cookie, "Cache-Control": "no-store"}
    if not pending.post:  # a GET login initiation: redirect (keeps any query the login URL has)
        headers["Location"] = login_url_with_params(tool.login_url, params)
        return Reply(302, b"", headers, "text/html; charset=utf-8")
    page = auto_submit_form(tool.login_url, params, title="Launching " + tool.name)
    return Reply(200, page, headers, "text/html; charset=utf-8")


def _session_user(call: Call) -> str | None:
    for part in call.headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            with call.platform.lock:
                return call.platform.sessions.get(value)
    return None


def authorize(call: Call) -> Reply:
    """``GET/POST /auth``: validate the authentication request, answer the id_token form."""
    platform = call.platform
    params = call.form()

    def refuse(reason: str) -> Exception:
        platform.auth_refusals.append(reason)
        return error_page(400, "Invalid authentication request", reason)

    missing = [name for name in REQUIRED if not params.get(name)]
    if missing:
        raise refuse("missing parameters: " + ", ".join(missing))
    tool = platform.tools.get(params["client_id"])
    if tool is None:
        raise refuse(f"unknown client_id {params['client_id']!r}")
    if params["redirect_uri"] not in tool.redirect_uris:
        raise refuse(f"redirect_uri {params['redirect_uri']!r} is not registered for this client")
    if params["response_type"] != "id_token":
        raise refuse("response_type must be 'id_token'")
    if params["response_mode"] != "form_post":
        raise refuse("response_mode must be 'form_post'")
    if "openid" not in params["scope"].split():
        raise refuse("scope must contain 'openid'")
    if params["prompt"] != "none":
        raise refuse("prompt must be 'none'")
    with platform.lock:
        pending = platform.pending_launches.get(params["lti_message_hint"])
    if pending is None or time.monotonic() - pending.created > HINT_LIFETIME:
        raise refuse("lti_message_hint is unknown, expired or was already used")
    if pending.client_id != tool.client_id:
        raise refuse("lti_message_hint was issued for another client_id")
    if params["login_hint"] != pending.login_hint:
        raise refuse("login_hint is not the one the platform sent")
    if platform.require_session and _session_user(call) != pending.sub:
        raise refuse("login_required: the browser has no platform session for this user")
    with platform.lock:
        if platform.pending_launches.pop(pending.message_hint, None) is None:
            raise refuse("lti_message_hint is unknown, expired or was already used")
    token = platform.id_token(
        pending.sub, pending.context_id, pending.resource_link_id, nonce=params["nonce"],
        message_type=pending.message_type, client_id=pending.client_id,
        deployment_id=pending.deployment_id, **pending.overrides,
    )  # fmt: skip
    fields = {"id_token": token}
    if "state" in params:
        fields["state"] = params["state"]
    with platform.lock:
        platform.id_tokens_sent.append(token)
    page = auto_submit_form(params["redirect_uri"], fields, title="Launching " + tool.name)
    return Reply(200, page, {"Cache-Control": "no-store"}, "text/html; charset=utf-8")


def launch_path(pending: PendingLaunch) -> str:
    return "/launch/" + pending.message_hint


def login_url_with_params(login_url: str, params: dict[str, str]) -> str:
    return login_url + ("&" if "?" in login_url else "?") + urlencode(params)
