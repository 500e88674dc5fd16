from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from eduvault.core.models import ApiToken


class HasApiToken(BasePermission):
    """Any live API token."""

    message = "An API token is required: send 'Authorization: Bearer <token>'."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiToken)


class IsAdminToken(HasApiToken):
    message = "This needs an admin token."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiToken) and request.auth.is_admin
