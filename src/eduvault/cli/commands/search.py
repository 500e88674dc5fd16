from __future__ import annotations

import re
from typing import Any

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag

TYPES = ("content", "question", "post")


def _marked(snippet: str) -> Any:
    """The API's HTML snippet as rich text: the marked words highlighted, the rest unescaped
    (as text: nothing in it is read as markup)."""
    import html

    from rich.text import Text

    text = Text()
    for i, piece in enumerate(re.split(r"</?mark>", snippet)):
        text.append(html.unescape(piece), style="bold yellow" if i % 2 else "")
    return text


class Command(BaseCommand):
    help = "Search course content, the question bank and forum posts (every course: the operator's view)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("query", metavar="QUERY", help='words (all required), "a phrase", or, -left-out')
        parser.add_argument("--course", metavar="KEY", help="only this course")
        parser.add_argument("--type", choices=TYPES, action="append", help="only this type (repeatable)")
        parser.add_argument("--limit", type=int, default=20, help="at most N hits (1 to 50, default 20)")
        json_flag(parser)

    def handle(
        self, *, query: str, course: str | None, type: list[str] | None, limit: int, json: bool, **options: Any
    ) -> None:
        from rich.table import Table
        from rich.text import Text

        from eduvault.learning.search.selectors import Caller, search

        hits = search(query=query, caller=Caller(), course=course, types=type, limit=limit)
        if json:
            self.emit_json([h.as_dict() for h in hits])
            return
        table = Table(title=f"Search: {query}", title_justify="left")
        for column in ("type", "course", "title", "snippet"):
            table.add_column(column, overflow="fold")
        for h in hits:
            kind = Text(h.type + "\n") + Text(h.kind, style="dim")
            table.add_row(kind, Text(h.course), Text(h.title), _marked(h.snippet))
        self.console.print(table)
        self.say(f"{len(hits)} hit{'s' if len(hits) != 1 else ''}")
