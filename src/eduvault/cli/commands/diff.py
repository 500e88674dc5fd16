from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from eduvault.cli.base import Command as BaseCommand
from eduvault.cores.coursetree import OPS, CourseTree, diff, summarize
from eduvault.integrations.openedx.normalize import normalize_blocks
from eduvault.kernel.errors import InvalidInput, InvalidStructure


class Command(BaseCommand):
    """Print the change set between two Open edX Course Blocks API responses, one JSON line
    per change (or, with --summary, counts by operation and kind). No database needed."""

    help = "The change set between two Course Blocks API responses (no database needed)."
    django = False

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("old", metavar="OLD.json", help="the earlier Blocks API response")
        parser.add_argument("new", metavar="NEW.json", help="the later Blocks API response")
        parser.add_argument(
            "--summary", action="store_true", help="print counts by operation and kind instead of the changes"
        )

    def handle(self, *, old: str, new: str, summary: bool, **options: Any) -> None:
        changes = diff(_read(old), _read(new))
        if summary:
            counts = summarize(changes)
            body: dict[str, Any] = {op: dict(sorted(counts.get(op, {}).items())) for op in OPS}
            body["total"] = len(changes)
            self.write(orjson.dumps(body).decode() + "\n")
            return
        self.write("".join(orjson.dumps(c.to_line()).decode() + "\n" for c in changes))


def _read(path: str) -> CourseTree:
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
