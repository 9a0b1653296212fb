from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "risk"

    def ready(self) -> None:
        from . import listeners  # noqa: F401  registers the hooks of ivigtrack.hooks
