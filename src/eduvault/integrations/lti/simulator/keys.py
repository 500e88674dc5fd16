"""The platform's signing keys (published as a JWKS) and a JWS encoder that can also misbehave.

LTI Core 1.3 §5.1.1 / Security Framework §6: messages are signed RS256, the header names the
``kid`` of a key published at the platform's JWKS URL. Rotation as platforms do it: a new key
becomes current while the previous stays published until retired, so id_tokens signed just
before a rotation still verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.algorithms import RSAAlgorithm

_POOL: dict[int, SigningKey] = {}
_POOL_LOCK = threading.Lock()


@dataclass(frozen=True)
class SigningKey:
    private: rsa.RSAPrivateKey
    kid: str
    jwk: dict[str, str]

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def pool_key(index: int) -> SigningKey:
    """The index-th key of a process-wide pool: RSA 2048 is generated once, not per platform."""
    with _POOL_LOCK:
        if index not in _POOL:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
            canonical = orjson.dumps({"e": public["e"], "kty": "RSA", "n": public["n"]})
            kid = b64url(hashlib.sha256(canonical).digest())  # RFC 7638 thumbprint
            jwk = {"kty": "RSA", "e": public["e"], "n": public["n"], "kid": kid, "alg": "RS256", "use": "sig"}
            _POOL[index] = SigningKey(private, kid, jwk)
        return _POOL[index]


#: Pool index of the key that is never published (``key="other"``).
OTHER_KEY = 999


class KeyRing:
    """The published keys, newest last; :attr:`current` signs."""

    def __init__(self, first: int = 0) -> None:
        self._published = [first]
        self._next = first + 1
        self._lock = threading.Lock()
        self._known: dict[str, int] = {pool_key(first).kid: first}

    @property
    def current(self) -> SigningKey:
        return pool_key(self._published[-1])

    @property
    def published(self) -> list[SigningKey]:
        return [pool_key(i) for i in self._published]

    def rotate(self) -> SigningKey:
        with self._lock:
            index = self._next
            self._next += 1
            self._published.append(index)
        key = pool_key(index)
        self._known[key.kid] = index
        return key

    def retire_old(self) -> None:
        with self._lock:
            self._published = self._published[-1:]

    def find(self, name: str) -> SigningKey:
        """``"current"``, ``"other"`` (never published) or the kid of any key this ring ever had."""
        if name == "current":
            return self.current
        if name == "other":
            return pool_key(OTHER_KEY)
        if name in self._known:
            return pool_key(self._known[name])
        raise KeyError(name)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(k.jwk) for k in self.published]}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode(claims: dict[str, Any], key: SigningKey, header: dict[str, Any] | None = None) -> str:
    """A compact JWS. ``header`` may replace ``alg``/``kid``/``typ`` (None removes a field).

    ``alg`` RS256/RS384/RS512 sign with the RSA key; HS256 signs with the *public* key's PEM as
    the HMAC secret (the classic algorithm-confusion forgery); ``none`` leaves the signature empty.
    """
    fields: dict[str, Any] = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    for name, value in (header or {}).items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    signing_input = (b64url(orjson.dumps(fields)) + "." + b64url(orjson.dumps(claims))).encode()
    alg = str(fields.get("alg", "RS256"))
    if alg.lower() == "none":
        signature = b""
    elif alg.startswith("HS"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        signature = hmac.new(key.public_pem, signing_input, digest).digest()
    else:
        algorithm = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
        signature = key.private.sign(signing_input, padding.PKCS1v15(), algorithm)
    return signing_input.decode() + "." + b64url(signature)
