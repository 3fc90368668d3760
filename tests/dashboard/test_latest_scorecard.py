"""Each engagement's latest scorecard row (scorecards.latest) and the portfolio reads built on it.

The rows are derived data: after every change below they must equal what the
scorecards themselves say (`assert_rows_match_scorecards`), and the portfolio must
show them.
"""

import importlib
from datetime import UTC, date, datetime

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relationships.models import Engagement
from scorecards.compute import compute_chunk
from scorecards.latest import LATEST_FIELDS
from scorecards.models import LatestScorecard, Scorecard
from scorecards.services import scorecard_review
from tests.dashboard.conftest import add_engagements, make_scorecard, scorecard_values
from tests.factories import CheckInFactory, EngagementFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

FEBRUARY, MARCH = date(2026, 2, 1), date(2026, 3, 1)
APRIL_10 = date(2026, 4, 10)


def _figures(row) -> dict:
    return {name: getattr(row, name) for name in LATEST_FIELDS}


def assert_rows_match_scorecards() -> None:
    """One row per engagement and period kind holding its newest scorecard's figures."""
    newest = {}
    for scorecard in Scorecard.objects.order_by("period_start"):
        newest[scorecard.engagement_id, scorecard.period_kind] = _figures(scorecard)
    rows = {(r.engagement_id, r.period_kind): _figures(r) for r in LatestScorecard.objects.all()}
    assert rows == newest


def _portfolio(client, **params):
    response = client.get(reverse("portfolio"), params)
    assert response.status_code == 200
    return response


def _shown_overall(client) -> str | None:
    (row,) = _portfolio(client).context["rows"]
    overall = row["engagement"].latest_overall
    return None if overall is None else str(overall)


def _compute(engagement, period_start):
    return compute_chunk([engagement.pk], "month", period_start, APRIL_10)


def _check_ins(engagement, *days):
    for day in days:
        CheckInFactory(engagement=engagement, occurred_at=datetime(2026, 3, day, 10, tzinfo=UTC))


def test_computing_a_newer_period_moves_the_row_and_an_older_one_does_not(
    client, client_manager, engagement
):
    client.force_login(client_manager)
    _compute(engagement, FEBRUARY)
    assert LatestScorecard.objects.get(engagement=engagement).period_start == FEBRUARY
    _compute(engagement, MARCH)
    assert LatestScorecard.objects.get(engagement=engagement).period_start == MARCH
    assert_rows_match_scorecards()

    # February recomputed with a changed input: its scorecard is rewritten, March stays latest.
    CheckInFactory(engagement=engagement, occurred_at=datetime(2026, 2, 3, 10, tzinfo=UTC))
    assert _compute(engagement, FEBRUARY).scorecards_written == 1
    assert LatestScorecard.objects.get(engagement=engagement).period_start == MARCH
    assert_rows_match_scorecards()
    march = Scorecard.objects.get(engagement=engagement, period_start=MARCH)
    assert _shown_overall(client) == str(march.overall)


def test_a_recompute_with_new_inputs_updates_the_row(client, client_manager, engagement):
    client.force_login(client_manager)
    before = _compute(engagement, MARCH)
    shown_before = _shown_overall(client)
    _check_ins(engagement, 2, 9, 16, 23)
    assert _compute(engagement, MARCH).scorecards_written == 1
    after = Scorecard.objects.get(engagement=engagement, period_start=MARCH)
    assert before.scorecards_written == 1 and str(after.overall) != shown_before
    assert _shown_overall(client) == str(after.overall)
    assert_rows_match_scorecards()


def test_signing_off_and_recomputing_a_frozen_period_keep_the_row(
    client_manager, provider_manager, engagement
):
    _compute(engagement, MARCH)
    scorecard = Scorecard.objects.get(engagement=engagement, period_start=MARCH)
    scorecard_review(scorecard=scorecard, user=client_manager, decision="signed")
    with CaptureQueriesContext(connection) as queries:
        scorecard_review(scorecard=scorecard, user=provider_manager, decision="signed")
    scorecard.refresh_from_db()
    assert scorecard.is_frozen
    # Freezing changes none of the figures the row holds, so it does not touch the row.
    assert not [q for q in queries if "scorecards_latestscorecard" in q["sql"]]
    row = _figures(LatestScorecard.objects.get(engagement=engagement))

    _check_ins(engagement, 2, 9, 16, 23)
    assert _compute(engagement, MARCH).skipped_frozen == 1
    assert _figures(LatestScorecard.objects.get(engagement=engagement)) == row
    assert_rows_match_scorecards()


