from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ivigtrack.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .mfa import remember_authenticator
        from .sessions import started_session

        user_logged_in.connect(started_session, dispatch_uid="ivigtrack.accounts.sessions.started")
        user_logged_in.connect(remember_authenticator, dispatch_uid="ivigtrack.accounts.mfa.remember")
