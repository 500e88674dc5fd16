from django.contrib import admin

from eduvault.learning.assessments.models import (
    Assessment,
    Attempt,
    ExtraTime,
    Mastery,
    Question,
    SkillParameters,
)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("key", "version", "type", "course", "subtopic", "current", "archived_at")
    list_filter = ("type", "current")
    search_fields = ("key", "subtopic")


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "course", "status", "feedback", "time_limit_seconds", "due_at")
    list_filter = ("kind", "status", "feedback")
    search_fields = ("title", "subtopic")


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "assessment",
        "learner",
        "number",
        "status",
        "score",
        "max_score",
        "passed",
        "closed_by",
    )
    list_filter = ("status", "closed_by")
    readonly_fields = [f.name for f in Attempt._meta.fields]


admin.site.register(ExtraTime)
admin.site.register(SkillParameters)
admin.site.register(Mastery)
