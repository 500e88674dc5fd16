from django.contrib import admin

from eduvault.core.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("role",)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    exclude = ("key_hash",)

    def has_add_permission(self, request):  # tokens are created with `eduvault token create`
        return False
