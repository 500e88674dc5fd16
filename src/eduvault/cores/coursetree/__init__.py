"""The canonical course tree and its diff engine: pure Python, no Django.

- :mod:`.tree`: :class:`Node`, :class:`CourseTree`, :func:`link` (validation)
- :mod:`.kinds`: the registry of kind handlers (fields compared, validation)
- :mod:`.diff`: :func:`diff`, the minimal ordered change set between two trees
- :mod:`.patch`: :func:`apply` and :func:`invert`
"""

from eduvault.cores.coursetree.changes import OPS, Change, count_ops, summarize
from eduvault.cores.coursetree.diff import diff
from eduvault.cores.coursetree.patch import apply, invert
from eduvault.cores.coursetree.tree import CourseTree, Node, content_hash, link

__all__ = [
    "OPS",
    "Change",
    "CourseTree",
    "Node",
    "apply",
    "content_hash",
    "count_ops",
    "diff",
    "invert",
    "link",
    "summarize",
]
