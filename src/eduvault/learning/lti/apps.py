from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "eduvault.learning.lti"
    label = "lti"
    verbose_name = "LTI 1.3 tool"

    def ready(self) -> None:
        from eduvault.learning.lti import jobs  # noqa: F401 - the rosters read after launches
