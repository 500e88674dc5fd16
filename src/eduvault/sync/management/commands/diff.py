from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from eduvault.connectors.openedx.normalize import normalize_blocks
from eduvault.core.commands import EduVaultCommand
from eduvault.coursetree import OPS, diff, summarize
from eduvault.exceptions import InvalidInput, InvalidStructure


class Command(EduVaultCommand):
    help = "Print the change set between two Open edX Course Blocks API responses (no database needed)."
    needs_database = False

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("old", metavar="OLD.json", help="the earlier Blocks API response")
        parser.add_argument("new", metavar="NEW.json", help="the later Blocks API response")
        parser.add_argument(
            "--summary", action="store_true", help="print counts by operation and kind instead of the changes"
        )

    def handle(self, *args: Any, old: str, new: str, summary: bool, **options: Any) -> None:
        changes = diff(_read(old), _read(new))
        out = self.stdout._out  # raw stream: JSON lines, no styling
        if summary:
            counts = summarize(changes)
            body = {op: dict(sorted(counts.get(op, {}).items())) for op in OPS}
            body["total"] = len(changes)  # type: ignore[assignment]
            out.write(orjson.dumps(body).decode() + "\n")
            return
        out.write("".join(orjson.dumps(c.to_line()).decode() + "\n" for c in changes))


def _read(path: str):
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror.lower() if exc.strerror else exc}") from None
    try:
        blocks = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from None
    try:
        return normalize_blocks(blocks)
    except InvalidStructure as exc:
        raise InvalidInput(f"{path}: {exc.detail}") from None
