from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ivigtrack.accounts"
    label = "accounts"
