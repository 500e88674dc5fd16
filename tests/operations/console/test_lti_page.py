"""The console's LTI page: platforms registered and removed (bad input refused, nothing
stored), the URLs to paste in, the tool's keys rotated; staff only, CSRF-protected."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from eduvault.identity.services import user_create
from eduvault.integrations.models import Source, ToolKey

pytestmark = pytest.mark.django_db


def staff() -> Client:
    client = Client()
    client.force_login(user_create(username="operator", role="admin", password="a long admin password"))
    return client


FORM = {
    "name": "moodle",
    "issuer": "https://moodle.school.mw",
    "client_id": "abc",
    "auth_url": "https://moodle.school.mw/auth",
    "token_url": "https://moodle.school.mw/token",
    "jwks_url": "https://moodle.school.mw/jwks",
    "deployments": "1, 2",
}


def test_register_rotate_and_remove_from_the_console():
    client = staff()
    page = client.get("/console/lti/")
    assert page.status_code == 200 and b"/lti/login" in page.content
    added = client.post("/console/lti/add", FORM, follow=True)
    assert b"Registered the LTI platform moodle" in added.content
    assert Source.objects.get(name="moodle").settings["deployments"] == ["1", "2"]
    bad = client.post("/console/lti/add", {**FORM, "name": "other", "issuer": "ftp://x"})
    assert bad.status_code == 400 and not Source.objects.filter(name="other").exists()
    client.get("/console/lti/")  # the page makes the first key
    client.post("/console/lti/rotate", follow=True)
    assert ToolKey.objects.filter(retired_at__isnull=True).count() == 2
    assert b"Removed the LTI platform moodle" in client.post("/console/lti/moodle/remove", follow=True).content
    assert not Source.objects.filter(name="moodle").exists()


def test_only_signed_in_staff_with_the_csrf_token():
    anonymous = Client().get("/console/lti/")
    assert anonymous.status_code in (302, 403)
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(user_create(username="op2", role="admin", password="a long admin password"))
    assert checked.post("/console/lti/add", FORM).status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', checked.get("/console/lti/").content.decode()).group(1)
    assert checked.post("/console/lti/add", {**FORM, "csrfmiddlewaretoken": token}).status_code == 302
