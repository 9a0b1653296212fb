from django.apps import AppConfig


class InfusionsConfig(AppConfig):
    name = "infusions"

    def ready(self) -> None:
        from django.urls import reverse

        from ivigtrack.duplicates import register_link

        from . import providers  # noqa: F401  registers its answers with ivigtrack.hooks
        from .models import Infusion

        register_link(
            Infusion,
            lambda infusion: reverse(
                "staff:infusion_edit",
                kwargs={"patient_id": infusion.patient.public_id, "record_id": infusion.public_id},
            ),
        )
