"""Console pages of assessments for instructors' questions: every assessment with its
submitted attempts, and an assessment's item analysis (facility against discrimination,
the options chosen, distractors nobody chooses)."""

from __future__ import annotations

from django.db.models import Avg, Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from eduvault.learning.assessments.analysis import EASY, HARD, WEAK, item_analysis
from eduvault.learning.assessments.models import Assessment, Attempt
from eduvault.learning.assessments.selectors import assessment_get
from eduvault.operations.console.charts import scatter
from eduvault.operations.console.views import staff_only

WIDTH, HEIGHT, MARGIN = 520, 260, 30


@staff_only
def assessments(request: HttpRequest) -> HttpResponse:
    submitted = Q(attempts__status=Attempt.Status.SUBMITTED)
    rows = (
        Assessment.objects.select_related("course")
        .annotate(submitted=Count("attempts", filter=submitted), mean=Avg("attempts__score", filter=submitted))
        .order_by("course__key", "kind", "id")[:500]
    )
    return render(request, "console/assessments.html", {"rows": rows})


@staff_only
def assessment_items(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = assessment_get(assessment_id=assessment_id)
    report = item_analysis(assessment=assessment)
    points = []
    for item in report["items"]:
        if item["facility"] is None or item["discrimination"] is None:
            continue
        zone = "look" if item["flags"] else "ok"
        points.append((item["question"], item["facility"], item["discrimination"], zone))
    dots = scatter(points, x_range=(0, 1), y_range=(-1, 1), width=WIDTH, height=HEIGHT, margin=MARGIN)
    inner_w, inner_h = WIDTH - MARGIN, HEIGHT - MARGIN
    guides = {
        "hard_x": MARGIN + inner_w * HARD,
        "easy_x": MARGIN + inner_w * EASY,
        "weak_y": inner_h - inner_h * (WEAK + 1) / 2,
        "zero_y": inner_h / 2,
        "inner_w": inner_w,
        "inner_h": inner_h,
        "weak_h": inner_h * (WEAK + 1) / 2,
        "axis_label_y": HEIGHT - 14,
    }
    for item in report["items"]:
        top = max([o["picks"] for o in item["options"] or []] + [1])
        for option in item["options"] or []:
            option["share"] = round(100 * option["picks"] / top)
    return render(
        request,
        "console/assessment_items.html",
        {
            "assessment": assessment,
            "report": report,
            "dots": dots,
            "guides": guides,
            "width": WIDTH,
            "height": HEIGHT,
            "margin": MARGIN,
            "plotted": len(dots),
            "thresholds": {"hard": HARD, "easy": EASY, "weak": WEAK},
        },
    )
