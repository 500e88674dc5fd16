"""The tool's login and launch through Django's test client: state and nonce kept
server-side and spent once, bound to their login and platform; no cookie needed (the
launch is posted by a client that never saw the login); a refused launch creates nobody;
the tool's keys published and rotated."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from eduvault.identity.models import Identity, Person
from eduvault.integrations.lti import claims as c
from eduvault.integrations.lti import services as lti
from eduvault.integrations.lti.keys import tool_key_rotate, tool_keys_retire
from eduvault.integrations.models import LtiLogin
from eduvault.learning.lti.models import LtiContext
from tests.integrations.lti.test_verify import CLIENT, ISS, JWKS, Platform

pytestmark = pytest.mark.django_db

LAUNCH = "http://testserver/lti/launch"


@pytest.fixture
def platform(db):
    platform = Platform()
    lti.lti_platform_add(
        name="lms",
        issuer=ISS,
        client_id=CLIENT,
        auth_url=ISS + "/auth",
        token_url=ISS + "/token",
        jwks_url=JWKS,
        deployments=["dep-1"],
    )
    lti._key_sets[JWKS] = platform.key_set()  # the platform's JWKS, served in memory
    yield platform
    lti._key_sets.pop(JWKS, None)


def login(client: Client | None = None, **extra: str) -> dict[str, str]:
    """The platform's login initiation; the query of the tool's redirect to the platform."""
    params = {"iss": ISS, "login_hint": "user-1", "target_link_uri": LAUNCH, "lti_message_hint": "opaque/+=hint", **extra}
    response = (client or Client()).get("/lti/login", params)
    assert response.status_code == 302, response.content
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == ISS + "/auth"
    return {k: v[0] for k, v in parse_qs(target.query).items()}


def launch(platform: Platform, state: str, nonce: str, **changes) -> object:
    token = platform.token(nonce=nonce, **changes)
    return Client().post("/lti/launch", {"id_token": token, "state": state})  # a fresh client: no cookie


def test_login_redirects_to_the_platform_with_state_nonce_and_the_hint_unaltered(platform):
    query = login()
    assert query["lti_message_hint"] == "opaque/+=hint" and query["login_hint"] == "user-1"
    assert (query["scope"], query["response_type"], query["response_mode"], query["prompt"]) == (
        "openid", "id_token", "form_post", "none"
    )
    assert query["client_id"] == CLIENT and query["redirect_uri"] == LAUNCH
    stored = LtiLogin.objects.get(state=query["state"])
    assert stored.nonce == query["nonce"] and stored.used_at is None
    # POST works the same.
    response = Client().post("/lti/login", {"iss": ISS, "login_hint": "u", "target_link_uri": LAUNCH})
    assert response.status_code == 302


def test_a_launch_makes_the_person_and_context_once_and_cannot_be_replayed(platform):
    query = login()
    response = launch(platform, query["state"], query["nonce"])
    assert response.status_code == 200, response.content
    assert b'data-testid="launched"' in response.content
    identity = Identity.objects.get(platform="lti", realm="lms", external_id="user-1")
    assert identity.person.name == "Amina Phiri"
    assert LtiContext.objects.get().title == "Form 3 Mathematics"
    replay = launch(platform, query["state"], query["nonce"])
    assert replay.status_code == 401 and b"used already" in replay.content
    # The same id_token with a new login's state: its nonce is not that login's.
    fresh = login()
    token = platform.token(nonce=query["nonce"])
    again = Client().post("/lti/launch", {"id_token": token, "state": fresh["state"]})
    assert again.status_code == 401 and b"nonce" in again.content
    assert Person.objects.filter(identities__platform="lti").count() == 1


@pytest.mark.parametrize(
    "how, reason",
    [
        ("unknown state", b"not issued by this tool"),
        ("no state", b"no state"),
        ("other nonce", b"nonce"),
        ("expired token", b"expired"),
        ("other issuer", b"another platform"),
        ("other deployment", b"deployment"),
    ],
)
def test_refused_launches_say_why_and_create_nobody(platform, how, reason):
    query = login()
    state, nonce, changes = query["state"], query["nonce"], {}
    if how == "unknown state":
        state = "x" * 40
    elif how == "no state":
        state = ""
    elif how == "other nonce":
        nonce = "not-the-one"
    elif how == "expired token":
        changes = {"exp": 1_000_000}
    elif how == "other issuer":
        changes = {"iss": "https://evil.test"}
    elif how == "other deployment":
        changes = {"deployment": "dep-9"}
    response = launch(platform, state, nonce, **changes)
    assert 400 <= response.status_code < 500 and reason in response.content, response.content
    assert b'data-testid="refused"' in response.content
    assert not Identity.objects.filter(platform="lti").exists() and not LtiContext.objects.exists()
    assert LtiLogin.objects.get(state=query["state"]).used_at is None


def test_logins_from_unknown_platforms_or_for_other_tools_are_refused(platform):
    for params, reason in (
        ({"iss": "https://evil.test"}, b"no LTI platform"),
        ({"client_id": "another-tool"}, b"no LTI platform"),
        ({"lti_deployment_id": "dep-9"}, b"deployment"),
        ({"target_link_uri": "https://evil.test/steal"}, b"target link"),
        ({"login_hint": ""}, b"login_hint"),
    ):
        base = {"iss": ISS, "login_hint": "user-1", "target_link_uri": LAUNCH}
        response = Client().get("/lti/login", {**base, **params})
        assert 400 <= response.status_code < 500 and reason in response.content, (params, response.content)
    assert not LtiLogin.objects.exists()


def test_the_tools_keys_are_published_and_rotate(platform):
    first = Client().get("/lti/jwks")
    assert first["Cache-Control"] == "public, max-age=300"
    (key,) = first.json()["keys"]
    assert key["alg"] == "RS256" and key["use"] == "sig" and "d" not in key
    new, older = tool_key_rotate()
    kids = [k["kid"] for k in Client().get("/lti/jwks").json()["keys"]]
    assert kids == [new.kid, key["kid"]] and [k.kid for k in older] == [key["kid"]]
    tool_keys_retire()
    assert [k["kid"] for k in Client().get("/lti/jwks").json()["keys"]] == [new.kid]


def test_the_pages_may_be_framed_by_the_lms(platform):
    query = login()
    response = launch(platform, query["state"], query["nonce"])
    assert "X-Frame-Options" not in response
    assert c.RESOURCE_LINK  # the claims module is what the tests build tokens from


def test_the_platforms_api_is_for_admins(db):
    from rest_framework.test import APIClient

    from eduvault.identity.services import token_create

    _, secret = token_create(name="admin", role="admin", courses=[])
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = {
        "name": "moodle",
        "issuer": "https://moodle.school.mw",
        "client_id": "abc",
        "auth_url": "https://moodle.school.mw/mod/lti/auth.php",
        "token_url": "https://moodle.school.mw/mod/lti/token.php",
        "jwks_url": "https://moodle.school.mw/mod/lti/certs.php",
        "deployments": ["1"],
    }
    made = admin.post("/api/v1/lti/platforms", body, format="json")
    assert made.status_code == 201, made.content
    assert [p["name"] for p in admin.get("/api/v1/lti/platforms").json()] == ["moodle"]
    bad = admin.post("/api/v1/lti/platforms", {**body, "name": "other", "deployments": []}, format="json")
    assert bad.status_code == 400 and bad["Content-Type"].startswith("application/problem+json")
    config = admin.get("/api/v1/lti/config").json()
    assert config["urls"]["OIDC login URL"] == "http://testserver/lti/login"
    assert admin.delete("/api/v1/lti/platforms/moodle").status_code == 204
    assert APIClient().get("/api/v1/lti/platforms").status_code == 401


def test_a_launched_person_has_an_account_listed_like_any_persons(platform):
    from rest_framework.test import APIClient

    from eduvault.identity.services import token_create

    query = login()
    assert launch(platform, query["state"], query["nonce"]).status_code == 200
    person = Identity.objects.get(platform="lti", external_id="user-1").person
    assert person.user is not None and person.user.account.origin == "lti"
    _, secret = token_create(name="admin", role="admin", courses=[])
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    listed = admin.get("/api/v1/users/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert person.user.username in [u["username"] for u in rows]


def test_old_logins_are_purged(platform):
    from datetime import timedelta

    from django.utils import timezone

    from eduvault.learning.lti.jobs import logins_purge

    login()
    fresh = login()
    LtiLogin.objects.exclude(state=fresh["state"]).update(created_at=timezone.now() - timedelta(days=2))
    assert logins_purge() == {"purged": 1}
    assert list(LtiLogin.objects.values_list("state", flat=True)) == [fresh["state"]]
