from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "eduvault.learning.assessments"
    label = "assessments"
    verbose_name = "Assessments, grading and mastery"

    def ready(self) -> None:
        # Practice assessments follow the course's subtopics (a sync subscription); timed
        # attempts past their deadline are closed (a periodic job); answers have a lean route.
        from eduvault.learning.assessments import answer_route, jobs, subscriptions  # noqa: F401
