from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback"

    def ready(self):
        from feedback.services import local_dates_refresh
        from relationships.services import engagement_time_zone_changed

        engagement_time_zone_changed.connect(local_dates_refresh)
