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


# -- people and their identities on every platform ---------------------------------------------


class Person(models.Model):
    """Someone Edu Vault keeps learner records for: one person, one identity per platform.

    Edu Vault's own accounts are people too (``user``); a person may exist only through the
    identities a platform reported (a Canvas student who never signed in here)."""

    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    sis_id = models.CharField(max_length=100, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )
    #: Set when an operator merged this person into another (the merge can be undone).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="absorbed"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["sis_id"], name="person_sis_id")]

    def __str__(self) -> str:
        return self.name or f"person {self.pk}"


class Identity(models.Model):
    """A person's account on one platform: a Canvas user (with login and SIS id), an Open edX
    username, a Discourse username, an LTI ``sub`` per issuer, a device account, an Edu Vault
    username. Matched to a person by the operator's rules; held when it matches nobody or
    more than one person, until an operator links it."""

    class State(models.TextChoices):
        LINKED = "linked", "Linked"
        HELD = "held", "Held for an operator"

    #: canvas, openedx, discourse, lti, device, eduvault
    platform = models.CharField(max_length=30)
    #: Which one: the source's name, an LTI issuer, a device id ("" for Edu Vault itself).
    realm = models.CharField(max_length=300, blank=True)
    #: The platform's id for the account (Canvas user id, LTI sub, username).
    external_id = models.CharField(max_length=300)
    login = models.CharField(max_length=200, blank=True)
    sis_id = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    email_verified = models.BooleanField(default=False)
    name = models.CharField(max_length=200, blank=True)
    #: The account the platform vouches this one is (``<realm>:<id>``; ``sis:<id>`` for an
    #: SIS id): a forum's DiscourseConnect ``external_id``. Matched by the ``connect`` rule.
    vouched = models.CharField(max_length=400, blank=True)

    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="identities"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.HELD)
    #: How it was linked (the rule that matched, "operator", "account"), or why it is held.
    matched_by = models.CharField(max_length=30, blank=True)
    held_reason = models.CharField(max_length=300, blank=True)
    #: The people it matched when it matched more than one (for the operator to choose from).
    candidates = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["platform", "realm", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "realm", "external_id"], name="identity_unique"),
        ]
        indexes = [
            models.Index(fields=["sis_id"], name="identity_sis_id"),
            models.Index(fields=["login"], name="identity_login"),
            models.Index(fields=["email"], name="identity_email"),
            models.Index(fields=["state"], name="identity_state"),
        ]

    def __str__(self) -> str:
        where = f"{self.platform}:{self.realm}" if self.realm else self.platform
        return f"{self.login or self.name or self.external_id} on {where}"


class IdentityEvent(models.Model):
    """The audit of links and merges: who did what, and what undoing it takes."""

    class Action(models.TextChoices):
        LINK = "link", "Linked"
        UNLINK = "unlink", "Unlinked"
        HOLD = "hold", "Held"
        CREATE = "create", "Person created"
        MERGE = "merge", "People merged"
        UNMERGE = "unmerge", "Merge undone"

    action = models.CharField(max_length=10, choices=Action.choices)
    identity = models.ForeignKey(
        Identity, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    #: The other person of a merge (the one absorbed), or the one an identity was unlinked from.
    other = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    #: What undoing it needs (the identities a merge moved, ...).
    details = models.JSONField(default=dict, blank=True)
    undone_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.identity_id or ''} {self.person_id or ''}"
