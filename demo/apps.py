from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo clinic, the vignette patients and the synthetic generator (``seed_demo``)."""

    name = "demo"
