from django import forms
from django.contrib import admin

from eduvault.connectors.models import Source


class SourceForm(forms.ModelForm):
    base_url = forms.URLField(assume_scheme="https", max_length=500)
    client_secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Leave empty to keep the stored secret.",
    )

    class Meta:
        model = Source
        fields = ("name", "platform", "base_url", "client_id", "client_secret", "kind_map", "enabled")

    def clean_client_secret(self):
        value = self.cleaned_data.get("client_secret")
        if not value and self.instance.pk:
            return self.instance.client_secret
        if not value:
            raise forms.ValidationError("A client secret is required.")
        return value


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = ("name", "platform", "base_url", "client_id", "enabled", "created_at")
    list_filter = ("platform", "enabled")
    search_fields = ("name", "base_url")
