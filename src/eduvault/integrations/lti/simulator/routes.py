"""The platform's routes: path patterns, methods, and the handlers of the small endpoints."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from eduvault.integrations.lti.simulator import ags, deep_linking, nrps, oidc, tokens
from eduvault.integrations.lti.simulator.rest import Call, Reply, html_page
from eduvault.integrations.lti.simulator.vocab import ALL_SCOPES, DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST


def _jwks(call: Call) -> Reply:
    return Reply(200, call.platform.jwks(), {"Cache-Control": "max-age=300"})


def _configuration(call: Call) -> Reply:
    p = call.platform
    return Reply(200, {
        "issuer": p.issuer,
        "authorization_endpoint": p.auth_url,
        "token_endpoint": p.token_url,
        "jwks_uri": p.jwks_url,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", *ALL_SCOPES],
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "claims_supported": ["iss", "aud", "sub", "name", "given_name", "family_name", "email"],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": p.product_family_code,
            "version": "1.0",
            "messages_supported": [{"type": RESOURCE_LINK_REQUEST}, {"type": DEEP_LINKING_REQUEST}],
        },
    })  # fmt: skip


def _lti_return(call: Call) -> Reply:
    """Where a tool may send the browser back (``launch_presentation.return_url``)."""
    parts = [f'<p class="{k}">{html.escape(call.query[k])}</p>' for k in ("lti_msg", "lti_errormsg")
             if call.query.get(k)]  # fmt: skip
    return Reply(200, html_page("Back in the course", "<h1>Back in the course</h1>" + "".join(parts)),
                 {}, "text/html; charset=utf-8")  # fmt: skip


def _course_page(call: Call) -> Reply:
    """The LMS's page of an activity: the tool framed in it (``?launch=`` names a pending
    launch of this platform's own, as :meth:`LtiPlatform.launch_url` gives)."""
    hint = call.query.get("launch", "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{8,100}", hint):
        return Reply(400, html_page("No activity", "<p>No activity to show.</p>"), {}, "text/html; charset=utf-8")
    frame = (
        f'<h1>{html.escape(call.args["context_id"])}</h1>'
        f'<iframe id="tool" title="Edu Vault" src="/launch/{hint}" '
        'style="width:100%;height:80vh;border:1px solid #bcccdc" allow="fullscreen"></iframe>'
    )
    return Reply(200, html_page("Course", frame), {}, "text/html; charset=utf-8")


_COURSE = r"/api/lti/courses/(?P<context_id>[^/]+)"
_ITEM = _COURSE + r"/line_items/(?P<item>\d+)"
ROUTES: list[tuple[tuple[str, ...], re.Pattern[str], Callable[[Call], Reply]]] = [
    (("GET", "POST"), re.compile(r"^/auth$"), oidc.authorize),
    (("GET",), re.compile(r"^/jwks$"), _jwks),
    (("POST",), re.compile(r"^/token$"), tokens.token_endpoint),
    (("GET",), re.compile(r"^/launch/(?P<hint>[^/]+)$"), oidc.launch_page),
    (("POST",), re.compile(r"^/deep_link_return$"), deep_linking.deep_link_return),
    (("GET",), re.compile(r"^/\.well-known/openid-configuration$"), _configuration),
    (("GET",), re.compile(r"^/courses/(?P<context_id>[^/]+)/lti_return$"), _lti_return),
    (("GET",), re.compile(r"^/courses/(?P<context_id>[^/]+)/activity$"), _course_page),
    (("GET", "POST"), re.compile(f"^{_COURSE}/line_items$"), ags.line_items),
    (("GET", "PUT", "DELETE"), re.compile(f"^{_ITEM}$"), ags.line_item),
    (("POST",), re.compile(f"^{_ITEM}/scores$"), ags.scores),
    (("GET",), re.compile(f"^{_ITEM}/results$"), ags.results),
    (("GET",), re.compile(f"^{_ITEM}/results/(?P<sub>[^/]+)$"), ags.results),
    (("GET",), re.compile(f"^{_COURSE}/memberships$"), nrps.memberships),
]
