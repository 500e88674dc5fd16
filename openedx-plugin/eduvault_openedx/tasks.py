"""The delivery task: runs in Open edX's Celery workers, retried with backoff and jitter."""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import shared_task
from django.conf import settings

from eduvault_openedx.sender import DeliveryError, deliver

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=12, acks_late=True)
def deliver_event(self, event: dict[str, Any]) -> int:
    try:
        return deliver(
            settings.EDUVAULT_WEBHOOK_URL,
            settings.EDUVAULT_WEBHOOK_SECRET,
            event,
            timeout=settings.EDUVAULT_WEBHOOK_TIMEOUT,
        )
    except DeliveryError as exc:
        if not exc.retryable:
            log.error("Edu Vault refused event %s: %s", event.get("id"), exc)
            raise
        # 2, 4, 8 … seconds up to ten minutes, with jitter; the same event id each time, so
        # Edu Vault stores it once however many times it arrives.
        countdown = min(600, 2 ** (self.request.retries + 1))
        raise self.retry(exc=exc, countdown=countdown * (0.5 + random.random())) from exc
