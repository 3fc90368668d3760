from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Notices"

    def ready(self):
        # Turns what the apps below announce (scorecards.signals.events_written) into notices.
        from notices import receivers  # noqa: F401
