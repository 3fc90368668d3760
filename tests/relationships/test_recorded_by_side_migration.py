"""Migration 0014: each existing value gets its recorder's side in the engagement, from their
membership (the client's first, as access_for decides); blank where unknown."""

from datetime import date

import pytest

from tests.factories import MembershipFactory, SLAFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_migration_0014_fills_the_recorders_side_from_their_membership(
    engagement, client_manager, provider_manager, outsider, latest_migrations_after
):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    both = UserFactory(username="both-sides")
    MembershipFactory(user=both, organization=engagement.client, role="viewer")
    MembershipFactory(user=both, organization=engagement.provider, role="admin")
    sla = SLAFactory(engagement=engagement)
    recorders = [client_manager, provider_manager, both, outsider, None]
    before = [("relationships", "0012_engagement_declined")]
    after = [("relationships", "0014_measurement_disputes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    Measurement = executor.loader.project_state(before).apps.get_model(
        "relationships", "Measurement"
    )
    ids = [
        Measurement.objects.create(
            sla_id=sla.pk,
            period_start=date(2026, 3, day),
            period_end=date(2026, 3, day),
            value=99,
            recorded_by_id=user and user.pk,
        ).pk
        for day, user in enumerate(recorders, start=1)
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    Measurement = executor.loader.project_state(after).apps.get_model(
        "relationships", "Measurement"
    )
    sides = dict(Measurement.objects.values_list("pk", "recorded_by_side"))
    assert [sides[pk] for pk in ids] == ["client", "provider", "client", "", ""]
