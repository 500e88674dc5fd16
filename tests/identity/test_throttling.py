"""Failed sign-ins are throttled per account and per address; a forwarded header chooses nothing."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from rest_framework.test import APIClient

from eduvault.identity import throttling
from eduvault.identity.models import SignInFailures
from eduvault.identity.services import user_create
from eduvault.identity.throttling import Rate, sign_in_failures_purge
from eduvault.kernel.errors import InvalidInput

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
_addresses = (f"203.0.113.{n}" for n in itertools.count(1))


@pytest.fixture
def amina():
    return user_create(username="amina", role="learner", password=PASSWORD)


@pytest.fixture
def operator():
    return user_create(username="operator", role="admin", password=PASSWORD)


def api_sign_in(username: str, password: str, **headers: str) -> int:
    response = APIClient().post(
        "/api/v1/auth/token", {"username": username, "password": password}, format="json", **headers
    )
    return response.status_code


def console_sign_in(username: str, password: str, **headers: str) -> int:
    return (
        Client().post("/console/login/", {"username": username, "password": password}, **headers).status_code
    )


@pytest.mark.parametrize(
    ("sign_in", "refused"),
    [(api_sign_in, 401), (console_sign_in, 200)],  # the console shows its form again
    ids=["api", "console"],
)
def test_rotating_forwarded_for_does_not_escape_the_address_limit(
    settings, amina, operator, sign_in, refused
):
    """Without a trusted proxy X-Forwarded-For is ignored: the guesses all come from one address."""
    settings.EDUVAULT_SIGN_IN_RATE = "5/min"
    settings.EDUVAULT_SIGN_IN_ACCOUNT_RATE = "1000/min"
    codes = [
        sign_in(f"user{n}", "guess", HTTP_X_FORWARDED_FOR=next(_addresses), REMOTE_ADDR="198.51.100.7")
        for n in range(8)
    ]
    assert codes == [refused] * 5 + [429] * 3
    # Another address is not held back.
    assert sign_in("amina", "guess", REMOTE_ADDR="198.51.100.8") == refused


@pytest.mark.parametrize(
    ("sign_in", "refused", "signed_in"),
    [(api_sign_in, 401, 200), (console_sign_in, 200, 302)],
    ids=["api", "console"],
)
def test_an_account_is_throttled_whatever_address_the_guesses_come_from(
    settings, operator, sign_in, refused, signed_in
):
    settings.EDUVAULT_SIGN_IN_RATE = "1000/min"
    settings.EDUVAULT_SIGN_IN_ACCOUNT_RATE = "10/15min"
    codes = [sign_in("operator", "guess", REMOTE_ADDR=next(_addresses)) for _ in range(60)]
    assert codes == [refused] * 10 + [429] * 50
    # Even the right password waits out the window (the guesser may have found it) ...
    assert sign_in("operator", PASSWORD, REMOTE_ADDR=next(_addresses)) == 429
    # ... which ends: then it signs in, and the count starts again.
    SignInFailures.objects.filter(key="account:operator").update(window_started=0)
    assert sign_in("operator", PASSWORD, REMOTE_ADDR=next(_addresses)) == signed_in
    assert not SignInFailures.objects.filter(key="account:operator").exists()


def test_the_429_says_how_long_to_wait(settings, amina):
    settings.EDUVAULT_SIGN_IN_ACCOUNT_RATE = "2/15min"
    client = APIClient()
    for _ in range(2):
        client.post("/api/v1/auth/token", {"username": "Amina", "password": "x"}, format="json")
    refused = client.post("/api/v1/auth/token", {"username": "amina", "password": PASSWORD}, format="json")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert 800 < int(refused["Retry-After"]) <= 900
    assert refused.json()["detail"].startswith("Too many failed sign-ins for this account; try again in")


def test_unknown_usernames_are_counted_like_known_ones(settings):
    """The answers do not tell whether an account exists."""
    settings.EDUVAULT_SIGN_IN_ACCOUNT_RATE = "2/min"
    assert [api_sign_in("nobody", "x", REMOTE_ADDR=next(_addresses)) for _ in range(3)] == [401, 401, 429]


def test_a_success_clears_the_account_count_but_not_the_address_count(settings, amina):
    settings.EDUVAULT_SIGN_IN_ACCOUNT_RATE = "3/min"
    settings.EDUVAULT_SIGN_IN_RATE = "5/min"
    for _ in range(2):
        assert api_sign_in("amina", "x", REMOTE_ADDR="192.0.2.1") == 401
    assert api_sign_in("amina", PASSWORD, REMOTE_ADDR="192.0.2.1") == 200
    assert [api_sign_in("amina", "x", REMOTE_ADDR="192.0.2.1") for _ in range(4)] == [401, 401, 401, 429]
    assert SignInFailures.objects.get(key="address:192.0.2.1").failures == 5


def test_counts_in_ended_windows_are_purged(settings):
    settings.EDUVAULT_SIGN_IN_ACCOUNT_RATE = "3/min"
    api_sign_in("nobody", "x", REMOTE_ADDR="192.0.2.9")
    SignInFailures.objects.create(key="account:old", window_started=1.0, failures=7)
    assert sign_in_failures_purge() == 1
    assert set(SignInFailures.objects.values_list("key", flat=True)) == {
        "account:nobody",
        "address:192.0.2.9",
    }


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("30/min", Rate(30, 60)),
        ("10/15min", Rate(10, 900)),
        ("100/h", Rate(100, 3600)),
        ("5/30s", Rate(5, 30)),
    ],
)
def test_rates(text, rate):
    assert Rate.parse(text, "X") == rate


@pytest.mark.parametrize("text", ["", "0/min", "ten/min", "5/fortnight", "5"])
def test_bad_rates_name_the_setting(text):
    with pytest.raises(InvalidInput, match="X: give a rate such as 30/min"):
        throttling.Rate.parse(text, "X")
