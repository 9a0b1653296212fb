from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "ivigtrack.audit"
    label = "audit"
