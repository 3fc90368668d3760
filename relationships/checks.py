"""System checks that read the database: run by `migrate` and `check --database default`."""

from django.core import checks
from django.db import DatabaseError
from django.db.models import Q

from relationships import names


@checks.register(checks.Tags.database)
def look_alike_organizations(app_configs=None, databases=None, **kwargs):
    """Organisations whose names look alike (kept apart by migration 0009): one warning
    per group until all but one are renamed."""
    from relationships.models import Organization

    found = []
    for database in databases or ():
        organizations = Organization.objects.using(database)
        try:
            marked = list(
                organizations.filter(name_key__contains=names.LOOK_ALIKE_MARK).values_list(
                    "name_key", flat=True
                )
            )
            plain = {key.partition(names.LOOK_ALIKE_MARK)[0] for key in marked}
            rows = list(
                organizations.filter(
                    Q(name_key__in=plain) | Q(name_key__contains=names.LOOK_ALIKE_MARK)
                )
                .order_by("created_at", "id")
                .values_list("id", "name", "name_key")
            )
        except DatabaseError:  # not migrated yet: `migrate` checks before it migrates
            continue
        found += [
            checks.Warning(
                names.describe_look_alikes(group),
                hint="Rename all but one of them (admin: Organisations) so people can tell "
                "them apart; until then the others cannot be saved unchanged.",
                id="relationships.W001",
            )
            for group in names.look_alike_groups(rows)
        ]
    return found
