from django.contrib import admin

from eduvault.identity.models import Account, ApiToken, RefreshToken


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "origin", "created_at")
    list_filter = ("role", "origin")
    search_fields = ("user__username",)


@admin.register(RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "family", "issued_at", "expires_at", "used_at", "revoked_at")
    readonly_fields = ("user", "family", "token_hash", "issued_at", "expires_at", "used_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("role",)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    exclude = ("key_hash",)

    def has_add_permission(self, request):  # tokens are created with `eduvault token create`
        return False
