from __future__ import annotations

from typing import Any

import orjson

from eduvault.cli.base import Command as BaseCommand
from eduvault.cores.coursetree import CourseTree

#: Attributes shown after a node's title in the outline, in this order.
OUTLINE_ATTRIBUTES = ("graded", "format", "start", "due", "weight")


class Command(BaseCommand):
    help = "Show a course's stored tree (now, or at a past version) as an outline or as JSON."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("course_key", metavar="COURSE_KEY")
        parser.add_argument(
            "--version", type=int, metavar="N", help="show version N (default: the current one)"
        )
        parser.add_argument("--source", metavar="NAME", help="the course's source, when two have this key")
        parser.add_argument(
            "--json", action="store_true", help="nested JSON objects: id, kind, title, attributes, children"
        )

    def handle(
        self, *, course_key: str, version: int | None, source: str | None, json: bool, **options: Any
    ) -> None:
        from eduvault.pipeline.content.selectors import course_get
        from eduvault.pipeline.sync.selectors import course_tree_at

        tree = course_tree_at(course=course_get(key=course_key, source=source), version=version)
        if json:
            self.write(orjson.dumps(tree.to_nested(), option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            self.write(outline(tree))  # plain text: titles are printed as they are, never interpreted


def outline(tree: CourseTree) -> str:
    """One line per node, indented by depth: ``kind  title  (attributes)  [id]``."""
    lines = []
    for node, depth in tree.preorder():
        shown = [
            f"{name}={node.fields[name]}"
            if name != "graded"
            else ("graded" if node.fields[name] else "ungraded")
            for name in OUTLINE_ATTRIBUTES
            if name in node.fields and node.fields[name] is not None
        ]
        attrs = f"  ({', '.join(shown)})" if shown else ""
        title = node.title.replace("\n", " ")
        lines.append(f"{'  ' * depth}{node.kind}  {title}{attrs}  [{node.id}]\n")
    return "".join(lines)
