from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "scorecards"
    verbose_name = "Scorecards"

    def ready(self):
        # Connects the receivers that keep each engagement's latest scorecard row, and the
        # one that writes the terms' events to the webhook outbox, and the one that refreshes
        # provisional scorecards after writes to their inputs.
        from scorecards import latest, refresh, terms_events  # noqa: F401
