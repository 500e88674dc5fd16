"""Secrets the service keeps (platform credentials, webhook secrets, signing keys), encrypted
at rest.

A secret is stored as ``fernet:<token>``: Fernet (AES-128-CBC with an HMAC-SHA256, from the
``cryptography`` package), under the newest key of a key ring. The ring comes from
``EDUVAULT_SECRETS_KEYS`` (comma-separated Fernet keys, newest first) or, for the embedded
setup, from the file ``secrets.keys`` in the data directory (created 600 on first use).
Any key of the ring opens a secret; ``eduvault secrets rotate`` puts a new key first and
seals every stored secret again under it (see :func:`keys_rotate`). A stored value without
the prefix (written before encryption existed) is read as it is and sealed at the next
rotation.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import models, transaction

from eduvault.kernel.errors import EduVaultError

PREFIX = "fernet:"
KEY_FILE = "secrets.keys"

_lock = threading.Lock()
_ring: tuple[tuple[str, ...], MultiFernet] | None = None


class SecretsKeyMissing(EduVaultError):
    """No key can open this secret: the key ring changed without a rotation."""


def _key_file() -> Path:
    return Path(settings.DATA_DIR) / KEY_FILE


def ring_keys() -> list[str]:
    """The key ring, newest first: from the environment, else the data directory's file
    (made with one fresh key on first use)."""
    from_env = os.environ.get("EDUVAULT_SECRETS_KEYS", "")
    if from_env.strip():
        return [k.strip() for k in from_env.split(",") if k.strip()]
    path = _key_file()
    try:
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        key = Fernet.generate_key().decode()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return ring_keys()
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        return [key]


def _fernet() -> MultiFernet:
    global _ring
    keys = tuple(ring_keys())
    with _lock:
        if _ring is None or _ring[0] != keys:
            if not keys:
                raise SecretsKeyMissing("the secrets key ring is empty")
            _ring = (keys, MultiFernet([Fernet(k.encode()) for k in keys]))
        return _ring[1]


def secret_seal(value: str) -> str:
    """``value`` encrypted under the newest key, ready to store."""
    return PREFIX + _fernet().encrypt(value.encode()).decode()


def secret_open(stored: str) -> str:
    """The plain value of a stored secret."""
    if not stored.startswith(PREFIX):
        return stored  # stored before encryption: sealed at the next rotation
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise SecretsKeyMissing(
            "a stored secret cannot be opened with any key of the ring (EDUVAULT_SECRETS_KEYS, or "
            f"{KEY_FILE} in the data directory): was a key removed before 'eduvault secrets rotate'?"
        ) from None


def secret_reseal(stored: str) -> str:
    """A stored secret sealed again under the newest key (a rotation)."""
    if not stored.startswith(PREFIX):
        return secret_seal(stored)
    return PREFIX + _fernet().rotate(stored[len(PREFIX) :].encode()).decode()


def key_generate() -> str:
    return Fernet.generate_key().decode()


def key_file_write(keys: list[str]) -> Path:
    """Replace the data directory's key file (600) with ``keys``, newest first, atomically."""
    path = _key_file()
    temporary = path.with_suffix(".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(keys) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
    return path


def keys_from_environment() -> bool:
    return bool(os.environ.get("EDUVAULT_SECRETS_KEYS", "").strip())


# -- model fields ------------------------------------------------------------------------------


class SealedTextField(models.TextField):
    """A text column whose value is sealed in the database and plain in Python.

    Every model's secrets use it (or :class:`SealedJSONField`), which is how
    :func:`secrets_rotate` finds them all.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else secret_open(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return value if str(value).startswith(PREFIX) else secret_seal(str(value))


class SealedJSONField(models.TextField):
    """A JSON value (a list of webhook secrets, say) sealed as one text in the database."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else json.loads(secret_open(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(PREFIX):
            return json.loads(secret_open(value))
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return secret_seal(json.dumps(value))

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj))


def _sealed_fields() -> list[tuple[type[models.Model], str]]:
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, SealedTextField | SealedJSONField)
    ]


def secrets_reseal() -> int:
    """Seal every stored secret again under the ring's newest key (an empty one too: it was
    sealed under the old key); returns how many values. One model at a time, each in a
    transaction of its own."""
    count = 0
    for model, name in _sealed_fields():
        with transaction.atomic():
            for row in model._default_manager.select_for_update().only("pk", name):
                if getattr(row, name) is None:
                    continue
                row.save(update_fields=[name])
                count += 1
    return count


def secrets_rotate() -> dict[str, Any]:
    """Rotate the key that seals secrets.

    With the ring in the data directory: a new key goes first, every secret is sealed again
    under it, and the old keys are dropped (if this stops half way, the ring still has them:
    nothing is lost; run it again). With ``EDUVAULT_SECRETS_KEYS``: the operator has put a
    new key first; every secret is sealed under it, and the old keys may then be removed.
    """
    if keys_from_environment():
        keys = ring_keys()
        resealed = secrets_reseal()
        return {"resealed": resealed, "keys": len(keys), "dropped": 0, "from_environment": True}
    old = ring_keys()
    new = key_generate()
    key_file_write([new, *old])
    resealed = secrets_reseal()
    key_file_write([new])
    return {"resealed": resealed, "keys": 1, "dropped": len(old), "from_environment": False}
