"""The console's search box, in Chromium against a real `eduvault serve`: the operator types
words in the header, sees the hits with the words marked, narrows by type; markup in the
content is shown as text."""

from __future__ import annotations

import pytest

from tests.conftest import COURSE_KEY, small_course
from tests.learning.assessments.conftest import QUADRATICS
from tests.operations.console.test_browser import OUTPUT, browser, operator_create, sign_in, stack  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.once]

HOSTILE = '<img src=x onerror="window.pwned=1">'


def test_operator_searches_from_the_header(stack, browser):
    from eduvault.learning.assessments.services import question_save
    from eduvault.pipeline.content.models import Course
    from eduvault.pipeline.sync.services import course_sync_blocks

    OUTPUT.mkdir(parents=True, exist_ok=True)
    operator_create()
    sim = small_course()
    sim.rename(sim.usage_key("chapter", "algebra"), f"Algebra {HOSTILE} and quadratic forms")
    course_sync_blocks(course_key=COURSE_KEY, blocks=sim.blocks_response())
    question_save(
        course=Course.objects.get(key=COURSE_KEY),
        subtopic=QUADRATICS,
        document={
            "id": "q-roots",
            "type": "single_choice",
            "prompt": f"How many roots can a quadratic have? {HOSTILE}",
            "choices": [{"id": "a", "text": "At most two", "correct": True}, {"id": "b", "text": "Three"}],
        },
        actor="test",
    )
    url = stack.serve()
    page = browser.new_page()
    sign_in(page, url)
    page.fill("[data-testid=header-search]", "quadratic")
    page.press("[data-testid=header-search]", "Enter")
    page.locator("#search-results").wait_for()
    rows = page.locator("#search-results tr[data-type]")
    types = {rows.nth(i).get_attribute("data-type") for i in range(rows.count())}
    assert {"content", "question"} <= types
    question = page.locator("#search-results tr[data-ref='q-roots']")
    assert question.locator("mark").first.inner_text().lower() == "quadratic"
    assert page.locator("#search-results img").count() == 0
    assert page.evaluate("window.pwned") is None
    assert "onerror" in page.locator("#search-results").inner_text()  # shown, as text
    assert page.locator("#search-counts [data-type=question] .big").inner_text() == "1"
    page.screenshot(path=str(OUTPUT / "search.png"), full_page=True)

    page.select_option("select[name=type]", "question")
    page.click("form[role=search] >> text=Search")
    page.wait_for_url("**type=question**")
    assert page.locator("#search-results tr[data-type]").count() == 1
    page.fill("[data-testid=search-query]", "nothing-like-this")
    page.press("[data-testid=search-query]", "Enter")
    page.locator("#search-none").wait_for()


def test_instructor_reads_an_exams_item_analysis(stack, browser):
    from eduvault.learning.assessments.models import Assessment
    from tests.learning.assessments.test_item_analysis import BANK, SHEET, sit

    from eduvault.learning.assessments.services import exam_create
    from eduvault.pipeline.content.models import Course
    from eduvault.pipeline.sync.services import course_sync_blocks
    from tests.learning.assessments.conftest import ALGEBRA_TEST, load_bank

    operator_create()
    course_sync_blocks(course_key=COURSE_KEY, blocks=small_course().blocks_response())
    load_bank(ALGEBRA_TEST, BANK)
    exam = exam_create(course=Course.objects.get(key=COURSE_KEY), title="Numbers <i>x</i>", subtopics=[ALGEBRA_TEST], actor="t")
    sit(exam.pk, {f"{name}-{n}": answers for n in range(2) for name, answers in SHEET.items()})
    url = stack.serve()
    page = browser.new_page()
    sign_in(page, url)
    page.click("header nav >> text=Assessments")
    page.locator(f"#assessments tr[data-assessment='{exam.pk}'] >> text=Item analysis").click()
    page.locator("#items-chart").wait_for()
    assert page.locator("h1").inner_text().startswith("Item analysis: Numbers <i>x</i>")
    assert page.locator("#items-chart g.dot").count() == 3
    assert page.locator("#items-chart g.dot.look").count() == 2  # ten attempts: q1's and q2's distractors
    q2 = page.locator("#items tr[data-question='q2']")
    assert "weak discrimination" in q2.inner_text()
    assert q2.locator(".option[data-option='a']").inner_text().split() == ["a", "8", "✓"]
    assert page.locator("#unpicked-count").inner_text() == "2"
    page.screenshot(path=str(OUTPUT / "item-analysis.png"), full_page=True)
    assert Assessment.objects.filter(pk=exam.pk).exists()
