"""LTI 1.3 as the tool sees it: platforms registered, logins begun, launches accepted.

State and nonce are kept server-side (:class:`~eduvault.integrations.models.LtiLogin`),
keyed by their values: a tool framed in an LMS page may get no cookie at all (third-party
cookies blocked), so nothing here relies on one. A state is usable once, for a launch from
the platform whose login issued it, carrying the nonce issued with it, within
:data:`LOGIN_LIFETIME`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import structlog
from django.db import transaction
from django.utils import timezone

from eduvault.integrations.lti.verify import (
    LaunchMalformed,
    LaunchRefused,
    Registration,
    unverified_claims,
    verify_id_token,
)
from eduvault.integrations.models import LtiLogin, Source
from eduvault.integrations.services import source_add
from eduvault.kernel.errors import InvalidInput, NotFound
from eduvault.kernel.jwks import RemoteKeySet

log = structlog.get_logger(__name__)

PLATFORM = "lti"
#: A login's state must come back within this long.
LOGIN_LIFETIME = timedelta(minutes=10)


def registration_of(source: Source) -> Registration:
    s = source.settings
    return Registration(
        name=source.name,
        issuer=str(s.get("issuer", "")),
        client_id=str(s.get("client_id", "")),
        auth_url=str(s.get("auth_url", "")),
        token_url=str(s.get("token_url", "")),
        jwks_url=str(s.get("jwks_url", "")),
        deployments=tuple(s.get("deployments") or ()),
    )


def lti_platform_add(
    *,
    name: str,
    issuer: str,
    client_id: str,
    auth_url: str,
    token_url: str,
    jwks_url: str,
    deployments: list[str],
) -> Source:
    issuer = issuer.strip()
    if Source.objects.filter(platform=PLATFORM, settings__issuer=issuer, settings__client_id=client_id).exists():
        raise InvalidInput(f"the platform {issuer} with client id {client_id!r} is registered already")
    return source_add(
        platform=PLATFORM,
        name=name,
        base_url=issuer,
        issuer=issuer,
        client_id=client_id,
        auth_url=auth_url,
        token_url=token_url,
        jwks_url=jwks_url,
        deployments=deployments,
        create_people="true",
    )


def lti_platforms() -> list[Source]:
    return list(Source.objects.filter(platform=PLATFORM).order_by("name"))


def lti_platform_remove(*, name: str) -> None:
    source = Source.objects.filter(platform=PLATFORM, name=name).first()
    if source is None:
        raise NotFound(f"no LTI platform {name!r}")
    source.delete()


# -- the platforms' keys -------------------------------------------------------------------------

_key_sets: dict[str, RemoteKeySet] = {}
_key_sets_lock = threading.Lock()


def platform_keys(registration: Registration) -> RemoteKeySet:
    """The platform's key set (one per JWKS URL per process: its cache survives requests)."""
    with _key_sets_lock:
        keys = _key_sets.get(registration.jwks_url)
        if keys is None:
            keys = _key_sets[registration.jwks_url] = RemoteKeySet(
                registration.jwks_url, what=f"{registration.name}'s LTI keys"
            )
        return keys


# -- login -----------------------------------------------------------------------------------------


def _platform_for(issuer: str, client_id: str | None) -> Source:
    sources = [s for s in Source.objects.filter(platform=PLATFORM, enabled=True) if s.setting("issuer") == issuer]
    if client_id:
        sources = [s for s in sources if s.setting("client_id") == client_id]
    if not sources:
        raise LaunchRefused(f"no LTI platform with issuer {issuer!r}" + (f" and client id {client_id!r}" if client_id else "") + " is registered")
    if len(sources) > 1:
        raise LaunchMalformed(f"several registrations of {issuer}: the login must name its client_id")
    return sources[0]


def login_begin(*, params: Mapping[str, str], launch_url: str) -> str:
    """OIDC third-party initiated login: check what the platform sent, issue a state and a
    nonce, and return the platform's authorization URL to redirect the browser to (passing
    ``lti_message_hint`` back unaltered)."""
    issuer, login_hint, target = params.get("iss", ""), params.get("login_hint", ""), params.get("target_link_uri", "")
    if not issuer or not login_hint or not target:
        missing = [n for n, v in (("iss", issuer), ("login_hint", login_hint), ("target_link_uri", target)) if not v]
        raise LaunchMalformed(f"the login request lacks {', '.join(missing)}")
    if len(login_hint) > 500 or len(target) > 2000 or len(params.get("lti_message_hint", "")) > 4000:
        raise LaunchMalformed("the login request's hints are too long")
    source = _platform_for(issuer, params.get("client_id") or None)
    registration = registration_of(source)
    deployment = params.get("lti_deployment_id", "")
    if deployment and deployment not in registration.deployments:
        raise LaunchRefused(f"deployment {deployment!r} is not registered for {source.name}")
    if urlsplit(target).netloc and urlsplit(target).netloc != urlsplit(launch_url).netloc:
        raise LaunchRefused(f"the target link {target!r} is not this tool's")
    login = LtiLogin.objects.create(
        source=source,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        login_hint=login_hint,
        target_link_uri=target,
        deployment_id=deployment,
    )
    query: dict[str, str] = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": registration.client_id,
        "redirect_uri": launch_url,
        "state": login.state,
        "nonce": login.nonce,
        "login_hint": login_hint,
    }
    if "lti_message_hint" in params:
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if urlsplit(registration.auth_url).query else "?"
    return f"{registration.auth_url}{separator}{urlencode(query)}"


# -- launch ----------------------------------------------------------------------------------------


def launch_accept(*, id_token: str, state: str) -> tuple[Source, dict[str, Any]]:
    """The platform and the verified claims of a launch; :class:`LaunchRefused` (nothing
    stored) when any check fails. The state is spent by a launch that passes."""
    if not state or len(state) > 64:
        raise LaunchMalformed("the launch carries no state")
    claimed = unverified_claims(id_token)
    with transaction.atomic():
        login = LtiLogin.objects.select_for_update().select_related("source").filter(state=state).first()
        if login is None:
            raise LaunchRefused("the launch's state was not issued by this tool")
        if login.used_at is not None:
            raise LaunchRefused("the launch's state was used already (a replayed launch)")
        if timezone.now() - login.created_at > LOGIN_LIFETIME:
            raise LaunchRefused("the login that issued this state has expired; launch again")
        source = login.source
        if claimed.get("iss") != source.setting("issuer"):
            raise LaunchRefused("the launch comes from another platform than the login that issued its state")
        registration = registration_of(source)
        claims = verify_id_token(id_token, registration=registration, keys=platform_keys(registration))
        if claims.get("nonce") != login.nonce:
            raise LaunchRefused("the id_token's nonce is not the one issued with this state (a replayed id_token)")
        if login.deployment_id and claims.get("https://purl.imsglobal.org/spec/lti/claim/deployment_id") != login.deployment_id:
            raise LaunchRefused("the launch's deployment is not the one its login named")
        login.used_at = timezone.now()
        login.save(update_fields=["used_at"])
    return source, claims


def logins_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    deleted, _ = LtiLogin.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
