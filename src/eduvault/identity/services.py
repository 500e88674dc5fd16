"""Accounts and sign-in: creating people, issuing and rotating their tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import structlog
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from eduvault.identity.models import Account, ApiToken, Person, RefreshToken, Role
from eduvault.identity.people import person_for_user
from eduvault.identity.throttling import sign_in_check, sign_in_failed, sign_in_succeeded
from eduvault.identity.tokens import SignedIn, access_token_decode, access_token_encode
from eduvault.kernel.errors import AuthenticationFailed, Conflict, InvalidInput

log = structlog.get_logger(__name__)

REFRESH_PREFIX = "evr_"
USERNAME_MAX = 150


@cache
def _signing_key() -> bytes:
    """The access tokens' key, derived from the secret key (servers sharing the secret key
    verify each other's tokens)."""
    secret = settings.EDUVAULT_JWT_SECRET or settings.SECRET_KEY
    return hmac.new(secret.encode(), b"eduvault access tokens", hashlib.sha256).digest()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    expires_in: int
    refresh_expires_in: int
    person: SignedIn


def person_of(user: AbstractBaseUser) -> SignedIn:
    account = getattr(user, "account", None)
    role = account.role if account is not None else (Role.ADMIN if user.is_superuser else Role.LEARNER)
    return SignedIn(id=user.pk, username=user.get_username(), role=role)


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    full_name: str = "",
    origin: str = "api",
    person: Person | None = None,
) -> AbstractBaseUser:
    """Create a person's account (and the person, unless ``person``, met before, is given).
    Without a password the account cannot sign in with one (people who come through their
    LMS by LTI)."""
    username = (username or "").strip()
    if not username or len(username) > USERNAME_MAX:
        raise InvalidInput(f"username: give 1 to {USERNAME_MAX} characters")
    if role not in Role.values:
        raise InvalidInput(f"role: unknown role {role!r}; choose one of {', '.join(Role.values)}")
    User = get_user_model()
    user = User(username=username, email=email)
    if full_name:
        first, _, last = full_name.strip().partition(" ")
        user.first_name, user.last_name = first[:150], last[:150]
    try:
        User.username_validator(username)  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise InvalidInput(f"username: {' '.join(exc.messages)}") from None
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput(f"password: {' '.join(exc.messages)}") from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.is_staff = role == Role.ADMIN
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(f"a person with username {username!r} already exists") from None
    Account.objects.create(user=user, role=role, origin=origin)
    if person is not None:  # a person met before (by LTI launch) gets the account
        Person.objects.filter(pk=person.pk, user__isnull=True).update(user=user)
    else:
        # The account's person (and its identity) now, not on first use: the first thing a
        # learner does (start an exam, at the same time as everyone else) stays light.
        person_for_user(user=user)
    log.info("user.created", user_id=user.pk, username=username, role=role, origin=origin)
    return user


def access_token_issue(*, person: SignedIn) -> str:
    return access_token_encode(
        key=_signing_key(), person=person, lifetime=settings.EDUVAULT_ACCESS_TOKEN_SECONDS
    )


def access_token_verify(*, token: str) -> SignedIn:
    return access_token_decode(key=_signing_key(), token=token)


def _pair(*, user: AbstractBaseUser, family: uuid.UUID) -> TokenPair:
    now = timezone.now()
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    lifetime = settings.EDUVAULT_REFRESH_TOKEN_SECONDS
    RefreshToken.objects.create(
        user=user,
        family=family,
        token_hash=_digest(refresh),
        issued_at=now,
        expires_at=now + timedelta(seconds=lifetime),
    )
    person = person_of(user)
    return TokenPair(
        access=access_token_issue(person=person),
        refresh=refresh,
        expires_in=settings.EDUVAULT_ACCESS_TOKEN_SECONDS,
        refresh_expires_in=lifetime,
        person=person,
    )


