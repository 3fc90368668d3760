"""Runs of many engagements (the schedule's, compute_scorecards'): pollable in runs/ by the
members of the engagements they covered, showing no figures about anyone else's."""

from datetime import date

import pytest
from django.core.management import call_command

from scorecards.models import ScorecardRun
from scorecards.runs import create_runs, queue_periodic_runs
from tests.factories import EngagementFactory
from tests.scorecards.conftest import MARCH, populate

pytestmark = pytest.mark.django_db

MAY_10 = date(2026, 5, 10)  # March and April are closed, May in progress


@pytest.fixture
def rich_engagement(engagement):
    return populate(engagement)


NO_FIGURES = {"scorecards_written": None, "alerts_raised": None}


def test_a_periodic_run_is_pollable_by_members_of_the_engagements_it_covered(
    api,
    rich_engagement,
    client_viewer,
    provider_manager,
    outsider,
    outsider_org,
    on,
    django_capture_on_commit_callbacks,
):
    foreign = populate(EngagementFactory(client=outsider_org, name="Foreign"))
    with on(MAY_10), django_capture_on_commit_callbacks(execute=True):
        queued = queue_periodic_runs(today=MAY_10)
    march = next(run for run in queued if run.period_start == MARCH)
    march.refresh_from_db()
    assert march.engagement_id is None and march.scorecards_written == 2  # both engagements
    for member in (client_viewer, provider_manager, outsider):
        polled = api(member).get(f"/api/v1/runs/{march.pk}/")
        assert polled.status_code == 200
        run = polled.json()
        assert (run["status"], run["trigger"], run["engagement"]) == ("succeeded", "periodic", None)
        assert {name: run[name] for name in NO_FIGURES} == NO_FIGURES
        assert "engagements_total" not in run and "chunks_total" not in run
    listed = api(client_viewer).get("/api/v1/runs/").json()
    assert {run["id"] for run in listed["results"]} == {run.pk for run in queued}
    assert all(run["scorecards_written"] is None for run in listed["results"])
    march_only = {"trigger": "periodic", "period_start": "2026-03-01"}
    listed = api(provider_manager).get("/api/v1/runs/", march_only).json()
    assert [run["id"] for run in listed["results"]] == [march.pk]
    # An engagement that is not theirs filters to nothing, even when the run covered it.
    assert api(client_viewer).get("/api/v1/runs/", {"engagement": foreign.pk}).json()["count"] == 0


def test_a_failed_run_of_many_shows_a_general_note_not_its_error(
    api, engagement, client_viewer, outsider_org
):
    other = EngagementFactory(client=outsider_org, name="Foreign")
    (run,) = create_runs(
        {("month", MARCH): [engagement.pk, other.pk]},
        trigger=ScorecardRun.Trigger.PERIODIC,
        dispatch=False,
    )
    ScorecardRun.objects.filter(pk=run.pk).update(
        status="failed", error=f"IntegrityError: Key (engagement_id)=({other.pk}) Foreign"
    )
    body = api(client_viewer).get(f"/api/v1/runs/{run.pk}/").json()
    assert body["error"] == ScorecardRun.SHARED_RUN_ERROR
    assert "Foreign" not in str(body)


def test_a_command_run_is_pollable_by_members_of_its_engagements_only(
    api, rich_engagement, client_viewer, provider_manager, outsider, outsider_org, on
):
    foreign = EngagementFactory(client=outsider_org, name="Foreign")
    with on(MAY_10):
        call_command("compute_scorecards", "--engagement", str(rich_engagement.pk), "--sync")
    runs = ScorecardRun.objects.filter(trigger="command")
    assert runs.exists() and {run.status for run in runs} == {"succeeded"}
    for member in (client_viewer, provider_manager):
        listed = api(member).get("/api/v1/runs/").json()
        assert {run["id"] for run in listed["results"]} == {run.pk for run in runs}
        assert all(run["scorecards_written"] is None for run in listed["results"])
    for run in runs:
        assert api(outsider).get(f"/api/v1/runs/{run.pk}/").status_code == 404
    assert api(outsider).get("/api/v1/runs/").json()["count"] == 0
    assert api(outsider).get("/api/v1/runs/", {"engagement": foreign.pk}).json()["count"] == 0
