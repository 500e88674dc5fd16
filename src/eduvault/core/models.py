"""API tokens: how services and operators authenticate to Edu Vault's API."""

from __future__ import annotations

from django.db import models


class ApiToken(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        CONSUMER = "consumer", "Consumer"

    name = models.CharField(max_length=100, unique=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CONSUMER)
    #: The public part of the token, shown in lists and logs; the rest is never stored.
    prefix = models.CharField(max_length=16, unique=True)
    #: SHA-256 of the whole token, hex.
    key_hash = models.CharField(max_length=64)
    #: Course keys a consumer may see; empty means every course (admins always see all).
    courses = models.JSONField(default=list, blank=True)
    #: Kinds of change a consumer may see (e.g. subtopic, activity); empty means every kind.
    kinds = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role}, {self.prefix}…)"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    def may_see_course(self, course_key: str) -> bool:
        return self.is_admin or not self.courses or course_key in self.courses

    def may_see_kind(self, kind: str) -> bool:
        return self.is_admin or not self.kinds or kind in self.kinds
