from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"

    def ready(self) -> None:
        from django.urls import reverse

        from ivigtrack.duplicates import register_link

        from . import corrections
        from .models import LabResult

        corrections.register()

        register_link(
            LabResult,
            lambda lab: reverse("staff:patient_detail", kwargs={"patient_id": lab.patient.public_id}) + "#labs",
        )
