from __future__ import annotations

from typing import Any

import orjson

from eduvault.content.selectors import course_get
from eduvault.core.commands import EduVaultCommand
from eduvault.coursetree import CourseTree
from eduvault.sync.selectors import course_tree_at

#: Attributes shown after a node's title in the outline, in this order.
OUTLINE_ATTRIBUTES = ("graded", "format", "start", "due", "weight")


class Command(EduVaultCommand):
    help = "Show a course's stored tree (now, or at a past version) as an outline or as JSON."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("course_key", metavar="COURSE_KEY")
        parser.add_argument(
            "--version", type=int, metavar="N", help="show version N (default: the current one)"
        )
        parser.add_argument(
            "--json", action="store_true", help="nested JSON objects: id, kind, title, attributes, children"
        )

    def handle(self, *args: Any, course_key: str, version: int | None, json: bool, **options: Any) -> None:
        course = course_get(key=course_key)
        tree = course_tree_at(course=course, version=version)
        out = self.stdout._out  # plain text: titles are printed as they are, never interpreted
        if json:
            out.write(orjson.dumps(tree.to_nested(), option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            out.write(outline(tree))


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
