from django.apps import AppConfig


class InfusionsConfig(AppConfig):
    name = "infusions"

    def ready(self) -> None:
        from . import providers  # noqa: F401  registers its answers with ivigtrack.hooks
