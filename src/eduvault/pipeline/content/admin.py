from django.contrib import admin

from eduvault.pipeline.content.models import Course, Node


class ReadOnlyAdmin(admin.ModelAdmin):
    """Synchronized data changes only through sync runs, which record every change."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Course)
class CourseAdmin(ReadOnlyAdmin):
    list_display = ("key", "title", "source", "version", "node_count", "last_synced_at")
    list_filter = ("source", "platform")
    search_fields = ("key", "title")
    readonly_fields = ("version", "content_hash", "node_count", "last_synced_at", "created_at")


@admin.register(Node)
class NodeAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "course", "external_id", "position")
    list_filter = ("kind", "course")
    search_fields = ("title", "external_id")
    raw_id_fields = ("parent", "course")
    readonly_fields = ("content_hash",)
