from django.apps import AppConfig


class SampledataConfig(AppConfig):
    """Demo and benchmark data (seed_demo, generate_data): sits on top, nothing imports it."""

    name = "sampledata"
    verbose_name = "Sample data"
