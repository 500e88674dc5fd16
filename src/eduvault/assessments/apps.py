from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "eduvault.assessments"
    label = "assessments"
    verbose_name = "Assessments, grading and mastery"

    def ready(self) -> None:
        # Practice assessments follow the course's subtopics (a sync subscription).
        from eduvault.assessments import subscriptions  # noqa: F401