def test_deleting_scorecards_falls_back_to_the_period_before_then_to_none(
    client, client_manager, engagement
):
    client.force_login(client_manager)
    make_scorecard(engagement, date(2026, 1, 1), 60, "watch")
    february = make_scorecard(engagement, FEBRUARY, 82.5, "healthy")
    assert _shown_overall(client) == "82.5"

    february.delete()
    assert_rows_match_scorecards()
    assert _shown_overall(client) == "60.0"
    summary = _portfolio(client).context["summary"]
    assert (summary["watch"], summary["healthy"], float(summary["average"])) == (1, 0, 60)

    Scorecard.objects.filter(engagement=engagement).delete()
    assert not LatestScorecard.objects.exists()
    response = _portfolio(client, band="none")
    assert [row["engagement"] for row in response.context["rows"]] == [engagement]
    assert response.context["summary"]["average"] is None


def test_the_row_shown_is_of_the_engagements_own_period_kind(client, client_manager, engagement):
    client.force_login(client_manager)
    make_scorecard(engagement, MARCH, 70, "watch")
    week = scorecard_values(engagement, MARCH, 40, "at_risk", period_kind="week")
    week.update(period_start=date(2026, 4, 6), period_end=date(2026, 4, 12))  # after March
    Scorecard.objects.create(**week)
    assert_rows_match_scorecards()
    assert LatestScorecard.objects.filter(engagement=engagement).count() == 2
    assert _shown_overall(client) == "70.0"

    # A change of kind needs no upkeep: the week row is already there.
    Engagement.objects.filter(pk=engagement.pk).update(scorecard_period="week")
    assert _shown_overall(client) == "40.0"
    assert _portfolio(client).context["summary"]["at_risk"] == 1


def test_the_migration_fills_the_rows_of_existing_scorecards(engagement, client_org):
    other = EngagementFactory(client=client_org, scorecard_period="quarter")
    for month in (1, 2, 3):
        make_scorecard(engagement, date(2026, month, 1), 50 + month, "watch")
    make_scorecard(other, date(2026, 1, 1), 90, "healthy")
    LatestScorecard.objects.all().delete()

    migration = importlib.import_module("scorecards.migrations.0004_latest_scorecard")
    migration.fill_latest_scorecards(apps, connection.schema_editor())
    assert LatestScorecard.objects.count() == 2
    assert_rows_match_scorecards()


def test_band_filter_pages_and_summary_come_from_the_same_rows(client, client_manager, client_org):
    add_engagements(client_org, 30)  # "watch"
    for name in ("Healthy A", "Healthy B"):
        make_scorecard(EngagementFactory(client=client_org, name=name), MARCH, 90, "healthy")
    EngagementFactory(client=client_org, name="Unscored")
    client.force_login(client_manager)

    first = _portfolio(client, band="watch")
    assert first.context["page"].paginator.count == 30
    assert len(first.context["rows"]) == 25
    assert len(_portfolio(client, band="watch", page=2).context["rows"]) == 5
    summary = first.context["summary"]
    assert (summary["total"], summary["watch"], summary["healthy"]) == (33, 30, 2)
    assert summary["matching"] == 30
    unscored = _portfolio(client, band="none")
    assert [row["engagement"].name for row in unscored.context["rows"]] == ["Unscored"]
    assert unscored.context["page"].paginator.count == 1


def test_counterparts_are_the_other_party_of_each_visible_engagement(
    client, client_manager, client_org, engagement
):
    globex = OrganizationFactory(name="Globex")
    EngagementFactory(client=globex, provider=client_org)  # our organisation as the provider
    EngagementFactory(client=OrganizationFactory(name="Initech"), provider=globex)  # not ours
    client.force_login(client_manager)
    counterparts = _portfolio(client).context["counterparts"]
    assert [org.name for org in counterparts] == ["Contoso Services", "Globex"]


@pytest.mark.parametrize(
    "params",
    [{}, {"band": "watch"}, {"band": "none"}, {"phase": "active"}, {"sort": "-overall"}],
    ids=lambda params: "&".join(f"{k}={v}" for k, v in params.items()) or "default",
)
def test_portfolio_queries_do_not_grow_with_engagements_for_any_filter(
    client, client_manager, client_org, params
):
    client.force_login(client_manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _portfolio(client, **params)
        return len(captured)

    add_engagements(client_org, 5)
    few = queries()
    add_engagements(client_org, 95, start=5)
    # The sparklines and the provisional "so far" figures are one query each, for the page;
    # the header's unread notices one more.
    assert queries() == few <= 10
