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
    (("GET", "POST"), re.compile(f"^{_COURSE}/line_items$"), ags.line_items),
    (("GET", "PUT", "DELETE"), re.compile(f"^{_ITEM}$"), ags.line_item),
    (("POST",), re.compile(f"^{_ITEM}/scores$"), ags.scores),
    (("GET",), re.compile(f"^{_ITEM}/results$"), ags.results),
    (("GET",), re.compile(f"^{_ITEM}/results/(?P<sub>[^/]+)$"), ags.results),
    (("GET",), re.compile(f"^{_COURSE}/memberships$"), nrps.memberships),
]
