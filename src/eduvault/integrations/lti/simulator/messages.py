"""The id_token a platform sends in a launch (LTI Core 1.3 §5, AGS §3.1, NRPS §3.6.1, DL §4.4.1).

Claims, as the Core spec lists them for ``LtiResourceLinkRequest``: the OIDC ones (``iss``,
``aud``, ``sub``, ``exp``, ``iat``, ``nonce``, ``name``/``given_name``/``family_name``/``email``),
then ``…/claim/message_type``, ``version`` "1.3.0", ``deployment_id``, ``target_link_uri``,
``resource_link`` {id, title, description}, ``roles``, ``context`` {id, label, title, type},
``tool_platform``, ``launch_presentation``, ``custom`` (string values), ``lis`` (when the user
has a SIS id); and the services' claims when the tool was granted their scopes. A deep-linking
request has no ``resource_link`` and carries ``lti-dl/claim/deep_linking_settings`` instead.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from eduvault.integrations.lti.simulator import keys
from eduvault.integrations.lti.simulator.state import API, PlatformState, Tool
from eduvault.integrations.lti.simulator.vocab import (
    AGS_CLAIM,
    AGS_SCOPES,
    CLAIM_ALIASES,
    CONTEXT,
    COURSE_OFFERING,
    CUSTOM,
    DEEP_LINKING_REQUEST,
    DEPLOYMENT_ID,
    DL_SETTINGS,
    LAUNCH_PRESENTATION,
    LIS,
    LTI_VERSION,
    MESSAGE_TYPE,
    NRPS_CLAIM,
    RESOURCE_LINK,
    ROLES,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_NRPS,
    TARGET_LINK_URI,
    TOOL_PLATFORM,
    VERSION,
)

#: Header fields and the signing key: everything else in ``overrides`` is a claim.
_HEADER_FIELDS = ("kid", "alg", "typ")
ID_TOKEN_LIFETIME = 300


@dataclass
class DeepLinkRequest:
    """A deep-linking request sent, awaiting the tool's response (matched by its ``data``)."""

    data: str
    client_id: str
    deployment_id: str
    context_id: str
    sub: str
    accept_types: tuple[str, ...]
    accept_multiple: bool


class Messages(PlatformState):
    keys: keys.KeyRing
    issuer: str
    product_family_code: str
    deep_link_requests: dict[str, DeepLinkRequest]

    def id_token(
        self,
        sub: str,
        context_id: str,
        resource_link_id: str | None = None,
        *,
        nonce: str,
        message_type: str = "LtiResourceLinkRequest",
        client_id: str | None = None,
        deployment_id: str | None = None,
        **overrides: Any,
    ) -> str:
        """A signed id_token as the platform would send it; ``overrides`` replace claims (None
        removes one; LTI claims by short name, e.g. ``roles=…``, ``deployment_id=…`` is the
        keyword above), header fields ``kid``/``alg``/``typ``, and ``key`` ("current", "other" —
        never published —, or the kid of an earlier key)."""
        tool = self.tool(client_id)
        claims = self.message_claims(
            tool, sub, context_id, resource_link_id, nonce=nonce, message_type=message_type,
            deployment_id=deployment_id,
        )  # fmt: skip
        return self.sign(claims, overrides)

    def sign(self, claims: dict[str, Any], overrides: dict[str, Any] | None = None) -> str:
        overrides = dict(overrides or {})
        key = self.keys.find(str(overrides.pop("key", "current")))
        header = {name: overrides.pop(name) for name in _HEADER_FIELDS if name in overrides}
        for name, value in overrides.items():
            name = CLAIM_ALIASES.get(name, name)
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return keys.encode(claims, key, header)

    def message_claims(
        self,
        tool: Tool,
        sub: str,
        context_id: str,
        resource_link_id: str | None,
        *,
        nonce: str,
        message_type: str,
        deployment_id: str | None = None,
    ) -> dict[str, Any]:
        now = int(time.time())
        with self.lock:
            user = self.users[sub]
            course = self.courses[context_id]
            membership = course.members.get(sub)
            link = self.links.get((context_id, resource_link_id)) if resource_link_id else None
        if resource_link_id and link is None:
            raise KeyError(f"no resource link {resource_link_id!r} in {context_id!r}")
        deployment = deployment_id or tool.deployment_ids[0]
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": tool.client_id,
            "sub": sub,
            "exp": now + ID_TOKEN_LIFETIME,
            "iat": now,
            "nonce": nonce,
        }
        for name in ("name", "given_name", "family_name", "email", "picture"):
            if getattr(user, name):
                claims[name] = getattr(user, name)
        deep_linking = message_type == DEEP_LINKING_REQUEST
        if deep_linking:
            target = tool.deep_link_url or tool.launch_url
        else:
            target = (link.target_link_uri if link else None) or tool.launch_url
        claims.update({
            MESSAGE_TYPE: message_type,
            VERSION: LTI_VERSION,
            DEPLOYMENT_ID: deployment,
            TARGET_LINK_URI: target,
            ROLES: list(membership.roles) if membership else [],
            CONTEXT: {"id": course.context_id, "label": course.label, "title": course.title,
                      "type": [COURSE_OFFERING]},
            TOOL_PLATFORM: {
                "guid": "eduvault-lti-simulator",
                "name": "Simulated LMS",
                "version": "1.0",
                "product_family_code": self.product_family_code,
                "url": self.base_url,
            },
            LAUNCH_PRESENTATION: {
                "document_target": "iframe",
                "return_url": f"{self.base_url}/courses/{course.context_id}/lti_return",
                "locale": "en",
            },
        })  # fmt: skip
        if user.sourced_id:
            claims[LIS] = {
                "person_sourcedid": user.sourced_id,
                "course_offering_sourcedid": course.context_id,
            }
        if link is not None and not deep_linking:
            claims[RESOURCE_LINK] = {"id": link.id, "title": link.title}
            if link.description:
                claims[RESOURCE_LINK]["description"] = link.description
            if link.custom:
                claims[CUSTOM] = dict(link.custom)
        ags = self._ags_claim(tool, context_id, link if not deep_linking else None)
        if ags:
            claims[AGS_CLAIM] = ags
        if SCOPE_NRPS in tool.scopes:
            claims[NRPS_CLAIM] = {
                "context_memberships_url": f"{self.base_url}{API}/{context_id}/memberships",
                "service_versions": ["2.0"],
            }
        if deep_linking:
            data = "dl-" + secrets.token_urlsafe(12)
            accept_types = ("ltiResourceLink",)
            claims[DL_SETTINGS] = {
                "deep_link_return_url": self.base_url + "/deep_link_return",
                "accept_types": list(accept_types),
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
                "auto_create": True,
                "title": f"Add content to {course.title}",
                "data": data,
            }
            with self.lock:
                self.deep_link_requests[data] = DeepLinkRequest(
                    data, tool.client_id, deployment, context_id, sub, accept_types, True
                )
        return claims

    def _ags_claim(self, tool: Tool, context_id: str, link: Any) -> dict[str, Any] | None:
        scopes = [s for s in AGS_SCOPES if s in tool.scopes]
        if not scopes:
            return None
        claim: dict[str, Any] = {"scope": scopes}
        if SCOPE_LINEITEM in scopes or SCOPE_LINEITEM_READONLY in scopes:
            claim["lineitems"] = f"{self.base_url}{API}/{context_id}/line_items{tool.lineitem_query}"
        if link is not None:
            items = self.link_line_items(link)
            if len(items) == 1:  # AGS §3.1: only when the link has one and only one line item
                claim["lineitem"] = items[0].id
        return claim
