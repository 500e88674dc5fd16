from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "eduvault.accounts"
    label = "accounts"
    verbose_name = "Accounts and sign-in"
