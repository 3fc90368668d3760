"""Backfill through the API: recompute a past period, and then the later ones in order."""

from datetime import date

import pytest

from scorecards.compute import compute_chunk
from scorecards.models import Scorecard, ScorecardRun
from tests.factories import EngagementFactory
from tests.scorecards.conftest import MARCH, populate

pytestmark = pytest.mark.django_db

# March is closed (grace days end on 5 April), April too (on 5 May); May is in progress.
MAY_10 = date(2026, 5, 10)
APRIL = date(2026, 4, 1)
MAY = date(2026, 5, 1)


def recompute_url(engagement) -> str:
    return f"/api/v1/engagements/{engagement.pk}/recompute/"


def recompute(api, user, engagement, body, capture):
    """POST a recompute on 10 May; the queued runs compute in-process once it commits."""
    with capture(execute=True):
        return api(user).post(recompute_url(engagement), body, format="json")


@pytest.fixture
def rich_engagement(engagement):
    return populate(engagement)


def scorecard(engagement, start) -> Scorecard:
    return Scorecard.objects.get(engagement=engagement, period_kind="month", period_start=start)


# ---------------------------------------------------------------- a past period
def test_recompute_of_a_past_period_writes_its_final_scorecard_and_runs_to_poll(
    api, rich_engagement, client_manager, provider_viewer, on, django_capture_on_commit_callbacks
):
    with on(MAY_10):
        response = recompute(
            api,
            client_manager,
            rich_engagement,
            {"period_start": "2026-03-01"},
            django_capture_on_commit_callbacks,
        )
        assert response.status_code == 202, response.json()
        body = response.json()
        assert body["period_start"] == "2026-03-01"
        assert response["Location"] == body["poll_url"]
        assert [run["period_start"] for run in body["later_runs"]] == ["2026-04-01", "2026-05-01"]
        # Any member polls the runs, each on to the next.
        polled = api(provider_viewer).get(body["poll_url"])
        later = [api(provider_viewer).get(run["poll_url"]).json() for run in body["later_runs"]]
    assert polled.status_code == 200
    run = polled.json()
    assert (run["status"], run["period_start"], run["engagement"]) == (
        "succeeded",
        "2026-03-01",
        rich_engagement.pk,
    )
    assert run["scorecards_written"] == 1
    assert run["next_run"] == body["later_runs"][0]["run"]
    assert [each["status"] for each in later] == ["succeeded", "succeeded"]
    march = scorecard(rich_engagement, MARCH)
    assert (march.status, march.as_of) == ("final", date(2026, 3, 31))
    assert march.overall is not None
    assert scorecard(rich_engagement, APRIL).status == "final"
    assert scorecard(rich_engagement, MAY).status == "provisional"


def test_recomputing_the_oldest_period_brings_every_later_trend_up_to_date(
    api, engagement, client_manager, on, django_capture_on_commit_callbacks
):
    """An integrator imports March's records after March and April were scored without
    them, then recomputes March: April's trend compares with the new March, not the old."""
    with on(MAY_10):
        for start in (MARCH, APRIL):
            compute_chunk([engagement.pk], "month", start)
    stale = scorecard(engagement, APRIL)
    populate(engagement)  # March's history, imported late
    with on(MAY_10):
        response = recompute(
            api,
            client_manager,
            engagement,
            {"period_start": "2026-03-01"},
            django_capture_on_commit_callbacks,
        )
    assert response.status_code == 202
    march, april = scorecard(engagement, MARCH), scorecard(engagement, APRIL)
    assert march.overall != stale.previous_overall
    assert april.previous_overall == march.overall
    assert april.trend == (april.overall - march.overall if april.overall is not None else None)
    runs = ScorecardRun.objects.filter(engagement=engagement).order_by("period_start")
    assert [(r.period_start, r.status) for r in runs] == [
        (MARCH, "succeeded"),
        (APRIL, "succeeded"),
        (MAY, "succeeded"),
    ]


def test_recompute_without_a_period_is_the_period_in_progress_alone(
    api, rich_engagement, client_manager, on, django_capture_on_commit_callbacks
):
    with on(MAY_10):
        response = recompute(
            api, client_manager, rich_engagement, None, django_capture_on_commit_callbacks
        )
    body = response.json()
    assert response.status_code == 202
    assert (body["period_start"], body["later_runs"]) == ("2026-05-01", [])
    assert ScorecardRun.objects.get().period_start == MAY


