"""Grades to a platform's gradebook by LTI Assignment and Grade Services: a record's score
posted to the line item its launch named, for the learner's ``sub``.

A score carries the time it was given (the record's own source time, to the microsecond):
a platform keeps the latest by that timestamp and refuses one not later than what it holds,
so a retry of a score it already took changes nothing there, and an older score never
replaces a newer one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from eduvault.integrations.base import RecordWrite, Written
from eduvault.integrations.lti.client import PlatformClient
from eduvault.kernel.errors import SourceError, SourceRateLimited, SourceRejected, SourceUnavailable

WRITES = frozenset({"grade", "exam_result"})


def score_of(write: RecordWrite) -> dict[str, object]:
    """The AGS score of a grade record: given and maximum, completed and fully graded, at the
    time it was graded (to the microsecond)."""
    fields = write.fields
    score, maximum = fields.get("score"), fields.get("max")
    given = fields.get("graded_at")
    body: dict[str, object] = {
        "userId": str(write.links["user_id"]),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": str(given) if given else datetime.now(UTC).isoformat(timespec="microseconds"),
    }
    if isinstance(score, int | float) and isinstance(maximum, int | float) and maximum > 0:
        body["scoreGiven"] = max(0.0, float(score))
        body["scoreMaximum"] = float(maximum)
    return body


class AgsScores:
    def __init__(self, source: object, client: PlatformClient) -> None:
        self.source = source
        self.client = client

    def write(self, writes: Sequence[RecordWrite]) -> list[Written]:
        out: list[Written] = []
        for write in writes:
            lineitem = write.links.get("lineitem")
            if not lineitem or not write.links.get("user_id"):
                out.append(Written(ok=False, permanent=True, error="no line item or learner to post the score to"))
                continue
            try:
                self.client.post_score(str(lineitem), score_of(write))
            except SourceRateLimited as exc:
                out.append(Written(ok=False, error=str(exc), status_code=429, retry_after=exc.retry_after))
            except SourceUnavailable as exc:
                out.append(Written(ok=False, error=str(exc)))
            except SourceRejected as exc:
                out.append(Written(ok=False, error=str(exc), permanent=True, status_code=400))
            except SourceError as exc:
                out.append(Written(ok=False, error=str(exc)))
            else:
                out.append(Written(ok=True, held=dict(write.fields), status_code=200))
        return out

    def close(self) -> None:
        self.client.close()
