"""Signal receivers: turn each signal into a CloudEvent, and queue its delivery once the
publishing transaction has committed (a rolled-back publish sends nothing)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from eduvault_openedx import sender as outbox

log = logging.getLogger(__name__)


def _queue(event_type: str, data: dict[str, Any]) -> None:
    if not getattr(settings, "EDUVAULT_WEBHOOK_URL", ""):
        return
    event = outbox.cloud_event(event_type, data, source=settings.EDUVAULT_WEBHOOK_SOURCE)

    def send() -> None:
        from eduvault_openedx.tasks import deliver_event

        deliver_event.delay(event)

    transaction.on_commit(send)
    log.info("Edu Vault: queued %s %s", event_type, event["id"])


def _xblock(xblock_info: Any) -> dict[str, Any]:
    return {
        "xblock_info": {
            "usage_key": str(xblock_info.usage_key),
            "block_type": xblock_info.block_type,
            "version": str(xblock_info.version) if getattr(xblock_info, "version", None) else None,
        }
    }


def course_published(sender: Any, course_key: Any, **kwargs: Any) -> None:
    _queue(outbox.COURSE_PUBLISHED, {"course_key": str(course_key)})


def xblock_published(xblock_info: Any, **kwargs: Any) -> None:
    _queue(outbox.XBLOCK_PUBLISHED, _xblock(xblock_info))


def xblock_deleted(xblock_info: Any, **kwargs: Any) -> None:
    _queue(outbox.XBLOCK_DELETED, _xblock(xblock_info))


def catalog_info_changed(catalog_info: Any, **kwargs: Any) -> None:
    schedule = getattr(catalog_info, "schedule_data", None)
    data = {
        "catalog_info": {
            "course_key": str(catalog_info.course_key),
            "name": catalog_info.name,
            "hidden": bool(getattr(catalog_info, "hidden", False)),
            "invitation_only": bool(getattr(catalog_info, "invitation_only", False)),
            "schedule_data": {
                name: (value.isoformat() if hasattr(value, "isoformat") else value)
                for name in ("start", "pacing", "end", "enrollment_start", "enrollment_end")
                if (value := getattr(schedule, name, None)) is not None
            }
            if schedule is not None
            else {},
        }
    }
    _queue(outbox.CATALOG_INFO_CHANGED, data)