def auth_sign_in(*, username: str, password: str, address: str) -> TokenPair:
    """A new session for a username and password, unless the account or the client's
    address has failed too often lately (429, before the password is even checked)."""
    sign_in_check(username=username, address=address)
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        sign_in_failed(username=username, address=address)
        log.info("auth.sign_in_refused", username=username[:USERNAME_MAX], address=address)
        raise AuthenticationFailed("The username or password is not right.")
    sign_in_succeeded(username=username)
    with transaction.atomic():
        pair = _pair(user=user, family=uuid.uuid4())
    log.info("auth.signed_in", user_id=user.pk)
    return pair


def auth_refresh(*, refresh: str) -> TokenPair:
    """Swap a refresh token for a new pair. The old token is used up; presenting it again
    later revokes its whole family, except within ``EDUVAULT_REFRESH_REUSE_SECONDS`` (a
    client retrying a refresh whose answer it never received)."""
    if not isinstance(refresh, str) or not refresh.startswith(REFRESH_PREFIX) or len(refresh) > 200:
        raise AuthenticationFailed("The refresh token is not valid.")
    now = timezone.now()
    with transaction.atomic():
        token = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("user", "user__account")
            .filter(token_hash=_digest(refresh))
            .first()
        )
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            raise AuthenticationFailed("The refresh token is not valid, has expired or was revoked.")
        if not token.user.is_active:
            raise AuthenticationFailed("This account is disabled.")
        if token.used_at is not None:
            grace = timedelta(seconds=settings.EDUVAULT_REFRESH_REUSE_SECONDS)
            if now - token.used_at > grace:
                revoked = RefreshToken.objects.filter(family=token.family, revoked_at__isnull=True).update(
                    revoked_at=now
                )
                log.warning(
                    "auth.refresh_reused", user_id=token.user_id, family=str(token.family), revoked=revoked
                )
                reused = True  # commit the revocation, then refuse
            else:
                reused = False
        else:
            token.used_at = now
            token.save(update_fields=["used_at"])
            reused = False
        if not reused:
            return _pair(user=token.user, family=token.family)
    raise AuthenticationFailed("This refresh token was already used; sign in again.")


def auth_sign_out(*, refresh: str) -> None:
    """End a session: revoke the refresh token's family."""
    token = RefreshToken.objects.filter(token_hash=_digest(refresh)).first()
    if token is not None:
        RefreshToken.objects.filter(family=token.family, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )


def refresh_tokens_purge() -> int:
    """Delete refresh tokens expired for a day (upkeep)."""
    deleted, _ = RefreshToken.objects.filter(expires_at__lt=timezone.now() - timedelta(days=1)).delete()
    return deleted


# -- API tokens -------------------------------------------------------------------------------

TOKEN_PREFIX = "ev"
#: last_used_at is refreshed at most this often, so reads do not become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def token_create(
    *,
    name: str,
    role: str = ApiToken.Role.CONSUMER,
    courses: list[str] | None = None,
    kinds: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; return it with its secret value, which is shown this once only."""
    if role not in ApiToken.Role.values:
        raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(ApiToken.Role.values)}")
    if not name.strip():
        raise InvalidInput("a token needs a name")
    if ApiToken.objects.filter(name=name).exists():
        raise InvalidInput(f"a token named {name!r} already exists")
    prefix = secrets.token_hex(4)
    value = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name,
        role=role,
        prefix=prefix,
        key_hash=_digest(value),
        courses=sorted(set(courses or [])),
        kinds=sorted(set(kinds or [])),
    )
    return token, value


def token_authenticate(*, value: str) -> ApiToken:
    """The live token with this value; constant-time comparison of the hash."""
    parts = value.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise AuthenticationFailed("The token is malformed.")
    token = ApiToken.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    # Compare even when no token matched, so timing does not tell which prefixes exist.
    expected = token.key_hash if token is not None else "0" * 64
    if not hmac.compare_digest(expected, _digest(value)) or token is None:
        raise AuthenticationFailed("The token is not valid or has been revoked.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_revoke(*, name: str) -> ApiToken:
    token = ApiToken.objects.filter(name=name, revoked_at__isnull=True).first()
    if token is None:
        raise InvalidInput(f"no live token named {name!r}")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return token
