from django.contrib import admin

from eduvault.content.admin import ReadOnlyAdmin
from eduvault.sync.models import Change, SyncRun


class ChangeInline(admin.TabularInline):
    model = Change
    fields = ("seq", "op", "kind", "external_id", "before", "after")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    max_num = 0


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
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
    inlines = [ChangeInline]


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = ("id", "run", "op", "kind", "external_id")
    list_filter = ("op", "kind")
    search_fields = ("external_id",)
