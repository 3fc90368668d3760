from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback.models import CheckIn
from tests.dashboard.conftest import add_engagements, make_alert, make_scorecard
from tests.factories import EngagementFactory, OrganizationFactory


def portfolio_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("portfolio"), {"sort": "-overall"})
    assert response.status_code == 200
    return len(queries)


def test_portfolio_query_count_is_the_same_for_10_and_1000_engagements(
    client, client_manager, client_org
):
    client.force_login(client_manager)
    add_engagements(client_org, 10)
    with_10 = portfolio_queries(client)
    add_engagements(client_org, 990, start=10)
    with_1000 = portfolio_queries(client)
    assert with_1000 == with_10
    assert with_10 <= 12


def test_portfolio_shows_band_word_scores_trend_and_sparkline(
    client, provider_manager, scored_engagement
):
    client.force_login(provider_manager)
    response = client.get(reverse("portfolio"))
    html = response.content.decode()
    row = response.context["rows"][0]
    assert row["counterpart"].name == "Northwind Retail"
    assert 'class="band band-watch">Watch<' in html
    assert "62.5" in html
    assert 'role="img" aria-label="Down -3.5 points' in html
    assert row["sparkline"].values == [81, 76, 62.5]
    assert "<polyline" in html
    assert response.context["summary"]["healthy"] == 0
    assert response.context["summary"]["watch"] == 1


def test_portfolio_sparkline_keeps_only_the_last_six_periods(client, client_manager, engagement):
    for month in range(1, 9):
        make_scorecard(engagement, date(2025, month, 1), 10 * month, "watch")
    client.force_login(client_manager)
    row = client.get(reverse("portfolio")).context["rows"][0]
    assert [float(v) for v in row["sparkline"].values] == [30, 40, 50, 60, 70, 80]


def test_portfolio_lists_only_the_users_engagements(client, outsider, scored_engagement):
    client.force_login(outsider)
    response = client.get(reverse("portfolio"))
    assert response.context["rows"] == []
    assert "Service desk" not in response.content.decode()


def test_portfolio_filters_by_band_phase_and_counterpart(client, client_manager, client_org):
    other = OrganizationFactory(name="Globex")
    healthy = EngagementFactory(client=client_org, name="Healthy one", phase="pilot")
    at_risk = EngagementFactory(client=client_org, provider=other, name="At risk one")
    make_scorecard(healthy, date(2026, 1, 1), 90, "healthy")
    make_scorecard(at_risk, date(2026, 1, 1), 30, "at_risk")
    client.force_login(client_manager)

    def names(**params):
        response = client.get(reverse("portfolio"), params)
        return [row["engagement"].name for row in response.context["rows"]]

    assert names(band="healthy") == ["Healthy one"]
    assert names(phase="pilot") == ["Healthy one"]
    assert names(counterpart=other.pk) == ["At risk one"]
    assert names(sort="overall") == ["At risk one", "Healthy one"]
    assert names(band="nonsense", sort="nonsense") == ["At risk one", "Healthy one"]


def test_portfolio_summary_counts_bands_and_averages_overall(client, client_manager, client_org):
    for name, overall, band in (("A", 90, "healthy"), ("B", 80, "healthy"), ("C", 40, "at_risk")):
        make_scorecard(
            EngagementFactory(client=client_org, name=name), date(2026, 1, 1), overall, band
        )
    EngagementFactory(client=client_org, name="D")
    client.force_login(client_manager)
    summary = client.get(reverse("portfolio")).context["summary"]
    assert (summary["total"], summary["healthy"], summary["at_risk"]) == (4, 2, 1)
    assert float(summary["average"]) == pytest.approx(70)


def test_portfolio_counts_open_alerts_and_days_since_check_in(client, client_manager, engagement):
    make_alert(engagement, kind="score_drop")
    make_alert(engagement, kind="contact_gap", resolved_at=datetime(2026, 4, 1, tzinfo=UTC))
    CheckIn.objects.create(engagement=engagement, occurred_at=datetime.now(UTC) - timedelta(days=3))
    client.force_login(client_manager)
    row = client.get(reverse("portfolio")).context["rows"][0]
    assert row["engagement"].open_alerts == 1
    assert row["days_since_checkin"] == 3


def test_portfolio_paginates_25_per_page(client, client_manager, client_org):
    add_engagements(client_org, 30)
    client.force_login(client_manager)
    first = client.get(reverse("portfolio"))
    second = client.get(reverse("portfolio"), {"page": 2})
    assert len(first.context["rows"]) == 25
    assert len(second.context["rows"]) == 5
    assert "page=2" in first.content.decode()


def test_column_headers_sort_keep_filters_and_mark_the_sorted_column(
    client, client_manager, client_org
):
    for name, overall in (("Low", 30), ("High", 90), ("Mid", 60)):
        make_scorecard(EngagementFactory(client=client_org, name=name), date(2026, 1, 1), overall)
    EngagementFactory(client=client_org, name="Unscored")
    client.force_login(client_manager)

    def sorted_page(**params):
        return client.get(reverse("portfolio"), params)

    def names(response):
        return [row["engagement"].name for row in response.context["rows"]]

    response = sorted_page(sort="overall", phase="active", page="1")
    assert names(response) == ["Low", "Mid", "High", "Unscored"]
    headers = {h["label"]: h for h in response.context["headers"]}
    assert headers["Overall"]["aria_sort"] == "ascending"
    assert headers["Engagement"]["aria_sort"] is None
    assert "Counterpart" in headers and headers["Counterpart"]["url"] is None
    # The sorted column's link reverses it; filters stay, the page goes back to 1.
    assert headers["Overall"]["url"] == "?sort=-overall&phase=active"
    assert headers["Trend"]["url"] == "?sort=trend&phase=active"
    html = response.content.decode()
    assert (
        'aria-sort="ascending"><a class="sort-link" href="?sort=-overall&amp;phase=active"' in html
    )

    response = sorted_page(sort="-overall")
    assert names(response) == ["High", "Mid", "Low", "Unscored"]  # no score stays last
    assert {h["label"]: h for h in response.context["headers"]}["Overall"]["aria_sort"] == (
        "descending"
    )
    assert names(sorted_page(sort="-name")) == ["Unscored", "Mid", "Low", "High"]


def test_days_since_check_in_sort_puts_never_as_the_longest(client, client_manager, client_org):
    recent = EngagementFactory(client=client_org, name="Recent")
    old = EngagementFactory(client=client_org, name="Old")
    EngagementFactory(client=client_org, name="Never")
    now = datetime.now(UTC)
    CheckIn.objects.create(engagement=recent, occurred_at=now - timedelta(days=1))
    CheckIn.objects.create(engagement=old, occurred_at=now - timedelta(days=30))
    client.force_login(client_manager)

    def names(sort):
        response = client.get(reverse("portfolio"), {"sort": sort})
        return [row["engagement"].name for row in response.context["rows"]]

    assert names("checkin") == ["Recent", "Old", "Never"]
    assert names("-checkin") == ["Never", "Old", "Recent"]


def test_pagination_links_keep_the_sort_and_filters(client, client_manager, client_org):
    add_engagements(client_org, 30)
    client.force_login(client_manager)
    html = client.get(
        reverse("portfolio"), {"sort": "-overall", "phase": "active"}
    ).content.decode()
    assert "?sort=-overall&amp;phase=active&amp;page=2" in html
