"""The engagement list's latest scorecard comes from the engagement's latest scorecard row."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relationships.models import Engagement
from scorecards.compute import compute_chunk
from scorecards.models import Scorecard
from tests.api.conftest import make_scorecard

pytestmark = pytest.mark.django_db


def _listed(api, user) -> dict:
    (row,) = api(user).get("/api/v1/engagements/").json()["results"]
    return {key: row[key] for key in ("latest_period_start", "latest_overall", "latest_band")}


def test_a_computed_period_is_listed_as_the_latest(api, engagement, client_viewer):
    compute_chunk([engagement.pk], "month", date(2026, 3, 1), date(2026, 4, 10))
    march = Scorecard.objects.get(engagement=engagement)
    assert _listed(api, client_viewer) == {
        "latest_period_start": "2026-03-01",
        "latest_overall": None if march.overall is None else str(march.overall),
        "latest_band": march.band,
    }


def test_deleting_the_latest_scorecard_lists_the_one_before(api, engagement, client_viewer):
    make_scorecard(engagement, date(2026, 1, 1), overall="60.0", band="watch")
    make_scorecard(engagement, date(2026, 2, 1), overall="82.5", band="healthy").delete()
    assert _listed(api, client_viewer) == {
        "latest_period_start": "2026-01-01",
        "latest_overall": "60.0",
        "latest_band": "watch",
    }


def test_the_latest_is_of_the_engagements_own_period_kind(api, engagement, client_viewer):
    make_scorecard(engagement, date(2026, 3, 1), overall="70.0", band="watch")
    Engagement.objects.filter(pk=engagement.pk).update(scorecard_period="week")
    week_of = Engagement.objects.get(pk=engagement.pk)
    make_scorecard(week_of, date(2026, 1, 5), overall="40.0", band="at_risk")
    # Older than March, but the only week: the engagement now scores by week.
    assert _listed(api, client_viewer)["latest_period_start"] == "2026-01-05"
    Engagement.objects.filter(pk=engagement.pk).update(scorecard_period="month")
    assert _listed(api, client_viewer)["latest_period_start"] == "2026-03-01"


# ---------------------------------------------------------------- GET /scorecards/latest/
def _latest_periods(api, user) -> list[tuple[int, str]]:
    rows = api(user).get("/api/v1/scorecards/latest/").json()["results"]
    return [(row["engagement"], row["period_start"]) for row in rows]


def test_latest_scorecards_follow_deletion_and_period_kind(api, engagement, client_viewer):
    make_scorecard(engagement, date(2026, 1, 1))
    make_scorecard(engagement, date(2026, 2, 1)).delete()
    assert _latest_periods(api, client_viewer) == [(engagement.pk, "2026-01-01")]
    Engagement.objects.filter(pk=engagement.pk).update(scorecard_period="week")
    assert _latest_periods(api, client_viewer) == []  # no weekly scorecard yet
    make_scorecard(Engagement.objects.get(pk=engagement.pk), date(2025, 12, 29))
    assert _latest_periods(api, client_viewer) == [(engagement.pk, "2025-12-29")]


def test_latest_scorecards_join_the_latest_rows_instead_of_a_search_per_row(
    api, engagement, client_viewer
):
    # A subquery per scorecard row made the endpoint's cost grow with each engagement's history.
    make_scorecard(engagement, date(2026, 1, 1))
    with CaptureQueriesContext(connection) as queries:
        api(client_viewer).get("/api/v1/scorecards/latest/")
    *_count, page = [q["sql"] for q in queries if 'FROM "scorecards_scorecard" ' in q["sql"]]
    assert '"scorecards_latestscorecard"' in page
    assert "LIMIT 1)" not in page