# ---------------------------------------------------------------- refusals
def _freeze_march(engagement):
    with_values = {"overall": 70, "band": "watch", "coverage": 1, "as_of": date(2026, 3, 31)}
    return Scorecard.objects.create(
        engagement=engagement,
        period_kind="month",
        period_start=MARCH,
        period_end=date(2026, 3, 31),
        computed_at="2026-04-06T00:00Z",
        frozen_at="2026-04-08T00:00Z",
        **with_values,
    )


@pytest.mark.parametrize(
    "period_start,says",
    [
        ("2026-03-02", "the month containing it starts on 2026-03-01"),
        ("2026-06-01", "after the period in progress, May 2026, which starts on 2026-05-01"),
        ("2025-12-01", "its first period starts on 2026-01-01"),
        ("2099-12-01", "after the period in progress"),
        ("9999-12-31", "Enter a date from 2000-01-01 to 2099-12-31"),  # the one range first
        ("2026-03-01", "frozen"),
        ("2026-04-01", "ended on 2026-03-20; its last period starts on 2026-03-01"),
    ],
)
def test_a_period_that_cannot_be_recomputed_is_refused_and_nothing_changes(
    api, engagement, client_manager, on, django_capture_on_commit_callbacks, period_start, says
):
    if says == "frozen":
        _freeze_march(engagement)
    if "ended" in says:
        engagement.end_date = date(2026, 3, 20)
        engagement.save()
    before = list(Scorecard.objects.values())
    with on(MAY_10):
        response = recompute(
            api,
            client_manager,
            engagement,
            {"period_start": period_start},
            django_capture_on_commit_callbacks,
        )
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert list(errors) == ["period_start"]
    assert says in errors["period_start"][0]
    assert not ScorecardRun.objects.exists()
    assert list(Scorecard.objects.values()) == before


@pytest.mark.parametrize(
    "body,field",
    [
        ({"period_start": "March"}, "period_start"),
        ({"period_start": None}, "period_start"),
        ({"period": "2026-03-01"}, "period"),
    ],
)
def test_bad_recompute_bodies_are_field_errors(api, engagement, client_manager, body, field):
    response = api(client_manager).post(recompute_url(engagement), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ScorecardRun.objects.exists()


def test_who_may_recompute_a_past_period(api, engagement, client_viewer, outsider):
    body = {"period_start": "2026-03-01"}
    assert api(outsider).post(recompute_url(engagement), body, format="json").status_code == 404
    assert (
        api(client_viewer).post(recompute_url(engagement), body, format="json").status_code == 403
    )
    assert not ScorecardRun.objects.exists()


def test_the_schema_documents_the_recompute_body(api):
    schema = api(None).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/engagements/{id}/recompute/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert set(component["properties"]) == {"period_start"}
    assert component["additionalProperties"] is False
    accepted = operation["responses"]["202"]["content"]["application/json"]["schema"]["$ref"]
    assert "later_runs" in schema["components"]["schemas"][accepted.rsplit("/", 1)[1]]["properties"]


@pytest.mark.django_db(transaction=True)
def test_a_year_of_weeks_recomputes_in_process_one_after_the_other(
    api, client_manager, client_org, on
):
    """Without a broker (tasks in-process, and outside a test transaction each run starts
    as the one before commits): a year of chained weeks runs in turn, none nested in the
    one before."""
    first = date(2025, 5, 12)
    weekly = EngagementFactory(client=client_org, scorecard_period="week", start_date=first)
    weeks = (date(2026, 5, 4) - first).days // 7 + 1  # to the week of 10 May, in progress
    with on(MAY_10):
        response = api(client_manager).post(
            recompute_url(weekly), {"period_start": first.isoformat()}, format="json"
        )
    assert response.status_code == 202
    assert len(response.json()["later_runs"]) == weeks - 1
    runs = ScorecardRun.objects.filter(engagement=weekly)
    assert runs.count() == weeks and {run.status for run in runs} == {"succeeded"}
    assert Scorecard.objects.filter(engagement=weekly).count() == weeks


def test_one_recompute_chains_a_bounded_number_of_periods(
    api, client_manager, client_org, on, django_capture_on_commit_callbacks, monkeypatch
):
    """However long ago an engagement started, one request queues a bounded chain; the
    answer's last run says where to continue."""
    from scorecards import services

    monkeypatch.setattr(services, "RECOMPUTE_AT_MOST", 3)
    old = EngagementFactory(client=client_org, start_date=date(2001, 1, 1))
    with on(MAY_10):
        body = recompute(
            api,
            client_manager,
            old,
            {"period_start": "2001-01-01"},
            django_capture_on_commit_callbacks,
        ).json()
    assert [run["period_start"] for run in body["later_runs"]] == ["2001-02-01", "2001-03-01"]
    assert ScorecardRun.objects.filter(engagement=old).count() == 3
