"""Offline devices in the console, in Chromium against a real `eduvault serve`: the operator
pairs a device (its code shown once), sees what a synced device moved each day, its clock
and the attempts that flagged, and revokes one."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.learning.devices.flow import class_seed
from tests.operations.console.test_browser import OUTPUT, browser, operator_create, sign_in, stack  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.once]


def test_operator_pairs_watches_and_revokes_devices(stack, browser):
    from django.contrib.auth import get_user_model

    from eduvault.learning.assessments.models import Attempt
    from eduvault.learning.devices.models import Device, TransferSession
    from eduvault.learning.devices.services import device_add, device_join

    OUTPUT.mkdir(parents=True, exist_ok=True)
    operator_create()
    seeded = class_seed()
    key = seeded["course"].key
    lab = device_join(code=device_add(name="lab-1", course_keys=[key], actor="test").code).device
    Device.objects.filter(pk=lab.pk).update(last_sync_at=timezone.now(), clock_skew_seconds=-3600.0)
    now = timezone.now()
    TransferSession.objects.create(device=lab, direction="push", key="00", state="done", applied_records=1234, finished_at=now)
    TransferSession.objects.create(device=lab, direction="pull", key="00", state="done", records=567, finished_at=now)
    TransferSession.objects.create(device=lab, direction="push", key="00", state="open")
    Attempt.objects.create(
        id=uuid.uuid4(), assessment_id=seeded["exam"], learner=get_user_model().objects.get(username="amina"),
        number=1, seed="x", started_at=now - timedelta(hours=1), origin=lab.replica,
        flags=["clock: the device's clock was -3600 s off the server's when it synced"],
    )
    url = stack.serve()
    page = browser.new_page()
    sign_in(page, url)
    page.goto(f"{url}/console/devices/")
    row = page.locator("#devices tr[data-device='lab-1']")
    text = row.inner_text()
    assert "1234" in text and "567" in text and "-3600 s" in text, text
    assert row.locator("td.conflicts").count() == 2  # the clock, and one flagged attempt
    assert "1234 records up and 567 down" in page.locator("#devices-chart").get_attribute("aria-label")
    page.screenshot(path=str(OUTPUT / "devices.png"), full_page=True)

    # Pair another: the code is shown once, in the message, and the device waits for it.
    page.fill("#device-add input[name=name]", "lab-2 <b>x</b>")
    page.fill("#device-add input[name=courses]", key)
    page.click("#device-add button")
    page.screenshot(path=str(OUTPUT / "devices-added.png"), full_page=True)
    message = page.locator("text=eduvault device join").first.inner_text()
    code = message.split("SERVER_URL ")[1].split()[0]
    assert len(code) == 27 and code.count("-") == 3
    new_row = page.locator("#devices tr[data-device='lab-2 <b>x</b>']")
    assert "waiting for its code" in new_row.inner_text() and "<b>x</b>" in new_row.inner_text()
    assert device_join(code=code).device.name == "lab-2 <b>x</b>"

    page.on("dialog", lambda dialog: dialog.accept())
    row.locator("button.remove").click()
    page.locator("#devices tr[data-device='lab-1']", has_text="revoked").wait_for()
    assert Device.objects.get(name="lab-1").revoked_at is not None
