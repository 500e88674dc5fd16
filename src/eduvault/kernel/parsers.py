"""DRF's parser for JSON bodies: the one parser every API endpoint reads bodies with."""

from __future__ import annotations

from typing import Any

from rest_framework.parsers import BaseParser

from eduvault.kernel.bodies import parse_json


class JSONParser(BaseParser):
    """DRF's parser for ``application/json`` bodies, through :func:`parse_json`."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return parse_json(stream.read() if stream is not None else b"")
