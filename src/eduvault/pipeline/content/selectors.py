"""Reading stored courses and their trees."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import orjson
from django.db import DataError, connection
from django.db.models import QuerySet

from eduvault.cores.coursetree import CourseTree
from eduvault.cores.coursetree.tree import Node as TreeNode
from eduvault.identity.models import ApiToken
from eduvault.kernel.errors import Conflict, CourseNotFound
from eduvault.pipeline.content.models import Course, Node


@dataclass
class StoredTree:
    """A course's current tree as stored, with each node's primary key (hex)."""

    tree: CourseTree | None
    pks: dict[str, str] = field(default_factory=dict)


def course_get(*, key: str, source: str | None = None) -> Course:
    """The course with this key (of the named source, when two sources have one)."""
    courses = Course.objects.select_related("source").filter(key=key)
    if source is not None:
        courses = courses.filter(source__name=source)
    found = list(courses[:2])
    if not found:
        raise CourseNotFound(f"no course with key {key!r} has been synchronized")
    if len(found) > 1:
        names = ", ".join(sorted(c.source.name if c.source else "(a file)" for c in courses))
        raise Conflict(f"several sources have a course with key {key!r} ({names}); say which source")
    return found[0]


def course_list(*, token: ApiToken | None = None) -> QuerySet[Course]:
    courses = Course.objects.select_related("source").order_by("key")
    if token is not None and not token.is_admin and token.courses:
        courses = courses.filter(key__in=token.courses)
    return courses


def course_tree_load(*, course: Course) -> StoredTree:
    """The stored tree of ``course`` (None if it has no nodes yet), in one query.

    Raw SQL rather than the ORM: a course can have 100,000 nodes, and decoding each JSON
    column with orjson (and each UUID as text) is several times faster than field converters.
    """
    table = connection.ops.quote_name(Node._meta.db_table)
    if connection.vendor == "postgresql":
        columns = "id::text, external_id, kind, parent_id::text, position, title, attributes::text, content_hash, subtree_hash"
    else:
        columns = "id, external_id, kind, parent_id, position, title, attributes, content_hash, subtree_hash"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE course_id = %s", [course.pk])
        rows = cursor.fetchall()
    external_of: dict[str, str] = {}
    nodes: dict[str, TreeNode] = {}
    placed: dict[str, list[tuple[int, str]]] = defaultdict(list)
    subtree_hashes: dict[str, str] = {}
    roots = []
    loads = orjson.loads
    for pk, external_id, kind, parent_pk, position, title, attributes, content_hash, subtree_hash in rows:
        external_of[pk] = external_id
        fields = {"title": title}
        fields.update(loads(attributes))
        nodes[external_id] = TreeNode(external_id, kind, fields, [], parent_pk, content_hash)
        if subtree_hash:
            subtree_hashes[external_id] = subtree_hash
        if parent_pk is None:
            roots.append(external_id)
        else:
            placed[parent_pk].append((position, external_id))
    if not nodes:
        return StoredTree(None)
    if len(roots) != 1:
        raise DataError(f"{course.key}: the stored tree has {len(roots)} roots")
    for parent_pk, children in placed.items():
        children.sort()
        nodes[external_of[parent_pk]].children = [c for _, c in children]
    for node in nodes.values():
        if node.parent is not None:
            node.parent = external_of[node.parent]
    # Put the nodes parents-first (and make sure every stored node hangs from the root).
    ordered = {node.id: node for node, _ in CourseTree(roots[0], nodes).preorder()}
    if len(ordered) != len(nodes):
        raise DataError(f"{course.key}: {len(nodes) - len(ordered)} stored nodes are not under the root")
    tree = CourseTree(roots[0], ordered)
    if len(subtree_hashes) == sum(1 for n in nodes.values() if n.children):
        tree.set_subtree_hashes(subtree_hashes)
    return StoredTree(tree, {ext: pk.replace("-", "") for pk, ext in external_of.items()})
