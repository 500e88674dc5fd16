from django.contrib import admin

from eduvault.integrations.models import Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    """Sources are registered with ``eduvault source add`` (their secrets are sealed and never
    shown); here they can be looked at, and enabled or disabled."""

    list_display = ("name", "platform", "base_url", "enabled", "disabled_reason", "created_at")
    list_filter = ("platform", "enabled")
    search_fields = ("name", "base_url")
    fields = ("name", "platform", "base_url", "settings", "enabled", "disabled_reason", "created_at")
    readonly_fields = ("name", "platform", "base_url", "settings", "created_at")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
