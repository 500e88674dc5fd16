from django.apps import AppConfig


class FeedConfig(AppConfig):
    name = "eduvault.feed"
    label = "feed"
    verbose_name = "Change feed and subscriptions"
