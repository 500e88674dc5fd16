"""The LTI 1.3 integration: a platform (an LMS) that launches Edu Vault as a tool."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from eduvault.integrations.base import Integration, RecordWriter, register
from eduvault.integrations.lti.client import PlatformClient
from eduvault.integrations.lti.records import AgsScores
from eduvault.integrations.lti.services import registration_of
from eduvault.kernel.errors import InvalidInput

URL_SETTINGS = ("auth_url", "token_url", "jwks_url")


@register("lti")
class Lti(Integration):
    title = "LTI 1.3 platform"
    settings_fields = ("issuer", "client_id", "auth_url", "token_url", "jwks_url", "deployments")
    #: A launch vouches for its user: an account that matches nobody becomes a new person.
    optional_settings = ("create_people",)
    writes_records = frozenset({"grade", "exam_result"})

    def records_writer(self) -> RecordWriter:
        return AgsScores(self.source, PlatformClient(registration_of(self.source)))

    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        given = dict(values)
        deployments = given.get("deployments")
        if isinstance(deployments, str):
            deployments = [deployments]
        if not isinstance(deployments, list | tuple) or not deployments:
            raise InvalidInput("an LTI platform needs at least one --deployment")
        cleaned = []
        for deployment in deployments:
            text = str(deployment).strip()
            if not text or len(text) > 255:
                raise InvalidInput(f"a deployment id is 1 to 255 characters, not {deployment!r}")
            cleaned.append(text)
        given["deployments"] = sorted(set(cleaned))
        settings, secrets = super().check_values(given)
        for name in ("issuer", *URL_SETTINGS):
            parts = urlsplit(str(settings[name]))
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise InvalidInput(f"--{name.replace('_', '-')} must be an http(s) URL, not {settings[name]!r}")
        if len(str(settings["client_id"])) > 255:
            raise InvalidInput("--client-id is at most 255 characters")
        return settings, secrets
