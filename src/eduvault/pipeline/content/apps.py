from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "eduvault.pipeline.content"
    label = "content"
    verbose_name = "Course content"
