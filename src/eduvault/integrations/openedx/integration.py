"""The Open edX integration: what a source needs, and what it can do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eduvault.cores.coursetree import CourseTree
from eduvault.integrations.base import Integration, StructureReader, WebhookReceiver, register
from eduvault.integrations.openedx.normalize import normalize_blocks
from eduvault.integrations.openedx.structure import BlocksReader
from eduvault.integrations.openedx.webhooks import StandardWebhooks


@register("openedx")
class OpenEdx(Integration):
    title = "Open edX"
    settings_fields = ("client_id",)
    optional_settings = ("kind_map",)
    secret_fields = ("client_secret",)

    def structure(self) -> StructureReader:
        return BlocksReader(self.source)

    def webhooks(self) -> WebhookReceiver:
        return StandardWebhooks(self.source)

    @classmethod
    def normalize_structure(cls, document: Any, *, kind_map: Mapping[str, str] | None = None) -> CourseTree:
        return normalize_blocks(document, kind_map=kind_map)
