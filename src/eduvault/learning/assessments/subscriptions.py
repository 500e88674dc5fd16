"""Practice assessments follow the course: every subtopic a sync creates gets one, renamed
subtopics rename theirs, deleted ones (directly or with the topic above them) archive theirs.
These run inside the sync's transaction (see eduvault.pipeline.sync.subscriptions)."""

from __future__ import annotations

from typing import Any

from eduvault.learning.assessments.services import SUBTOPIC, practice_assessments_follow
from eduvault.pipeline.sync.subscriptions import AppliedChange, subscribe


@subscribe(ops={"create", "update", "delete"})
def follow_subtopics(*, course: Any, run: Any, changes: list[AppliedChange]) -> None:
    created: dict[str, str] = {}
    renamed: dict[str, str] = {}
    deleted: set[str] = set()
    for change in changes:
        if change.op == "delete":
            if change.kind == SUBTOPIC:
                deleted.add(change.external_id)
            for entry in (change.before or {}).get("subtree", []):
                if entry[1] == SUBTOPIC:
                    deleted.add(entry[0])
        elif change.kind != SUBTOPIC:
            continue
        elif change.op == "create":
            created[change.external_id] = ((change.after or {}).get("fields") or {}).get("title", "")
            deleted.discard(change.external_id)
        elif "title" in ((change.after or {}).get("fields") or {}):
            renamed[change.external_id] = change.after["fields"]["title"] or ""  # type: ignore[index]
    # A subtopic deleted and created again in one run (moved between courses' parts by
    # re-keying, or a rollback) ends up created.
    deleted -= set(created)
    if created or renamed or deleted:
        practice_assessments_follow(course=course, created=created, renamed=renamed, deleted=deleted)
