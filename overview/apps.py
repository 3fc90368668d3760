from django.apps import AppConfig


class OverviewConfig(AppConfig):
    """Reads across a user's engagements: the organisation page, compare and search."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "overview"
