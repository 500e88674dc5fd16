"""Sign-in: JWT access tokens, rotating refresh tokens, roles, and people made by admins."""

from __future__ import annotations

import time

import jwt
import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from eduvault.identity.models import RefreshToken
from eduvault.identity.services import _signing_key, token_create, user_create
from tests.conftest import run_cli
from tests.test_api import assert_problem, client_with

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def amina():
    return user_create(username="amina", role="learner", password=PASSWORD)


def sign_in(username: str = "amina", password: str = PASSWORD) -> dict:
    response = APIClient().post(
        "/api/v1/auth/token", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str):
    return APIClient().post("/api/v1/auth/refresh", {"refresh": token}, format="json")


def test_sign_in_gives_a_short_lived_access_token_and_a_refresh_token(amina):
    tokens = sign_in()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert tokens["access"] == tokens["access_token"] and tokens["refresh"] == tokens["refresh_token"]
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    assert claims["role"] == "learner" and claims["exp"] - claims["iat"] == 900
    me = client_with(tokens["access"]).get("/api/v1/me").json()
    assert me == {"name": "amina", "role": "learner", "kind": "person", "id": amina.pk}
    # The refresh token is stored as a hash only.
    assert not RefreshToken.objects.filter(token_hash=tokens["refresh"]).exists()


def test_wrong_credentials_are_one_clear_401(amina):
    for username, password in (("amina", "wrong password"), ("nobody", PASSWORD)):
        response = APIClient().post(
            "/api/v1/auth/token", {"username": username, "password": password}, format="json"
        )
        assert_problem(response, 401, "username or password")
    assert_problem(
        APIClient().post("/api/v1/auth/token", {"username": "amina"}, format="json"), 400, "password"
    )


def test_refresh_rotates_and_a_reused_token_revokes_the_family(amina):
    first = sign_in()
    second = refresh(first["refresh"]).json()
    assert second["refresh"] != first["refresh"] and second["access"]
    third = refresh(second["refresh"]).json()
    with override_settings(EDUVAULT_REFRESH_REUSE_SECONDS=0):
        time.sleep(0.01)
        assert_problem(refresh(first["refresh"]), 401, "already used")
    # The whole family went with it: the newest token too.
    assert_problem(refresh(third["refresh"]), 401)
    # Another session (another family) is untouched.
    other = sign_in()
    assert refresh(other["refresh"]).status_code == 200


def test_a_retried_refresh_within_the_grace_period_still_works(amina):
    first = sign_in()
    assert refresh(first["refresh"]).status_code == 200
    retried = refresh(first["refresh"])  # the answer to the first was lost on the way
    assert retried.status_code == 200 and retried.json()["refresh"]


def test_sign_out_revokes_the_session(amina):
    tokens = sign_in()
    assert (
        APIClient().post("/api/v1/auth/revoke", {"refresh": tokens["refresh"]}, format="json").status_code
        == 204
    )
    assert_problem(refresh(tokens["refresh"]), 401)


@pytest.mark.parametrize("tamper", ["expired", "signature", "none-alg", "refresh-as-access", "garbage"])
def test_bad_access_tokens_are_refused(amina, tamper):
    tokens = sign_in()
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    token = {
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 60}, _signing_key(), algorithm="HS256"),
        "signature": jwt.encode({**claims, "role": "admin"}, b"x" * 32, algorithm="HS256"),
        "none-alg": jwt.encode({**claims, "role": "admin"}, None, algorithm="none"),
        "refresh-as-access": jwt.encode({**claims, "typ": "refresh"}, _signing_key(), algorithm="HS256"),
        "garbage": "a.b.c",
    }[tamper]
    assert_problem(client_with(token).get("/api/v1/me"), 401)


def test_admins_create_people_learners_cannot(amina, admin_token):
    admin = client_with(admin_token)
    created = admin.post(
        "/api/v1/users/", {"username": "mr-banda", "role": "instructor", "password": PASSWORD}, format="json"
    )
    assert created.status_code == 201 and created.json()["role"] == "instructor"
    assert_problem(
        admin.post(
            "/api/v1/users/", {"username": "mr-banda", "role": "learner", "password": PASSWORD}, format="json"
        ),
        409,
    )
    assert_problem(
        admin.post(
            "/api/v1/users/", {"username": "weak", "role": "learner", "password": "12345678"}, format="json"
        ),
        400,
        "password",
    )
    assert {u["username"] for u in admin.get("/api/v1/users/").json()["results"]} == {"amina", "mr-banda"}
    learner = client_with(sign_in()["access"])
    assert_problem(learner.get("/api/v1/users/"), 403)
    assert_problem(
        learner.post(
            "/api/v1/users/", {"username": "x", "role": "admin", "password": PASSWORD}, format="json"
        ),
        403,
    )
    consumer = client_with(token_create(name="app", role="consumer")[1])
    assert_problem(consumer.get("/api/v1/users/"), 403)


def test_people_reach_only_their_endpoints(amina):
    learner = client_with(sign_in()["access"])
    # Operators' endpoints take API tokens only.
    for path in ("/api/v1/events/", "/api/v1/subscriptions/", "/api/v1/changes"):
        assert learner.get(path).status_code in (401, 403), path


def test_sign_in_is_rate_limited(amina, settings):
    settings.EDUVAULT_SIGN_IN_ACCOUNT_RATE = "3/min"
    client = APIClient()
    codes = [
        client.post(
            "/api/v1/auth/token", {"username": "amina", "password": "nope"}, format="json"
        ).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


@pytest.mark.django_db(transaction=True)
def test_the_cli_adds_people():
    result = run_cli(
        "user",
        "add",
        "mr-phiri",
        "--role",
        "instructor",
        "--password-stdin",
        input=PASSWORD + "\n",
        check=True,
    )
    assert "added instructor 'mr-phiri'" in result.stdout
    assert sign_in("mr-phiri")["user"]["role"] == "instructor"
    listed = run_cli("user", "list", check=True).stdout
    assert "mr-phiri" in listed and "instructor" in listed
    again = run_cli("user", "add", "mr-phiri", "--password-stdin", input=PASSWORD + "\n")
    assert again.returncode != 0 and "already exists" in again.stderr
    no_tty = run_cli("user", "add", "someone", input="")
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr
