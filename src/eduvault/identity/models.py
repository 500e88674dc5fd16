"""People who sign in: learners, instructors and admins, and their refresh tokens.

A person is a Django user with an :class:`Account` saying what role they have. Apps and
devices sign in with a username and password for a short-lived JWT access token and a
rotating refresh token (see :mod:`eduvault.identity.services`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    LEARNER = "learner", "Learner"
    INSTRUCTOR = "instructor", "Instructor"
    ADMIN = "admin", "Admin"


class Account(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)
    #: How the account came to be: "cli", "api", later "lti".
    origin = models.CharField(max_length=20, default="api")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.role})"


class RefreshToken(models.Model):
    """One refresh token, stored as a hash. Each use replaces it with a new one of the same
    family; presenting a used token again revokes the whole family (it was stolen, or
    replayed by a confused client: either way the person signs in again)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    family = models.UUIDField(db_index=True)
    #: SHA-256 of the token, hex.
    token_hash = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="refresh_expires")]

    def __str__(self) -> str:
        return f"refresh token of {self.user_id} ({self.family})"


class SignInFailures(models.Model):
    """Failed sign-ins counted per account (``account:<username>``) and per client address
    (``address:<ip>``) in a fixed window, shared by every server process through the database.
    Rows whose window has ended are purged by the upkeep."""

    key = models.CharField(max_length=200, primary_key=True)
    #: Unix seconds: when the current window began.
    window_started = models.FloatField()
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "identity_sign_in_failures"

    def __str__(self) -> str:
        return f"{self.key}: {self.failures} since {self.window_started:.0f}"


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
