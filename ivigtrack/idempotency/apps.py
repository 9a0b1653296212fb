from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "ivigtrack.idempotency"
    label = "idempotency"
    verbose_name = "Repeated requests"
