from django.urls import path

from eduvault.learning.lti import views

app_name = "lti"

urlpatterns = [
    path("login", views.login, name="login"),
    path("launch", views.launch, name="launch"),
    path("jwks", views.jwks, name="jwks"),
    path("deep-link", views.deep_link, name="deep-link"),
    path("attempt/answer", views.attempt_answer_view, name="attempt-answer"),
    path("attempt/submit", views.attempt_submit_view, name="attempt-submit"),
]
