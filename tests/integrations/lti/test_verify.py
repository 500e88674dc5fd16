"""Every check of an LTI launch's id_token (Security Framework §5.1.3 and the Core's message
rules), without a database: a platform key served as a JWKS by httpx.MockTransport."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from eduvault.integrations.lti import claims as c
from eduvault.integrations.lti.verify import LaunchMalformed, LaunchRefused, Registration, verify_id_token
from eduvault.kernel.jwks import RemoteKeySet

ISS, CLIENT, JWKS = "https://lms.test", "eduvault-tool", "https://lms.test/jwks"
REG = Registration("lms", ISS, CLIENT, ISS + "/auth", ISS + "/token", JWKS, ("dep-1",))


def new_key(kid: str) -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return private, public


class Platform:
    def __init__(self) -> None:
        self.keys = {"k1": new_key("k1")}
        self.fetches = 0
        self.cache = "max-age=300"
        self.clock = 1000.0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        return httpx.Response(
            200, json={"keys": [pub for _, pub in self.keys.values()]}, headers={"Cache-Control": self.cache}
        )

    def key_set(self) -> RemoteKeySet:
        return RemoteKeySet(
            JWKS, http=httpx.Client(transport=httpx.MockTransport(self.handler)), clock=lambda: self.clock
        )

    def token(self, *, kid: str = "k1", alg: str = "RS256", key: Any = None, headers=None, **changes: Any) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": ISS,
            "aud": CLIENT,
            "sub": "user-1",
            "exp": now + 300,
            "iat": now,
            "nonce": "n-1",
            "name": "Amina Phiri",
            c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST,
            c.VERSION: "1.3.0",
            c.DEPLOYMENT_ID: "dep-1",
            c.TARGET_LINK_URI: "https://tool.test/lti/launch",
            c.RESOURCE_LINK: {"id": "rl-1", "title": "Quadratics"},
            c.ROLES: [c.LEARNER_ROLE],
            c.CONTEXT: {"id": "ctx-1", "title": "Form 3 Mathematics"},
            c.CUSTOM: {"assessment": "12"},
        }
        for name, value in changes.items():
            name = {"message_type": c.MESSAGE_TYPE, "version": c.VERSION, "deployment": c.DEPLOYMENT_ID,
                    "roles": c.ROLES, "resource_link": c.RESOURCE_LINK, "custom": c.CUSTOM}.get(name, name)
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        signing = key if key is not None else self.keys[kid][0]
        return jwt.encode(body, signing, algorithm=alg, headers={"kid": kid, **(headers or {})})


@pytest.fixture
def platform() -> Platform:
    return Platform()


def refused(platform: Platform, token: str, reason: str, keys: RemoteKeySet | None = None) -> None:
    with pytest.raises(LaunchRefused) as raised:
        verify_id_token(token, registration=REG, keys=keys or platform.key_set())
    assert reason in raised.value.detail, raised.value.detail


def test_a_good_launch_passes(platform):
    claims = verify_id_token(platform.token(), registration=REG, keys=platform.key_set())
    assert claims["sub"] == "user-1" and claims[c.CUSTOM] == {"assessment": "12"}


def test_signature_algorithm_and_key(platform):
    other, _ = new_key("k1")
    refused(platform, platform.token(key=other), "signature is bad")
    refused(platform, jwt.encode({"iss": ISS}, "s" * 32, algorithm="HS256", headers={"kid": "k1"}), "signed with 'HS256'")
    unsigned = jwt.encode({"iss": ISS}, None, algorithm="none")
    refused(platform, unsigned, "signed with 'none'")
    refused(platform, platform.token(headers={"kid": ""}), "names no key")
    with pytest.raises(LaunchMalformed):
        verify_id_token("not-a-jwt", registration=REG, keys=platform.key_set())


def test_an_unknown_kid_refetches_the_key_set_once(platform):
    keys = platform.key_set()
    verify_id_token(platform.token(), registration=REG, keys=keys)
    assert platform.fetches == 1
    # The platform rotates: a new key signs. The set is fetched again once, and it passes.
    platform.keys["k2"] = new_key("k2")
    platform.clock += 61
    verify_id_token(platform.token(kid="k2"), registration=REG, keys=keys)
    assert platform.fetches == 2
    # A kid nobody publishes: one more fetch at most a minute, then refused.
    forged, _ = new_key("k9")
    platform.clock += 61
    refused(platform, platform.token(kid="k9", key=forged), "unknown key 'k9'", keys=keys)
    refused(platform, platform.token(kid="k9", key=forged), "unknown key 'k9'", keys=keys)
    assert platform.fetches == 3


def test_the_key_set_is_kept_as_its_cache_headers_say(platform):
    keys = platform.key_set()
    verify_id_token(platform.token(), registration=REG, keys=keys)
    platform.clock += 299
    verify_id_token(platform.token(), registration=REG, keys=keys)
    assert platform.fetches == 1
    platform.clock += 2
    verify_id_token(platform.token(), registration=REG, keys=keys)
    assert platform.fetches == 2


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"iss": "https://evil.test"}, "issuer"),
        ({"aud": "someone-else"}, "not for this tool"),
        ({"aud": [CLIENT, "someone-else"], "azp": CLIENT}, "audiences this tool does not trust"),
        ({"azp": "someone-else"}, "authorized party"),
        ({"aud": None}, "no audience"),
        ({"exp": lambda now: now - 120}, "expired"),
        ({"exp": None}, "no expiry"),
        ({"iat": lambda now: now + 600}, "in the future"),
        ({"iat": lambda now: now - 3600, "exp": lambda now: now + 60}, "minutes ago"),
        ({"nonce": None}, "no nonce"),
        ({"deployment": "dep-9"}, "deployment 'dep-9'"),
        ({"message_type": "LtiSubmissionReviewRequest"}, "message type"),
        ({"version": "1.1"}, "version"),
        ({"roles": None}, "Roles"),
        ({"resource_link": None}, "Resource Link"),
        ({"sub": None}, "user (sub)"),
        ({"custom": "assessment=12"}, "custom claim"),
        ({"message_type": c.DEEP_LINKING_REQUEST}, "Deep Linking"),
    ],
)
def test_each_claim_check_refuses(platform, changes, reason):
    now = int(time.time())  # times are relative to when the test runs, not when it was collected
    resolved = {name: value(now) if callable(value) else value for name, value in changes.items()}
    refused(platform, platform.token(**resolved), reason)
