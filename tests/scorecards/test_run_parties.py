"""Migration 0011: existing runs of many engagements get the organisations that were a party
to the engagements they covered, from their chunks."""

import pytest

from tests.factories import EngagementFactory, OrganizationFactory
from tests.scorecards.conftest import MARCH


@pytest.mark.django_db(transaction=True)
def test_migration_0011_gives_existing_runs_of_many_their_parties(
    engagement, latest_migrations_after
):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    other = EngagementFactory(client=engagement.client, provider=OrganizationFactory())
    gone = EngagementFactory()
    gone_id, gone_parties = gone.pk, {gone.client_id, gone.provider_id}
    before = [("scorecards", "0010_scorecard_status")]
    after = [("scorecards", "0011_run_parties")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Run = apps.get_model("scorecards", "ScorecardRun")
    Chunk = apps.get_model("scorecards", "ScorecardRunChunk")
    of_many = Run.objects.create(trigger="periodic", period_kind="month", period_start=MARCH)
    Chunk.objects.create(run=of_many, engagement_ids=[engagement.pk, gone_id])
    Chunk.objects.create(run=of_many, engagement_ids=[other.pk])
    of_one = Run.objects.create(
        trigger="on_demand", engagement_id=engagement.pk, period_kind="month", period_start=MARCH
    )
    Chunk.objects.create(run=of_one, engagement_ids=[engagement.pk])
    apps.get_model("relationships", "Engagement").objects.filter(pk=gone_id).delete()
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    Party = executor.loader.project_state(after).apps.get_model("scorecards", "ScorecardRunParty")
    parties = set(Party.objects.values_list("run_id", "organization_id"))
    expected = {engagement.client_id, engagement.provider_id, other.provider_id}
    assert parties == {(of_many.pk, organization) for organization in expected}
    assert not expected & gone_parties
