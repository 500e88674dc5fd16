"""Verifying signed Live Events against a JWKS served by httpx.MockTransport: no network, no database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from typing import Any

import httpx
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from eduvault.integrations.canvas.jwks import MAX_TOKEN_BYTES, LiveEventVerifier, live_event_of
from eduvault.kernel.errors import AuthenticationFailed, MalformedEvent, SourceUnavailable

JWKS_URL = "https://jwks.test/main/jwks"

EVENT = {
    "metadata": {
        "event_name": "grade_change",
        "event_time": "2026-03-01T19:11:05.222Z",
        "context_type": "Course",
        "context_id": "21070000000000565",
        "producer": "canvas",
    },
    "body": {"assignment_id": "355", "user_id": "48", "grade": "5", "score": 5, "points_possible": 10},
}


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {
        name: rsa.generate_private_key(public_exponent=65537, key_size=2048) for name in ("k1", "k2", "evil")
    }


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    entry = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**entry, "kid": kid, "use": "sig", "alg": "RS256"}


def sign(
    key: rsa.RSAPrivateKey, kid: str | None = "k1", claims: dict[str, Any] | None = None, **header: Any
) -> str:
    now = int(time.time())
    payload = {"iat": now, "exp": now + 300, **EVENT} if claims is None else claims
    headers = {"kid": kid, **header} if kid is not None else header
    return jwt.encode(payload, key, algorithm="RS256", headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(orjson.dumps(header))}.{b64(orjson.dumps(claims))}"


class JwksServer:
    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        self.fetches = 0
        self.fail: httpx.Response | Exception | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.fetches += 1
        if isinstance(self.fail, Exception):
            raise self.fail
        if self.fail is not None:
            return self.fail
        return httpx.Response(200, json={"keys": self.keys})


@pytest.fixture
def server(keys) -> JwksServer:
    # As Instructure's endpoint: previous, current and next keys (here one other kind too).
    return JwksServer(
        [jwk(keys["k1"], "k1"), {"kty": "EC", "kid": "ec1", "crv": "P-256", "x": "a", "y": "b"}]
    )


@pytest.fixture
def now() -> list[float]:
    return [5000.0]


@pytest.fixture
def verifier(server, now):
    http = httpx.Client(transport=httpx.MockTransport(server))
    verifier = LiveEventVerifier(JWKS_URL, http=http, clock=lambda: now[0])
    yield verifier
    http.close()


def test_a_good_token_verifies_and_yields_the_event(verifier, keys, server):
    claims = verifier.verify(sign(keys["k1"]))
    assert claims["metadata"]["event_name"] == "grade_change"
    assert live_event_of(claims) == EVENT
    assert verifier.verify(sign(keys["k1"]).encode()) == verifier.verify(sign(keys["k1"]))
    assert server.fetches == 1  # fetched lazily, once, then cached


def test_the_jwks_is_fetched_again_after_refresh_every(verifier, keys, server, now):
    verifier.verify(sign(keys["k1"]))
    now[0] += 3599
    verifier.verify(sign(keys["k1"]))
    assert server.fetches == 1
    now[0] += 2
    verifier.verify(sign(keys["k1"]))
    assert server.fetches == 2


def test_a_token_signed_by_another_key_is_a_bad_signature(verifier, keys):
    with pytest.raises(AuthenticationFailed, match="bad signature"):
        verifier.verify(sign(keys["evil"], kid="k1"))


def test_a_tampered_token_is_a_bad_signature(verifier, keys):
    header, _, signature = sign(keys["k1"]).split(".")
    forged = {**EVENT, "body": {**EVENT["body"], "grade": "10"}, "exp": int(time.time()) + 300}
    with pytest.raises(AuthenticationFailed, match="bad signature"):
        verifier.verify(f"{header}.{b64(orjson.dumps(forged))}.{signature}")


def test_an_unknown_kid_refetches_once_then_is_rate_limited(verifier, keys, server, now):
    verifier.verify(sign(keys["k1"]))
    now[0] += 120
    with pytest.raises(AuthenticationFailed, match="unknown key 'nope'"):
        verifier.verify(sign(keys["evil"], kid="nope"))
    assert server.fetches == 2
    for _ in range(50):  # a forger cannot make us hammer the JWKS URL
        with pytest.raises(AuthenticationFailed, match="unknown key"):
            verifier.verify(sign(keys["evil"], kid=f"nope-{_}"))
    assert server.fetches == 2
    now[0] += 61
    with pytest.raises(AuthenticationFailed, match="unknown key"):
        verifier.verify(sign(keys["evil"], kid="nope"))
    assert server.fetches == 3


def test_a_rotated_in_key_is_found_by_refetching(verifier, keys, server, now):
    verifier.verify(sign(keys["k1"]))
    server.keys = [jwk(keys["k1"], "k1"), jwk(keys["k2"], "k2")]
    now[0] += 60
    assert verifier.verify(sign(keys["k2"], kid="k2"))["body"] == EVENT["body"]
    assert server.fetches == 2


@pytest.mark.parametrize("alg", ["none", "None", "HS256", "RS512", "ES256", None])
def test_any_algorithm_but_rs256_is_refused(verifier, alg, server):
    header = {"kid": "k1", "typ": "JWT"} if alg is None else {"alg": alg, "kid": "k1", "typ": "JWT"}
    token = unsigned(header, {**EVENT, "exp": int(time.time()) + 300}) + "."
    with pytest.raises(AuthenticationFailed, match="wrong algorithm"):
        verifier.verify(token)
    assert server.fetches == 0


def test_hs256_keyed_with_the_public_key_is_refused(verifier, keys):
    public_pem = (
        keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = unsigned(
        {"alg": "HS256", "kid": "k1", "typ": "JWT"}, {**EVENT, "exp": int(time.time()) + 300}
    )
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(AuthenticationFailed, match="wrong algorithm 'HS256'"):
        verifier.verify(f"{signing_input}.{b64(mac)}")


def test_an_rs256_header_over_an_hmac_signature_is_a_bad_signature(verifier, keys):
    public_pem = (
        keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = unsigned({"alg": "RS256", "kid": "k1"}, {**EVENT, "exp": int(time.time()) + 300})
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(AuthenticationFailed, match="bad signature"):
        verifier.verify(f"{signing_input}.{b64(mac)}")


def test_expiry_and_not_before_are_checked_with_leeway(verifier, keys):
    now = int(time.time())
    with pytest.raises(AuthenticationFailed, match="expired"):
        verifier.verify(sign(keys["k1"], claims={**EVENT, "exp": now - 3600}))
    assert verifier.verify(sign(keys["k1"], claims={**EVENT, "exp": now - 30}))  # within the leeway
    with pytest.raises(AuthenticationFailed, match="not valid yet"):
        verifier.verify(sign(keys["k1"], claims={**EVENT, "nbf": now + 3600}))
    with pytest.raises(AuthenticationFailed, match="not valid yet"):
        verifier.verify(sign(keys["k1"], claims={**EVENT, "iat": now + 3600}))
    assert verifier.verify(sign(keys["k1"], claims=dict(EVENT))) == EVENT  # no time claims at all


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-jwt", "malformed token"),
        ("a.b.c", "malformed token"),
        (b"\xff\xfe.x.y", "malformed token: not ASCII"),
        (12345, "malformed token: not a string"),
        ("x" * (MAX_TOKEN_BYTES + 1), "larger than 256 KiB"),
        (b"x" * (MAX_TOKEN_BYTES + 1), "larger than 256 KiB"),
    ],
)
def test_malformed_and_oversize_tokens_are_refused_before_fetching_keys(verifier, server, token, message):
    with pytest.raises(AuthenticationFailed, match=message):
        verifier.verify(token)
    assert server.fetches == 0


def test_a_token_without_a_kid_is_refused(verifier, keys):
    with pytest.raises(AuthenticationFailed, match="names no key"):
        verifier.verify(sign(keys["k1"], kid=None))


def test_a_jku_header_is_never_followed(verifier, keys, server):
    token = sign(keys["evil"], kid="k1", jku="https://evil.test/jwks")
    with pytest.raises(AuthenticationFailed, match="bad signature"):
        verifier.verify(token)
    assert server.fetches == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503, text="unavailable"),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json={"keys": []}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    ],
)
def test_keys_that_cannot_be_fetched_are_unavailable_not_a_forgery(verifier, keys, server, now, failure):
    server.fail = failure
    with pytest.raises(SourceUnavailable, match=r"jwks\.test"):
        verifier.verify(sign(keys["k1"]))
    # Not fetched again at once, but soon.
    with pytest.raises(SourceUnavailable):
        verifier.verify(sign(keys["k1"]))
    assert server.fetches == 1
    server.fail = None
    now[0] += 5
    assert verifier.verify(sign(keys["k1"]))
    assert server.fetches == 2


def test_keys_in_hand_keep_working_when_a_refresh_fails(verifier, keys, server, now):
    verifier.verify(sign(keys["k1"]))
    server.fail = httpx.Response(500)
    now[0] += 3601
    assert verifier.verify(sign(keys["k1"]))
    assert server.fetches == 2
    # An unknown kid while the JWKS is down: we cannot tell, so unavailable, once allowed to try.
    now[0] += 10
    with pytest.raises(SourceUnavailable):
        verifier.verify(sign(keys["evil"], kid="k9"))


def test_concurrent_verifications_fetch_the_keys_once(keys, server):
    http = httpx.Client(transport=httpx.MockTransport(server))
    verifier = LiveEventVerifier(JWKS_URL, http=http)
    token = sign(keys["k1"])
    results: list[Any] = []

    def work() -> None:
        results.append(verifier.verify(token)["body"])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [EVENT["body"]] * 8
    assert server.fetches == 1
    http.close()


# -- the event in the claims ---------------------------------------------------------------


def test_the_event_may_be_nested_one_level(keys):
    assert live_event_of({"iat": 1, "event": EVENT}) == EVENT
    assert live_event_of({"iat": 1, "data": orjson.dumps(EVENT).decode()}) == EVENT
    assert live_event_of({"iat": 1, "whatever": EVENT}) == EVENT


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (
            {"sensor": "canvas", "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p1", "data": [{}]},
            "Caliper",
        ),
        ({"metadata": {"event_name": "x"}}, "no Live Event"),
        ({"metadata": "x", "body": {}}, "no Live Event"),
        (["metadata", "body"], "not a JSON object"),
    ],
)
def test_claims_without_a_canvas_event_are_malformed(claims, message):
    with pytest.raises(MalformedEvent, match=message):
        live_event_of(claims)
