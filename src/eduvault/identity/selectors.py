"""Reading people and tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from eduvault.identity.models import Role
from eduvault.kernel.validation import one_of


def people_list(*, role: str | None = None) -> QuerySet[Any]:
    """People, by username; only those with ``role`` when given."""
    people = get_user_model().objects.select_related("account").order_by("username")
    role = one_of(role, "role", Role.values)
    return people.filter(account__role=role) if role else people
