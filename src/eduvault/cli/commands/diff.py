from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path
from typing import Any

import orjson

from eduvault.cli.base import Command as BaseCommand
from eduvault.cores.coursetree import OPS, CourseTree, diff, summarize
from eduvault.cores.coursetree.tree import gc_paused
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
        changes = diff(*_read_both(old, new))
        if summary:
            counts = summarize(changes)
            body: dict[str, Any] = {op: dict(sorted(counts.get(op, {}).items())) for op in OPS}
            body["total"] = len(changes)
            self.write(orjson.dumps(body).decode() + "\n")
        else:
            self.write("".join(orjson.dumps(c.to_line()).decode() + "\n" for c in changes))
        # Two trees of up to 200,000 nodes would otherwise be freed object by object at exit
        # (a quarter of the command's time on the largest courses): nothing is left to do.
        sys.stdout.flush()
        os._exit(0)


#: Files together larger than this are read in two processes at once (each its own file).
PARALLEL_BYTES = 8 << 20


def _read_both(old: str, new: str) -> tuple[CourseTree, CourseTree]:
    """Both trees. Large files are parsed and normalized side by side: the old one in a
    forked child, which sends its tree back as plain rows (marshal: a fraction of the parse's
    cost) and exits without tearing its heap down, the new one here."""
    if _size(old) + _size(new) < PARALLEL_BYTES or not hasattr(os, "fork"):
        return _read(old), _read(new)
    readable, writable = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.close(readable)
        try:
            tree = _read(old)
            tree.subtree_hashes()  # hashed here, in parallel, rather than by the diff
            with gc_paused():
                payload = marshal.dumps((True, tree.to_rows()))
        except InvalidInput as exc:
            payload = marshal.dumps((False, exc.detail))
        except BaseException as exc:
            payload = marshal.dumps((False, f"{old}: {type(exc).__name__}: {exc}"))
        with os.fdopen(writable, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(writable)
    try:
        new_tree = _read(new)
        new_tree.subtree_hashes()  # while the child finishes the old one
    finally:
        with os.fdopen(readable, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(child, 0)
    with gc_paused():  # 100,000 small objects: no reason to scan the heap while making them
        ok, result = marshal.loads(payload)
    if not ok:
        raise InvalidInput(result)
    return CourseTree.from_rows(*result), new_tree


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror.lower() if exc.strerror else exc}") from None


def _read(path: str) -> CourseTree:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror.lower() if exc.strerror else exc}") from None
    with gc_paused():
        try:
            blocks = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"{path}: not valid JSON ({exc})") from None
        try:
            return normalize_blocks(blocks)
        except InvalidStructure as exc:
            raise InvalidInput(f"{path}: {exc.detail}") from None
