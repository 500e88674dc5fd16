from django.contrib import admin

from eduvault.pipeline.content.admin import ReadOnlyAdmin
from eduvault.pipeline.sync.models import SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    """Runs and (in the feed's admin) the changes they applied are history: read only."""

    list_display = (
        "id",
        "course_key",
        "trigger",
        "outcome",
        "version_after",
        "creates",
        "updates",
        "moves",
        "deletes",
        "duration_ms",
        "started_at",
    )
    list_filter = ("outcome", "trigger")
    search_fields = ("course_key", "error")
