"""Secrets are sealed at rest, open with any key of the ring, and rotate to a new key."""

from __future__ import annotations

import pytest
from django.db import connection

from eduvault.integrations.models import Source
from eduvault.integrations.services import source_add, source_get
from eduvault.kernel import secrets
from eduvault.kernel.secrets import SecretsKeyMissing, key_generate, ring_keys, secret_open, secret_seal

pytestmark = pytest.mark.django_db


def stored(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def ring(tmp_path, settings, monkeypatch):
    """A key file of the test's own."""
    monkeypatch.delenv("EDUVAULT_SECRETS_KEYS", raising=False)
    settings.DATA_DIR = tmp_path
    return tmp_path / secrets.KEY_FILE


def test_a_seal_opens_and_is_different_each_time(ring):
    first, second = secret_seal("s3cret"), secret_seal("s3cret")
    assert first.startswith("fernet:") and first != second
    assert secret_open(first) == secret_open(second) == "s3cret"
    assert ring.stat().st_mode & 0o777 == 0o600  # the key file is the service user's only


def test_sources_and_subscriptions_keep_no_secret_in_clear(ring, settings):
    from eduvault.pipeline.feed.webhooks import subscription_create

    settings.EDUVAULT_WEBHOOK_ALLOWED_DESTINATIONS = ["127.0.0.1"]
    source_add(
        platform="openedx",
        name="lms",
        base_url="http://lms.test",
        client_id="id",
        client_secret="client-s3cret",
        webhook_secret="whsec_hook-s3cret-0123",
    )
    _, hook_secret = subscription_create(name="app", url="http://127.0.0.1:9/in")
    raw = "".join(
        stored("integrations_source", "credentials")
        + stored("integrations_source", "webhook_secrets")
        + stored("feed_subscription", "secret")
    )
    assert "client-s3cret" not in raw and "hook-s3cret" not in raw and hook_secret not in raw
    assert raw.count("fernet:") == 3
    source = source_get(name="lms")
    assert source.credential("client_secret") == "client-s3cret"
    assert source.webhook_secrets == ["whsec_hook-s3cret-0123"]


def test_rotation_seals_everything_under_a_new_key_and_drops_the_old(ring):
    source_add(
        platform="openedx",
        name="lms",
        base_url="http://lms.test",
        client_id="id",
        client_secret="client-s3cret",
    )
    old_keys = ring_keys()
    before = stored("integrations_source", "credentials")
    report = secrets.secrets_rotate()
    # The credentials and the (empty, but sealed) list of webhook secrets.
    assert report == {"resealed": 2, "keys": 1, "dropped": 1, "from_environment": False}
    new_keys = ring_keys()
    assert len(new_keys) == 1 and new_keys[0] not in old_keys
    assert stored("integrations_source", "credentials") != before
    assert Source.objects.get().credential("client_secret") == "client-s3cret"
    # Sealed under the new key alone: the old one opens nothing any more.
    ring.write_text(old_keys[0] + "\n")
    with pytest.raises(SecretsKeyMissing, match="cannot be opened with any key of the ring"):
        Source.objects.get()


def test_a_ring_from_the_environment_rotates_when_a_new_key_is_put_first(ring, monkeypatch):
    old = key_generate()
    monkeypatch.setenv("EDUVAULT_SECRETS_KEYS", old)
    source_add(
        platform="openedx",
        name="lms",
        base_url="http://lms.test",
        client_id="id",
        client_secret="client-s3cret",
    )
    new = key_generate()
    monkeypatch.setenv("EDUVAULT_SECRETS_KEYS", f"{new},{old}")
    assert secrets.secrets_rotate()["resealed"] == 2
    monkeypatch.setenv("EDUVAULT_SECRETS_KEYS", new)  # the operator removes the old key
    assert Source.objects.get().credential("client_secret") == "client-s3cret"
    assert not ring.exists()  # nothing was written to the data directory


def test_a_value_stored_before_sealing_is_read_and_sealed_at_the_next_rotation(ring):
    source = source_add(
        platform="openedx", name="lms", base_url="http://lms.test", client_id="id", client_secret="x"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integrations_source SET credentials = %s WHERE id = %s",
            ['{"client_secret": "plain"}', source.pk],
        )
    assert Source.objects.get().credential("client_secret") == "plain"
    secrets.secrets_rotate()
    assert stored("integrations_source", "credentials")[0].startswith("fernet:")
    assert Source.objects.get().credential("client_secret") == "plain"
