from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ivigtrack.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .sessions import started_session

        user_logged_in.connect(started_session, dispatch_uid="ivigtrack.accounts.sessions.started")
