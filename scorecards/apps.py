from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "scorecards"
    verbose_name = "Scorecards"

    def ready(self):
        # Connects the receivers that keep each engagement's latest scorecard row.
        from scorecards import latest  # noqa: F401
