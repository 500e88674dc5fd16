from django.contrib import admin

from eduvault.accounts.models import Account, RefreshToken


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "origin", "created_at")
    list_filter = ("role", "origin")
    search_fields = ("user__username",)


@admin.register(RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "family", "issued_at", "expires_at", "used_at", "revoked_at")
    readonly_fields = ("user", "family", "token_hash", "issued_at", "expires_at", "used_at")
