from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "eduvault.identity"
    label = "identity"
    verbose_name = "People, tokens and sign-in"

    def ready(self) -> None:
        # The OpenAPI description of the bearer scheme; purging what expired.
        from eduvault.identity import jobs, schema  # noqa: F401
