"""Who may call what: roles from a person's access token, or an admin API token."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from eduvault.identity.models import ApiToken, Role
from eduvault.identity.tokens import SignedIn


def caller_role(request: Request) -> str | None:
    """The caller's role: a person's, or admin for an admin API token (services and
    operators' scripts); None for consumers and anonymous callers."""
    if isinstance(request.user, SignedIn):
        return request.user.role
    if isinstance(request.auth, ApiToken) and request.auth.is_admin:
        return Role.ADMIN
    return None


def caller_person(request: Request) -> SignedIn | None:
    return request.user if isinstance(request.user, SignedIn) else None


class _HasRole(BasePermission):
    roles: frozenset[str] = frozenset()
    message = "You need to sign in (POST /api/v1/auth/token) as one of: "

    def has_permission(self, request: Request, view: Any) -> bool:
        return caller_role(request) in self.roles


def roles(*names: str) -> type[BasePermission]:
    """A permission class letting in callers with one of these roles."""
    allowed = frozenset(names)
    return type(
        "HasRole_" + "_".join(sorted(allowed)),
        (_HasRole,),
        {"roles": allowed, "message": f"This needs the role {' or '.join(sorted(allowed))}."},
    )


AnyPerson = roles(Role.LEARNER, Role.INSTRUCTOR, Role.ADMIN)
Staff = roles(Role.INSTRUCTOR, Role.ADMIN)
Admin = roles(Role.ADMIN)


class HasApiToken(BasePermission):
    """Any live API token."""

    message = "An API token is required: send 'Authorization: Bearer <token>'."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiToken)


class IsAdminToken(HasApiToken):
    message = "This needs an admin token."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiToken) and request.auth.is_admin


class AnyCaller(BasePermission):
    """A signed-in person or any live API token."""

    message = "Sign in (POST /api/v1/auth/token) or send an API token as 'Authorization: Bearer <token>'."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, SignedIn) or isinstance(request.auth, ApiToken)
