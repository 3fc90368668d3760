from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_table(using="default", **kwargs):
    # The database cache (settings.CACHES) needs its table wherever Accord migrates.
    call_command("createcachetable", database=using, verbosity=0)


class RelationshipsConfig(AppConfig):
    name = "relationships"
    verbose_name = "Relationships"

    def ready(self):
        from relationships import checks  # noqa: F401  (registers the system checks)

        post_migrate.connect(create_cache_table, sender=self)
