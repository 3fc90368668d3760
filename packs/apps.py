from django.apps import AppConfig


class PacksConfig(AppConfig):
    name = "packs"
    verbose_name = "Review packs"

    def ready(self):
        from packs import receivers  # noqa: F401  (connects the review e-mail's attachment)
