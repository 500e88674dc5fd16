"""How the OpenAPI schema describes Edu Vault's authentication."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "eduvault.identity.authentication.ApiTokenAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API token (ev_…; sources, consumers, operators) or a person's JWT access token "
                "from POST /api/v1/auth/token (learners, instructors, admins)."
            ),
        }
