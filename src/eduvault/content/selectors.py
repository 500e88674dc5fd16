"""Reading stored courses and their trees."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet

from eduvault.content.models import Course, Node
from eduvault.core.models import ApiToken
from eduvault.coursetree import CourseTree, link
from eduvault.coursetree.tree import Node as TreeNode
from eduvault.exceptions import CourseNotFound


@dataclass
class StoredTree:
    """A course's current tree as stored, with each node's primary key (hex)."""

    tree: CourseTree | None
    pks: dict[str, str] = field(default_factory=dict)


def course_get(*, key: str) -> Course:
    try:
        return Course.objects.select_related("source").get(key=key)
    except Course.DoesNotExist:
        raise CourseNotFound(f"no course with key {key!r} has been synchronized") from None


def course_list(*, token: ApiToken | None = None) -> QuerySet[Course]:
    courses = Course.objects.select_related("source").order_by("key")
    if token is not None and not token.is_admin and token.courses:
        courses = courses.filter(key__in=token.courses)
    return courses


def course_tree_load(*, course: Course) -> StoredTree:
    """The stored tree of ``course`` (None if it has no nodes yet), in one query."""
    rows = Node.objects.filter(course=course).values_list(
        "id", "external_id", "kind", "parent_id", "position", "title", "attributes", "content_hash", "subtree_hash"
    )
    external_of: dict[object, str] = {}
    nodes: dict[str, TreeNode] = {}
    placed: dict[object, list[tuple[int, str]]] = defaultdict(list)
    subtree_hashes: dict[str, str] = {}
    root = None
    for pk, external_id, kind, parent_pk, position, title, attributes, content_hash, subtree_hash in rows:
        external_of[pk] = external_id
        nodes[external_id] = TreeNode(external_id, kind, {"title": title, **attributes}, hash=content_hash)
        if subtree_hash:
            subtree_hashes[external_id] = subtree_hash
        if parent_pk is None:
            root = external_id
        else:
            placed[parent_pk].append((position, external_id))
    if root is None:
        return StoredTree(None)
    for parent_pk, children in placed.items():
        children.sort()
        nodes[external_of[parent_pk]].children = [c for _, c in children]
    tree = link(root, nodes, validate_fields=False)
    if len(subtree_hashes) == sum(1 for n in nodes.values() if n.children):
        tree.set_subtree_hashes(subtree_hashes)
    return StoredTree(tree, {ext: pk.hex for pk, ext in external_of.items()})
