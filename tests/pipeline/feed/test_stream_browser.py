"""The live stream in Chromium's own EventSource: a console page follows it with the staff
session and resumes by Last-Event-ID across a server restart; a page of another origin
follows it with a single-use ticket; the ticket never reaches the server's logs."""

from __future__ import annotations

import time

import pytest

from eduvault.identity.services import token_create
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.feed.tickets import stream_ticket_issue
from tests.conftest import COURSE_KEY, small_course
from tests.operations.console.test_browser import browser, operator_create, sign_in  # noqa: F401
from tests.stack import Stack

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.once]

FOLLOW = """url => {
  window.got = []; window.errors = 0;
  window.source = new EventSource(url);
  window.source.addEventListener('change', e => window.got.push(Number(e.lastEventId)));
  window.source.onerror = () => { window.errors += 1; };
}"""


def wait_until(page, expression: str, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: got {page.evaluate('window.got')}")
        time.sleep(0.1)


def cursors() -> list[int]:
    return list(FeedEntry.objects.order_by("cursor").values_list("cursor", flat=True))


def test_browsers_follow_the_stream_by_session_and_by_ticket(browser):
    from eduvault.pipeline.sync.services import course_sync_blocks

    stack = Stack("", EDUVAULT_STREAM_HEARTBEAT_SECONDS="0.5", EDUVAULT_STREAM_TICKET_SECONDS="30")
    try:
        url = stack.serve()
        operator_create()
        page = browser.new_page()
        sign_in(page, url)
        page.evaluate(FOLLOW, "/api/v1/stream")
        wait_until(page, "window.source.readyState === 1", "the stream to open")
        sim = small_course()
        course_sync_blocks(course_key=COURSE_KEY, blocks=sim.blocks_response())
        first = cursors()
        wait_until(page, f"window.got.length >= {len(first)}", "the first sync's changes")

        # The server goes away; changes go on; the browser reconnects with Last-Event-ID.
        stack.kill(stack.server_process())
        sim.rename(sim.usage_key("chapter", "algebra"), "Algebra and functions")
        sim.delete(sim.usage_key("video", "circles-video"))
        course_sync_blocks(course_key=COURSE_KEY, blocks=sim.blocks_response())
        everything = cursors()
        assert len(everything) > len(first)
        wait_until(page, "window.errors > 0", "the browser to notice")
        stack.serve(port=stack.port)
        wait_until(page, f"window.got.length >= {len(everything)}", "the changes made while it was down")
        time.sleep(0.5)
        assert page.evaluate("window.got") == everything  # each once, in order, none missed

        # A page of another origin (localhost is not 127.0.0.1): the console's cookie opens
        # nothing there; a ticket opens the stream once.
        token, _ = token_create(name="dashboard", courses=[COURSE_KEY])
        ticket, _ = stream_ticket_issue(token=token)
        other = browser.new_page()
        other.goto(url.replace("127.0.0.1", "localhost") + "/console/login/")
        other.evaluate(
            """url => { window.refused = new EventSource(url, {withCredentials: true});
                        window.refused.onerror = () => { window.refusedClosed = window.refused.readyState; }; }""",
            f"{url}/api/v1/stream",
        )
        other.evaluate(FOLLOW, f"{url}/api/v1/stream?ticket={ticket}&after=0")
        wait_until(other, f"window.got.length >= {len(everything)}", "the stream opened with a ticket")
        assert other.evaluate("window.got") == everything
        wait_until(other, "window.refusedClosed === 2", "the cookie to be refused across origins")
        other.evaluate("window.source.close()")
        other.evaluate(FOLLOW, f"{url}/api/v1/stream?ticket={ticket}")  # spent
        wait_until(other, "window.source.readyState === 2", "the spent ticket to be refused")
        assert ticket not in stack.output()
    finally:
        stack.stop()
