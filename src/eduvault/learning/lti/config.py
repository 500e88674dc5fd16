"""What a platform administrator pastes in to register Edu Vault as a tool."""

from __future__ import annotations

from typing import Any

from eduvault.integrations.lti import claims as c
from eduvault.integrations.lti.keys import tool_jwks


def tool_config(base: str) -> dict[str, Any]:
    base = base.rstrip("/")
    urls = {
        "OIDC login URL": f"{base}/lti/login",
        "Launch (redirect) URL": f"{base}/lti/launch",
        "Deep linking URL": f"{base}/lti/launch",
        "Public JWKS URL": f"{base}/lti/jwks",
        "Target link URI": f"{base}/lti/launch",
    }
    domain = base.split("://", 1)[-1].split("/", 1)[0]
    canvas = {
        "title": "Edu Vault",
        "description": "Practice and exams with progressive feedback and mastery tracking",
        "oidc_initiation_url": urls["OIDC login URL"],
        "target_link_uri": urls["Target link URI"],
        "public_jwk_url": urls["Public JWKS URL"],
        "scopes": [*c.AGS_SCOPES, c.NRPS_SCOPE],
        "extensions": [
            {
                "domain": domain,
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {
                    "placements": [
                        {
                            "placement": "assignment_selection",
                            "message_type": c.DEEP_LINKING_REQUEST,
                            "target_link_uri": urls["Deep linking URL"],
                        },
                        {
                            "placement": "link_selection",
                            "message_type": c.DEEP_LINKING_REQUEST,
                            "target_link_uri": urls["Deep linking URL"],
                        },
                    ]
                },
            }
        ],
        "custom_fields": {},
    }
    return {"urls": urls, "canvas_developer_key": canvas, "jwks": tool_jwks()}
